import assert from "node:assert/strict";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "../../src/client/index.js";
import { type NodeKind, startMixedCluster } from "../harness/mixed-cluster.js";
import { votersOf } from "../harness/our-cluster.js";
import { waitFor } from "../harness/processes.js";
import { KvLoad, modelOf, openDemo, sameModel } from "./kv-checker.js";

// Mixed clusters: our dqlite-demo and Debian's (libdqlite 1.11) in one raft cluster, a write load
// running while the leader is killed twice. At the end every node holds the same rows and every
// acknowledged write is there.
//
// Which kind leads when the leader dies is chosen, not left to chance: before each kill,
// leadership is transferred to the cluster's only node of one kind, so the survivors, hence the
// next leader, are all of the other kind.
// - 2 of ours + 1 real: the real node leads (our followers follow it) and is killed; one of ours
//   takes over, and the real node, restarted, follows ours.
// - 1 of ours + 2 real: our node leads (the real followers follow it) and is killed; a real node
//   takes over, and ours, restarted, follows it.

type MixedCluster = Awaited<ReturnType<typeof startMixedCluster>>;

/** The leader node `index` reports (its own view, not the cluster's). */
async function leaderSeenBy(cluster: MixedCluster, index: number): Promise<string | undefined> {
  const client = await Client.connect(cluster.nodes[index - 1].db, { timeoutMs: 5000 });
  try {
    return (await client.leader({ timeoutMs: 5000 }))?.address;
  } finally {
    client.close();
  }
}

/** Transfers leadership to node `index` and waits until every live node says it leads. */
async function makeLeader(cluster: MixedCluster, index: number): Promise<void> {
  const target = cluster.nodes[index - 1].db;
  await waitFor(
    `node${index} to lead`,
    async () => {
      if ((await cluster.leaderIndex()) !== index) {
        const admin = await Client.findLeader(cluster.addresses(), { timeoutMs: 10_000 });
        try {
          const id = (await admin.cluster()).find((n) => n.address === target)?.id;
          assert.ok(id !== undefined, `${target} is not a member`);
          await admin.transfer(id, { timeoutMs: 10_000 });
        } finally {
          admin.close();
        }
      }
      return (await cluster.leaderIndex()) === index ? true : undefined;
    },
    60_000,
    500,
  );
  for (const node of cluster.alive()) {
    await waitFor(`node${node.index} (${node.kind}) to follow node${index}`, async () =>
      (await leaderSeenBy(cluster, node.index)) === target ? true : undefined,
    );
  }
}

async function killLeaderUnderLoad(kinds: NodeKind[], killed: NodeKind): Promise<void> {
  const victims = kinds.flatMap((kind, i) => (kind === killed ? [i + 1] : []));
  assert.equal(victims.length, 1, "the cluster has one node of the kind that is killed");
  const victim = victims[0];
  const survivorKind: NodeKind = killed === "ours" ? "real" : "ours";
  const cluster = await startMixedCluster(kinds);
  const db = await openDemo(cluster.addresses());
  const load = new KvLoad();
  const successors: string[] = [];
  try {
    load.start(db, 4, 10);
    for (let round = 0; round < 2; round++) {
      await sleep(2000);
      await makeLeader(cluster, victim);
      // The followers of the other kind replicate what it commits: writes go on through it.
      const ackedLeading = load.acked;
      await waitFor(`writes through the ${killed} leader`, () =>
        load.acked > ackedLeading + 20 ? true : undefined,
      );
      const ackedBefore = load.acked;
      await cluster.kill(victim);
      await waitFor("writes to go on after the leader died", () =>
        load.acked > ackedBefore + 20 ? true : undefined,
      );
      const successor = await cluster.leaderIndex();
      assert.notEqual(successor, victim);
      assert.equal(cluster.nodes[successor - 1].kind, survivorKind, "the next leader's kind");
      successors.push(`node${successor} (${survivorKind})`);
      await cluster.start(victim);
      // Back, the killed node follows the leader of the other kind.
      await waitFor(
        `node${victim} (${killed}) to follow node${successor} (${survivorKind})`,
        async () =>
          (await leaderSeenBy(cluster, victim)) === cluster.nodes[successor - 1].db
            ? true
            : undefined,
        60_000,
        200,
      );
      // A node that was away may have been demoted; the next round needs three voters again.
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
      `kinds ${kinds.join(",")}; killed node${victim} (${killed}) twice while it led; took over: ${successors.join(", ")}; writes acked ${load.acked}, refused ${load.failed}, unknown ${load.unknown}`,
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

test("two of ours and one real node: the real leader is killed twice under a write load, ours takes over", async () => {
  await killLeaderUnderLoad(["ours", "real", "ours"], "real");
});

test("one of ours and two real nodes: our leader is killed twice under a write load, a real node takes over", async () => {
  await killLeaderUnderLoad(["real", "ours", "real"], "ours");
});
