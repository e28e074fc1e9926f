import assert from "node:assert/strict";
import { test } from "node:test";
import { Progress, ProgressState } from "../../../src/raft/core/progress.js";

test("a probe moves back to the rejected index, or to the follower's hint if shorter", () => {
  const p = new Progress(10, 0);
  assert.equal(p.nextIndex, 11);
  assert.equal(p.maybeDecrement(10, 4), true);
  assert.equal(p.nextIndex, 5);
  assert.equal(p.maybeDecrement(9, 2), false, "a stale rejection is ignored");
  assert.equal(p.maybeDecrement(4, 9), true);
  assert.equal(p.nextIndex, 4);
});

test("a success moves the match and next forward, never back", () => {
  const p = new Progress(10, 0);
  assert.equal(p.maybeUpdate(7), true);
  assert.deepEqual([p.matchIndex, p.nextIndex], [7, 11]);
  assert.equal(p.maybeUpdate(5), false);
  assert.deepEqual([p.matchIndex, p.nextIndex], [7, 11]);
});

test("the pipeline window frees as acknowledgements arrive, and drops back to probe on reject", () => {
  const p = new Progress(0, 0);
  p.toPipeline();
  for (let last = 10; last <= 40; last += 10) p.addInflight(last, 1000);
  assert.equal(p.canSend(4, 1_000_000), false, "four messages in flight");
  assert.equal(p.canSend(8, 3000), false, "bytes too");
  p.maybeUpdate(25);
  assert.deepEqual([p.inflightCount, p.inflightBytesTotal], [2, 2000]);
  p.nextIndex = 41;
  assert.equal(p.maybeDecrement(20, 30), false, "below the match: stale");
  assert.equal(p.maybeDecrement(31, 30), true);
  assert.equal(p.state, ProgressState.Probe);
  assert.deepEqual([p.nextIndex, p.inflightCount], [31, 0]);
});

test("in snapshot state only the snapshot's own failure sends it back to probe", () => {
  const p = new Progress(100, 0);
  p.maybeUpdate(3);
  p.toSnapshot(90, 0);
  assert.equal(p.maybeDecrement(100, 3), false, "a heartbeat rejected during the install");
  assert.equal(p.maybeDecrement(90, 3), true);
  assert.equal(p.state, ProgressState.Probe);
  assert.equal(p.nextIndex, 90);
});
