// The Node's go-dqlite surface beyond serving: connections accepted elsewhere, bind addresses,
// the deprecated Recover, ReadLastEntryInfo, and the threading-mode calls.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { Client, connect } from "../../src/client/index.js";
import {
  BOOTSTRAP_ID,
  configMultiThread,
  configSingleThread,
  isBefore,
  Node,
  readLastEntryInfo,
} from "../../src/server/index.js";
import { freePorts } from "../harness/ports.js";
import { waitFor } from "../harness/processes.js";

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "node-surface-"));
  dirs.push(dir);
  return dir;
}

async function leading(node: Node): Promise<void> {
  await waitFor("the node to lead", () => (node.state === "leader" ? true : undefined), 10_000);
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const info = server.address();
      resolve(typeof info === "object" && info !== null ? info.port : 0);
    });
  });
}

test("a node serves connections accepted by someone else's server", async () => {
  const dir = await tempDir();
  // The node's own listener is private; the public port belongs to another server.
  const outside = createServer();
  const port = await listen(outside);
  const address = `127.0.0.1:${port}`;
  const node = new Node({
    id: BOOTSTRAP_ID,
    address,
    bindAddress: `@node-surface-${process.pid}-${Date.now()}`,
    dataDir: join(dir, "data"),
    networkLatencyMs: 20,
  });
  let handedOver = 0;
  outside.on("connection", (socket) => {
    handedOver++;
    node.handleConnection(socket);
  });
  await node.start();
  try {
    await leading(node);
    assert.match(node.bindAddress, /^@node-surface-/);
    const db = await connect({ cluster: [address], database: "outside" });
    await db.exec("CREATE TABLE t (x)");
    await db.exec("INSERT INTO t VALUES (42)");
    assert.deepEqual((await db.query("SELECT x FROM t")).rows, [{ x: 42 }]);
    await db.close();
    assert.ok(handedOver >= 1);
    // The node knows itself by the public address, the one it reports as leader.
    const admin = await Client.connect(address);
    assert.deepEqual(await admin.leader(), { id: BOOTSTRAP_ID, address });
    await admin.close();
  } finally {
    await node.close();
    outside.close();
  }
});

test("a connection handed to a node that is not serving is closed", async () => {
  const node = new Node({ id: BOOTSTRAP_ID, address: "127.0.0.1:0", dataDir: await tempDir() });
  const socket = new Socket();
  node.handleConnection(socket);
  assert.ok(socket.destroyed);
});

test("handed-over connections close with the node", async () => {
  const dir = await tempDir();
  const outside = createServer();
  const port = await listen(outside);
  const node = new Node({ id: BOOTSTRAP_ID, address: "127.0.0.1:0", dataDir: dir });
  outside.on("connection", (socket) => node.handleConnection(socket));
  await node.start();
  const client = new Socket();
  const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
  client.on("error", () => {});
  await new Promise<void>((resolve) => client.connect(port, "127.0.0.1", resolve));
  await waitFor("the node to get the socket", () =>
    node.clientConnections > 0 ? true : undefined,
  );
  await node.close();
  await closed;
  outside.close();
});

test("bindAddress is the bound one: the real port for port 0", async () => {
  const node = new Node({ id: BOOTSTRAP_ID, address: "127.0.0.1:0", dataDir: await tempDir() });
  assert.equal(node.bindAddress, "");
  await node.start();
  try {
    assert.match(node.bindAddress, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(node.bindAddress, "127.0.0.1:0");
    assert.equal(node.bindAddress, node.address);
  } finally {
    await node.close();
  }
});

test("recover (deprecated) moves a stopped node to a new configuration; the last entry is read", async () => {
  const dir = await tempDir();
  const [oldPort, newPort] = await freePorts(2);
  const before = { id: BOOTSTRAP_ID, dataDir: dir, networkLatencyMs: 20 };
  const first = new Node({ ...before, address: `127.0.0.1:${oldPort}` });
  await first.start();
  await leading(first);
  const db = await connect({ cluster: [first.address], database: "moved" });
  await db.exec("CREATE TABLE t (x)");
  for (let i = 0; i < 5; i++) await db.exec("INSERT INTO t VALUES (?)", [i]);
  await db.close();
  await first.close();
  await assert.rejects(first.recover([]), /before the node starts/);

  const last = await readLastEntryInfo(dir);
  assert.ok(last.index >= 7, `index ${last.index}`);
  assert.ok(last.term >= 1);

  // The node moves to a new address: the configuration is forced to say so.
  const newAddress = `127.0.0.1:${newPort}`;
  const moved = new Node({ ...before, address: newAddress });
  await moved.recover([{ id: BOOTSTRAP_ID, address: newAddress }]);
  // Like libraft's recover, the forced configuration is one more entry, at term 1.
  assert.deepEqual(await readLastEntryInfo(dir), { term: 1, index: last.index + 1 });
  await moved.start();
  try {
    await leading(moved);
    const admin = await Client.findLeader([newAddress]);
    assert.deepEqual(
      (await admin.cluster()).map((member) => [member.id, member.address, member.role]),
      [[BOOTSTRAP_ID, newAddress, 0]],
    );
    await admin.close();
    const again = await connect({ cluster: [newAddress], database: "moved" });
    assert.deepEqual((await again.query("SELECT count(*) AS n FROM t")).rows, [{ n: 5 }]);
    await again.close();
  } finally {
    await moved.close();
  }
});

test("isBefore orders entries by term, then index", () => {
  assert.ok(isBefore({ term: 1, index: 9 }, { term: 2, index: 1 }));
  assert.ok(isBefore({ term: 2, index: 1 }, { term: 2, index: 2 }));
  assert.ok(!isBefore({ term: 2, index: 2 }, { term: 2, index: 2 }));
  assert.ok(!isBefore({ term: 3, index: 0 }, { term: 2, index: 5 }));
});

test("an empty data directory has no last entry", async () => {
  assert.deepEqual(await readLastEntryInfo(await tempDir()), { term: 0, index: 0 });
});

test("the threading-mode calls are no-ops: a node still starts and serves after both", async () => {
  assert.equal(configMultiThread(), undefined);
  assert.equal(configSingleThread(), undefined);
  const node = new Node({ id: BOOTSTRAP_ID, address: "127.0.0.1:0", dataDir: await tempDir() });
  await node.start();
  try {
    await leading(node);
  } finally {
    await node.close();
  }
});
