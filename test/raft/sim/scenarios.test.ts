// Scenarios in the style of the raft paper and etcd's testdata: small scripts, one behaviour each.
import assert from "node:assert/strict";
import { test } from "node:test";
import { type Message, RaftRole } from "../../../src/raft/core/types.js";
import { appliedValues, ELECTION_MS, Harness, HEARTBEAT_MS } from "../core/harness.js";

/** Node `i` campaigns; only vote traffic is delivered, so its first entries stay its own. */
function elect(h: Harness, i: number): void {
  for (let round = 0; round < 5 && h.raft(i).state !== "leader"; round++) {
    h.tick(3 * ELECTION_MS, [i]);
    h.deliver((m) => m.type === "requestVote" || m.type === "requestVoteResult");
  }
}

/** Stops node `i` (cut from everyone, no ticks) — a crash whose disk keeps what was written. */
function down(h: Harness, i: number): void {
  h.isolate(i);
  h.drop((m) => Number(m.to) === i || Number(m.from) === i);
}

test("figure 8: an old-term entry on a majority is not committed by counting", () => {
  // One entry per AppendEntries so a test can deliver an entry without the next one.
  const h = new Harness({ members: [1, 2, 3, 4, 5], options: { maxAppendBytes: 24 } });
  h.campaign(1);
  h.run(HEARTBEAT_MS);
  // (a) S1 leads term 2 and gets X (index 3) to S2 only.
  const x = h.propose(1, 100);
  assert.deepEqual([x.index, x.term], [3, 2]);
  h.deliver((m) => m.to === 2n || m.from === 2n);
  h.drop();
  // (b) S1 crashes; S5 is elected in term 3 by S3, S4 and S5, and its no-op stays on S5.
  down(h, 1);
  h.partition([2], [3, 4, 5]);
  h.tick(3 * ELECTION_MS, [3, 4]);
  h.drop();
  elect(h, 5);
  assert.equal(h.raft(5).state, "leader");
  assert.equal(h.raft(5).term, 3);
  assert.equal(h.raft(5).termAt(3), 3);
  h.drop();
  // (c) S5 crashes; S1 comes back and is elected in term 4 by S2 and S3; X reaches S3, the
  // term-4 no-op only S2. X is now on S1, S2, S3: a majority, but of term 2.
  h.heal();
  down(h, 5);
  h.partition([4], [1, 2, 3]);
  h.restart(1);
  h.tick(3 * ELECTION_MS, [2, 3]);
  h.drop();
  elect(h, 1); // refused by S3 in term 3 (it voted for S5), elected in term 4
  assert.equal(h.raft(1).state, "leader");
  assert.equal(h.raft(1).term, 4);
  // S2 gets the no-op. S3 first rejects the probe after index 3 (it lacks X), then gets X
  // alone; the message that would give it the no-op too is held back. Matches are now
  // S1 4, S2 4, S3 3: index 3 is on a majority, index 4 is not.
  const carriesNoop = (m: Message) =>
    m.type === "appendEntries" &&
    m.to === 3n &&
    m.entries.some((e) => e.index === 4) &&
    h.raft(3).lastIndex >= 3;
  h.deliver((m) => !carriesNoop(m));
  assert.equal(h.raft(3).termAt(3), 2, "S3 holds X");
  assert.equal(h.raft(3).lastIndex, 3, "but not the term-4 no-op");
  assert.deepEqual(
    [1, 2, 3].map((i) => h.raft(i).termAt(x.index)),
    [2, 2, 2],
  );
  assert.ok(h.raft(1).commitIndex < x.index, "X is on a majority yet not committed");
  // (d) S1 crashes; S5 returns and wins term 5 (its last term 3 beats X's 2) and overwrites X.
  h.drop();
  h.heal();
  down(h, 1);
  h.restart(5);
  h.tick(3 * ELECTION_MS, [2, 3, 4]);
  h.drop();
  elect(h, 5); // S3 voted for S1 in term 4: S5 wins term 5 with S3 and S4
  h.run(3 * HEARTBEAT_MS, [5]);
  assert.equal(h.raft(5).state, "leader");
  for (const i of [2, 3, 4, 5]) {
    assert.equal(h.raft(i).termAt(3), 3, `S${i} index 3 is S5's entry`);
    assert.deepEqual(appliedValues(h.node(i)), [], `S${i} never applied X`);
  }
});

test("a partitioned leader cannot commit; the majority elects another; on healing it follows", () => {
  const h = new Harness({ members: [1, 2, 3, 4, 5] });
  h.campaign(1);
  h.partition([1, 2], [3, 4, 5]);
  const lost = h.propose(1, 1);
  h.deliver();
  assert.ok(h.raft(1).commitIndex < lost.index, "two of five cannot commit");
  h.tick(3 * ELECTION_MS, [4, 5]);
  h.drop();
  h.campaign(3);
  assert.equal(h.raft(3).state, "leader");
  const kept = h.propose(3, 2);
  h.deliver();
  assert.ok(h.raft(3).commitIndex >= kept.index);
  // The old leader is still leader of its term until check-quorum makes it step down.
  assert.equal(h.raft(1).state, "leader");
  h.run(2 * ELECTION_MS, [1, 2]);
  assert.equal(h.raft(1).state, "follower");
  h.heal();
  h.run(ELECTION_MS);
  for (let i = 1; i <= 5; i++) {
    assert.deepEqual(appliedValues(h.node(i)), [2], `node ${i}`);
    assert.equal(h.raft(i).leaderId, 3n);
  }
  assert.notEqual(h.raft(1).termAt(lost.index), lost.term, "the uncommitted entry was replaced");
});

test("split votes: two candidates, nobody wins, the next timeout decides", () => {
  const h = new Harness({ members: [1, 2, 3, 4], options: { preVote: false } });
  h.tick(ELECTION_MS + 200, [1, 2]);
  h.deliver(
    (m) =>
      (m.from === 1n && m.to === 3n) ||
      (m.from === 2n && m.to === 4n) ||
      m.type === "requestVoteResult",
  );
  h.drop();
  assert.deepEqual(h.leaders(), []);
  h.tick(ELECTION_MS + 200, [2]);
  h.deliver();
  assert.deepEqual(h.leaders(), [2]);
  assert.equal(h.raft(2).term, 3);
});

test("with pre-vote a server rejoining after a long partition does not disrupt the leader", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.campaign(1);
  h.isolate(3);
  h.run(20 * ELECTION_MS);
  assert.equal(h.raft(3).term, 2, "pre-vote rounds never bump its term");
  h.heal();
  h.run(ELECTION_MS);
  assert.equal(h.raft(1).state, "leader");
  assert.equal(h.raft(1).term, 2);
  assert.equal(h.raft(3).leaderId, 1n);
});

test("without pre-vote the same rejoin forces an election at a higher term", () => {
  const h = new Harness({ members: [1, 2, 3], options: { preVote: false } });
  h.campaign(1);
  h.isolate(3);
  h.run(20 * ELECTION_MS);
  assert.ok(h.raft(3).term > 10, "it bumped its term at every timeout");
  h.heal();
  h.run(5 * ELECTION_MS);
  const leader = h.leaders();
  assert.equal(leader.length, 1);
  assert.ok(h.raft(leader[0]).term > 10, "the old leader stepped down on seeing the higher term");
});

test("check-quorum: a leader whose followers died steps down after an election timeout", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.campaign(1);
  down(h, 2);
  down(h, 3);
  h.run(ELECTION_MS + HEARTBEAT_MS, [1]);
  assert.equal(h.raft(1).state, "leader", "one missed round is not enough");
  h.run(ELECTION_MS, [1]);
  assert.equal(h.raft(1).state, "follower");
});

test("leadership transfer: TimeoutNow once the target is up to date, an election without pre-vote", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.campaign(1);
  h.run(HEARTBEAT_MS);
  h.isolate(2);
  h.propose(1, 1);
  h.deliver();
  h.raft(1).transferLeadership(2n);
  h.process(1);
  assert.equal(h.queue.filter((m) => m.type === "timeoutNow").length, 0, "node 2 lags: wait");
  h.heal();
  h.run(2 * HEARTBEAT_MS, [1]);
  assert.equal(h.raft(2).state, "leader");
  assert.equal(h.raft(2).term, 3);
  const votes = h
    .node(2)
    .readies.flatMap((r) => r.messages)
    .filter((m) => m.type === "requestVote");
  assert.ok(votes.every((m) => m.type === "requestVote" && !m.preVote && m.disruptLeader));
  const ended = h.node(1).readies.flatMap((r) => r.events);
  assert.deepEqual(ended, [{ type: "transferEnded", target: 2n, succeeded: true }]);
  assert.equal(h.raft(1).transferTarget, 0n);
  h.propose(2, 2);
  h.run(2 * HEARTBEAT_MS);
  assert.deepEqual(appliedValues(h.node(1)), [1, 2]);
});

test("a transfer to an unreachable voter is abandoned after an election timeout", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.campaign(1);
  down(h, 3);
  assert.equal(h.raft(1).transferLeadership(0n), 2n, "0n picks an up-to-date voter");
  down(h, 2);
  h.raft(1).transferLeadership === undefined;
  h.run(ELECTION_MS + HEARTBEAT_MS, [1]);
  const events = h.node(1).readies.flatMap((r) => r.events);
  assert.ok(events.some((e) => e.type === "transferEnded" && !e.succeeded));
});

test("catch-up rounds: a spare is promoted once it keeps up, a silent one is given up", () => {
  const h = new Harness({
    members: [1, 2, 3],
    extra: [4, 5],
    options: { maxCatchUpRoundDurationMs: 5 * ELECTION_MS },
  });
  h.campaign(1);
  for (let v = 1; v <= 20; v++) h.propose(1, v);
  h.deliver();
  h.raft(1).addServer(4n, "n4");
  h.run(3 * HEARTBEAT_MS);
  assert.equal(h.raft(4).lastIndex, 0, "a spare gets nothing");
  assert.equal(h.raft(1).assignRole(4n, RaftRole.Voter), undefined, "catching up first");
  h.run(3 * HEARTBEAT_MS);
  assert.equal(h.raft(1).configuration.find((s) => s.id === 4n)?.role, RaftRole.Voter);
  const promoted = h
    .node(1)
    .readies.flatMap((r) => r.events)
    .find((e) => e.type === "promotionAppended");
  assert.ok(promoted !== undefined);
  assert.deepEqual(appliedValues(h.node(4)).length, 20);
  // A second promotion to a server that never answers is abandoned.
  h.raft(1).addServer(5n, "n5");
  h.run(3 * HEARTBEAT_MS);
  down(h, 5);
  assert.equal(h.raft(1).assignRole(5n, RaftRole.Voter), undefined);
  assert.throws(() => h.raft(1).removeServer(2n), /being promoted/);
  h.run(6 * ELECTION_MS, [1, 2, 3, 4]);
  const aborted = h
    .node(1)
    .readies.flatMap((r) => r.events)
    .find((e) => e.type === "promotionAborted");
  assert.deepEqual(aborted, { type: "promotionAborted", id: 5n });
  assert.equal(h.raft(1).configuration.find((s) => s.id === 5n)?.role, RaftRole.Spare);
});

test("one membership change at a time: the next waits for the last to commit", () => {
  const h = new Harness({ members: [1, 2, 3], extra: [4] });
  h.campaign(1);
  h.isolate(2);
  h.isolate(3);
  h.raft(1).addServer(4n, "n4");
  assert.throws(() => h.raft(1).assignRole(4n, RaftRole.Standby), /not committed/);
  h.heal();
  h.run(HEARTBEAT_MS);
  h.raft(1).assignRole(4n, RaftRole.Standby);
});

test("snapshot install: a follower whose next entry was compacted away gets the snapshot", () => {
  const h = new Harness({ members: [1, 2, 3], options: { snapshotTrailing: 2 } });
  h.campaign(1);
  down(h, 3);
  for (let v = 1; v <= 30; v++) h.propose(1, v);
  h.run(HEARTBEAT_MS, [1, 2]);
  const leader = h.node(1);
  const meta = leader.raft.snapshotMeta(leader.raft.lastApplied);
  leader.snapshot = { meta, data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8) };
  leader.raft.snapshotTaken(meta.index);
  h.heal();
  h.run(3 * HEARTBEAT_MS);
  const follower = h.node(3);
  assert.deepEqual(follower.snapshot?.meta, meta);
  assert.equal(follower.raft.snapshotIndex, meta.index);
  h.propose(1, 31);
  h.run(2 * HEARTBEAT_MS);
  assert.deepEqual(appliedValues(follower), [31], "after the snapshot, entries flow again");
  assert.equal(follower.raft.lastApplied, h.raft(1).lastApplied);
});

test("membership change truncation: an unreplicated change reverts when a new leader overwrites it", () => {
  const h = new Harness({ members: [1, 2, 3], extra: [4] });
  h.campaign(1);
  h.isolate(1);
  h.raft(1).removeServer(3n);
  h.process(1);
  assert.equal(h.raft(1).configuration.length, 2, "in force as soon as appended");
  h.tick(3 * ELECTION_MS, [3]);
  h.drop();
  h.campaign(2);
  assert.equal(h.raft(2).state, "leader");
  h.propose(2, 1);
  h.heal();
  h.run(3 * ELECTION_MS);
  assert.equal(h.raft(1).configuration.length, 3, "reverted after truncation");
  assert.equal(h.raft(1).leaderId, 2n);
  assert.deepEqual(appliedValues(h.node(1)), [1]);
});

test("a leader that removes itself leads until the change commits, then steps down", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.campaign(1);
  const { index } = h.raft(1).removeServer(1n);
  h.process(1);
  assert.equal(h.raft(1).state, "leader");
  h.deliver();
  assert.ok(h.raft(1).commitIndex >= index);
  assert.equal(h.raft(1).state, "follower");
  h.run(4 * ELECTION_MS, [2, 3]);
  assert.equal(h.leaders().length, 1);
  assert.notEqual(h.leaders()[0], 1);
});

test("read lease: held while a quorum acknowledges this term's entries, gone before a rival leads", () => {
  const h = new Harness({ members: [1, 2, 3, 4, 5], options: { voteGuardOnStart: true } });
  assert.equal(h.raft(1).readLeaseUntilMs(), Number.NEGATIVE_INFINITY, "not a leader");
  h.tick(ELECTION_MS);
  h.campaign(1);
  h.run(HEARTBEAT_MS);
  const appended = h.now;
  h.propose(1, 1);
  h.deliver();
  assert.ok(h.raft(1).readLeaseUntilMs() > h.now, "a quorum acknowledged an entry of this term");
  assert.ok(
    h.raft(1).readLeaseUntilMs() <= appended + ELECTION_MS,
    "never past an election timeout",
  );
  // Cut off with one follower: heartbeats are acknowledged, but no new entry is, so the lease
  // runs out, and it has run out by the time the other side can elect anyone.
  h.partition([1, 2], [3, 4, 5]);
  let coexisted = false;
  for (let t = 0; t < 3 * ELECTION_MS && h.raft(3).state !== "leader"; t += HEARTBEAT_MS) {
    h.tick(HEARTBEAT_MS);
    h.deliver();
    if (h.raft(3).state !== "leader" && h.raft(4).state !== "leader") {
      h.campaign(3);
    }
    const rival = [3, 4, 5].some((i) => h.raft(i).state === "leader");
    if (rival) {
      assert.ok(h.raft(1).readLeaseUntilMs() <= h.now, "the old leader's lease has expired");
      if (h.raft(1).state === "leader") coexisted = true;
    }
  }
  assert.ok(coexisted, "the old leader still believed it led when the rival was elected");
  assert.ok(
    [3, 4, 5].some((i) => h.raft(i).state === "leader"),
    "the majority elected a leader",
  );
});

test("read lease: none while a leadership transfer is pending", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.campaign(1);
  h.propose(1, 1);
  h.deliver();
  assert.ok(h.raft(1).readLeaseUntilMs() > h.now);
  h.isolate(2);
  h.raft(1).transferLeadership(2n);
  assert.equal(h.raft(1).readLeaseUntilMs(), Number.NEGATIVE_INFINITY);
});
