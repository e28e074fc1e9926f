import assert from "node:assert/strict";
import { test } from "node:test";
import { loadSqlite } from "../../src/sqlite/index.js";
import { vfsOptions } from "../sqlite/modes.js";
import { DATABASES, runWorkload } from "./random-workload.js";
import { ReplicationHarness, tableContents } from "./replication-harness.js";

// Replay one seed with: ENGINE_SEED=1234 node scripts/run-tests.mjs quick test/fsm
const sqlite = await loadSqlite();
const replay = process.env.ENGINE_SEED;
const seeds =
  replay !== undefined ? [Number(replay)] : Array.from({ length: 24 }, (_, i) => 1000 + i * 7919);

// Every fourth seed mixes modes: a disk-mode leader with a disk-mode and a memory-mode
// follower, each with a cache of a few pages.
const mixed = (seed: number) => seeds.indexOf(seed) % 4 === 3;
const disk = () => vfsOptions("disk");

for (const seed of seeds) {
  const modes = mixed(seed) ? " (disk-mode leader and follower)" : "";
  test(`followers fed only frames commands match the leader byte for byte (seed ${seed})${modes}`, () => {
    const harness = mixed(seed)
      ? new ReplicationHarness(sqlite, 2, { leader: disk(), followers: [disk(), {}] })
      : new ReplicationHarness(sqlite, 2);
    try {
      runWorkload(harness, seed, { steps: 40, abortRate: 0.1 });
      for (const name of DATABASES) {
        if (!harness.leader.vfs.has(name)) continue;
        const leaderStore = harness.leader.database(name).store;
        const expected = tableContents(harness.leader, name);
        for (const [i, follower] of harness.followers.entries()) {
          const store = follower.database(name).store;
          assert.equal(
            store.pageCount,
            leaderStore.pageCount,
            `seed ${seed}: ${name} size on follower ${i}`,
          );
          const leaderPages = leaderStore.latestPages();
          store.latestPages().forEach((page, n) => {
            assert.ok(
              Buffer.from(page).equals(Buffer.from(leaderPages[n])),
              `seed ${seed}: ${name} page ${n + 1}`,
            );
          });
          assert.deepEqual(
            tableContents(follower, name),
            expected,
            `seed ${seed}: ${name} rows on follower ${i}`,
          );
        }
        assert.deepEqual(expected["<integrity>"], [["ok"]], `seed ${seed}: integrity of ${name}`);
      }
    } finally {
      harness.close();
    }
  });
}
