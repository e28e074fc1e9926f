import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Client, connect, type Database } from "../../src/client/index.js";
import { type NodeCluster, startNodeCluster } from "../harness/node-cluster.js";
import { waitFor } from "../harness/processes.js";

// Three Node processes with small snapshots, so a node that was down catches up by snapshot.
let cluster: NodeCluster;
let db: Database;
before(async () => {
  cluster = await startNodeCluster(3, {
    env: { SNAPSHOT_THRESHOLD: "64", SNAPSHOT_TRAILING: "64" },
  });
  db = await connect({ cluster: cluster.addresses(), database: "app", timeoutMs: 30_000 });
  await db.exec("CREATE TABLE kv (k INTEGER PRIMARY KEY, v TEXT)");
});
after(async () => {
  await db?.close();
  await cluster?.stop();
});

let written = 0;
async function writeRows(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    written++;
    await db.exec("INSERT INTO kv VALUES (?, ?)", [written, `value-${written}`]);
  }
}

async function leaderIndex(): Promise<number> {
  const admin = await Client.findLeader(cluster.addresses(), { timeoutMs: 30_000 });
  try {
    const leader = await admin.leader();
    return cluster.nodes.findIndex((n) => n.address === leader?.address) + 1;
  } finally {
    await admin.close();
  }
}

/** The database image as node `index` holds it (Dump answers from local state on any node). */
async function imageOf(index: number): Promise<Buffer> {
  const admin = await Client.connect(cluster.nodes[index - 1].address);
  try {
    const files = await admin.dump("app");
    return Buffer.from(files[0].data);
  } finally {
    await admin.close();
  }
}

test("a follower killed with SIGKILL restarts from its data directory and catches up", async () => {
  await writeRows(50);
  const leader = await leaderIndex();
  const follower = leader === 1 ? 2 : 1;
  await cluster.kill(follower);
  await writeRows(50);
  await cluster.restart(follower);
  await writeRows(1);
  const expected = await imageOf(leader);
  await waitFor("the restarted follower to hold the leader's pages", async () =>
    (await imageOf(follower)).equals(expected) ? true : undefined,
  );
});

test("a node that missed more than the trailing log catches up through a snapshot", async () => {
  const leader = await leaderIndex();
  const lagging = leader === 3 ? 2 : 3;
  await cluster.kill(lagging);
  await writeRows(300);
  await cluster.restart(lagging);
  await writeRows(1);
  const expected = await imageOf(leader);
  await waitFor("the lagging node to hold the leader's pages", async () =>
    (await imageOf(lagging)).equals(expected) ? true : undefined,
  );
});

test("after the leader is killed a new one is elected and every acknowledged write is there", async () => {
  const leader = await leaderIndex();
  await cluster.kill(leader);
  await writeRows(20);
  const { rows } = await db.query("SELECT count(*) AS n, max(k) AS last FROM kv");
  assert.deepEqual(rows, [{ n: written, last: written }]);
  assert.notEqual(await leaderIndex(), leader);
  await cluster.restart(leader);
  await writeRows(1);
  const current = await leaderIndex();
  const expected = await imageOf(current);
  await waitFor("the old leader to catch up", async () =>
    (await imageOf(leader)).equals(expected) ? true : undefined,
  );
});
