// The server-side Rows encoder: row by row into ~4 KiB parts, exactly where dqlite splits.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import {
  decodeHeader,
  decodeResponse,
  encodeResponse,
  type Frame,
  ROWS_PART_SIZE_BYTES,
  type RowsResponse,
  RowsWriter,
  type RowValue,
  ValueType,
  WireEncodeError,
} from "../../src/wire/index.js";
import { rowCell, wireText } from "./arbitraries.js";
import { bytesToHex, dqliteCaptures } from "./captures.js";

function frameOf(message: Uint8Array): Frame {
  const header = decodeHeader(message);
  return {
    type: header.type,
    schema: header.schema,
    extra: header.extra,
    body: message.subarray(8),
  };
}

function decodeRows(message: Uint8Array): RowsResponse {
  const response = decodeResponse(frameOf(message));
  assert.equal(response.type, "rows");
  return response as RowsResponse;
}

interface Result {
  columns: string[];
  types: number[];
  values: RowValue[];
}

// Feeds a whole result to a writer the way dqlite's query loop does: check before each row.
function writeResult(result: Result, partSizeBytes?: number): Uint8Array[] {
  const writer = new RowsWriter(result.columns, { partSizeBytes });
  const n = result.columns.length;
  const rowCount = n === 0 ? 0 : result.types.length / n;
  const messages: Uint8Array[] = [];
  for (let row = 0; row < rowCount; row++) {
    if (writer.full) messages.push(writer.finish(true));
    writer.addRow(result.types, result.values, row * n);
  }
  messages.push(writer.finish(false));
  return messages;
}

for (const name of ["25-go-multipart", "26-go-interrupt"]) {
  test(`re-encoding the result of ${name} splits it into the captured messages, byte for byte`, () => {
    const capture = dqliteCaptures().find((c) => c.name === name)!;
    const all = capture.lines.filter((l) => l.direction === "S" && l.bytes[4] === 7);
    // The first result: up to and including the message that ends with DONE.
    const doneAt = all.findIndex((l) => l.bytes[l.bytes.length - 1] === 0xff);
    const captured = all.slice(0, doneAt + 1).map((line) => line.bytes);
    assert.ok(captured.length > 10, "a multi-part result");
    const result: Result = { columns: [], types: [], values: [] };
    for (const message of captured) {
      const rows = decodeRows(message);
      result.columns = rows.columns;
      result.types.push(...rows.types);
      result.values.push(...rows.values);
    }
    const ours = writeResult(result);
    assert.deepEqual(ours.map(bytesToHex), captured.map(bytesToHex));
  });
}

test("dqlite's part rule: a message ends once it reaches 4096 bytes, header included", () => {
  // 2 columns (int, 20-char text): each row is 8 + 8 + 24 = 40 bytes; header + count + names = 32.
  const columns = ["id", "name"];
  const types: number[] = [];
  const values: RowValue[] = [];
  for (let i = 0; i < 2000; i++) {
    types.push(ValueType.Integer, ValueType.Text);
    values.push(i, `name-${String(i).padStart(15, "0")}`);
  }
  const messages = writeResult({ columns, types, values });
  // 32 + 102 × 40 = 4112 ≥ 4096 after 102 rows (4072 < 4096 after 101): 4112 + 8 marker = 4120.
  assert.deepEqual(
    messages.slice(0, -1).map((m) => m.length),
    new Array(19).fill(4120),
  );
  assert.equal(messages.length, 20);
  assert.equal(decodeRows(messages[19]).rowCount, 2000 - 19 * 102);
});

test("a row larger than the part size travels alone, and the PART before the next row has it", () => {
  const big = new Uint8Array(10_000);
  const messages = writeResult({
    columns: ["b"],
    types: [ValueType.Blob, ValueType.Blob, ValueType.Blob],
    values: [Uint8Array.of(1), big, Uint8Array.of(2)],
  });
  const decoded = messages.map(decodeRows);
  assert.deepEqual(
    decoded.map((rows) => [rows.rowCount, rows.more]),
    [
      [2, true],
      [1, false],
    ],
  );
});

test("a zero-column result is one message: count 0, no names, DONE", () => {
  const writer = new RowsWriter([]);
  assert.equal(writer.full, false);
  assert.throws(() => writer.beginRow(), /zero-column/);
  assert.throws(() => writer.finish(true), /PART message needs a row/);
  const message = writer.finish(false);
  assert.equal(bytesToHex(message), "0200000007000000" + "0000000000000000" + "ffffffffffffffff");
});

test("an empty result with columns carries the names and DONE", () => {
  const message = new RowsWriter(["a", "bb"]).finish(false);
  assert.deepEqual(decodeRows(message), {
    type: "rows",
    columns: ["a", "bb"],
    rowCount: 0,
    types: new Uint8Array(0),
    values: [],
    more: false,
  });
});

test("every message of a written result repeats the names; every PART has a row; only the last is DONE", () => {
  const result = fc
    .record({
      columns: fc.array(wireText, { minLength: 1, maxLength: 5 }),
      rowCount: fc.nat({ max: 60 }),
      partSizeBytes: fc.integer({ min: 8, max: 600 }),
    })
    .chain(({ columns, rowCount, partSizeBytes }) =>
      fc
        .array(rowCell, {
          minLength: rowCount * columns.length,
          maxLength: rowCount * columns.length,
        })
        .map((cells) => ({
          columns,
          types: cells.map((c) => c.type),
          values: cells.map((c) => c.value),
          partSizeBytes,
        })),
    );
  fc.assert(
    fc.property(result, ({ columns, types, values, partSizeBytes }) => {
      const messages = writeResult({ columns, types, values }, partSizeBytes);
      const decoded = messages.map(decodeRows);
      decoded.forEach((rows, i) => {
        assert.deepEqual(rows.columns, columns);
        assert.equal(rows.more, i < decoded.length - 1);
        if (rows.more) {
          assert.ok(rows.rowCount >= 1);
          // It was full: at least the part size without its marker.
          assert.ok(messages[i].length - 8 >= partSizeBytes);
        }
      });
      assert.deepEqual(
        decoded.flatMap((rows) => [...rows.types]),
        types,
      );
      assert.deepEqual(
        decoded.flatMap((rows) => rows.values),
        values,
      );
      // The same rows through the one-shot encoder give the same bytes.
      for (let i = 0; i < messages.length; i++) {
        assert.deepEqual(encodeResponse(decoded[i]), messages[i]);
      }
    }),
    { numRuns: 300 },
  );
});

test("a value that cannot be encoded throws, and cancelRow drops the half-written row", () => {
  const writer = new RowsWriter(["a", "b"]);
  writer.addRow([ValueType.Integer, ValueType.Text], [1, "one"]);
  assert.throws(
    () => writer.addRow([ValueType.Integer, ValueType.Text], [2, "t\0wo"]),
    (error: unknown) => error instanceof WireEncodeError && error.kind === "nul-in-text",
  );
  writer.beginRow();
  writer.integer(3);
  assert.throws(() => writer.integer(1.5), { kind: "bad-value" });
  writer.cancelRow();
  writer.addRow([ValueType.Integer, ValueType.Null], [4, null]);
  const rows = decodeRows(writer.finish(false));
  assert.deepEqual(rows.values, [1, "one", 4, null]);
});

test("a row must have exactly one value per column", () => {
  const writer = new RowsWriter(["a"]);
  writer.beginRow();
  assert.throws(() => writer.endRow(), /0 of 1 values/);
  writer.integer(1);
  assert.throws(() => writer.integer(2), /more than 1 values/);
  writer.endRow();
  assert.throws(() => writer.integer(3), /outside beginRow/);
  assert.equal(writer.rowCount, 1);
});

test("the part size is the dqlite page size by default", () => {
  assert.equal(ROWS_PART_SIZE_BYTES, 4096);
  const writer = new RowsWriter(["x"]);
  while (!writer.full) writer.addRow([ValueType.Null], [null]);
  // 8 header + 8 count + 8 name = 24; 16 bytes per row → full at 24 + 16 × 255 = 4104.
  assert.equal(writer.rowCount, 255);
  assert.equal(writer.sizeBytes, 4104);
});
