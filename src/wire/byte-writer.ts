// A growing buffer that messages are written into. It doubles when full, so appending a row costs
// amortised O(row), and `finishMessage` hands the bytes over without a copy. Integers are stored
// byte by byte rather than through a DataView: a DataView over a small, fresh Uint8Array forces V8
// to move its storage off-heap, which costs more than the whole small message.
import { pad8 } from "./byte-reader.js";
import { HEADER_SIZE_BYTES } from "./constants.js";
import { WireEncodeError } from "./errors.js";
import { maxUtf8Length, writeUtf8 } from "./utf8.js";

const TWO_POW_32 = 2 ** 32;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;
const MAX_WORDS = 0xffff_ffff;

// Scratch space for the values that need a DataView conversion (doubles, bigints).
const scratch = new DataView(new ArrayBuffer(8));
const scratchBytes = new Uint8Array(scratch.buffer);

// One-shot messages are written into a shared slab and handed out as views of it, the way Node
// pools small Buffers: a fresh small Uint8Array lives on V8's heap and taking a view of it (the
// returned message) forces a costly move, and a message usually lives only until it is sent.
// Encoding is synchronous, so at most one pooled writer is open at a time.
const SLAB_SIZE_BYTES = 64 * 1024;
const POOLED_MAX_BYTES = 8 * 1024;
let slab = new Uint8Array(SLAB_SIZE_BYTES);
let slabOffset = 0;
// Allocating a zero-length typed array is surprisingly slow in V8; share one.
const EMPTY = new Uint8Array(0);

export class ByteWriter {
  bytes: Uint8Array;
  pos: number;
  /** Where the message starts in `bytes`. */
  base: number;

  /** A writer with its own buffer. */
  constructor(capacityBytes = 256) {
    this.bytes = capacityBytes === 0 ? EMPTY : new Uint8Array(capacityBytes);
    this.pos = 0;
    this.base = 0;
  }

  /** A writer for one message of about `hintBytes`, backed by the shared slab when small. */
  static pooled(hintBytes: number): ByteWriter {
    if (hintBytes > POOLED_MAX_BYTES) return new ByteWriter(hintBytes);
    if (slabOffset + hintBytes > SLAB_SIZE_BYTES) {
      slab = new Uint8Array(SLAB_SIZE_BYTES);
      slabOffset = 0;
    }
    const writer = new ByteWriter(0);
    writer.bytes = slab;
    writer.pos = slabOffset;
    writer.base = slabOffset;
    return writer;
  }

  ensure(size: number): void {
    const needed = this.pos + size;
    if (needed <= this.bytes.length) return;
    // Move the message (only it) to a buffer of its own; a slab stays as it was.
    const used = this.pos - this.base;
    const grown = new Uint8Array(Math.max(used + size, used * 2, 256));
    grown.set(this.bytes.subarray(this.base, this.pos));
    this.bytes = grown;
    this.pos = used;
    this.base = 0;
  }

  #word(lo: number, hi: number): void {
    const bytes = this.bytes;
    const pos = this.pos;
    bytes[pos] = lo;
    bytes[pos + 1] = lo >>> 8;
    bytes[pos + 2] = lo >>> 16;
    bytes[pos + 3] = lo >>> 24;
    bytes[pos + 4] = hi;
    bytes[pos + 5] = hi >>> 8;
    bytes[pos + 6] = hi >>> 16;
    bytes[pos + 7] = hi >>> 24;
    this.pos = pos + 8;
  }

  #scratchWord(): void {
    this.bytes.set(scratchBytes, this.pos);
    this.pos += 8;
  }

  u8(value: number): void {
    this.ensure(1);
    this.bytes[this.pos++] = value;
  }

  u32(value: number): void {
    this.ensure(4);
    const bytes = this.bytes;
    const pos = this.pos;
    bytes[pos] = value;
    bytes[pos + 1] = value >>> 8;
    bytes[pos + 2] = value >>> 16;
    bytes[pos + 3] = value >>> 24;
    this.pos = pos + 4;
  }

  /** A u64 from a bigint in [0, 2^64). */
  u64(value: bigint, what: string): void {
    if (value < 0n || value > UINT64_MAX) {
      throw new WireEncodeError("bad-value", `${what} ${value} is not a u64`);
    }
    this.ensure(8);
    scratch.setBigUint64(0, value, true);
    this.#scratchWord();
  }

  /** A u64 from a non-negative safe integer. */
  u64Number(value: number, what: string): void {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new WireEncodeError("bad-value", `${what} ${value} is not a non-negative safe integer`);
    }
    this.ensure(8);
    this.#word(value >>> 0, Math.floor(value / TWO_POW_32));
  }

  /** An int64 from an integer number (any integer below 2^63 in magnitude) or a bigint. */
  int64(value: number | bigint, what: string): void {
    this.ensure(8);
    if (typeof value === "number") {
      if (Number.isSafeInteger(value)) {
        // Floor division keeps the high word two's complement for negative values.
        this.#word(value >>> 0, Math.floor(value / TWO_POW_32));
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
    scratch.setBigInt64(0, value, true);
    this.#scratchWord();
  }

  float(value: number): void {
    this.ensure(8);
    scratch.setFloat64(0, value, true);
    this.#scratchWord();
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
    const bytes = this.bytes;
    const pos = this.pos;
    // Most calls are one word (a NULL, a row header): a loop beats calling fill.
    if (size <= 16) for (let i = 0; i < size; i++) bytes[pos + i] = 0;
    else bytes.fill(0, pos, pos + size);
    this.pos = pos + size;
  }

  /** Reserves the 8-byte header; call first. */
  beginMessage(): void {
    if (this.pos !== this.base) throw new Error("assertion: beginMessage on a used writer");
    this.zeros(HEADER_SIZE_BYTES);
  }

  /** Fills in the header and returns the message's bytes, which now belong to the caller. */
  finishMessage(type: number, schema: number): Uint8Array {
    const start = this.base;
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
    const bytes = this.bytes;
    bytes[start] = words;
    bytes[start + 1] = words >>> 8;
    bytes[start + 2] = words >>> 16;
    bytes[start + 3] = words >>> 24;
    bytes[start + 4] = type;
    bytes[start + 5] = schema;
    bytes[start + 6] = 0;
    bytes[start + 7] = 0;
    const message = bytes.subarray(start, this.pos);
    // Claim the slab space used; the writer must not be used again.
    if (bytes === slab) slabOffset = this.pos;
    this.bytes = EMPTY;
    this.pos = 0;
    this.base = 0;
    return message;
  }
}
