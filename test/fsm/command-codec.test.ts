import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  DecodeError,
  decodeCommand,
  encodeCheckpoint,
  encodeFrames,
  encodeOpen,
  encodeUndo,
  framesSizeBytes,
} from "../../src/fsm/index.js";

const hex = (bytes: Uint8Array, from: number, to: number) =>
  Buffer.from(bytes.subarray(from, to)).toString("hex");
const page = (fill: number) => new Uint8Array(4096).fill(fill);

test("FRAMES sizes match what libdqlite 1.11 writes for 1, 2 and 3 pages of 'demo'", () => {
  assert.equal(encodeFrames("demo", 4096, [1], [page(1)]).length, 4144);
  assert.equal(encodeFrames("demo", 4096, [1, 2], [page(1), page(2)]).length, 8248);
  assert.equal(encodeFrames("demo", 4096, [1, 2, 3], [page(1), page(2), page(3)]).length, 12352);
  assert.equal(framesSizeBytes("demo", 4096, 3), 12352);
});

test("FRAMES layout: envelope, padded name, tx_id, truncate, is_commit, frames header, numbers, pages", () => {
  const bytes = encodeFrames("demo", 4096, [3, 1], [page(0xaa), page(0xbb)]);
  assert.equal(hex(bytes, 0, 8), "0102000000000000");
  assert.equal(hex(bytes, 8, 16), "64656d6f00000000");
  assert.equal(hex(bytes, 16, 24), "0000000000000000"); // tx_id
  assert.equal(hex(bytes, 24, 32), "0000000001000000"); // truncate, is_commit, unused
  assert.equal(hex(bytes, 32, 40), "0200000000100000"); // n_pages 2, page_size 4096
  assert.equal(hex(bytes, 40, 56), "03000000000000000100000000000000");
  assert.equal(bytes[56], 0xaa);
  assert.equal(bytes[56 + 4096], 0xbb);
});

test("the legacy commands encode as 1.11 does and decode as no-op commands", () => {
  assert.equal(Buffer.from(encodeOpen("demo")).toString("hex"), "010100000000000064656d6f00000000");
  assert.equal(
    Buffer.from(encodeCheckpoint("demo")).toString("hex"),
    "010400000000000064656d6f00000000",
  );
  assert.equal(Buffer.from(encodeUndo(7n)).toString("hex"), "01030000000000000700000000000000");
  assert.deepEqual(decodeCommand(encodeOpen("x")), { type: "open", filename: "x" });
  assert.deepEqual(decodeCommand(encodeUndo(9n)), { type: "undo", txId: 9n });
  assert.deepEqual(decodeCommand(encodeCheckpoint("y")), { type: "checkpoint", filename: "y" });
});

test("every encoded command is a multiple of 8 bytes and decodes to what was encoded", () => {
  fc.assert(
    fc.property(
      fc.string({ minLength: 1, maxLength: 40 }).filter((s) => !s.includes("\0")),
      fc.array(fc.integer({ min: 1, max: 2 ** 32 - 1 }), { maxLength: 4 }),
      (name, numbers) => {
        const pages = numbers.map((n) => new Uint8Array(512).fill(n & 0xff));
        const bytes = encodeFrames(name, 512, numbers, pages);
        assert.equal(bytes.length % 8, 0);
        const command = decodeCommand(bytes);
        assert.equal(command.type, "frames");
        if (command.type !== "frames") return;
        assert.equal(command.filename, name);
        assert.deepEqual(command.pageNumbers, numbers);
        assert.deepEqual(command.pages, pages);
        for (const legacy of [encodeOpen(name), encodeCheckpoint(name)])
          assert.equal(legacy.length % 8, 0);
      },
    ),
    { numRuns: 200 },
  );
});

test("malformed commands are refused with DecodeError", () => {
  const good = encodeFrames("demo", 4096, [1], [page(1)]);
  const cases: [string, Uint8Array][] = [
    ["empty", new Uint8Array(0)],
    ["bad format", Uint8Array.from([2, 2, 0, 0, 0, 0, 0, 0])],
    ["unknown type", Uint8Array.from([1, 9, 0, 0, 0, 0, 0, 0])],
    ["unterminated name", Uint8Array.from([1, 1, 0, 0, 0, 0, 0, 0, 0x61, 0x62])],
    ["truncated page", good.subarray(0, good.length - 1)],
    [
      "page number 0",
      (() => {
        const b = good.slice();
        b.fill(0, 40, 48);
        return b;
      })(),
    ],
    [
      "bad page size",
      (() => {
        const b = good.slice();
        b[36] = 0x33;
        return b;
      })(),
    ],
  ];
  for (const [what, bytes] of cases) {
    assert.throws(() => decodeCommand(bytes), DecodeError, what);
  }
});

test("random bytes never crash the decoder: they decode or throw DecodeError", () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 5 }), fc.uint8Array({ maxLength: 200 }), (type, tail) => {
      const bytes = new Uint8Array(8 + tail.length);
      bytes.set([1, type], 0);
      bytes.set(tail, 8);
      try {
        decodeCommand(bytes);
      } catch (error) {
        assert.ok(error instanceof DecodeError, String(error));
      }
    }),
    { numRuns: 500 },
  );
});
