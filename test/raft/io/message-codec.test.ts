import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { EntryType, type Message, RaftRole } from "../../../src/raft/core/types.js";
import { encodeConnectHandshake } from "../../../src/raft/io/connect-handshake.js";
import { encodeMessage, MessageDecodeError } from "../../../src/raft/io/message-codec.js";
import { MessageDecoder } from "../../../src/raft/io/message-decoder.js";
import { raftCaptures } from "./captures.js";

const FROM = 7n;
const TO = 9n;
const decoder = () => new MessageDecoder({ from: FROM, to: TO });
const concat = (pieces: Uint8Array[]) => Uint8Array.from(Buffer.concat(pieces));
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

/**
 * Zeroes the bytes libraft sends without writing them (uninitialised memory): the phantom word at
 * the end of AppendEntries and InstallSnapshot headers, and the 3 unused bytes of each entry header.
 * We write zeros there, so captures compare equal after this.
 */
function withoutUnwrittenBytes(bytes: Uint8Array): Uint8Array {
  const buffer = Buffer.from(bytes);
  const type = Number(buffer.readBigUInt64LE(0));
  const headerBytes = Number(buffer.readBigUInt64LE(8));
  const out = bytes.slice();
  if (type === 1 || type === 5) out.fill(0, 16 + headerBytes - 8, 16 + headerBytes);
  if (type === 1) {
    const n = Number(buffer.readBigUInt64LE(16 + 32));
    for (let i = 0; i < n; i++) out.fill(0, 16 + 40 + 16 * i + 9, 16 + 40 + 16 * i + 12);
  }
  return out;
}

test("every captured raft message decodes and re-encodes to the captured bytes", () => {
  const seen = new Set<string>();
  let total = 0;
  for (const capture of raftCaptures()) {
    const [handshake, connect, ...messages] = capture.messages;
    assert.equal(hex(handshake), "0100000000000000", capture.name);
    assert.equal(connect[4], 11, `${capture.name}: second message is CONNECT`);
    for (const bytes of messages) {
      const decoded = decoder().push(bytes);
      assert.equal(decoded.length, 1, `${capture.name}: one message per line`);
      const [message] = decoded;
      assert.equal(message.from, FROM);
      seen.add(message.type);
      assert.equal(
        hex(concat(encodeMessage(message))),
        hex(withoutUnwrittenBytes(bytes)),
        capture.name,
      );
      total++;
    }
  }
  assert.ok(total > 100, `decoded ${total} messages`);
  for (const type of [
    "appendEntries",
    "appendEntriesResult",
    "requestVote",
    "requestVoteResult",
    "timeoutNow",
  ]) {
    assert.ok(seen.has(type), `captures contain ${type}`);
  }
});

test("the CONNECT hand-off we write equals what node 9001 sent", () => {
  const [capture] = raftCaptures().filter((c) => c.name.startsWith("raft-16-"));
  const expected = concat(capture.messages.slice(0, 2));
  assert.equal(hex(encodeConnectHandshake(0x2dc171858c3155ben, "127.0.0.1:9001")), hex(expected));
});

test("a captured stream decodes the same when split at every possible boundary pair", () => {
  const [capture] = raftCaptures().filter((c) => c.name.startsWith("raft-33-"));
  const stream = concat(capture.messages.slice(2, 14));
  const whole = decoder().push(stream);
  for (let cut = 1; cut < stream.length; cut += 7) {
    const d = decoder();
    const parts = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
    assert.deepEqual(parts, whole);
    assert.equal(d.bufferedBytes, 0);
  }
});

test("a stream fed one byte at a time yields the same messages", () => {
  const [capture] = raftCaptures().filter((c) => c.name.startsWith("raft-16-"));
  const stream = concat(capture.messages.slice(2, 8));
  const whole = decoder().push(stream);
  const d = decoder();
  const trickled: Message[] = [];
  for (let i = 0; i < stream.length; i++) trickled.push(...d.push(stream.subarray(i, i + 1)));
  assert.deepEqual(trickled, whole);
});

test("the AppendEntries phantom word is zero when we write it and ignored when we read it", () => {
  const message: Message = {
    type: "appendEntries",
    from: FROM,
    to: TO,
    term: 3,
    prevLogIndex: 10,
    prevLogTerm: 2,
    leaderCommit: 9,
    entries: [{ term: 3, index: 11, type: EntryType.Barrier, data: new Uint8Array(8) }],
  };
  const bytes = concat(encodeMessage(message));
  assert.equal(Number(Buffer.from(bytes).readBigUInt64LE(8)), 48 + 16);
  assert.equal(hex(bytes.subarray(16 + 56, 16 + 64)), "0000000000000000");
  const garbage = bytes.slice();
  garbage.fill(0xab, 16 + 56, 16 + 64);
  assert.deepEqual(decoder().push(garbage), [message]);
});

test("InstallSnapshot round-trips with its configuration and 56 + L header bytes", () => {
  const message: Message = {
    type: "installSnapshot",
    from: FROM,
    to: TO,
    term: 4,
    snapshot: {
      meta: {
        index: 1024,
        term: 3,
        configurationIndex: 5,
        configuration: [
          { id: 1n, address: "127.0.0.1:9001", role: RaftRole.Voter },
          { id: 2n, address: "@abstract", role: RaftRole.Spare },
        ],
      },
      data: Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff),
    },
  };
  const pieces = encodeMessage(message);
  const header = pieces[0];
  const configurationBytes = Number(Buffer.from(header).readBigUInt64LE(16 + 32));
  assert.equal(Number(Buffer.from(header).readBigUInt64LE(8)), 56 + configurationBytes);
  assert.deepEqual(decoder().push(concat(pieces)), [message]);
});

test("short RequestVote (V1, 32 bytes) and RequestVoteResult (V1, 16 bytes) are accepted", () => {
  const vote = Buffer.alloc(16 + 32);
  vote.writeBigUInt64LE(3n, 0);
  vote.writeBigUInt64LE(32n, 8);
  vote.writeBigUInt64LE(5n, 16);
  vote.writeBigUInt64LE(2n, 24);
  const [decodedVote] = decoder().push(vote);
  assert.equal(decodedVote.type, "requestVote");
  assert.equal(decodedVote.type === "requestVote" && decodedVote.preVote, false);
  const result = Buffer.alloc(16 + 16);
  result.writeBigUInt64LE(4n, 0);
  result.writeBigUInt64LE(16n, 8);
  result.writeBigUInt64LE(5n, 16);
  result.writeBigUInt64LE(1n, 24);
  const [decodedResult] = decoder().push(result);
  assert.deepEqual(decodedResult, {
    type: "requestVoteResult",
    from: FROM,
    to: TO,
    term: 5,
    voteGranted: true,
    preVote: false,
  });
});

test("lies about lengths are typed errors", () => {
  const preamble = (type: bigint, size: bigint) => {
    const b = Buffer.alloc(16);
    b.writeBigUInt64LE(type, 0);
    b.writeBigUInt64LE(size, 8);
    return b;
  };
  assert.throws(() => decoder().push(preamble(9n, 8n)), MessageDecodeError);
  assert.throws(() => decoder().push(preamble(1n, 0n)), MessageDecodeError);
  assert.throws(() => decoder().push(preamble(1n, 1n << 40n)), MessageDecodeError);
  assert.throws(
    () => decoder().push(Buffer.concat([preamble(6n, 16n), Buffer.alloc(16)])),
    MessageDecodeError,
  );
  // AppendEntries claiming 1000 entries in a 48-byte header.
  const append = Buffer.concat([preamble(1n, 48n), Buffer.alloc(48)]);
  append.writeBigUInt64LE(1000n, 16 + 32);
  assert.throws(() => decoder().push(append), /cannot describe 1000 entries/);
  // InstallSnapshot claiming a configuration longer than its header.
  const install = Buffer.concat([preamble(5n, 56n), Buffer.alloc(56)]);
  install.writeBigUInt64LE(4096n, 16 + 32);
  assert.throws(() => decoder().push(install), MessageDecodeError);
  // A payload larger than the limit is refused before it is read.
  const big = new MessageDecoder({ from: FROM, to: TO, maxPayloadBytes: 1024 });
  const entries = Buffer.concat([preamble(1n, 64n), Buffer.alloc(64)]);
  entries.writeBigUInt64LE(1n, 16 + 32);
  entries[16 + 40 + 8] = EntryType.Command;
  entries.writeUInt32LE(4096, 16 + 40 + 12);
  assert.throws(() => big.push(entries), /exceeds the limit/);
});

test("entries whose length is not a multiple of 8 are refused both ways", () => {
  const message: Message = {
    type: "appendEntries",
    from: FROM,
    to: TO,
    term: 1,
    prevLogIndex: 0,
    prevLogTerm: 0,
    leaderCommit: 0,
    entries: [{ term: 1, index: 1, type: EntryType.Command, data: new Uint8Array(12) }],
  };
  assert.throws(() => encodeMessage(message), RangeError);
  const bytes = concat(
    encodeMessage({ ...message, entries: [{ ...message.entries[0], data: new Uint8Array(16) }] }),
  );
  Buffer.from(bytes.buffer).writeUInt32LE(12, 16 + 40 + 12);
  assert.throws(() => decoder().push(bytes), MessageDecodeError);
});

const arbitraryMessage: fc.Arbitrary<Message> = (() => {
  const index = fc.integer({ min: 0, max: 2 ** 40 });
  const term = fc.integer({ min: 0, max: 2 ** 40 });
  const id = fc.bigInt({ min: 1n, max: (1n << 64n) - 1n });
  const envelope = { from: fc.constant(FROM), to: fc.constant(TO), term };
  const entry = fc.record({
    term,
    type: fc.constantFrom(EntryType.Command, EntryType.Barrier, EntryType.Change),
    data: fc
      .integer({ min: 0, max: 8 })
      .map((words) => Uint8Array.from({ length: words * 8 }, (_, i) => i)),
  });
  return fc.oneof(
    fc
      .record({
        ...envelope,
        prevLogIndex: index,
        prevLogTerm: term,
        leaderCommit: index,
        entries: fc.array(entry, { maxLength: 5 }),
      })
      .map((m) => ({
        ...m,
        type: "appendEntries" as const,
        entries: m.entries.map((e, i) => ({ ...e, index: m.prevLogIndex + 1 + i })),
      })),
    fc
      .record({ ...envelope, rejected: index, lastLogIndex: index })
      .map((m) => ({ ...m, type: "appendEntriesResult" as const })),
    fc
      .record({
        ...envelope,
        candidateId: id,
        lastLogIndex: index,
        lastLogTerm: term,
        disruptLeader: fc.boolean(),
        preVote: fc.boolean(),
      })
      .map((m) => ({ ...m, type: "requestVote" as const })),
    fc
      .record({ ...envelope, voteGranted: fc.boolean(), preVote: fc.boolean() })
      .map((m) => ({ ...m, type: "requestVoteResult" as const })),
    fc
      .record({ ...envelope, lastLogIndex: index, lastLogTerm: term })
      .map((m) => ({ ...m, type: "timeoutNow" as const })),
    fc
      .record({
        ...envelope,
        index,
        snapshotTerm: term,
        configurationIndex: index,
        servers: fc.array(
          fc.record(
            {
              id,
              address: fc.string({ maxLength: 20 }).filter((s) => !s.includes("\0")),
              role: fc.constantFrom(RaftRole.Voter, RaftRole.Standby, RaftRole.Spare),
            },
            { noNullPrototype: true },
          ),
          { maxLength: 4 },
        ),
        data: fc.uint8Array({ maxLength: 300 }),
      })
      .map(({ index: i, snapshotTerm, configurationIndex, servers, data, ...m }) => ({
        ...m,
        type: "installSnapshot" as const,
        snapshot: {
          meta: { index: i, term: snapshotTerm, configurationIndex, configuration: servers },
          data,
        },
      })),
  );
})();

test("property: any message sequence survives encode, arbitrary splitting and decode", () => {
  fc.assert(
    fc.property(
      fc.array(arbitraryMessage, { minLength: 1, maxLength: 6 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      (messages, cuts) => {
        const stream = concat(messages.flatMap((m) => encodeMessage(m)));
        const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
        const d = decoder();
        const out: Message[] = [];
        let previous = 0;
        for (const point of [...points, stream.length]) {
          out.push(...d.push(stream.subarray(previous, point)));
          previous = point;
        }
        assert.deepEqual(out, messages);
      },
    ),
    { numRuns: 300 },
  );
});

test("property: random bytes never crash the decoder with anything but MessageDecodeError", () => {
  fc.assert(
    fc.property(
      fc.uint8Array({ maxLength: 400 }),
      fc.constantFrom(1, 2, 3, 4, 5, 6),
      fc.nat(),
      (body, type, size) => {
        const preamble = Buffer.alloc(16);
        preamble.writeBigUInt64LE(BigInt(type), 0);
        preamble.writeBigUInt64LE(BigInt(size % 512), 8);
        const d = new MessageDecoder({ from: FROM, to: TO, maxPayloadBytes: 1 << 20 });
        try {
          d.push(Buffer.concat([preamble, body]));
        } catch (error) {
          if (!(error instanceof MessageDecodeError)) throw error;
        }
        assert.ok(d.bufferedBytes <= 1 << 20);
      },
    ),
    { numRuns: 2000 },
  );
});
