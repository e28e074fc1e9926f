import assert from "node:assert/strict";
import { test } from "node:test";
import { Client } from "../../src/client/index.js";
import { type NodeKind, startMixedCluster } from "../harness/mixed-cluster.js";
import { waitFor } from "../harness/processes.js";
import { modelOf, openDemo, sameModel } from "./kv-checker.js";

// Both kinds keep 8192 entries behind a snapshot taken every 1024: a node that joins after about
// 9,300 writes cannot be sent the log from its start and must install the leader's snapshot.
const WRITES = 9400;

async function joinAfterSnapshots(leaders: NodeKind, joiner: NodeKind): Promise<void> {
  const cluster = await startMixedCluster([leaders, leaders, leaders, joiner], { initial: 3 });
  const db = await openDemo(cluster.addresses().slice(0, 3));
  try {
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < WRITES) {
          const i = next++;
          await db.exec("INSERT OR REPLACE INTO model(key, value) VALUES(?, ?)", [
            `key-${i % 2000}`,
            `value-${i}`,
          ]);
        }
      }),
    );
    const leader = cluster.nodes[(await cluster.leaderIndex()) - 1];
    await cluster.start(4);
    const newcomer = cluster.nodes[3];
    // The newcomer joins as a spare and takes the stand-by role (three voters are there).
    await waitFor(
      "the newcomer to replicate",
      async () => {
        const admin = await Client.findLeader(cluster.addresses(), { timeoutMs: 5000 });
        try {
          const role = (await admin.cluster()).find((n) => n.address === newcomer.db)?.role;
          return role === 0 || role === 1 ? true : undefined;
        } finally {
          admin.close();
        }
      },
      90_000,
      500,
    );
    const expected = await modelOf(leader.db);
    assert.equal(expected.size, 2000);
    await waitFor(
      `the ${joiner} newcomer to hold the ${leaders} leader's rows`,
      async () => (sameModel(await modelOf(newcomer.db), expected) ? true : undefined),
      60_000,
      500,
    );
  } finally {
    await db.close();
    await cluster.stop();
  }
}

test("a node of ours catches up from a real leader's snapshot", async () => {
  await joinAfterSnapshots("real", "ours");
});

test("a real node catches up from our leader's snapshot", async () => {
  await joinAfterSnapshots("ours", "real");
});
