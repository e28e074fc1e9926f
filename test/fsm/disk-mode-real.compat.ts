// A disk-mode node of ours in a cluster of Debian's real dqlite-demo nodes (libdqlite 1.11): it
// catches up from a real leader's snapshot (1.11's shape: main file and WAL), follows, then
// leads, and the real nodes apply its frames to the same rows.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { Client } from "../../src/client/index.js";
import { generateId, Node } from "../../src/server/node.js";
import { waitFor } from "../harness/processes.js";
import { startDemoCluster } from "../harness/real-dqlite.js";
import { modelOf, openDemo, sameModel } from "../mixed/kv-checker.js";

// Real nodes snapshot every 1024 entries and keep 8192 behind: after about 9,300 writes a new
// node cannot get the log from its start and installs the leader's snapshot.
const WRITES = 9400;

test("a disk-mode node catches up from a real leader's snapshot, follows and leads real nodes", async () => {
  const cluster = await startDemoCluster(3);
  const dir = await mkdtemp(join(tmpdir(), "disk-mode-real-"));
  let node: Node | null = null;
  const db = await openDemo(cluster.nodes.map((n) => n.db));
  try {
    let next = 0;
    const write = async (until: number) => {
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < until) {
            const i = next++;
            await db.exec("INSERT OR REPLACE INTO model(key, value) VALUES(?, ?)", [
              `key-${i % 2000}`,
              `value-${i}`,
            ]);
          }
        }),
      );
    };
    await write(WRITES);

    node = new Node({
      id: generateId("disk-mode"),
      address: "127.0.0.1:0",
      dataDir: join(dir, "ours"),
      diskMode: true,
      diskCacheSizeBytes: 32 * 4096,
    });
    await node.start();
    const admin = await Client.findLeader(
      cluster.nodes.map((n) => n.db),
      { timeoutMs: 10_000 },
    );
    await admin.add({ id: node.id, address: node.address, role: "voter" }, { timeoutMs: 60_000 });
    admin.close();
    await write(WRITES + 500);
    const ours = node.address;
    const everyone = [...cluster.nodes.map((n) => n.db), ours];
    const agree = async (what: string) => {
      const leader = await Client.findLeader(everyone, { timeoutMs: 10_000 });
      const leaderAddress = leader.address;
      leader.close();
      const expected = await modelOf(leaderAddress);
      assert.equal(expected.size, 2000);
      for (const address of everyone) {
        await waitFor(
          `${address} to hold the leader's rows (${what})`,
          async () => (sameModel(await modelOf(address), expected) ? true : undefined),
          60_000,
          500,
        );
      }
    };
    await agree("after catching up");

    const toOurs = await Client.findLeader(everyone, { timeoutMs: 10_000 });
    await toOurs.transfer(node.id, { timeoutMs: 30_000 });
    toOurs.close();
    await waitFor("our node to lead", () => (node?.state === "leader" ? true : undefined), 30_000);
    await write(WRITES + 1500);
    await agree("under our leadership");
  } finally {
    await db.close();
    await node?.close();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
});
