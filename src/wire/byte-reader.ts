// A bounds-checked cursor over one message body. Every read checks the end first, so a bad length
// or count becomes a WireDecodeError instead of a RangeError or a huge allocation.
import { isAscii } from "node:buffer";
import { WireDecodeError } from "./errors.js";
import { bufferView, decodeUtf8 } from "./utf8.js";

// Text up to this long is scanned in JS; beyond, the native indexOf and TextDecoder win.
const SHORT_SCAN_BYTES = 64;

const TWO_POW_32 = 2 ** 32;
// hi words in [-2^21, 2^21) make hi * 2^32 + lo a safe integer (except -2^53 itself).
const SAFE_HI_LIMIT = 2 ** 21;

/** `size` rounded up to a multiple of 8 (sizes may exceed 2^31, so no bit tricks). */
export function pad8(size: number): number {
  const rest = size % 8;
  return rest === 0 ? size : size + 8 - rest;
}

export class ByteReader {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  pos: number;
  readonly end: number;
  // Made on the first text field only: most messages with text have several.
  #buffer: Buffer | undefined;

  constructor(bytes: Uint8Array, start = 0, end = bytes.length) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  need(size: number, what: string): void {
    if (size > this.end - this.pos) {
      throw new WireDecodeError(
        "truncated",
        `${what} needs ${size} bytes at offset ${this.pos}, body has ${this.end - this.pos} left`,
      );
    }
  }

  u8(what: string): number {
    this.need(1, what);
    return this.bytes[this.pos++];
  }

  u32(what: string): number {
    this.need(4, what);
    const value = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return value;
  }

  u64(what: string): bigint {
    this.need(8, what);
    const value = this.view.getBigUint64(this.pos, true);
    this.pos += 8;
    return value;
  }

  /** A u64 that must be a safe integer (counts, sizes, codes, formats). */
  u64Number(what: string): number {
    this.need(8, what);
    const lo = this.view.getUint32(this.pos, true);
    const hi = this.view.getUint32(this.pos + 4, true);
    if (hi >= SAFE_HI_LIMIT) {
      throw new WireDecodeError(
        "out-of-range",
        `${what} at offset ${this.pos} is ${this.view.getBigUint64(this.pos, true)}`,
      );
    }
    this.pos += 8;
    return hi * TWO_POW_32 + lo;
  }

  /** An int64: a number when it is a safe integer, else a bigint (always a bigint if asked). */
  int64(what: string, bigints: boolean): number | bigint {
    this.need(8, what);
    const pos = this.pos;
    this.pos = pos + 8;
    if (bigints) return this.view.getBigInt64(pos, true);
    const lo = this.view.getUint32(pos, true);
    const hi = this.view.getInt32(pos + 4, true);
    if (hi < SAFE_HI_LIMIT && (hi > -SAFE_HI_LIMIT || (hi === -SAFE_HI_LIMIT && lo !== 0))) {
      return hi * TWO_POW_32 + lo;
    }
    return this.view.getBigInt64(pos, true);
  }

  float(what: string): number {
    this.need(8, what);
    const value = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return value;
  }

  /** NUL-terminated UTF-8, then zero padding to a word; the padding's content is not checked. */
  text(what: string): string {
    const bytes = this.bytes;
    const start = this.pos;
    // Short text (most names and values): find the NUL and check for ASCII in one JS pass.
    const limit = Math.min(this.end, start + SHORT_SCAN_BYTES);
    let nul = start;
    let ascii = true;
    for (; nul < limit; nul++) {
      const byte = bytes[nul];
      if (byte === 0) break;
      if (byte >= 0x80) ascii = false;
    }
    if (nul === limit) {
      // Buffer's indexOf is a native memchr; the typed array's is a slow generic loop.
      this.#buffer ??= bufferView(bytes);
      nul = this.#buffer.indexOf(0, limit);
      if (nul < 0 || nul >= this.end) {
        throw new WireDecodeError(
          "missing-nul",
          `${what} at offset ${start} has no NUL terminator`,
        );
      }
      ascii = ascii && isAscii(bytes.subarray(limit, nul));
    }
    const size = pad8(nul - start + 1);
    this.need(size, what);
    this.pos = start + size;
    if (nul === start) return "";
    if (ascii) {
      this.#buffer ??= bufferView(bytes);
      return this.#buffer.toString("latin1", start, nul);
    }
    return decodeUtf8(bytes, start, nul);
  }

  /** u64 length, bytes, zero padding to a word. Returns a view into the body (no copy). */
  blob(what: string): Uint8Array {
    const length = this.u64Number(`${what} length`);
    this.need(pad8(length), what);
    const start = this.pos;
    this.pos = start + pad8(length);
    return this.bytes.subarray(start, start + length);
  }

  /** Exactly `size` bytes with no padding (Dump file data). Returns a view. */
  raw(size: number, what: string): Uint8Array {
    this.need(size, what);
    const start = this.pos;
    this.pos = start + size;
    return this.bytes.subarray(start, start + size);
  }

  expectEnd(what: string): void {
    if (this.pos !== this.end) {
      throw new WireDecodeError(
        "trailing-bytes",
        `${what} ends at offset ${this.pos} but the body has ${this.end} bytes`,
      );
    }
  }
}
