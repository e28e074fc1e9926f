// dqlite's serialization primitives for commands and snapshots: little-endian integers with no
// alignment between fields, and text as bytes + NUL zero-padded to a multiple of 8.

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Bad bytes from outside (a raft entry, a snapshot): what was wrong, where. */
export class DecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "DecodeError";
  }
}

/** n rounded up to a multiple of 8. */
export function pad8(n: number): number {
  return (n + 7) & ~7;
}

/** Encoded size of a text field. */
export function textSizeBytes(utf8: Uint8Array): number {
  return pad8(utf8.length + 1);
}

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Writes fields front to back into a preallocated buffer. */
export class Writer {
  readonly bytes: Uint8Array;
  readonly #view: DataView;
  offset = 0;

  constructor(sizeBytes: number) {
    this.bytes = new Uint8Array(sizeBytes);
    this.#view = new DataView(this.bytes.buffer);
  }

  u8(value: number): void {
    this.#view.setUint8(this.offset, value);
    this.offset += 1;
  }

  u16(value: number): void {
    this.#view.setUint16(this.offset, value, true);
    this.offset += 2;
  }

  u32(value: number): void {
    this.#view.setUint32(this.offset, value, true);
    this.offset += 4;
  }

  u64(value: number | bigint): void {
    this.#view.setBigUint64(this.offset, BigInt(value), true);
    this.offset += 8;
  }

  /** Text already encoded as UTF-8: bytes, NUL, zero padding (the buffer starts zeroed). */
  text(bytes: Uint8Array): void {
    this.bytes.set(bytes, this.offset);
    this.offset += textSizeBytes(bytes);
  }

  raw(bytes: Uint8Array): void {
    this.bytes.set(bytes, this.offset);
    this.offset += bytes.length;
  }
}

/** Reads fields front to back, throwing `DecodeError` on anything short or malformed. */
export class Reader {
  readonly #bytes: Uint8Array;
  readonly #view: DataView;
  readonly #what: string;
  offset = 0;

  constructor(bytes: Uint8Array, what: string) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#what = what;
  }

  get remaining(): number {
    return this.#bytes.length - this.offset;
  }

  #need(n: number, field: string): void {
    if (this.remaining < n) {
      throw new DecodeError(
        `${this.#what}: ${field} needs ${n} bytes at offset ${this.offset}, ${this.remaining} left`,
      );
    }
  }

  u8(field: string): number {
    this.#need(1, field);
    return this.#view.getUint8(this.offset++);
  }

  u16(field: string): number {
    this.#need(2, field);
    const value = this.#view.getUint16(this.offset, true);
    this.offset += 2;
    return value;
  }

  u32(field: string): number {
    this.#need(4, field);
    const value = this.#view.getUint32(this.offset, true);
    this.offset += 4;
    return value;
  }

  u64(field: string): bigint {
    this.#need(8, field);
    const value = this.#view.getBigUint64(this.offset, true);
    this.offset += 8;
    return value;
  }

  /** A u64 that must fit a JavaScript number (sizes, page numbers). */
  u64Number(field: string): number {
    const value = this.u64(field);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new DecodeError(`${this.#what}: ${field} ${value} is out of range`);
    }
    return Number(value);
  }

  text(field: string): string {
    const end = this.#bytes.indexOf(0, this.offset);
    if (end < 0) throw new DecodeError(`${this.#what}: ${field} has no NUL terminator`);
    const size = pad8(end - this.offset + 1);
    this.#need(size, field);
    let value: string;
    try {
      value = decoder.decode(this.#bytes.subarray(this.offset, end));
    } catch {
      throw new DecodeError(`${this.#what}: ${field} is not valid UTF-8`);
    }
    this.offset += size;
    return value;
  }

  /** A view of the next `n` bytes (no copy). */
  bytes(n: number, field: string): Uint8Array {
    this.#need(n, field);
    const view = this.#bytes.subarray(this.offset, this.offset + n);
    this.offset += n;
    return view;
  }
}
