// Kills of a disk-mode writer at random points (during start-up, log replay, snapshots, writes),
// on one data directory: 25 per run (a fresh seed each CI run), CRASH_KILLS=<n> for more.
// Replay a failure: CRASH_SEED=<seed> node scripts/run-tests.mjs slow test/fsm
import assert from "node:assert/strict";
import { test } from "node:test";
import { crashLoop } from "./crash-loop.js";

const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);
const kills = Number(process.env.CRASH_KILLS ?? 25);

test(`a disk-mode node killed ${kills} times at random points loses no acknowledged write (seed ${seed})`, async () => {
  const { acked } = await crashLoop({ iterations: kills, seed, snapshotThreshold: 24 });
  assert.ok(acked > 2 * kills, `only ${acked} writes acknowledged in ${kills} runs`);
});
