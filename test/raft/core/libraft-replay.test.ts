// Our core in the place of a real libraft 0.15 follower: the messages that real dqlite nodes sent
// to node 3 (captured in test/fixtures/raft-captures) go into a fresh core, and its answers must
// be the ones the real node 3 sent, message for message. Covers joining with an empty log, the
// catch-up batch with configuration changes, heartbeats, writes, and a leadership transfer
// (RequestVote with disruptLeader while a leader is known).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { Raft } from "../../../src/raft/core/raft.js";
import type { Message, NodeId } from "../../../src/raft/core/types.js";
import { MessageDecoder } from "../../../src/raft/io/message-decoder.js";

const CAPTURES = new URL("../../fixtures/raft-captures/", import.meta.url).pathname;
const NODE1 = 0x2dc171858c3155ben;
const NODE2 = 0xc3aff44f3d604fan;
const NODE3 = 0x6c578f8dca95e41en;

/** The raft messages of one captured stream (after the handshake and the CONNECT request). */
function stream(name: string, from: NodeId, to: NodeId): Message[] {
  const lines = readFileSync(`${CAPTURES}${name}.hex`, "utf8")
    .split("\n")
    .filter((line) => line.startsWith("C "))
    .map((line) => Uint8Array.from(Buffer.from(line.slice(2).trim(), "hex")));
  const decoder = new MessageDecoder({ from, to });
  return lines.slice(2).flatMap((bytes) => decoder.push(bytes));
}

function summary(message: Message): string {
  switch (message.type) {
    case "appendEntriesResult":
      return `result term=${message.term} rejected=${message.rejected} last=${message.lastLogIndex}`;
    case "requestVoteResult":
      return `vote term=${message.term} granted=${message.voteGranted} preVote=${message.preVote}`;
    default:
      return message.type;
  }
}

test("a fresh core answers a real libraft leader exactly as a real libraft follower did", () => {
  const raft = new Raft({
    id: NODE3,
    loaded: { hardState: { term: 0, votedFor: 0n }, entries: [] },
    now: () => 0,
    random: (min) => min,
  });
  const answers: string[] = [];
  const handle = (message: Message) => {
    raft.step(message);
    while (raft.hasReady()) {
      const ready = raft.ready();
      const last = ready.entries.at(-1);
      // The disk is instant: answers to new entries come right after the message.
      for (const m of ready.messages) answers.push(summary(m));
      if (last !== undefined) raft.persisted(last.index, last.term);
    }
  };
  for (const message of stream("raft-16-from-9001-to-9003", NODE1, NODE3)) handle(message);
  const fromNode2 = stream("raft-84-from-9002-to-9003", NODE2, NODE3);
  for (const message of fromNode2) handle(message);
  const last = fromNode2.at(-1)!;
  assert.equal(last.type, "appendEntries");

  const expected = [
    ...stream("raft-17-from-9003-to-9001", NODE3, NODE1),
    ...stream("raft-85-from-9003-to-9002", NODE3, NODE2),
  ].map(summary);
  assert.equal(expected.length, 68);
  assert.deepEqual(answers, expected);
  assert.equal(raft.term, 2);
  assert.equal(raft.leaderId, NODE2);
  assert.equal(raft.commitIndex, last.type === "appendEntries" ? last.leaderCommit : -1);
  assert.ok(raft.commitIndex > 24, "writes after the transfer committed here too");
  assert.equal(raft.configuration.length, 3);
});

function describe(message: Message): string {
  switch (message.type) {
    case "requestVote":
      return (
        `requestVote to=${message.to} term=${message.term} candidate=${message.candidateId} ` +
        `last=${message.lastLogIndex}/${message.lastLogTerm} disrupt=${message.disruptLeader} preVote=${message.preVote}`
      );
    case "appendEntries":
      return (
        `appendEntries to=${message.to} term=${message.term} prev=${message.prevLogIndex}/${message.prevLogTerm} ` +
        `commit=${message.leaderCommit} entries=${message.entries.map((e) => `${e.term}:${e.type}:${e.data.length}`)}`
      );
    default:
      return summary(message);
  }
}

test("a core in node 2's place takes leadership on TimeoutNow like libraft did", () => {
  // Without the election no-op, as libraft 0.15 behaves, so the first heartbeat can be compared.
  const raft = new Raft({
    id: NODE2,
    loaded: { hardState: { term: 0, votedFor: 0n }, entries: [] },
    now: () => 0,
    random: (min) => min,
    barrierOnElection: false,
  });
  const sent: Message[] = [];
  const handle = (message: Message) => {
    raft.step(message);
    while (raft.hasReady()) {
      const ready = raft.ready();
      const last = ready.entries.at(-1);
      sent.push(...ready.messages);
      if (last !== undefined) raft.persisted(last.index, last.term);
    }
  };
  const fromNode1 = stream("raft-32-from-9001-to-9002", NODE1, NODE2);
  const timeoutNow = fromNode1.findIndex((m) => m.type === "timeoutNow");
  for (const message of fromNode1.slice(0, timeoutNow + 2)) handle(message);

  const toNode1 = stream("raft-33-from-9002-to-9001", NODE2, NODE1);
  const vote = toNode1.findIndex((m) => m.type === "requestVote");
  const toNode3 = stream("raft-84-from-9002-to-9003", NODE2, NODE3);
  const expected = [
    ...toNode1.slice(0, vote + 1),
    toNode3[0], // the RequestVote to node 3 (on the connection the election opened)
    toNode1[vote + 1], // the first heartbeat as leader
  ].map(describe);
  const actual = sent
    .filter((m) => m.type !== "appendEntries" || m.to === NODE1)
    .slice(0, expected.length)
    .map(describe);
  assert.equal(expected.length, vote + 3);
  assert.ok(expected.at(-1)!.startsWith("appendEntries to=") && actual.at(-1) === expected.at(-1));
  // Results and votes are answered in one order here, in two streams there: compare as sets
  // of lines but keep the per-peer order.
  assert.deepEqual(
    actual.filter((line) => !line.includes(`to=${NODE3}`)),
    expected.filter((line) => !line.includes(`to=${NODE3}`)),
  );
  assert.deepEqual(
    actual.filter((line) => line.includes(`to=${NODE3}`)),
    expected.filter((line) => line.includes(`to=${NODE3}`)),
  );
  assert.equal(raft.state, "leader");
  assert.equal(raft.term, 2);
});
