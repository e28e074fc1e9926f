// Forty kills of a disk-mode writer at random points (during start-up, log replay, snapshots,
// writes), on one data directory. Replay a failure: CRASH_SEED=<seed> node scripts/run-tests.mjs slow test/fsm
import assert from "node:assert/strict";
import { test } from "node:test";
import { crashLoop } from "./crash-loop.js";

const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);

test(`a disk-mode node killed 40 times at random points loses no acknowledged write (seed ${seed})`, async () => {
  const { acked } = await crashLoop({ iterations: 40, seed, snapshotThreshold: 24 });
  assert.ok(acked > 100, `only ${acked} writes acknowledged in 40 runs`);
});
