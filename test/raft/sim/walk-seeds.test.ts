// Random walks of single moves (deliver / drop / duplicate one message, tick or time out one
// node, complete one write, crash one node, propose). A failure names its seed;
// `npm run sim -- --walk --seed S` replays it with a trace.
import assert from "node:assert/strict";
import { test } from "node:test";
import { runWalk, WalkFailure } from "../../../src/raft/sim/walk.js";

const WALKS = 2000;

test(`${WALKS} random walks keep every safety invariant`, () => {
  const failures: string[] = [];
  let committed = 0;
  let leaders = 0;
  for (let seed = 1; seed <= WALKS; seed++) {
    try {
      const result = runWalk({ seed });
      committed += result.committed;
      leaders += result.leaders;
    } catch (error) {
      if (!(error instanceof WalkFailure)) throw error;
      failures.push(error.message);
    }
  }
  assert.deepEqual(failures, []);
  assert.ok(leaders > WALKS * 2, `walks elect leaders (${leaders})`);
  assert.ok(committed > WALKS * 5, `walks commit entries (${committed})`);
});
