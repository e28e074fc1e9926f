import assert from "node:assert/strict";
import { test } from "node:test";
import type { AppendEntries, AppendEntriesResult, Entry } from "../../../src/raft/core/types.js";
import { EntryType } from "../../../src/raft/core/types.js";
import { appliedValues, Harness } from "./harness.js";

function entry(index: number, term: number, value = index): Entry {
  const data = new Uint8Array(8);
  new DataView(data.buffer).setFloat64(0, value, true);
  return { index, term, type: EntryType.Command, data };
}

function appendEntries(overrides: Partial<AppendEntries>): AppendEntries {
  return {
    type: "appendEntries",
    from: 2n,
    to: 1n,
    term: 3,
    prevLogIndex: 1,
    prevLogTerm: 1,
    leaderCommit: 0,
    entries: [],
    ...overrides,
  };
}

function results(h: Harness): AppendEntriesResult[] {
  return h.drop((m) => m.type === "appendEntriesResult") as AppendEntriesResult[];
}

/** A follower (node 1 of 1..3) that is not auto-persisting. */
function follower(): Harness {
  const h = new Harness({ members: [1, 2, 3], autoPersist: false });
  return h;
}

test("a follower acknowledges new entries only once they are durable", () => {
  const h = follower();
  h.raft(1).step(appendEntries({ entries: [entry(2, 3), entry(3, 3)] }));
  h.process(1);
  assert.deepEqual(results(h), [], "no reply before the write is durable");
  assert.deepEqual(
    h
      .node(1)
      .readies.at(-1)
      ?.entries.map((e) => e.index),
    [2, 3],
  );
  h.persist(1);
  h.process(1);
  const [reply] = results(h);
  assert.deepEqual([reply.to, reply.term, reply.rejected, reply.lastLogIndex], [2n, 3, 0, 3]);
});

test("many durable writes between two ready() calls give one acknowledgement", () => {
  const h = follower();
  h.raft(1).step(appendEntries({ entries: [entry(2, 3)] }));
  h.process(1);
  h.raft(1).step(appendEntries({ prevLogIndex: 2, prevLogTerm: 3, entries: [entry(3, 3)] }));
  h.process(1);
  h.persist(1);
  h.process(1);
  assert.deepEqual(
    results(h).map((r) => r.lastLogIndex),
    [3],
  );
});

test("a mismatch is rejected with rejected = prevLogIndex and the last index as a hint", () => {
  const h = follower();
  h.raft(1).step(appendEntries({ entries: [entry(2, 2), entry(3, 2)] }));
  h.process(1);
  h.drop();
  h.raft(1).step(appendEntries({ prevLogIndex: 5, prevLogTerm: 3 }));
  h.raft(1).step(appendEntries({ prevLogIndex: 3, prevLogTerm: 3 }));
  h.process(1);
  assert.deepEqual(
    results(h).map((r) => [r.rejected, r.lastLogIndex, r.term]),
    [
      [5, 3, 3],
      [3, 3, 3],
    ],
  );
});

test("a message from an older term is rejected with the current term", () => {
  const h = follower();
  h.raft(1).step(appendEntries({ term: 3 }));
  h.raft(1).step(appendEntries({ term: 2, from: 3n, prevLogIndex: 1 }));
  h.process(1);
  const stale = results(h).filter((r) => r.to === 3n);
  assert.deepEqual(
    stale.map((r) => [r.term, r.rejected]),
    [[3, 1]],
  );
  assert.equal(h.raft(1).leaderId, 2n);
});

test("a conflicting tail is truncated and replaced; the driver sees the truncation point", () => {
  const h = follower();
  h.raft(1).step(appendEntries({ entries: [entry(2, 2), entry(3, 2), entry(4, 2)] }));
  h.process(1);
  h.persist(1);
  h.raft(1).step(
    appendEntries({
      term: 4,
      from: 3n,
      prevLogIndex: 2,
      prevLogTerm: 2,
      entries: [entry(3, 4, 30)],
    }),
  );
  h.process(1);
  const ready = h.node(1).readies.at(-1)!;
  assert.equal(ready.truncateFromIndex, 3);
  assert.deepEqual(
    ready.entries.map((e) => [e.index, e.term]),
    [[3, 4]],
  );
  assert.equal(h.raft(1).lastIndex, 3);
  assert.equal(h.raft(1).termAt(3), 4);
});

test("entries already held are not rewritten, and a duplicate is acknowledged once durable", () => {
  const h = follower();
  const message = appendEntries({ entries: [entry(2, 3), entry(3, 3)] });
  h.raft(1).step(message);
  h.raft(1).step(message);
  h.process(1);
  assert.equal(h.node(1).readies.flatMap((r) => r.entries).length, 2);
  h.persist(1);
  h.raft(1).step(message);
  h.process(1);
  assert.deepEqual(
    results(h).map((r) => r.lastLogIndex),
    [3],
  );
  h.raft(1).step(message);
  h.process(1);
  assert.deepEqual(
    results(h).map((r) => r.lastLogIndex),
    [3],
  );
});

test("the commit index follows the leader but never past what matches its log", () => {
  const h = follower();
  h.raft(1).step(appendEntries({ entries: [entry(2, 3), entry(3, 3)], leaderCommit: 9 }));
  assert.equal(h.raft(1).commitIndex, 3);
  h.process(1);
  assert.deepEqual(appliedValues(h.node(1)), [], "nothing applied before durable");
  h.persist(1);
  h.process(1);
  assert.deepEqual(appliedValues(h.node(1)), [2, 3]);
});

test("a follower's commit stays below entries it could not check against the leader", () => {
  const h = follower();
  h.raft(1).step(appendEntries({ entries: [entry(2, 2), entry(3, 2), entry(4, 2)] }));
  // A new leader whose message covers only up to index 2: entries 3-4 may not be its.
  h.raft(1).step(
    appendEntries({ term: 4, from: 3n, prevLogIndex: 2, prevLogTerm: 2, leaderCommit: 4 }),
  );
  assert.equal(h.raft(1).commitIndex, 2);
});

test("a change entry takes effect when appended and reverts when truncated", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.campaign(1);
  assert.equal(h.raft(1).addServer(4n, "n4").index, 3);
  h.process(1);
  h.drop(); // node 2 and 3 never see it
  assert.equal(h.raft(1).configuration.length, 4);
  h.isolate(1);
  h.tick(2000, [3]); // node 3 stops waiting for node 1 and campaigns (and fails) first
  h.drop();
  h.campaign(2);
  assert.equal(h.raft(2).state, "leader");
  h.heal();
  h.tick(100, [2]);
  h.deliver();
  assert.equal(h.raft(1).state, "follower");
  assert.equal(h.raft(1).leaderId, 2n);
  assert.deepEqual(
    h.raft(1).configuration.map((s) => s.id),
    [1n, 2n, 3n],
  );
  assert.equal(h.raft(1).configurationIndex, 1);
});

test("a follower appends entries but applies only committed ones, in order, on every node", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.campaign(1);
  for (let v = 1; v <= 5; v++) h.propose(1, v);
  h.deliver();
  h.tick();
  h.deliver();
  for (const id of [1, 2, 3]) assert.deepEqual(appliedValues(h.node(id)), [1, 2, 3, 4, 5]);
});
