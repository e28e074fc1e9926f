// Page buffers a store recycles. Allocating a 4 KiB ArrayBuffer costs about a microsecond plus
// garbage collection, and every write transaction needs a few, so a store takes back the
// buffers of images it dropped. Only buffers it allocated itself and never handed out: once
// exposed, someone else may still read a buffer, and it is left to the garbage collector.

/** Dropped buffers kept for reuse, per store. */
const MAX_FREE_PAGES = 64;

export class PageBufferPool {
  /** Buffers this pool allocated (only those can be recycled)... */
  readonly #owned = new WeakSet<Uint8Array>();
  /** ...unless they were handed out. */
  readonly #exposed = new WeakSet<Uint8Array>();
  #free: Uint8Array[] = [];

  /** A buffer for a new image: a recycled one when there is one of that size. */
  allocate(pageSizeBytes: number): Uint8Array {
    const free = this.#free.pop();
    if (free !== undefined && free.length === pageSizeBytes) return free;
    const page = new Uint8Array(pageSizeBytes);
    this.#owned.add(page);
    return page;
  }

  /** A pool-allocated copy of `source`. */
  copy(source: Uint8Array): Uint8Array {
    const page = this.allocate(source.length);
    page.set(source);
    return page;
  }

  /** Marks a buffer as handed out: it will never be recycled. */
  expose(page: Uint8Array): void {
    this.#exposed.add(page);
  }

  /** Takes back a buffer nobody uses any more (ignored if foreign or exposed). */
  recycle(page: Uint8Array): void {
    if (this.#free.length < MAX_FREE_PAGES && this.#owned.has(page) && !this.#exposed.has(page)) {
      this.#free.push(page);
    }
  }

  /** Forgets the free buffers (the page size changed, or the store closed). */
  clear(): void {
    this.#free = [];
  }
}
