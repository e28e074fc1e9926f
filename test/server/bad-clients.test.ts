import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { connect as netConnect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { connect, type Database } from "../../src/client/index.js";
import { BOOTSTRAP_ID, Node } from "../../src/server/node.js";
import { encodeHandshake, encodeHeader, encodeRequest } from "../../src/wire/index.js";
import { waitFor } from "../harness/processes.js";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let dir: string;
let node: Node;
let db: Database;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "bad-clients-"));
  node = new Node({ id: BOOTSTRAP_ID, address: "127.0.0.1:0", dataDir: dir, networkLatencyMs: 20 });
  await node.start();
  await waitFor("leadership", () => (node.state === "leader" ? true : undefined));
  db = await connect({ cluster: [node.address], database: "app", maxConnections: 1 });
  await db.exec("CREATE TABLE t (a)");
});
after(async () => {
  await db?.close();
  await node?.close();
  await rm(dir, { recursive: true, force: true });
});

async function rawSocket(): Promise<Socket> {
  const [host, port] = node.address.split(":");
  const socket = netConnect({ host, port: Number(port) });
  socket.on("error", () => {});
  await new Promise((resolve) => socket.once("connect", resolve));
  return socket;
}

function closed(socket: Socket, timeoutMs = 5000): Promise<boolean> {
  if (socket.destroyed || socket.readableEnded) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

test("garbage, truncated bodies and huge sizes close only the offending connection", async () => {
  const garbage = await rawSocket();
  garbage.write(Buffer.from("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
  assert.ok(await closed(garbage), "a wrong handshake closes the connection");

  const huge = await rawSocket();
  huge.write(encodeHandshake());
  huge.write(encodeHeader({ words: 0xffffffff, type: 8, schema: 0, extra: 0 }));
  assert.ok(await closed(huge), "a message beyond the size bound closes the connection");

  const truncated = await rawSocket();
  truncated.write(encodeHandshake());
  // An Open request that claims two words but whose text never ends inside them.
  truncated.write(encodeHeader({ words: 2, type: 3, schema: 0, extra: 0 }));
  truncated.write(Buffer.alloc(16, 0x61));
  assert.ok(await closed(truncated), "a body that does not decode closes the connection");

  await db.exec("INSERT INTO t VALUES (1)");
  assert.deepEqual((await db.query("SELECT count(*) AS n FROM t")).rows, [{ n: 1 }]);
});

test("a client that disappears in the middle of a request or transaction loses nothing else", async () => {
  const half = await rawSocket();
  half.write(encodeHandshake());
  const open = encodeRequest({ type: "open", name: "app", flags: 0, vfs: "" });
  half.write(open.subarray(0, 10));
  half.destroy();

  const inTransaction = await rawSocket();
  inTransaction.write(encodeHandshake());
  inTransaction.write(open);
  for (const sql of ["BEGIN", "INSERT INTO t VALUES (99)"]) {
    inTransaction.write(encodeRequest({ type: "execSql", schema: 0, dbId: 0, sql, params: [] }));
  }
  await new Promise((r) => setTimeout(r, 100));
  inTransaction.destroy();

  // The abandoned transaction held the write lock: it must be rolled back and released.
  await db.exec("INSERT INTO t VALUES (2)");
  assert.deepEqual((await db.query("SELECT a FROM t ORDER BY a")).rows, [{ a: 1 }, { a: 2 }]);
});

test("1,000 abandoned connections leave no gateway behind and no memory growth", async () => {
  const round = async () => {
    const sockets: Socket[] = [];
    for (let i = 0; i < 1000; i++) {
      const socket = await rawSocket();
      socket.write(encodeHandshake());
      socket.write(encodeRequest({ type: "open", name: "app", flags: 0, vfs: "" }));
      socket.write(
        encodeRequest({ type: "querySql", schema: 0, dbId: 0, sql: "SELECT * FROM t", params: [] }),
      );
      sockets.push(socket);
    }
    await waitFor("all connections served", () =>
      node.clientConnections >= 1000 ? true : undefined,
    );
    for (const socket of sockets) socket.destroy();
    await waitFor("all gateways gone", () => (node.clientConnections <= 1 ? true : undefined));
  };
  await round();
  gc();
  const baseline = process.memoryUsage().heapUsed;
  for (let i = 0; i < 3; i++) await round();
  gc();
  const growthBytes = process.memoryUsage().heapUsed - baseline;
  assert.ok(growthBytes < 20 * 1024 * 1024, `heap grew by ${growthBytes} bytes`);
  await db.exec("INSERT INTO t VALUES (3)");
});
