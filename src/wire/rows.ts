// Rows responses (client-protocol.md §4.6, §6, §9): decoding one message into flat arrays, and an
// incremental writer that a server feeds row by row and that splits results the way dqlite does.
import { type ByteReader, pad8 } from "./byte-reader.js";
import { ByteWriter } from "./byte-writer.js";
import { HEADER_SIZE_BYTES, ResponseType, ROWS_PART_SIZE_BYTES, ValueType } from "./constants.js";
import { WireDecodeError, WireEncodeError } from "./errors.js";
import type { RowsResponse, RowValue } from "./messages.js";
import { isRowValueType, readValue, writeValue } from "./tuple.js";

const PART_BYTE = 0xee;
const DONE_BYTE = 0xff;
const MARKER_SIZE_BYTES = 8;
// Allocating a zero-length typed array is surprisingly slow in V8; empty results share this one.
const NO_TYPES = new Uint8Array(0);

/** Decodes a Rows body. Every row's type codes and values land in two flat arrays. */
export function readRows(reader: ByteReader, bigints: boolean): RowsResponse {
  const columnCount = reader.u64Number("column count");
  // Each name takes at least a word, and the marker one more: bounds the count before allocating.
  reader.need(columnCount * 8 + MARKER_SIZE_BYTES, `${columnCount} column names and the marker`);
  const columns: string[] = new Array(columnCount);
  for (let i = 0; i < columnCount; i++) columns[i] = reader.text("column name");

  const bytes = reader.bytes;
  const headerSize = pad8(Math.ceil(columnCount / 2));
  const minRowSize = headerSize + columnCount * 8;
  const maxRows =
    columnCount === 0
      ? 0
      : Math.max(0, Math.floor((reader.remaining - MARKER_SIZE_BYTES) / minRowSize));
  const types = maxRows === 0 ? NO_TYPES : new Uint8Array(maxRows * columnCount);
  const values: RowValue[] = [];
  let rowCount = 0;
  for (;;) {
    if (reader.remaining < MARKER_SIZE_BYTES) {
      throw new WireDecodeError("bad-marker", "Rows body ends without a PART or DONE marker");
    }
    const first = bytes[reader.pos];
    if (first === PART_BYTE || first === DONE_BYTE || columnCount === 0) break;
    // A row: nibble type codes, low nibble first, padded to a word; then the values.
    reader.need(headerSize, "row header");
    const headerAt = reader.pos;
    reader.pos += headerSize;
    const base = rowCount * columnCount;
    for (let c = 0; c < columnCount; c++) {
      const type = (bytes[headerAt + (c >> 1)] >> ((c & 1) << 2)) & 0x0f;
      if (!isRowValueType(type)) {
        throw new WireDecodeError(
          "bad-value-type",
          `row ${rowCount} column ${c} has type code ${type}`,
        );
      }
      types[base + c] = type;
      values.push(readValue(reader, type, bigints));
    }
    rowCount++;
  }
  const markerAt = reader.pos;
  const marker = bytes[markerAt];
  if (reader.remaining !== MARKER_SIZE_BYTES) {
    throw new WireDecodeError(
      "bad-marker",
      `end marker at offset ${markerAt} is not the last word`,
    );
  }
  for (let i = 1; i < MARKER_SIZE_BYTES; i++) {
    if (bytes[markerAt + i] !== marker || (marker !== PART_BYTE && marker !== DONE_BYTE)) {
      throw new WireDecodeError("bad-marker", `word at offset ${markerAt} is not PART or DONE`);
    }
  }
  if (marker !== PART_BYTE && marker !== DONE_BYTE) {
    throw new WireDecodeError("bad-marker", `word at offset ${markerAt} is not PART or DONE`);
  }
  reader.pos += MARKER_SIZE_BYTES;
  return {
    type: "rows",
    columns,
    rowCount,
    types: rowCount === maxRows ? types : types.subarray(0, rowCount * columnCount),
    values,
    more: marker === PART_BYTE,
  };
}

export interface RowsWriterOptions {
  /** A message that has reached this size (header included) is full. Default 4096, as dqlite. */
  partSizeBytes?: number;
}

/**
 * Builds Rows messages row by row. Feed it like dqlite does: before stepping to the next row,
 * check `full`; if it is, send `finish(true)` (PART) and carry on; when the statement is done,
 * send `finish(false)` (DONE). Every message repeats the column names. `full` is only true once
 * the message holds a row, so a PART always carries at least one. If a value throws
 * WireEncodeError, call `cancelRow()` before anything else.
 */
export class RowsWriter {
  readonly columns: readonly string[];
  readonly #prefix: Uint8Array;
  readonly #partSizeBytes: number;
  readonly #rowHeaderSize: number;
  #writer: ByteWriter | undefined;
  #rowCount = 0;
  #rowStart = -1;
  #column = 0;
  #nextCapacityBytes: number;

  constructor(columns: readonly string[], options: RowsWriterOptions = {}) {
    this.columns = columns;
    this.#partSizeBytes = options.partSizeBytes ?? ROWS_PART_SIZE_BYTES;
    this.#rowHeaderSize = pad8(Math.ceil(columns.length / 2));
    const prefix = new ByteWriter(16 + columns.length * 16);
    prefix.u64Number(columns.length, "column count");
    for (const name of columns) prefix.text(name);
    this.#prefix = prefix.bytes.slice(0, prefix.pos);
    this.#nextCapacityBytes = Math.min(1024, this.#partSizeBytes + 512);
  }

  /** Rows in the message being built. */
  get rowCount(): number {
    return this.#rowCount;
  }

  /** Size of the message being built, header included, end marker not. */
  get sizeBytes(): number {
    return this.#writer === undefined ? HEADER_SIZE_BYTES + this.#prefix.length : this.#writer.pos;
  }

  /** The message has a row and has reached the part size: end it with PART before the next row. */
  get full(): boolean {
    return this.#rowCount > 0 && this.sizeBytes >= this.#partSizeBytes;
  }

  beginRow(): void {
    if (this.columns.length === 0) throw new Error("assertion: a zero-column result has no rows");
    if (this.#rowStart >= 0) throw new Error("assertion: beginRow inside a row");
    const writer = this.#open();
    this.#rowStart = writer.pos;
    this.#column = 0;
    writer.zeros(this.#rowHeaderSize);
  }

  integer(value: number | bigint): void {
    this.#slot().int64(value, "integer value");
    this.#typed(ValueType.Integer);
  }

  float(value: number): void {
    this.#slot().float(value);
    this.#typed(ValueType.Float);
  }

  text(value: string): void {
    this.#slot().text(value);
    this.#typed(ValueType.Text);
  }

  blob(value: Uint8Array): void {
    this.#slot().blob(value);
    this.#typed(ValueType.Blob);
  }

  null(): void {
    this.#slot().zeros(8);
    this.#typed(ValueType.Null);
  }

  unixTime(seconds: number | bigint): void {
    this.#slot().int64(seconds, "unixtime value");
    this.#typed(ValueType.UnixTime);
  }

  iso8601(value: string): void {
    this.#slot().text(value);
    this.#typed(ValueType.Iso8601);
  }

  boolean(value: boolean): void {
    this.#slot().u64Number(value ? 1 : 0, "boolean value");
    this.#typed(ValueType.Boolean);
  }

  /** Any value by its type code. */
  value(type: ValueType, value: RowValue): void {
    writeValue(this.#slot(), type, value);
    this.#typed(type);
  }

  endRow(): void {
    if (this.#column !== this.columns.length) {
      throw new Error(`assertion: row has ${this.#column} of ${this.columns.length} values`);
    }
    this.#rowStart = -1;
    this.#rowCount++;
  }

  /** Drops the row being written (after a value failed to encode). */
  cancelRow(): void {
    if (this.#rowStart < 0) return;
    this.#writer!.pos = this.#rowStart;
    this.#rowStart = -1;
  }

  /** Appends a whole row: `types[offset + c]` and `values[offset + c]` for each column c. */
  addRow(types: ArrayLike<number>, values: ArrayLike<RowValue>, offset = 0): void {
    this.beginRow();
    try {
      for (let c = 0; c < this.columns.length; c++) {
        this.value(types[offset + c], values[offset + c]);
      }
    } catch (error) {
      this.cancelRow();
      throw error;
    }
    this.endRow();
  }

  /**
   * Ends the message with PART (`more`) or DONE and returns its bytes, which now belong to the
   * caller. The next row starts a new message with the same columns.
   */
  finish(more: boolean): Uint8Array {
    if (this.#rowStart >= 0) throw new Error("assertion: finish inside a row");
    if (more && this.#rowCount === 0) throw new Error("assertion: a PART message needs a row");
    const writer = this.#open();
    writer.ensure(MARKER_SIZE_BYTES);
    writer.bytes.fill(more ? PART_BYTE : DONE_BYTE, writer.pos, writer.pos + MARKER_SIZE_BYTES);
    writer.pos += MARKER_SIZE_BYTES;
    const message = writer.finishMessage(ResponseType.Rows, 0);
    // Parts after the first are usually full ones: size the next buffer to fit one.
    this.#nextCapacityBytes = Math.max(this.#nextCapacityBytes, this.#partSizeBytes + 1024);
    this.#writer = undefined;
    this.#rowCount = 0;
    return message;
  }

  #open(): ByteWriter {
    if (this.#writer !== undefined) return this.#writer;
    // A writer of its own (base 0, never pooled): it stays open across the caller's other encodes.
    const writer = new ByteWriter(Math.max(this.#nextCapacityBytes, this.#prefix.length + 64));
    writer.beginMessage();
    writer.raw(this.#prefix);
    this.#writer = writer;
    return writer;
  }

  // The writer for the next value of the open row.
  #slot(): ByteWriter {
    if (this.#rowStart < 0) throw new Error("assertion: value outside beginRow/endRow");
    if (this.#column >= this.columns.length) {
      throw new Error(`assertion: more than ${this.columns.length} values in a row`);
    }
    return this.#writer!;
  }

  #typed(type: number): void {
    const column = this.#column;
    this.#writer!.bytes[this.#rowStart + (column >> 1)] |= type << ((column & 1) << 2);
    this.#column = column + 1;
  }
}

/** Writes a whole Rows body as decoded (used to encode a RowsResponse in one go). */
export function writeRows(writer: ByteWriter, rows: RowsResponse): void {
  const columnCount = rows.columns.length;
  const cells = rows.rowCount * columnCount;
  if (rows.types.length !== cells || rows.values.length !== cells) {
    throw new WireEncodeError(
      "bad-value",
      `${rows.rowCount} rows of ${columnCount} columns need ${cells} types and values, got ${rows.types.length} and ${rows.values.length}`,
    );
  }
  if (columnCount === 0 && rows.rowCount !== 0) {
    throw new WireEncodeError("bad-value", "a zero-column result cannot have rows");
  }
  writer.u64Number(columnCount, "column count");
  for (const name of rows.columns) writer.text(name);
  const headerSize = pad8(Math.ceil(columnCount / 2));
  for (let row = 0; row < rows.rowCount; row++) {
    // Relative to the message: a pooled writer moves the message when it grows.
    const headerAt = writer.pos - writer.base;
    writer.zeros(headerSize);
    const base = row * columnCount;
    for (let c = 0; c < columnCount; c++) {
      const type = rows.types[base + c];
      writeValue(writer, type, rows.values[base + c]);
      writer.bytes[writer.base + headerAt + (c >> 1)] |= type << ((c & 1) << 2);
    }
  }
  writer.ensure(MARKER_SIZE_BYTES);
  writer.bytes.fill(rows.more ? PART_BYTE : DONE_BYTE, writer.pos, writer.pos + MARKER_SIZE_BYTES);
  writer.pos += MARKER_SIZE_BYTES;
}
