import assert from "node:assert/strict";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { test } from "node:test";
import { Client, type Database } from "../../src/client/index.js";
import { type MixedCluster, startMixedCluster } from "../harness/mixed-cluster.js";
import { waitFor } from "../harness/processes.js";
import { modelOf, openDemo, sameModel } from "./kv-checker.js";

// A node's data directory (libraft's segments, metadata and snapshots; go-dqlite's info.yaml and
// cluster.yaml) is the same for both kinds: a real node's directory starts ours, and ours starts
// a real one, with the same id and address.

async function write(db: Database, from: number, count: number): Promise<void> {
  let next = from;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < from + count) {
        const i = next++;
        await db.exec("INSERT OR REPLACE INTO model(key, value) VALUES(?, ?)", [
          `key-${i % 500}`,
          `value-${i}`,
        ]);
      }
    }),
  );
}

async function catchesUp(cluster: MixedCluster, index: number): Promise<void> {
  const node = cluster.nodes[index - 1];
  await waitFor(
    `node ${index} (${node.kind}) to catch up`,
    async () => {
      const leader = cluster.nodes[(await cluster.leaderIndex()) - 1];
      return sameModel(await modelOf(node.db), await modelOf(leader.db)) ? true : undefined;
    },
    60_000,
    500,
  );
}

async function snapshotsIn(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => /^snapshot-\d+-\d+-\d+$/.test(name)).sort();
}

test("a real node's data directory starts our node, and ours starts a real one", async () => {
  const cluster = await startMixedCluster(["real", "real", "real"]);
  const db = await openDemo(cluster.addresses());
  try {
    // More than 1024 entries: node 3's directory holds a snapshot libraft wrote.
    await write(db, 0, 1100);
    await catchesUp(cluster, 3);
    const nodeDir = join(cluster.dir, cluster.nodes[2].db);
    const theirs = await snapshotsIn(nodeDir);
    assert.ok(theirs.length > 0, "libraft wrote a snapshot");

    await cluster.kill(3);
    await cluster.start(3, "ours");
    await write(db, 1100, 1200);
    await catchesUp(cluster, 3);
    // Our node applied over a thousand entries more and wrote a snapshot of its own, which is
    // the newest the real node will find when it starts on this directory.
    const ours = (await snapshotsIn(nodeDir)).filter((name) => !theirs.includes(name));
    assert.ok(ours.length > 0, "our node wrote a snapshot");

    // It serves as leader too.
    const admin = await Client.findLeader(cluster.addresses());
    const info = (await admin.cluster()).find((n) => n.address === cluster.nodes[2].db)!;
    await admin.transfer(info.id);
    admin.close();
    await waitFor("our node to lead", async () =>
      (await cluster.leaderIndex()) === 3 ? true : undefined,
    );
    await write(db, 2300, 100);

    await cluster.kill(3);
    await cluster.start(3, "real");
    await write(db, 2400, 100);
    await catchesUp(cluster, 3);
    const rows = await modelOf(cluster.nodes[2].db);
    assert.equal(rows.size, 500);
  } finally {
    await db.close();
    await cluster.stop();
  }
});
