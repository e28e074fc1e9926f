import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type NodeKind, startMixedCluster } from "../harness/mixed-cluster.js";
import { votersOf } from "../harness/our-cluster.js";
import { waitFor } from "../harness/processes.js";
import { KvLoad, modelOf, openDemo, sameModel } from "./kv-checker.js";

// Mixed clusters: our dqlite-demo and Debian's (libdqlite 1.11) in one raft cluster, a write load
// running while the leader is killed twice. At the end every node holds the same rows and every
// acknowledged write is there.

async function killLeaderUnderLoad(kinds: NodeKind[]): Promise<void> {
  const cluster = await startMixedCluster(kinds);
  const db = await openDemo(cluster.addresses());
  const load = new KvLoad();
  try {
    load.start(db, 4, 10);
    const killed: NodeKind[] = [];
    for (let round = 0; round < 2; round++) {
      await sleep(3000);
      const leader = await cluster.leaderIndex();
      killed.push(cluster.nodes[leader - 1].kind);
      const ackedBefore = load.acked;
      await cluster.kill(leader);
      await waitFor("writes to go on after the leader died", () =>
        load.acked > ackedBefore + 20 ? true : undefined,
      );
      await cluster.start(leader);
      // A node that was away may have been demoted; the next kill needs three voters again.
      await waitFor(
        "three voters",
        async () => ((await votersOf(cluster.addresses())).length >= 3 ? true : undefined),
        90_000,
        500,
      );
    }
    await sleep(2000);
    await load.stop();
    assert.ok(load.acked > 100, `only ${load.acked} writes acknowledged`);

    const reference = await modelOf(await leaderAddress(cluster));
    assert.deepEqual(load.check(reference), [], "every acknowledged write is there");
    for (const node of cluster.nodes) {
      await waitFor(
        `node ${node.index} (${node.kind}) to hold the same rows`,
        async () => (sameModel(await modelOf(node.db), reference) ? true : undefined),
        30_000,
        500,
      );
    }
    console.log(
      `kinds ${kinds.join(",")}; killed leaders: ${killed.join(", ")}; writes acked ${load.acked}, refused ${load.failed}, unknown ${load.unknown}`,
    );
  } finally {
    await load.stop();
    await db.close();
    await cluster.stop();
  }
}

async function leaderAddress(cluster: Awaited<ReturnType<typeof startMixedCluster>>) {
  return cluster.nodes[(await cluster.leaderIndex()) - 1].db;
}

test("two of ours and one real node: the leader is killed twice under a write load", async () => {
  await killLeaderUnderLoad(["ours", "real", "ours"]);
});

test("one of ours and two real nodes: the leader is killed twice under a write load", async () => {
  await killLeaderUnderLoad(["real", "ours", "real"]);
});
