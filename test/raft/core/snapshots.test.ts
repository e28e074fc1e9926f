import assert from "node:assert/strict";
import { test } from "node:test";
import { Harness, HEARTBEAT_MS } from "./harness.js";

function withEntries(count: number, trailing: number): Harness {
  const h = new Harness({ members: [1, 2, 3], options: { snapshotTrailing: trailing } });
  h.campaign(1);
  for (let v = 1; v <= count; v++) h.propose(1, v);
  h.run(2 * HEARTBEAT_MS);
  return h;
}

test("snapshot metadata carries the term and the configuration in force at its index", () => {
  const h = withEntries(10, 4);
  const raft = h.raft(1);
  const meta = raft.snapshotMeta(raft.lastApplied);
  assert.deepEqual([meta.index, meta.term, meta.configurationIndex], [12, 2, 1]);
  assert.deepEqual(
    meta.configuration.map((s) => s.id),
    [1n, 2n, 3n],
  );
  assert.throws(() => raft.snapshotMeta(raft.lastApplied + 1), RangeError);
});

test("a snapshot releases entries beyond the trailing window", () => {
  const h = withEntries(10, 4);
  const raft = h.raft(1);
  raft.snapshotTaken(12);
  assert.equal(raft.snapshotIndex, 12);
  assert.equal(raft.termAt(9), 2, "trailing entries stay");
  assert.equal(raft.termAt(8), 0, "older ones are gone");
  assert.equal(raft.termAt(12), 2);
  raft.snapshotTaken(10);
  assert.equal(raft.snapshotIndex, 12, "an older snapshot changes nothing");
  assert.throws(() => raft.snapshotTaken(99), RangeError);
});

test("a follower whose next entries are only in the trailing window still gets entries", () => {
  const h = withEntries(10, 8);
  h.isolate(3);
  for (let v = 11; v <= 14; v++) h.propose(1, v);
  h.run(2 * HEARTBEAT_MS, [1, 2]);
  h.raft(1).snapshotTaken(h.raft(1).lastApplied);
  h.heal();
  h.run(3 * HEARTBEAT_MS);
  assert.equal(h.node(3).snapshot, undefined, "no snapshot needed");
  assert.equal(h.raft(3).lastIndex, h.raft(1).lastIndex);
});

test("InstallSnapshot is acknowledged only once the driver installed it", () => {
  const h = withEntries(10, 0);
  h.isolate(3);
  for (let v = 11; v <= 14; v++) h.propose(1, v);
  h.run(2 * HEARTBEAT_MS, [1, 2]);
  const leader = h.node(1);
  const meta = leader.raft.snapshotMeta(leader.raft.lastApplied);
  leader.snapshot = { meta, data: new Uint8Array(8) };
  leader.raft.snapshotTaken(meta.index);
  h.node(3).autoPersist = false;
  h.heal();
  h.run(2 * HEARTBEAT_MS);
  assert.equal(h.node(3).snapshot?.meta.index, meta.index);
  const acks = () =>
    h
      .node(3)
      .readies.flatMap((r) => r.messages)
      .filter(
        (m) =>
          m.type === "appendEntriesResult" && m.rejected === 0 && m.lastLogIndex === meta.index,
      );
  assert.equal(acks().length, 0);
  h.persist(3);
  h.process(3);
  assert.equal(acks().length, 1);
});
