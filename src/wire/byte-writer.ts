// A growing buffer that messages are written into. It doubles when full, so appending a row costs
// amortised O(row), and `finishMessage` hands the bytes over without a copy.
import { pad8 } from "./byte-reader.js";
import { HEADER_SIZE_BYTES } from "./constants.js";
import { WireEncodeError } from "./errors.js";
import { maxUtf8Length, writeUtf8 } from "./utf8.js";

const TWO_POW_32 = 2 ** 32;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const MAX_WORDS = 0xffff_ffff;

export class ByteWriter {
  bytes: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(capacityBytes = 256) {
    this.bytes = new Uint8Array(capacityBytes);
    this.view = new DataView(this.bytes.buffer);
  }

  ensure(size: number): void {
    const needed = this.pos + size;
    if (needed <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(needed, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.pos));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  u8(value: number): void {
    this.ensure(1);
    this.bytes[this.pos++] = value;
  }

  u32(value: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, value, true);
    this.pos += 4;
  }

  /** A u64 from a bigint in [0, 2^64). */
  u64(value: bigint, what: string): void {
    if (value < 0n || value > UINT64_MAX) {
      throw new WireEncodeError("bad-value", `${what} ${value} is not a u64`);
    }
    this.ensure(8);
    this.view.setBigUint64(this.pos, value, true);
    this.pos += 8;
  }

  /** A u64 from a non-negative safe integer. */
  u64Number(value: number, what: string): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new WireEncodeError("bad-value", `${what} ${value} is not a non-negative safe integer`);
    }
    this.ensure(8);
    this.view.setUint32(this.pos, value >>> 0, true);
    this.view.setUint32(this.pos + 4, Math.floor(value / TWO_POW_32), true);
    this.pos += 8;
  }

  /** An int64 from an integer number (any integer below 2^63 in magnitude) or a bigint. */
  int64(value: number | bigint, what: string): void {
    this.ensure(8);
    if (typeof value === "number") {
      if (Number.isSafeInteger(value)) {
        this.view.setUint32(this.pos, value >>> 0, true);
        this.view.setInt32(this.pos + 4, Math.floor(value / TWO_POW_32), true);
        this.pos += 8;
        return;
      }
      if (!Number.isInteger(value)) {
        throw new WireEncodeError("bad-value", `${what} ${value} is not an integer`);
      }
      value = BigInt(value);
    }
    if (value < INT64_MIN || value > INT64_MAX) {
      throw new WireEncodeError("bad-value", `${what} ${value} does not fit an int64`);
    }
    this.view.setBigInt64(this.pos, value, true);
    this.pos += 8;
  }

  float(value: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** NUL-terminated UTF-8 zero-padded to a word. */
  text(value: string): void {
    this.ensure(maxUtf8Length(value) + 8);
    const length = writeUtf8(value, this.bytes, this.pos);
    const size = pad8(length + 1);
    this.bytes.fill(0, this.pos + length, this.pos + size);
    this.pos += size;
  }

  /** u64 length, the bytes, zero padding to a word. */
  blob(value: Uint8Array): void {
    const size = pad8(value.length);
    this.ensure(8 + size);
    this.u64Number(value.length, "blob length");
    this.bytes.set(value, this.pos);
    this.bytes.fill(0, this.pos + value.length, this.pos + size);
    this.pos += size;
  }

  raw(value: Uint8Array): void {
    this.ensure(value.length);
    this.bytes.set(value, this.pos);
    this.pos += value.length;
  }

  zeros(size: number): void {
    this.ensure(size);
    this.bytes.fill(0, this.pos, this.pos + size);
    this.pos += size;
  }

  /** Reserves the 8-byte header of a message starting at the current position. */
  beginMessage(): number {
    const start = this.pos;
    this.zeros(HEADER_SIZE_BYTES);
    return start;
  }

  /** Fills in the header of the message begun at `start` and returns the message's bytes. */
  finishMessage(start: number, type: number, schema: number): Uint8Array {
    const bodySize = this.pos - start - HEADER_SIZE_BYTES;
    if (bodySize % 8 !== 0)
      throw new Error(`assertion: body of ${bodySize} bytes is not whole words`);
    const words = bodySize / 8;
    if (words > MAX_WORDS) {
      throw new WireEncodeError(
        "too-large",
        `body of ${bodySize} bytes exceeds the u32 word count`,
      );
    }
    this.view.setUint32(start, words, true);
    this.bytes[start + 4] = type;
    this.bytes[start + 5] = schema;
    this.view.setUint16(start + 6, 0, true);
    return this.bytes.subarray(start, this.pos);
  }
}
