// The core drops the data of applied entries beyond `logDataInMemoryBytes`; a follower that needs
// them gets stand-ins, which the driver fills from storage before sending.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type AppendEntries, isDataDropped } from "../../../src/raft/core/types.js";
import {
  fillFromStoredLog,
  fillStoredData,
  needsStoredData,
  storedRange,
} from "../../../src/raft/node/stored-data.js";
import { appliedValues, Harness } from "./harness.js";

/**
 * Leader 1 commits values 1-5 while node 3 is cut off, then node 3 is back and has answered a
 * heartbeat: returns the AppendEntries carrying entries now queued for it (not delivered).
 */
function catchUpMessagesToNode3(h: Harness): AppendEntries[] {
  h.campaign(1);
  h.isolate(3);
  for (let v = 1; v <= 5; v++) h.propose(1, v);
  h.deliver();
  h.tick();
  h.deliver();
  assert.deepEqual(appliedValues(h.node(2)), [1, 2, 3, 4, 5]);
  h.heal();
  h.drop();
  h.tick();
  h.deliver((m) => !(m.type === "appendEntries" && m.entries.length > 0));
  return h.queue.filter(
    (m): m is AppendEntries => m.type === "appendEntries" && m.to === 3n && m.entries.length > 0,
  );
}

/** Delivers everything, then a heartbeat round, and checks node 3 applied 1-5. */
function node3CaughtUp(h: Harness): void {
  h.deliver();
  h.tick();
  h.deliver();
  assert.deepEqual(appliedValues(h.node(3)), [1, 2, 3, 4, 5]);
}

test("a lagging follower is sent stand-ins; filled from the leader's disk they apply as written", () => {
  const h = new Harness({ members: [1, 2, 3], options: { logDataInMemoryBytes: 0 } });
  const carrying = catchUpMessagesToNode3(h);
  assert.ok(carrying.length > 0, "the leader sends node 3 entries");
  assert.ok(
    carrying.some((m) => m.entries.some(isDataDropped)),
    "applied entries' data is gone from the leader's memory",
  );
  // What the driver does: read them back from the leader's disk (the harness's log).
  h.queue = h.queue.map((m) => {
    if (!needsStoredData(m)) return m;
    const filled = fillFromStoredLog(m, h.node(1).log);
    assert.ok(filled !== null);
    assert.ok(!needsStoredData(filled));
    return filled;
  });
  node3CaughtUp(h);
});

test("entries in flight to followers in step are never stand-ins", () => {
  const h = new Harness({ members: [1, 2, 3], options: { logDataInMemoryBytes: 0 } });
  h.campaign(1);
  for (let v = 1; v <= 20; v++) {
    h.propose(1, v);
    h.processAll();
    for (const m of h.queue) assert.ok(!needsStoredData(m), `proposal ${v}`);
    h.deliver();
  }
  h.tick();
  h.deliver();
  for (const id of [1, 2, 3]) assert.equal(appliedValues(h.node(id)).length, 20);
});

test("with the default (no limit) a lagging follower gets entries from memory, as libraft", () => {
  const h = new Harness({ members: [1, 2, 3] });
  const carrying = catchUpMessagesToNode3(h);
  assert.ok(carrying.length > 0, "the leader sends node 3 entries");
  assert.ok(!carrying.some(needsStoredData));
  node3CaughtUp(h);
});

test("a stored entry that is not the one the stand-in stood for is not sent", () => {
  const standIn: AppendEntries = {
    type: "appendEntries",
    from: 1n,
    to: 2n,
    term: 3,
    prevLogIndex: 4,
    prevLogTerm: 2,
    leaderCommit: 6,
    entries: [
      { index: 5, term: 2, type: 1, data: new Uint8Array(0), droppedDataBytes: 8 },
      { index: 6, term: 3, type: 1, data: new Uint8Array(8) },
    ],
  };
  const stored = (term: number, size: number) => [
    { index: 5, term, type: 1, data: new Uint8Array(size) },
  ];
  assert.deepEqual(storedRange(standIn), { fromIndex: 5, toIndex: 5 });
  assert.equal(fillStoredData(standIn, stored(1, 8)), null, "another term");
  assert.equal(fillStoredData(standIn, stored(2, 16)), null, "another size");
  assert.equal(fillStoredData(standIn, []), null, "gone from storage");
  const filled = fillStoredData(standIn, stored(2, 8));
  assert.equal(filled?.entries[0].data.length, 8);
  assert.equal(filled?.entries[1], standIn.entries[1]);
});
