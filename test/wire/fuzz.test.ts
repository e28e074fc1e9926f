// Mutated captures and random bytes: every outcome is a message or a WireDecodeError — never
// another exception, a hang or a huge allocation. Failures print the seed and the input.
import assert from "node:assert/strict";
import { test } from "node:test";
import {
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type Frame,
  StreamDecoder,
  WireDecodeError,
  WireEncodeError,
} from "../../src/wire/index.js";
import { bytesToHex, dqliteCaptures } from "./captures.js";

const SEED = Number(process.env.WIRE_FUZZ_SEED ?? 20240102);
const DECODE_RUNS = 100_000;
const STREAM_RUNS = 10_000;

function random(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

const corpus = dqliteCaptures().flatMap((capture) =>
  capture.lines
    .slice(1, capture.clientProtocolLines)
    .filter((line) => line.bytes.length <= 4200)
    .map((line) => ({ request: line.direction === "C", bytes: line.bytes })),
);

function concat(parts: Uint8Array[]): Uint8Array {
  return Uint8Array.from(Buffer.concat(parts));
}

const INTERESTING = [0x00, 0x01, 0x07, 0x08, 0x09, 0x0c, 0x7f, 0x80, 0xc3, 0xed, 0xee, 0xff];

function mutate(source: Uint8Array, next: () => number): Uint8Array {
  let bytes: Uint8Array = source.slice();
  const count = 1 + Math.floor(next() * 4);
  for (let m = 0; m < count; m++) {
    const at = Math.floor(next() * Math.max(1, bytes.length));
    switch (Math.floor(next() * 7)) {
      case 0:
        bytes[at] ^= 1 << Math.floor(next() * 8);
        break;
      case 1:
        bytes[at] = Math.floor(next() * 256);
        break;
      case 2:
        bytes[at] = INTERESTING[Math.floor(next() * INTERESTING.length)];
        break;
      case 3:
        bytes = bytes.slice(0, at);
        break;
      case 4: {
        const extra = Uint8Array.from({ length: 1 + Math.floor(next() * 24) }, () =>
          Math.floor(next() * 256),
        );
        bytes = concat([bytes.subarray(0, at), extra, bytes.subarray(at)]);
        break;
      }
      case 5:
        // Fill a word with 0xff or 0xee: huge counts and lengths, fake markers.
        bytes.fill(next() < 0.5 ? 0xff : 0xee, at & ~7, (at & ~7) + 8);
        break;
      default:
        // A different type code in the header.
        if (bytes.length > 4) bytes[4] = Math.floor(next() * 24);
    }
  }
  return bytes;
}

function input(next: () => number): { request: boolean; bytes: Uint8Array } {
  if (next() < 0.1) {
    const bytes = Uint8Array.from({ length: Math.floor(next() * 80) }, () =>
      Math.floor(next() * 256),
    );
    return { request: next() < 0.5, bytes };
  }
  const source = corpus[Math.floor(next() * corpus.length)];
  return { request: source.request, bytes: mutate(source.bytes, next) };
}

function fail(what: string, seed: number, run: number, bytes: Uint8Array, error: unknown): never {
  assert.fail(
    `${what}: run ${run} of seed ${seed} threw ${String(error)}\ninput ${bytesToHex(bytes)}`,
  );
}

test(`${DECODE_RUNS} mutated or random messages decode to a message or a WireDecodeError`, () => {
  const next = random(SEED);
  let decoded = 0;
  for (let run = 0; run < DECODE_RUNS; run++) {
    const { request, bytes } = input(next);
    if (bytes.length < 8) continue;
    const frame: Frame = {
      type: bytes[4],
      schema: next() < 0.9 ? bytes[5] : Math.floor(next() * 3),
      extra: 0,
      // Mostly what a stream yields (whole words); sometimes a ragged body.
      body: next() < 0.9 ? bytes.subarray(8, 8 + ((bytes.length - 8) & ~7)) : bytes.subarray(8),
    };
    const bigints = next() < 0.2;
    try {
      if (request) {
        const message = decodeRequest(frame, { bigints });
        // What decodes must encode again to an equivalent message.
        const again = encodeRequest(message);
        assert.deepEqual(
          decodeRequest({ ...frame, schema: again[5], body: again.subarray(8) }, { bigints }),
          message,
        );
      } else {
        const options = { bigints, legacy: next() < 0.1, serversFormat: next() < 0.2 ? 0 : 1 };
        const message = decodeResponse(frame, options);
        let again: Uint8Array;
        try {
          again = encodeResponse(message, options);
        } catch (error) {
          // Dump data of a size that is not whole words decodes but is refused for sending.
          if (error instanceof WireEncodeError && error.kind === "misaligned-file") continue;
          throw error;
        }
        const frameAgain = { ...frame, schema: again[5], body: again.subarray(8) };
        assert.deepEqual(decodeResponse(frameAgain, options), message);
      }
      decoded++;
    } catch (error) {
      if (!(error instanceof WireDecodeError)) fail("decode", SEED, run, bytes, error);
    }
  }
  // The mutations are mild enough that a good share still decodes (the property is exercised).
  assert.ok(decoded > DECODE_RUNS / 20, `only ${decoded} inputs decoded`);
});

test(`${STREAM_RUNS} mutated byte streams through the stream decoder end in frames or a WireDecodeError`, () => {
  const next = random(SEED + 1);
  for (let run = 0; run < STREAM_RUNS; run++) {
    const parts = Array.from({ length: 1 + Math.floor(next() * 4) }, () => input(next).bytes);
    const handshake = next() < 0.5;
    if (handshake)
      parts.unshift(
        next() < 0.8
          ? Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0)
          : mutate(Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0), next),
      );
    const stream = concat(parts);
    const decoder = new StreamDecoder({
      handshake,
      maxMessageSizeBytes: 8 + Math.floor(next() * 8192),
    });
    try {
      for (let at = 0; at < stream.length; ) {
        const size = 1 + Math.floor(next() * 64);
        decoder.push(stream.subarray(at, at + size));
        at += size;
        let frames = 0;
        while (decoder.next() !== undefined) assert.ok(++frames <= stream.length, "bounded");
      }
      assert.ok(decoder.bufferedBytes <= stream.length);
    } catch (error) {
      if (!(error instanceof WireDecodeError)) fail("stream", SEED + 1, run, stream, error);
    }
  }
});
