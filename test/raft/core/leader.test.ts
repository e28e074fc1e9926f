import assert from "node:assert/strict";
import { test } from "node:test";
import { RaftError } from "../../../src/raft/core/errors.js";
import type { AppendEntries } from "../../../src/raft/core/types.js";
import { appliedValues, ELECTION_MS, Harness, HEARTBEAT_MS } from "./harness.js";

function appends(h: Harness): AppendEntries[] {
  return h.queue.filter((m) => m.type === "appendEntries") as AppendEntries[];
}

/** Node 1 leads 1..n, everything delivered and durable. */
function leader(n = 3, options = {}): Harness {
  const members = Array.from({ length: n }, (_, i) => i + 1);
  const h = new Harness({ members, options });
  h.campaign(1);
  assert.equal(h.raft(1).state, "leader");
  h.tick();
  h.deliver();
  return h;
}

test("a new leader appends a no-op barrier so earlier entries commit", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.campaign(1);
  assert.equal(h.raft(1).lastIndex, 2);
  assert.equal(h.raft(1).termAt(2), 2);
  assert.equal(h.raft(1).commitIndex, 2);
});

test("the leader sends AppendEntries in the same Ready as its own write (parallel fsync)", () => {
  const h = leader();
  h.node(1).autoPersist = false;
  h.propose(1, 7);
  const ready = h.node(1).readies.at(-1)!;
  assert.deepEqual(
    ready.entries.map((e) => e.index),
    [3],
  );
  assert.deepEqual(
    ready.messages.filter((m) => m.type === "appendEntries").map((m) => m.to),
    [2n, 3n],
  );
});

test("proposals made between two ready() calls go out as one write and one message each", () => {
  const h = leader();
  h.node(1).autoPersist = false;
  const raft = h.raft(1);
  for (let v = 0; v < 50; v++) raft.propose(new Uint8Array(8));
  h.process(1);
  const ready = h.node(1).readies.at(-1)!;
  assert.equal(ready.entries.length, 50);
  assert.deepEqual(
    appends(h).map((m) => [m.to, m.entries.length]),
    [
      [2n, 50],
      [3n, 50],
    ],
  );
});

test("the leader counts itself toward commit only once its own write is durable", () => {
  const h = leader(3);
  h.node(1).autoPersist = false;
  const { index } = h.propose(1, 1);
  h.deliver((m) => m.to === 2n || m.from === 2n);
  assert.equal(h.raft(1).commitIndex, index - 1, "one follower durable, leader not yet");
  h.persist(1);
  assert.equal(h.raft(1).commitIndex, index);
});

test("two followers durable commit the entry before the leader's own fsync", () => {
  const h = leader(3);
  h.node(1).autoPersist = false;
  const { index } = h.propose(1, 1);
  h.deliver();
  assert.equal(h.raft(1).commitIndex, index);
  h.process(1);
  assert.deepEqual(appliedValues(h.node(1)), [], "applied only once durable here too");
  h.persist(1);
  h.process(1);
  assert.deepEqual(appliedValues(h.node(1)), [1]);
});

test("entries of an older term commit only with an entry of the current term", () => {
  const h = leader(3);
  h.isolate(1);
  const old = h.propose(1, 1); // term 2, reaches nobody
  h.heal();
  h.restart(1); // node 1 steps down, its entry stays on its disk
  // Node 1 keeps its term-2 entry; a later leader of term 3 on node 1 only counts its no-op.
  h.tick(2 * ELECTION_MS, [2, 3]);
  h.drop();
  h.campaign(1);
  const raft = h.raft(1);
  assert.equal(raft.state, "leader");
  assert.equal(raft.term, 3);
  assert.equal(raft.termAt(old.index), 2);
  assert.equal(raft.commitIndex, old.index + 1, "committed together with the term-3 no-op");
  assert.equal(raft.termAt(old.index + 1), 3);
});

test("a probe that is rejected moves back and is retried at once with the follower's hint", () => {
  const h = leader(3);
  h.isolate(3);
  for (let v = 1; v <= 10; v++) h.propose(1, v);
  h.deliver();
  h.heal();
  h.restart(3); // node 3's log: entries up to the no-op
  h.tick(ELECTION_MS * 3, [1]); // heartbeats; check-quorum holds thanks to node 2
  h.deliver();
  assert.equal(h.raft(3).lastIndex, h.raft(1).lastIndex);
  assert.deepEqual(appliedValues(h.node(3)).slice(-3), [8, 9, 10]);
});

test("pipelining is bounded by the in-flight window", () => {
  const h = leader(3, { maxInflightMessages: 2, maxAppendBytes: 8 + 16 });
  h.queue = [];
  for (let v = 1; v <= 10; v++) h.raft(1).propose(new Uint8Array(8));
  h.process(1);
  assert.deepEqual(
    appends(h).map((m) => [m.to, m.entries.length]),
    [
      [2n, 1],
      [2n, 1],
      [3n, 1],
      [3n, 1],
    ],
    "two one-entry messages per follower, then wait for replies",
  );
  h.deliver();
  assert.equal(h.raft(2).lastIndex, h.raft(1).lastIndex, "replies open the window until done");
});

test("a follower that lost messages in the pipeline is caught up by heartbeats", () => {
  const h = leader(3);
  h.propose(1, 1);
  h.propose(1, 2);
  h.drop((m) => m.to === 3n);
  h.deliver();
  h.run(3 * HEARTBEAT_MS);
  assert.deepEqual(appliedValues(h.node(3)), [1, 2]);
});

test("check-quorum: a leader that hears from no majority for an election timeout steps down", () => {
  const h = leader(3);
  h.isolate(1);
  h.run(ELECTION_MS, [1]);
  assert.equal(h.raft(1).state, "leader", "within one timeout it still leads");
  h.run(ELECTION_MS, [1]);
  assert.equal(h.raft(1).state, "follower");
  assert.equal(h.raft(1).leaderId, 0n);
  const lost = h.node(1).softStates.at(-1)!;
  assert.deepEqual([lost.state, lost.term], ["follower", 2], "leadership loss is observable");
});

test("only the leader accepts proposals; refusals are typed", () => {
  const h = leader(3);
  assert.throws(
    () => h.raft(2).propose(new Uint8Array(8)),
    (e: unknown) => e instanceof RaftError && e.code === "notLeader",
  );
  h.raft(1).transferLeadership(2n);
  assert.throws(
    () => h.raft(1).propose(new Uint8Array(8)),
    (e: unknown) => e instanceof RaftError && e.code === "leadershipTransferInProgress",
  );
  assert.throws(
    () => h.raft(1).barrier(),
    (e: unknown) => e instanceof RaftError && e.code === "leadershipTransferInProgress",
  );
});

test("a barrier is an 8-byte entry that commits like any other", () => {
  const h = leader(3);
  const { index } = h.raft(1).barrier();
  h.deliver();
  const applied = h.node(1).applied.find((e) => e.index === index)!;
  assert.equal(applied.type, 2);
  assert.equal(applied.data.length, 8);
});

test("heartbeats carry the commit index to followers", () => {
  const h = leader(3);
  h.propose(1, 1);
  h.deliver();
  assert.equal(h.raft(1).commitIndex, 3);
  assert.equal(h.raft(2).commitIndex, 2, "followers learn it with the next message");
  h.tick();
  h.deliver();
  assert.equal(h.raft(2).commitIndex, 3);
  assert.deepEqual(appliedValues(h.node(2)), [1]);
});

test("a leader that cannot commit refuses proposals once its uncommitted bytes are full", () => {
  const h = leader(3, { maxUncommittedBytes: 64 });
  h.isolate(1);
  for (let v = 0; v < 8; v++) h.propose(1, v);
  assert.throws(
    () => h.propose(1, 8),
    (e: unknown) => e instanceof RaftError && e.code === "busy",
  );
  h.heal();
  h.run(2 * HEARTBEAT_MS);
  h.propose(1, 9);
});
