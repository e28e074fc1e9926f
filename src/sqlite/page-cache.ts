// The hot pages of disk-mode databases: page images kept in memory so that reads of them need
// no system call. One cache per VFS, shared by its databases, bounded in bytes. A cached image
// is the file's content (writes go to both), so dropping one loses nothing.
//
// Replacement is CLOCK (second chance), which approximates LRU without touching the index on
// a hit: a hit only sets the entry's reference bit, and the hand evicts the first entry it
// finds unreferenced, clearing bits on its way. The buffers of pages read from a file are the
// cache's own: an evicted one is reused for the next read, so a miss allocates nothing (a 4 KiB
// ArrayBuffer costs microseconds and garbage collection). Callers therefore copy what `get`
// returns before the cache is used again, or `take` the entry to keep its buffer.
import { invariant } from "./invariant.js";

/** Page numbers stay below 2^32 (SQLite's limit); store ids below 2^21 keep keys exact. */
const PAGE_NUMBER_SPAN = 2 ** 32;
const MAX_STORES = 2 ** 21;
/** Buffers of evicted pages kept for the next reads. */
const MAX_SPARE_BUFFERS = 64;

export class PageCache {
  readonly capacityBytes: number;
  #sizeBytes = 0;
  #nextStoreId = 1;
  /** Key → slot. */
  readonly #index = new Map<number, number>();
  #keys: number[] = [];
  #data: (Uint8Array | null)[] = [];
  /** Per slot: 1 = referenced since the hand last passed, 2 = the buffer is the cache's own. */
  #flags = new Uint8Array(64);
  readonly #emptySlots: number[] = [];
  #hand = 0;
  #spare: Uint8Array[] = [];
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

  /** The image under `key`; valid until the cache is used again (copy it). */
  get(key: number): Uint8Array | undefined {
    const slot = this.#index.get(key);
    if (slot === undefined) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    this.#flags[slot] |= 1;
    return this.#data[slot]!;
  }

  /** A buffer to read a missing page into, then to `set` as the cache's own. */
  buffer(sizeBytes: number): Uint8Array {
    const spare = this.#spare.pop();
    return spare !== undefined && spare.length === sizeBytes ? spare : new Uint8Array(sizeBytes);
  }

  /**
   * Caches `data` under `key`, replacing what was there; may evict others. `own`: the buffer
   * came from `buffer` and nobody else holds it, so it can be reused once evicted; committed
   * images (which pending transactions may still read) are never reused.
   */
  set(key: number, data: Uint8Array, own = false): void {
    this.delete(key);
    if (data.length > this.capacityBytes) return;
    // Each turn evicts one entry: bounded by the number of entries.
    while (this.#sizeBytes + data.length > this.capacityBytes) this.#release(this.#victim());
    let slot = this.#emptySlots.pop();
    if (slot === undefined) {
      slot = this.#keys.length;
      this.#keys.push(key);
      this.#data.push(data);
      if (slot >= this.#flags.length) {
        const grown = new Uint8Array(this.#flags.length * 2);
        grown.set(this.#flags);
        this.#flags = grown;
      }
    } else {
      this.#keys[slot] = key;
      this.#data[slot] = data;
    }
    this.#flags[slot] = own ? 2 : 0;
    this.#index.set(key, slot);
    this.#sizeBytes += data.length;
  }

  /** Removes the entry under `key` and hands its buffer over (the caller may keep it). */
  take(key: number): Uint8Array | undefined {
    const slot = this.#index.get(key);
    if (slot === undefined) return undefined;
    const data = this.#data[slot]!;
    this.#flags[slot] &= ~2; // not the cache's to reuse any more
    this.#release(slot);
    return data;
  }

  delete(key: number): void {
    const slot = this.#index.get(key);
    if (slot !== undefined) this.#release(slot);
  }

  clear(): void {
    this.#index.clear();
    this.#keys = [];
    this.#data = [];
    this.#flags = new Uint8Array(64);
    this.#emptySlots.length = 0;
    this.#hand = 0;
    this.#spare = [];
    this.#sizeBytes = 0;
  }

  /** Bytes of page images held. */
  get sizeBytes(): number {
    return this.#sizeBytes;
  }

  get pageCount(): number {
    return this.#index.size;
  }

  /** Lookups that found / did not find their page (for tests and metrics). */
  get stats(): { hits: number; misses: number } {
    return { hits: this.#hits, misses: this.#misses };
  }

  /** The slot the hand evicts: the first one not referenced since its last pass. */
  #victim(): number {
    const count = this.#keys.length;
    if (this.#index.size === 0) invariant("cache size accounting is off");
    // Two turns at most: the first clears every reference bit.
    for (let step = 0; step < 2 * count + 1; step++) {
      const slot = this.#hand;
      this.#hand = (slot + 1) % count;
      if (this.#data[slot] === null) continue;
      if ((this.#flags[slot] & 1) === 0) return slot;
      this.#flags[slot] &= ~1;
    }
    return invariant("the clock found no page to evict");
  }

  #release(slot: number): void {
    const data = this.#data[slot]!;
    this.#index.delete(this.#keys[slot]);
    this.#data[slot] = null;
    this.#sizeBytes -= data.length;
    if ((this.#flags[slot] & 2) !== 0 && this.#spare.length < MAX_SPARE_BUFFERS) {
      this.#spare.push(data);
    }
    this.#flags[slot] = 0;
    this.#emptySlots.push(slot);
  }
}
