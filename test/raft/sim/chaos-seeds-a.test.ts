// Randomized runs of the simulator, seeds 1..400 (the other file runs the rest, in
// parallel). A failure names its seed; `npm run sim -- --seed S` replays it with a trace.
import assert from "node:assert/strict";
import { test } from "node:test";
import { ChaosFailure, runChaos } from "../../../src/raft/sim/chaos.js";

const FIRST_SEED = 1;
const SEEDS = 400;

test(`seeds ${FIRST_SEED}..${FIRST_SEED + SEEDS - 1} keep every invariant and make progress after healing`, () => {
  const failures: string[] = [];
  let committed = 0;
  for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
    try {
      committed += runChaos({ seed, trace: false }).committed;
    } catch (error) {
      if (!(error instanceof ChaosFailure)) throw error;
      failures.push(error.message);
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(committed > SEEDS * 50, `runs commit work (${committed} entries)`);
});
