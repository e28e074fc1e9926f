// The stream decoder cuts any chunking of a captured conversation into the same messages.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decodeRequest,
  encodeHandshake,
  encodeRequest,
  type Frame,
  PROTOCOL_VERSION,
  PROTOCOL_VERSION_LEGACY,
  StreamDecoder,
  WireDecodeError,
} from "../../src/wire/index.js";
import { bytesToHex, type Capture, dqliteCaptures } from "./captures.js";

function concat(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

function describe(frame: Frame): string {
  return `${frame.type}/${frame.schema}/${frame.extra}/${bytesToHex(frame.body)}`;
}

// A deterministic generator, so a failure replays.
function chunkSizes(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return ((state >>> 0) % 700) + 1;
  };
}

type Chunking = "whole" | "1-byte" | "random";

function split(stream: Uint8Array, chunking: Chunking, seed: number): Uint8Array[] {
  if (chunking === "whole") return [stream];
  const next = chunking === "1-byte" ? () => 1 : chunkSizes(seed);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < stream.length; ) {
    const size = next();
    chunks.push(stream.subarray(at, at + size));
    at += size;
  }
  return chunks;
}

function decodeAll(
  chunks: Uint8Array[],
  handshake: boolean,
): { frames: string[]; decoder: StreamDecoder } {
  const decoder = new StreamDecoder({ handshake });
  const frames: string[] = [];
  for (const chunk of chunks) {
    decoder.push(chunk);
    for (let frame = decoder.next(); frame !== undefined; frame = decoder.next()) {
      frames.push(describe(frame));
      if (frame.type === 11 && handshake) return { frames, decoder }; // CONNECT: raft's from here
    }
  }
  return { frames, decoder };
}

function expected(capture: Capture, direction: "C" | "S"): string[] {
  return capture.lines
    .slice(0, capture.clientProtocolLines)
    .filter((line, index) => line.direction === direction && index > 0)
    .map((line) => {
      const view = new DataView(line.bytes.buffer, line.bytes.byteOffset);
      return describe({
        type: line.bytes[4],
        schema: line.bytes[5],
        extra: view.getUint16(6, true),
        body: line.bytes.subarray(8),
      });
    });
}

const captures = dqliteCaptures();

for (const chunking of ["whole", "1-byte", "random"] as const) {
  test(`every captured conversation fed in ${chunking} chunks gives the captured messages`, () => {
    captures.forEach((capture, index) => {
      for (const direction of ["C", "S"] as const) {
        const lines = capture.lines.filter((line) => line.direction === direction);
        const stream = concat(lines.map((line) => line.bytes));
        const server = direction === "C";
        const { frames, decoder } = decodeAll(split(stream, chunking, index + 1), server);
        assert.deepEqual(frames, expected(capture, direction), `${capture.name} ${direction}`);
        if (server) assert.equal(decoder.version, PROTOCOL_VERSION);
        // Whatever follows a CONNECT (raft traffic) is handed back untouched.
        const used = capture.lines
          .slice(0, capture.clientProtocolLines)
          .filter((line) => line.direction === direction)
          .reduce((size, line) => size + line.bytes.length, 0);
        const rest = decoder.takeRemaining();
        const pending = stream.subarray(used);
        if (chunking === "whole" || capture.clientProtocolLines === capture.lines.length) {
          assert.equal(bytesToHex(rest), bytesToHex(pending.subarray(0, rest.length)));
        }
      }
    });
  });
}

test("after CONNECT the rest of the chunk is returned to the caller for raft", () => {
  const connect = encodeRequest({ type: "connect", nodeId: 7n, address: "127.0.0.1:9001" });
  const raft = Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0, 48, 0, 0, 0);
  const decoder = new StreamDecoder({ handshake: true });
  decoder.push(concat([encodeHandshake(), connect, raft]));
  const frame = decoder.next()!;
  assert.deepEqual(decodeRequest(frame), {
    type: "connect",
    nodeId: 7n,
    address: "127.0.0.1:9001",
  });
  assert.deepEqual(decoder.takeRemaining(), raft);
  assert.equal(decoder.bufferedBytes, 0);
  assert.equal(decoder.next(), undefined);
});

test("a message inside one chunk is a view of that chunk; one straddling chunks is a copy", () => {
  const leader = encodeRequest({ type: "leader" });
  const chunk = concat([leader, leader.subarray(0, 5)]);
  const decoder = new StreamDecoder();
  decoder.push(chunk);
  const first = decoder.next()!;
  assert.equal(first.body.buffer, chunk.buffer);
  assert.equal(decoder.next(), undefined);
  decoder.push(leader.subarray(5));
  const second = decoder.next()!;
  assert.notEqual(second.body.buffer, chunk.buffer);
  assert.equal(describe(second), describe(first));
});

test("the legacy handshake word is accepted and reported", () => {
  const decoder = new StreamDecoder({ handshake: true });
  decoder.push(encodeHandshake(PROTOCOL_VERSION_LEGACY));
  assert.equal(decoder.next(), undefined);
  assert.equal(decoder.version, PROTOCOL_VERSION_LEGACY);
});

test("any other handshake word is refused, and the decoder stays failed", () => {
  for (const word of [0n, 2n, 0xffffffffffffffffn]) {
    const bytes = new Uint8Array(16);
    new DataView(bytes.buffer).setBigUint64(0, word, true);
    const decoder = new StreamDecoder({ handshake: true });
    decoder.push(bytes);
    assert.throws(() => decoder.next(), { name: "WireDecodeError", kind: "bad-version" });
    assert.throws(() => decoder.next(), WireDecodeError);
  }
});

test("an over-size message is refused from its header alone, before its body arrives", () => {
  const decoder = new StreamDecoder({ maxMessageSizeBytes: 1024 });
  const header = new Uint8Array(8);
  new DataView(header.buffer).setUint32(0, 128, true); // 8 + 1024 bytes
  decoder.push(header);
  assert.throws(() => decoder.next(), { name: "WireDecodeError", kind: "too-large" });

  const largest = new StreamDecoder({ maxMessageSizeBytes: 1024 });
  new DataView(header.buffer).setUint32(0, 127, true); // exactly 1024 bytes
  largest.push(header);
  assert.equal(largest.next(), undefined);
  largest.push(new Uint8Array(127 * 8));
  assert.equal(largest.next()?.body.length, 127 * 8);
});

test("the default limit refuses a header announcing 4 billion words", () => {
  const decoder = new StreamDecoder();
  decoder.push(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 8, 0, 0, 0));
  assert.throws(() => decoder.next(), { kind: "too-large" });
});
