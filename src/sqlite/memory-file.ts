// A private in-memory file for what SQLite opens besides main databases (temp databases,
// statement journals, sorter spills). Nothing in it is replicated; it dies with its handle.
import { SQLITE_IOERR_SHORT_READ, SQLITE_OK } from "./result-codes.js";

/** Largest temporary file accepted, so a runaway sort cannot take all memory. */
const MAX_SIZE_BYTES = 2 ** 31;

export class MemoryFile {
  #data = new Uint8Array(0);
  #sizeBytes = 0;

  sizeBytes(): number {
    return this.#sizeBytes;
  }

  read(dest: Uint8Array, offset: number): number {
    const available = Math.max(0, Math.min(dest.length, this.#sizeBytes - offset));
    dest.set(this.#data.subarray(offset, offset + available));
    if (available === dest.length) return SQLITE_OK;
    dest.fill(0, available);
    return SQLITE_IOERR_SHORT_READ;
  }

  write(src: Uint8Array, offset: number): number {
    const end = offset + src.length;
    if (end > MAX_SIZE_BYTES)
      throw new RangeError(`temporary file larger than ${MAX_SIZE_BYTES} bytes`);
    if (end > this.#data.length) {
      const grown = new Uint8Array(Math.max(end, this.#data.length * 2, 4096));
      grown.set(this.#data.subarray(0, this.#sizeBytes));
      this.#data = grown;
    }
    this.#data.set(src, offset);
    if (end > this.#sizeBytes) this.#sizeBytes = end;
    return SQLITE_OK;
  }

  truncate(sizeBytes: number): number {
    if (sizeBytes < this.#sizeBytes) {
      this.#data.fill(0, sizeBytes, this.#sizeBytes);
      this.#sizeBytes = sizeBytes;
    }
    return SQLITE_OK;
  }
}
