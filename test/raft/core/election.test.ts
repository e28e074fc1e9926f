import assert from "node:assert/strict";
import { test } from "node:test";
import type { Message, RequestVote, RequestVoteResult } from "../../../src/raft/core/types.js";
import { ELECTION_MS, Harness } from "./harness.js";

function requestVote(overrides: Partial<RequestVote>): RequestVote {
  return {
    type: "requestVote",
    from: 2n,
    to: 1n,
    term: 2,
    candidateId: 2n,
    lastLogIndex: 1,
    lastLogTerm: 1,
    disruptLeader: false,
    preVote: false,
    ...overrides,
  };
}

function resultsTo(h: Harness, id: bigint): RequestVoteResult[] {
  return h.drop((m) => m.type === "requestVoteResult" && m.to === id) as RequestVoteResult[];
}

test("a candidate first asks for pre-votes at term + 1 without bumping or persisting its term", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.tick(ELECTION_MS + 100, [1]);
  const raft = h.raft(1);
  assert.equal(raft.state, "candidate");
  assert.equal(raft.term, 1);
  assert.deepEqual(h.node(1).hardStates, []);
  const requests = h.queue.filter((m) => m.type === "requestVote") as RequestVote[];
  assert.deepEqual(
    requests.map((m) => [m.to, m.term, m.preVote, m.disruptLeader]),
    [
      [2n, 2, true, false],
      [3n, 2, true, false],
    ],
  );
});

test("pre-vote replies echo the request's term and change nothing on the voter", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.raft(1).step(requestVote({ preVote: true, term: 5 }));
  h.process(1);
  const [reply] = resultsTo(h, 2n);
  assert.deepEqual([reply.term, reply.voteGranted, reply.preVote], [5, true, true]);
  assert.equal(h.raft(1).term, 1);
  assert.deepEqual(h.node(1).hardStates, []);
});

test("a won pre-vote starts the real election: term + 1 and self-vote persisted, then votes", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.campaign(1);
  assert.equal(h.raft(1).state, "leader");
  assert.equal(h.raft(1).term, 2);
  assert.deepEqual(h.node(1).hardStates, [{ term: 2, votedFor: 1n }]);
  assert.deepEqual(h.node(2).hardStates, [{ term: 2, votedFor: 1n }]);
  // The hard state is in the same Ready as the vote requests: the driver persists it first.
  const ready = h
    .node(1)
    .readies.find((r) => r.messages.some((m) => m.type === "requestVote" && !m.preVote));
  assert.deepEqual(ready?.hardState, { term: 2, votedFor: 1n });
});

test("a node that knows a leader refuses votes before looking at the term", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.campaign(1);
  h.raft(2).step(
    requestVote({ from: 3n, to: 2n, candidateId: 3n, term: 9, lastLogIndex: 99, lastLogTerm: 9 }),
  );
  h.process(2);
  const [reply] = resultsTo(h, 3n);
  assert.equal(reply.voteGranted, false);
  assert.equal(reply.term, 2, "the term was not bumped");
  assert.equal(h.raft(2).term, 2);
  assert.equal(h.raft(2).leaderId, 1n);
});

test("disruptLeader votes pass the has-leader check, bump the term and are granted", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.campaign(1);
  h.raft(2).step(
    requestVote({
      from: 3n,
      to: 2n,
      candidateId: 3n,
      term: 3,
      lastLogIndex: 2,
      lastLogTerm: 2,
      disruptLeader: true,
    }),
  );
  h.process(2);
  const [reply] = resultsTo(h, 3n);
  assert.deepEqual([reply.term, reply.voteGranted], [3, true]);
  assert.deepEqual(h.node(2).hardStates.at(-1), { term: 3, votedFor: 3n });
});

test("a real vote request with a higher term bumps the term even when the vote is refused", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.campaign(1);
  h.tick(3 * ELECTION_MS, [3]); // node 3 forgets the leader by becoming a candidate
  h.drop();
  h.raft(3).step(
    requestVote({ from: 2n, to: 3n, candidateId: 2n, term: 7, lastLogIndex: 1, lastLogTerm: 1 }),
  );
  h.process(3);
  const [reply] = resultsTo(h, 2n);
  assert.deepEqual([reply.term, reply.voteGranted], [7, false], "log behind: refused");
  assert.equal(h.raft(3).state, "follower");
  assert.deepEqual(h.node(3).hardStates.at(-1), { term: 7, votedFor: 0n });
});

test("one vote per term: a second candidate of the same term is refused", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.raft(1).step(requestVote({ term: 2, preVote: false }));
  h.raft(1).step(requestVote({ from: 3n, candidateId: 3n, term: 2, preVote: false }));
  h.process(1);
  const replies = h.drop((m) => m.type === "requestVoteResult") as RequestVoteResult[];
  assert.deepEqual(
    replies.map((r) => [r.to, r.voteGranted]),
    [
      [2n, true],
      [3n, false],
    ],
  );
});

test("votes go only to candidates whose log is at least as up to date", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.campaign(1);
  h.propose(1, 1);
  h.deliver(); // everyone has entries up to 3 in term 2
  h.tick(3 * ELECTION_MS, [2]); // node 2 forgets the leader
  h.drop();
  const cases: [number, number, boolean][] = [
    [3, 1, false], // older last term
    [2, 2, false], // same term, shorter
    [3, 2, true], // same term, same length
    [1, 3, true], // newer last term wins even if shorter
  ];
  for (const [lastLogIndex, lastLogTerm, expected] of cases) {
    h.raft(2).step(
      requestVote({
        from: 3n,
        to: 2n,
        candidateId: 3n,
        term: 9,
        preVote: true,
        lastLogIndex,
        lastLogTerm,
      }),
    );
    h.process(2);
    const [reply] = resultsTo(h, 3n);
    assert.equal(reply.voteGranted, expected, `last ${lastLogIndex}/${lastLogTerm}`);
  }
});

test("pre-vote replies for the other phase are ignored", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.tick(ELECTION_MS + 100, [1]);
  h.drop();
  // A stale real-vote grant must not count during pre-vote.
  for (const from of [2n, 3n]) {
    h.raft(1).step({
      type: "requestVoteResult",
      from,
      to: 1n,
      term: 2,
      voteGranted: true,
      preVote: false,
    });
  }
  h.process(1);
  assert.equal(h.raft(1).state, "candidate");
  assert.equal(h.raft(1).term, 1);
});

test("a refused pre-vote from a node with a higher term teaches the candidate that term", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.raft(2).step(
    requestVote({
      from: 3n,
      to: 2n,
      candidateId: 3n,
      term: 6,
      preVote: false,
      lastLogIndex: 0,
      lastLogTerm: 0,
    }),
  );
  h.process(2); // node 2 is now at term 6 (vote refused: node 3's log is behind)
  h.drop();
  h.tick(ELECTION_MS + 100, [1]);
  h.drop((m: Message) => m.to === 3n);
  h.deliver();
  assert.equal(h.raft(1).term, 6);
  assert.equal(h.raft(1).state, "follower");
});

test("without pre-vote a candidate bumps its term at once", () => {
  const h = new Harness({ members: [1, 2, 3], options: { preVote: false } });
  h.tick(ELECTION_MS + 100, [1]);
  assert.equal(h.raft(1).term, 2);
  assert.ok(h.queue.every((m) => m.type === "requestVote" && !m.preVote && m.term === 2));
});

test("a candidate whose round times out starts another, a split vote resolves by timeouts", () => {
  const h = new Harness({ members: [1, 2, 3, 4], options: { preVote: false } });
  // Nodes 1 and 2 campaign at once; 1 gets 3's vote, 2 gets 4's: nobody has 3 of 4.
  h.tick(ELECTION_MS + 200, [1, 2]);
  h.deliver(
    (m) =>
      (m.from === 1n && m.to === 3n) ||
      (m.from === 2n && m.to === 4n) ||
      m.type === "requestVoteResult",
  );
  h.drop();
  assert.deepEqual(h.leaders(), []);
  assert.equal(h.raft(1).term, 2);
  h.tick(ELECTION_MS + 200, [1]); // only node 1's round times out: it tries again at term 3
  h.deliver();
  assert.deepEqual(h.leaders(), [1]);
  assert.equal(h.raft(1).term, 3);
});

test("a single voter elects itself at start, bumping its term", () => {
  const h = new Harness({ members: [1] });
  h.processAll();
  assert.equal(h.raft(1).state, "leader");
  assert.equal(h.raft(1).term, 2);
  assert.deepEqual(h.node(1).hardStates, [{ term: 2, votedFor: 1n }]);
});

test("standbys and spares never campaign", () => {
  const h = new Harness({ members: [1, 2, 3, 4], roles: { 3: 0, 4: 2 } });
  h.tick(10 * ELECTION_MS, [3, 4]);
  assert.equal(h.raft(3).state, "follower");
  assert.equal(h.raft(4).state, "follower");
  assert.equal(h.queue.length, 0);
});

test("a node with a pending transfer still gives one vote per term (libraft 0.15 gives two)", () => {
  const h = new Harness({ members: [1, 2, 3] });
  h.campaign(1);
  h.isolate(2);
  h.propose(1, 1);
  h.deliver();
  h.raft(1).transferLeadership(2n); // node 2 lags: the transfer stays pending
  h.drop();
  h.heal();
  assert.equal(h.raft(1).transferTarget, 2n);
  h.raft(1).step(
    requestVote({
      from: 3n,
      candidateId: 3n,
      term: 3,
      lastLogIndex: 3,
      lastLogTerm: 2,
      disruptLeader: true,
    }),
  );
  h.raft(1).step(
    requestVote({
      from: 2n,
      candidateId: 2n,
      term: 3,
      lastLogIndex: 3,
      lastLogTerm: 2,
      disruptLeader: true,
    }),
  );
  h.process(1);
  const replies = h.drop((m) => m.type === "requestVoteResult") as RequestVoteResult[];
  assert.deepEqual(
    replies.map((r) => [r.to, r.term, r.voteGranted]),
    [
      [3n, 3, true],
      [2n, 3, false],
    ],
  );
});

/** Node 3 asks node 2 for a pre-vote at term 3 with a log ahead of both; is it granted? */
function preVoteFrom3To2(h: Harness): boolean {
  h.drop();
  h.raft(2).step(
    requestVote({
      from: 3n,
      to: 2n,
      candidateId: 3n,
      term: 3,
      preVote: true,
      lastLogIndex: 9,
      lastLogTerm: 2,
    }),
  );
  h.process(2);
  return resultsTo(h, 3n)[0].voteGranted;
}

test("a restarted follower that finds its leader gone grants votes at once, despite its start guard", () => {
  const h = new Harness({ members: [1, 2, 3], options: { voteGuardOnStart: true } });
  h.campaign(1);
  h.restart(2);
  h.run(300); // node 2 follows node 1 again, well inside its guard (an election timeout)
  assert.equal(h.raft(2).leaderId, 1n);
  h.raft(2).leaderUnreachable(3n); // not its leader: nothing changes
  assert.equal(h.raft(2).leaderId, 1n);
  h.raft(2).leaderUnreachable(1n);
  assert.equal(h.raft(2).leaderId, 0n);
  assert.equal(preVoteFrom3To2(h), true, "the guard kept a promise only to the dead leader");
});

test("a restarted node keeps its start guard while it knows no leader to have died", () => {
  const h = new Harness({ members: [1, 2, 3], options: { voteGuardOnStart: true } });
  h.campaign(1);
  h.restart(2);
  h.raft(2).leaderUnreachable(1n); // it never heard from node 1 since it started
  assert.equal(preVoteFrom3To2(h), false);
});

test("followers of a dead leader campaign in turns by id", () => {
  const h = new Harness({ members: [1, 2, 3, 4] });
  assert.deepEqual(
    [2, 3, 4].map((i) => h.raft(i).failoverPauseMs(1n, 0)),
    [100, 350, 600],
  );
  assert.equal(h.raft(3).failoverPauseMs(2n, 0), 350, "node 3 comes after node 1");
  assert.equal(h.raft(2).failoverPauseMs(1n, 0.5), 125);
});
