// Leader discovery against fake nodes: parallel probes, one redirect hop, the cached leader,
// backoff while there is no leader, and the typed error when the deadline passes.
import assert from "node:assert/strict";
import { test } from "node:test";
import { Connector } from "../../src/client/connector.js";
import { Deadline } from "../../src/client/deadline.js";
import { NoLeaderError } from "../../src/client/errors.js";
import { MemoryNodeStore } from "../../src/client/node-store.js";
import { Role } from "../../src/wire/index.js";
import { FakeCluster, FakeNode, gate } from "./fake-server.js";

async function withDeadline<T>(timeoutMs: number, fn: (deadline: Deadline) => Promise<T>) {
  const deadline = new Deadline(undefined, timeoutMs);
  try {
    return await fn(deadline);
  } finally {
    deadline.dispose();
  }
}

test("nodes are probed in parallel and a redirect leads to the leader", {
  timeout: 20_000,
}, async () => {
  const cluster = await FakeCluster.start(3, { leader: 2 });
  const [a, b, c] = cluster.nodes;
  // A answers only once B has been asked too: a sequential search would wait on A forever.
  const bAsked = gate();
  a.handler = async (request, connection) => {
    if (request.type === "leader") {
      await bAsked.promise;
      return { type: "node", id: 0n, address: "" };
    }
    return cluster.answer(0, request, connection);
  };
  b.handler = (request, connection) => {
    if (request.type === "leader") bAsked.open();
    return cluster.answer(1, request, connection);
  };
  // C is left out of the store: it is only reachable through B's redirect.
  const store = new MemoryNodeStore([a.address, b.address]);
  const connector = new Connector(store);
  try {
    const connection = await withDeadline(5000, (signal) => connector.connect(signal));
    assert.equal(connection.address, c.address);
    assert.equal(c.requestsOf("client").length, 1, "the leader got Client(0)");
    assert.equal(a.requestsOf("client").length + b.requestsOf("client").length, 0);
    assert.equal(connector.tracker.address, c.address);
    connection.close();
  } finally {
    await cluster.close();
  }
});

test("the leader must name itself under the dialled address; one redirect hop only", {
  timeout: 20_000,
}, async () => {
  const cluster = await FakeCluster.start(3, { leader: 1 });
  const [a, b, c] = cluster.nodes;
  // B (the leader by the cluster's view) names C; C names A: two hops would be needed.
  b.handler = (request, connection) =>
    request.type === "leader"
      ? { type: "node", id: 3n, address: c.address }
      : cluster.answer(1, request, connection);
  c.handler = (request, connection) =>
    request.type === "leader"
      ? { type: "node", id: 1n, address: a.address }
      : cluster.answer(2, request, connection);
  a.handler = (request, connection) =>
    request.type === "leader"
      ? { type: "node", id: 2n, address: b.address }
      : cluster.answer(0, request, connection);
  const connector = new Connector(new MemoryNodeStore([a.address]), { retryLimit: 0 });
  try {
    await assert.rejects(
      withDeadline(5000, (signal) => connector.connect(signal)),
      NoLeaderError,
    );
    // A was asked, then B (one hop); nobody was registered with Client.
    assert.equal(a.requestsOf("leader").length, 1);
    assert.equal(b.requestsOf("leader").length, 1);
    assert.equal(c.requestsOf("leader").length, 0);
    for (const node of cluster.nodes) assert.equal(node.requestsOf("client").length, 0);
  } finally {
    await cluster.close();
  }
});

test("a cached leader is tried alone before the store", { timeout: 20_000 }, async () => {
  const cluster = await FakeCluster.start(3, { leader: 1 });
  const connector = new Connector(new MemoryNodeStore(cluster.addresses));
  try {
    const first = await withDeadline(5000, (signal) => connector.connect(signal));
    first.close();
    const before = cluster.nodes.map((node) => node.connectionCount);
    const second = await withDeadline(5000, (signal) => connector.connect(signal));
    assert.equal(second.address, cluster.nodes[1].address);
    const opened = cluster.nodes.map((node, i) => node.connectionCount - before[i]);
    assert.deepEqual(opened, [0, 1, 0], "only the cached leader was dialled");
    second.close();
  } finally {
    await cluster.close();
  }
});

test("when the cached leader no longer leads, the store is searched again", {
  timeout: 20_000,
}, async () => {
  const cluster = await FakeCluster.start(3, { leader: 1 });
  const connector = new Connector(new MemoryNodeStore(cluster.addresses));
  try {
    (await withDeadline(5000, (signal) => connector.connect(signal))).close();
    cluster.leader = 2;
    const connection = await withDeadline(5000, (signal) => connector.connect(signal));
    assert.equal(connection.address, cluster.nodes[2].address);
    assert.equal(connector.tracker.address, cluster.nodes[2].address);
    connection.close();
  } finally {
    await cluster.close();
  }
});

test("voters are probed before stand-bys and spares", { timeout: 20_000 }, async () => {
  const cluster = await FakeCluster.start(3, { leader: undefined });
  const order: string[] = [];
  cluster.nodes.forEach((node, i) => {
    node.handler = (request, connection) => {
      if (request.type === "leader") order.push(node.address);
      return cluster.answer(i, request, connection);
    };
  });
  const [a, b, c] = cluster.nodes;
  const store = new MemoryNodeStore([
    { id: 1n, address: a.address, role: Role.Spare },
    { id: 2n, address: b.address, role: Role.StandBy },
    { id: 3n, address: c.address, role: Role.Voter },
  ]);
  const connector = new Connector(store, { concurrentLeaderConns: 1, retryLimit: 0 });
  try {
    await assert.rejects(
      withDeadline(5000, (signal) => connector.connect(signal)),
      NoLeaderError,
    );
    assert.deepEqual(order, [c.address, b.address, a.address]);
  } finally {
    await cluster.close();
  }
});

test("without a leader the search backs off exponentially until one appears", {
  timeout: 20_000,
}, async () => {
  const cluster = await FakeCluster.start(2, { leader: undefined });
  const rounds: number[] = [];
  cluster.nodes[0].handler = (request, connection) => {
    if (request.type === "leader") {
      rounds.push(performance.now());
      // The leader appears in the fourth round.
      if (rounds.length === 4) cluster.leader = 1;
    }
    return cluster.answer(0, request, connection);
  };
  const connector = new Connector(new MemoryNodeStore([cluster.nodes[0].address]), {
    backoffFactorMs: 20,
    backoffCapMs: 1000,
  });
  try {
    const connection = await withDeadline(10_000, (signal) => connector.connect(signal));
    assert.equal(connection.address, cluster.nodes[1].address);
    connection.close();
    assert.equal(rounds.length, 4);
    // Sleeps before retries 1, 2, 3 are 40, 80, 160 ms: each gap is at least its sleep.
    const gaps = rounds.slice(1).map((t, i) => t - rounds[i]);
    assert.ok(gaps[0] >= 38, `first gap ${gaps[0]}`);
    assert.ok(gaps[1] >= 78, `second gap ${gaps[1]}`);
    assert.ok(gaps[2] >= 158, `third gap ${gaps[2]}`);
  } finally {
    await cluster.close();
  }
});

test("the backoff is capped", { timeout: 20_000 }, async () => {
  const cluster = await FakeCluster.start(1, { leader: undefined });
  const rounds: number[] = [];
  cluster.nodes[0].handler = (request, connection) => {
    if (request.type === "leader") rounds.push(performance.now());
    return cluster.answer(0, request, connection);
  };
  const connector = new Connector(new MemoryNodeStore(cluster.addresses), {
    backoffFactorMs: 10,
    backoffCapMs: 30,
    retryLimit: 6,
  });
  try {
    await assert.rejects(
      withDeadline(10_000, (signal) => connector.connect(signal)),
      NoLeaderError,
    );
    assert.equal(rounds.length, 7, "first round and six retries");
    const gaps = rounds.slice(1).map((t, i) => t - rounds[i]);
    // Uncapped, the last sleeps would be 320 and 640 ms.
    const longest = Math.max(...gaps);
    assert.ok(longest < 300, `a gap of ${longest} ms means the cap was not applied`);
  } finally {
    await cluster.close();
  }
});

test("when the deadline passes the search fails with NoLeaderError", {
  timeout: 20_000,
}, async () => {
  const cluster = await FakeCluster.start(3, { leader: undefined });
  const connector = new Connector(new MemoryNodeStore(cluster.addresses));
  try {
    const error = await withDeadline(300, (signal) => connector.connect(signal)).catch((e) => e);
    assert.ok(error instanceof NoLeaderError, String(error));
    assert.equal(error.message, "no available dqlite leader server found");
    assert.ok(cluster.nodes[0].requestsOf("leader").length >= 1);
  } finally {
    await cluster.close();
  }
});

test("a caller's abort rejects with the caller's reason", { timeout: 20_000 }, async () => {
  const cluster = await FakeCluster.start(1, { leader: undefined });
  const connector = new Connector(new MemoryNodeStore(cluster.addresses));
  const controller = new AbortController();
  const reason = new Error("stop");
  setTimeout(() => controller.abort(reason), 50);
  try {
    await assert.rejects(
      connector.connect(new Deadline(controller.signal, 10_000)),
      (error) => error === reason,
    );
  } finally {
    await cluster.close();
  }
});

test("a node that does not answer is given up after the attempt timeout", {
  timeout: 20_000,
}, async () => {
  const silent = await FakeNode.start(() => undefined);
  const cluster = await FakeCluster.start(1, { leader: 0 });
  const connector = new Connector(new MemoryNodeStore([silent.address, cluster.nodes[0].address]), {
    attemptTimeoutMs: 100,
    concurrentLeaderConns: 1,
  });
  try {
    const connection = await withDeadline(5000, (signal) => connector.connect(signal));
    assert.equal(connection.address, cluster.nodes[0].address);
    assert.equal(silent.requestsOf("leader").length, 1);
    connection.close();
  } finally {
    await silent.close();
    await cluster.close();
  }
});

test("unreachable nodes are skipped", { timeout: 20_000 }, async () => {
  const gone = await FakeNode.start();
  const goneAddress = gone.address;
  await gone.close();
  const cluster = await FakeCluster.start(1, { leader: 0 });
  const connector = new Connector(new MemoryNodeStore([goneAddress, cluster.nodes[0].address]));
  try {
    const connection = await withDeadline(5000, (signal) => connector.connect(signal));
    assert.equal(connection.address, cluster.nodes[0].address);
    connection.close();
  } finally {
    await cluster.close();
  }
});
