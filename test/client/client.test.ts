// The admin Client against fake nodes: the requests each method sends and what it returns.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Client } from "../../src/client/client.js";
import { NotLeaderError, SqliteError } from "../../src/client/errors.js";
import { type Request, Role } from "../../src/wire/index.js";
import { FakeCluster, FakeNode } from "./fake-server.js";

test("connect does the handshake only; findLeader registers with the leader", {
  timeout: 20_000,
}, async () => {
  const cluster = await FakeCluster.start(3, { leader: 1 });
  try {
    const direct = await Client.connect(cluster.addresses[0]);
    assert.equal(direct.address, cluster.addresses[0]);
    assert.deepEqual(await direct.leader(), { id: 2n, address: cluster.addresses[1] });
    assert.equal(cluster.nodes[0].requestsOf("client").length, 0);
    direct.close();
    const leader = await Client.findLeader(cluster.addresses);
    assert.equal(leader.address, cluster.addresses[1]);
    assert.equal(cluster.nodes[1].requestsOf("client").length, 1);
    leader.close();
    cluster.leader = undefined;
    const none = await Client.connect(cluster.addresses[2]);
    assert.equal(await none.leader(), undefined);
    none.close();
  } finally {
    await cluster.close();
  }
});

test("every admin method sends its request and decodes the answer", {
  timeout: 20_000,
}, async () => {
  const seen: Request[] = [];
  const node = await FakeNode.start((request) => {
    seen.push(request);
    switch (request.type) {
      case "cluster":
        return {
          type: "servers",
          servers: [
            { id: 1n, address: "a:1", role: Role.Voter },
            { id: 2n, address: "b:2", role: Role.Spare },
          ],
        };
      case "describe":
        return { type: "metadata", failureDomain: 3n, weight: 7n };
      case "dump":
        return {
          type: "files",
          files: [
            { name: request.name, data: new Uint8Array(8).fill(1) },
            { name: `${request.name}-wal`, data: new Uint8Array(0) },
          ],
        };
      default:
        return { type: "empty" };
    }
  });
  const client = await Client.connect(node.address);
  try {
    assert.deepEqual(await client.cluster(), [
      { id: 1n, address: "a:1", role: Role.Voter },
      { id: 2n, address: "b:2", role: Role.Spare },
    ]);
    assert.deepEqual(await client.describe(), { failureDomain: 3n, weight: 7n });
    await client.weight(5);
    await client.add({ id: 9n, address: "c:3" });
    await client.add({ id: 10n, address: "d:4", role: "spare" });
    await client.assign(9n, "stand-by");
    await client.remove(10n);
    await client.transfer(0n);
    const files = await client.dump("db");
    assert.deepEqual(files, [
      { name: "db", data: new Uint8Array(8).fill(1) },
      { name: "db-wal", data: new Uint8Array(0) },
    ]);
    assert.deepEqual(seen, [
      { type: "cluster", format: 1 },
      { type: "describe", format: 0 },
      { type: "weight", weight: 5n },
      { type: "add", nodeId: 9n, address: "c:3" },
      { type: "assign", nodeId: 9n, role: Role.Voter },
      { type: "add", nodeId: 10n, address: "d:4" },
      { type: "assign", nodeId: 9n, role: Role.StandBy },
      { type: "remove", nodeId: 10n },
      { type: "transfer", nodeId: 0n },
      { type: "dump", name: "db" },
    ]);
    await assert.rejects(client.assign(0n, "voter"), RangeError);
    await assert.rejects(client.weight(-1), RangeError);
  } finally {
    client.close();
    await node.close();
  }
});

test("failures of admin requests are typed errors with the server's code", {
  timeout: 20_000,
}, async () => {
  const node = await FakeNode.start((request) =>
    request.type === "transfer"
      ? { type: "failure", code: 10250, message: "not leader" }
      : { type: "failure", code: 1, message: "server ID already in use" },
  );
  const client = await Client.connect(node.address);
  try {
    await assert.rejects(client.transfer(2n), NotLeaderError);
    const error = await client.add({ id: 2n, address: "x:1" }).catch((e) => e);
    assert.ok(error instanceof SqliteError);
    assert.equal(error.code, 1);
    assert.equal(error.message, "server ID already in use");
  } finally {
    client.close();
    await node.close();
  }
});
