// The hot pages of disk-mode databases: current page images kept in memory so that reads of
// them need no system call. One cache per VFS, shared by its databases, bounded in bytes;
// the least recently used page goes first. A cached image is the file's content (writes go
// to both), so dropping one loses nothing.
import { invariant } from "./invariant.js";

/** Page numbers stay below 2^32 (SQLite's limit); store ids below 2^21 keep keys exact. */
const PAGE_NUMBER_SPAN = 2 ** 32;
const MAX_STORES = 2 ** 21;

export class PageCache {
  readonly capacityBytes: number;
  #sizeBytes = 0;
  #nextStoreId = 1;
  /** Insertion order is recency order: a hit moves its entry to the end. */
  readonly #entries = new Map<number, Uint8Array>();
  #hits = 0;
  #misses = 0;

  constructor(capacityBytes: number) {
    if (!(capacityBytes >= 0)) throw new RangeError("cache size must be a number of bytes >= 0");
    this.capacityBytes = capacityBytes;
  }

  /** An id for a new store's keys (a replaced store's entries then age out unused). */
  newStoreId(): number {
    const id = this.#nextStoreId++;
    if (id >= MAX_STORES) {
      // Only after two million restores: start over with an empty cache.
      this.clear();
      this.#nextStoreId = 2;
      return 1;
    }
    return id;
  }

  static key(storeId: number, pageNumber: number): number {
    return storeId * PAGE_NUMBER_SPAN + pageNumber;
  }

  get(key: number): Uint8Array | undefined {
    const entries = this.#entries;
    const data = entries.get(key);
    if (data === undefined) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    entries.delete(key);
    entries.set(key, data);
    return data;
  }

  /** Caches `data` as the image under `key` (replacing what was there); may evict others. */
  set(key: number, data: Uint8Array): void {
    const entries = this.#entries;
    const old = entries.get(key);
    if (old !== undefined) {
      this.#sizeBytes -= old.length;
      entries.delete(key);
    }
    if (data.length > this.capacityBytes) return;
    entries.set(key, data);
    this.#sizeBytes += data.length;
    this.#evict();
  }

  delete(key: number): void {
    const old = this.#entries.get(key);
    if (old === undefined) return;
    this.#sizeBytes -= old.length;
    this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
    this.#sizeBytes = 0;
  }

  /** Bytes of page images held. */
  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  get pageCount(): number {
    return this.#entries.size;
  }

  /** Lookups that found / did not find their page (for tests and metrics). */
  get stats(): { hits: number; misses: number } {
    return { hits: this.#hits, misses: this.#misses };
  }

  #evict(): void {
    const entries = this.#entries;
    // Each turn removes one entry: bounded by the number of entries.
    while (this.#sizeBytes > this.capacityBytes) {
      const oldest = entries.keys().next();
      if (oldest.done) invariant("cache size accounting is off");
      const data = entries.get(oldest.value)!;
      entries.delete(oldest.value);
      this.#sizeBytes -= data.length;
    }
  }
}
