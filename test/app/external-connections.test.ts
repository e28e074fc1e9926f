// Apps whose nodes get connections only through the application's own HTTP servers (go-dqlite's
// WithExternalConn): each server answers `Upgrade: dqlite` by handing the socket to its App, and
// every App dials the others with the HTTP upgrade. Three nodes form a cluster and replicate.
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { connect as connectTcp } from "node:net";
import { after, test } from "node:test";
import type { App } from "../../src/app/app.js";
import { httpUpgradeDial } from "../../src/client/http-upgrade-dial.js";
import { waitFor } from "../harness/processes.js";
import { AppCluster, roleCounts, stablePorts } from "./app-harness.js";

const PATH = "/internal/database";
const cluster = await AppCluster.create(3);
const ports = await stablePorts(3);
const addresses = ports.map((port) => `127.0.0.1:${port}`);
const apps: (App | null)[] = [null, null, null];
const upgrades = [0, 0, 0];
const servers: Server[] = [];

after(
  async () => {
    await cluster.close();
    for (const server of servers) server.close();
  },
  { timeout: 60_000 },
);

/** The application's HTTP server for node `index`: its own API, and dqlite behind an upgrade. */
async function startServer(index: number): Promise<void> {
  const server = createServer((_request, response) => {
    response.end("the application's own API\n");
  });
  server.on("upgrade", (request, socket, head) => {
    const app = apps[index];
    if (request.url !== PATH || request.headers.upgrade !== "dqlite" || app === null) {
      socket.end("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    upgrades[index]++;
    app.handleUpgrade(socket, head);
  });
  await new Promise<void>((resolve) => server.listen(ports[index], "127.0.0.1", resolve));
  servers.push(server);
}

const dial = httpUpgradeDial({ path: PATH });

test("three Apps reached only through their HTTP servers form a cluster that replicates writes", {
  timeout: 120_000,
}, async () => {
  for (const index of [0, 1, 2]) await startServer(index);
  for (const index of [0, 1, 2]) {
    // The server exists before its App: until then it refuses upgrades and peers retry. The
    // App takes connections as soon as it exists, before it is ready (it needs them to be).
    await cluster.start(index, {
      address: addresses[index],
      cluster: index === 0 ? [] : [addresses[0]],
      externalConnections: { dial },
      onCreated: (app) => {
        apps[index] = app;
      },
    });
  }
  const members = await cluster.waitForRoles("three voters", (m) => roleCounts(m)[0] === 3);
  assert.deepEqual(members.map((m) => m.address).sort(), [...addresses].sort());

  // Nothing listens on the public addresses but the HTTP servers: each node got its peers'
  // connections through an upgrade, and its own listener is a private unix socket.
  for (const index of [0, 1, 2]) {
    assert.ok(upgrades[index] > 0, `node${index} got no upgraded connection`);
    assert.match(apps[index]!.bindAddress, /^@dqlite-/);
  }

  const db = await apps[1]!.open("external", { timeoutMs: 20_000 });
  await db.exec("CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)");
  for (let i = 0; i < 20; i++) {
    await db.exec("INSERT INTO kv VALUES (?, ?)", [`key-${i}`, `replicated-through-http-${i}`]);
  }
  assert.deepEqual((await db.query("SELECT count(*) AS n FROM kv")).rows, [{ n: 20 }]);
  await db.close();

  // Every node holds the rows: its own dump (local, over its unix socket) contains them.
  for (const index of [0, 1, 2]) {
    await waitFor(`node${index} to hold the last row`, async () => {
      const client = await apps[index]!.client({ timeoutMs: 5000 });
      try {
        const files = await client.dump("external");
        const bytes = Buffer.concat(files.map((file) => Buffer.from(file.data)));
        return bytes.includes("replicated-through-http-19") ? true : undefined;
      } finally {
        client.close();
      }
    });
  }
});

test("the HTTP server stays the application's: plain requests and other paths are its own", async () => {
  const response = await fetch(`http://${addresses[0]}/`);
  assert.equal(await response.text(), "the application's own API\n");
  // An upgrade to another path is refused by the application, and the dial says why.
  const other = httpUpgradeDial({ path: "/elsewhere" });
  await assert.rejects(
    other(addresses[0], AbortSignal.timeout(5000)),
    /expected 101 Switching Protocols, got "HTTP\/1.1 404 Not Found"/,
  );
});

test("the upgrade answer is go-dqlite's, byte for byte, then the node speaks dqlite", async () => {
  const socket = connectTcp(ports[0], "127.0.0.1");
  const received: Buffer[] = [];
  socket.on("data", (chunk) => received.push(chunk));
  await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
  socket.write(`GET ${PATH} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: dqlite\r\n\r\n`);
  const expected = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: dqlite\r\n\r\n";
  await waitFor("the 101 answer", () =>
    Buffer.concat(received).length >= expected.length ? true : undefined,
  );
  assert.equal(Buffer.concat(received).toString("latin1"), expected);
  // dqlite's handshake (version 1), then a Leader request: the answer names the leader.
  received.length = 0;
  const handshake = Buffer.alloc(8);
  handshake.writeBigUInt64LE(1n);
  const leaderRequest = Buffer.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
  socket.write(Buffer.concat([handshake, leaderRequest]));
  await waitFor("the leader answer", () =>
    Buffer.concat(received).toString("latin1").includes("127.0.0.1:") ? true : undefined,
  );
  socket.destroy();
});

test("connections cannot be handed to an App without externalConnections", async () => {
  const plain = await AppCluster.create(1);
  try {
    const app = await plain.start(0);
    const socket = connectTcp(ports[0], "127.0.0.1");
    socket.on("error", () => {});
    assert.throws(() => app.handleConnection(socket), /only with externalConnections/);
    assert.ok(socket.destroyed);
  } finally {
    await plain.close();
  }
});
