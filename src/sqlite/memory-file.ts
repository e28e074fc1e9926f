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

  readInto(heap: Uint8Array, at: number, amount: number, offset: number): number {
    const available = Math.max(0, Math.min(amount, this.#sizeBytes - offset));
    heap.set(this.#data.subarray(offset, offset + available), at);
    if (available === amount) return SQLITE_OK;
    heap.fill(0, at + available, at + amount);
    return SQLITE_IOERR_SHORT_READ;
  }

  writeFrom(heap: Uint8Array, at: number, amount: number, offset: number): number {
    const end = offset + amount;
    if (end > MAX_SIZE_BYTES)
      throw new RangeError(`temporary file larger than ${MAX_SIZE_BYTES} bytes`);
    if (end > this.#data.length) {
      const grown = new Uint8Array(Math.max(end, this.#data.length * 2, 4096));
      grown.set(this.#data.subarray(0, this.#sizeBytes));
      this.#data = grown;
    }
    this.#data.set(heap.subarray(at, at + amount), offset);
    if (end > this.#sizeBytes) this.#sizeBytes = end;
    return SQLITE_OK;
  }

  // Private files need no locks: only their connection sees them.
  lock(_level: number): number {
    return SQLITE_OK;
  }

  unlock(_level: number): number {
    return SQLITE_OK;
  }

  checkReservedLock(): boolean {
    return false;
  }

  close(): void {
    this.#data = new Uint8Array(0);
    this.#sizeBytes = 0;
  }

  truncate(sizeBytes: number): number {
    if (sizeBytes < this.#sizeBytes) {
      this.#data.fill(0, sizeBytes, this.#sizeBytes);
      this.#sizeBytes = sizeBytes;
    }
    return SQLITE_OK;
  }
}
