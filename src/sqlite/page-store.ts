// The pages of one database, versioned: every applied transaction makes a new version, and a
// reader pinned to an older version keeps seeing the page images of that version until it
// unpins. Page images are immutable once stored, so they can be shared (snapshots, frames
// commands) without copying. Old images are dropped as soon as no pin can reach them.
//
// Allocating a 4 KiB ArrayBuffer costs about a microsecond plus garbage collection, and every
// write transaction needs a few: that was most of a small write's cost. So the store recycles
// the buffers of images it dropped, but only buffers it allocated itself and never handed out:
// `page` and `latestPages` mark what they return as exposed, and exposed buffers are left to
// the garbage collector. Code of this folder that copies an image at once uses `peek`.
import { invariant } from "./invariant.js";
import { PageBufferPool } from "./page-buffer-pool.js";
import type { Pin, VersionedPages } from "./versioned-pages.js";

export type { Pin } from "./versioned-pages.js";

interface PageVersion {
  readonly version: number;
  /** null marks a page cut off by a truncation at this version. */
  readonly data: Uint8Array | null;
  older: PageVersion | null;
}

function pinOf(version: number, pageCount: number): Pin {
  return Object.freeze({ version, pageCount });
}

export class PageStore implements VersionedPages {
  #pageSizeBytes = 0;
  #version = 0;
  #pageCount = 0;
  /** Newest version of page n at index n - 1, each linked to the older ones still reachable. */
  #pages: (PageVersion | undefined)[] = [];
  /** What a new pin gets: one shared object per version, so pinning allocates nothing. */
  #latest: Pin = pinOf(0, 0);
  /** Pins of the latest version: a plain counter, as most pins are of it. */
  #latestPins = 0;
  /** Pinned older version → number of pins. */
  readonly #pins = new Map<number, number>();
  #pinTotal = 0;
  /** Indexes of pages that hold more than one version. */
  readonly #chained = new Set<number>();
  readonly #buffers = new PageBufferPool();

  /** 0 until the first page arrives. */
  get pageSizeBytes(): number {
    return this.#pageSizeBytes;
  }

  /** The latest applied version (0 = nothing applied yet). */
  get version(): number {
    return this.#version;
  }

  /** Database size in pages at the latest version. */
  get pageCount(): number {
    return this.#pageCount;
  }

  /** Number of page versions kept only for pinned readers (for tests and metrics). */
  get olderVersionCount(): number {
    let n = 0;
    for (const index of this.#chained) {
      for (let e = this.#pages[index]?.older; e; e = e.older) n++;
    }
    return n;
  }

  /** Pins the latest version; release it with `unpin` (once per pin). */
  pin(): Pin {
    this.#latestPins++;
    this.#pinTotal++;
    return this.#latest;
  }

  unpin(pin: Pin): void {
    if (pin.version === this.#version) {
      if (this.#latestPins === 0) invariant("unpin without a pin");
      this.#latestPins--;
      this.#pinTotal--;
      return;
    }
    const count = this.#pins.get(pin.version);
    if (count === undefined) invariant("unpin without a pin");
    this.#pinTotal--;
    if (count > 1) {
      this.#pins.set(pin.version, count - 1);
      return;
    }
    this.#pins.delete(pin.version);
    if (pin.version < this.#minimumPinned()) this.#pruneAll();
  }

  /** The oldest pinned version (latest pins count as the current version). */
  #minimumPinned(): number {
    if (this.#pinTotal === 0) return Number.POSITIVE_INFINITY;
    let minimum = this.#latestPins > 0 ? this.#version : Number.POSITIVE_INFINITY;
    for (const version of this.#pins.keys()) if (version < minimum) minimum = version;
    return minimum;
  }

  /** Image of page `pageNumber` as of `version` (latest by default); undefined if it had none. */
  page(pageNumber: number, version = this.#version): Uint8Array | undefined {
    const data = this.peek(pageNumber, version);
    if (data !== undefined) this.#buffers.expose(data);
    return data;
  }

  /**
   * As `page`, for callers that copy the image before anything else happens to the store (the
   * image may be recycled once a later commit replaces it).
   */
  peek(pageNumber: number, version = this.#version): Uint8Array | undefined {
    let entry: PageVersion | null | undefined = this.#pages[pageNumber - 1];
    while (entry !== undefined && entry !== null && entry.version > version) entry = entry.older;
    return entry?.data ?? undefined;
  }

  /** References to the images of pages 1..pageCount at the latest version (zero-copy). */
  latestPages(): Uint8Array[] {
    const pages = this.peekLatestPages();
    for (const page of pages) this.#buffers.expose(page);
    return pages;
  }

  /** As `latestPages`, for callers that copy the images at once (see `peek`). */
  peekLatestPages(): Uint8Array[] {
    const pages = new Array<Uint8Array>(this.#pageCount);
    for (let i = 0; i < this.#pageCount; i++) {
      const data = this.#pages[i]?.data;
      if (!data) invariant(`page ${i + 1} missing below the database size ${this.#pageCount}`);
      pages[i] = data;
    }
    return pages;
  }

  async readPages(pin: Pin, firstPage: number, count: number): Promise<Uint8Array> {
    const size = this.#pageSizeBytes;
    const out = new Uint8Array(count * size);
    for (let i = 0; i < count; i++) {
      const data = this.peek(firstPage + i, pin.version);
      if (data === undefined) invariant(`page ${firstPage + i} missing at ${pin.version}`);
      out.set(data, i * size);
    }
    return out;
  }

  /** Nothing to give up: the images are garbage collected. */
  retire(): void {}

  /** A page buffer for a new image (recycled when possible); give it to `commit` or `recycle`. */
  allocate(pageSizeBytes: number): Uint8Array {
    return this.#buffers.allocate(pageSizeBytes);
  }

  /** A store-allocated copy of `source`. */
  copy(source: Uint8Array): Uint8Array {
    return this.#buffers.copy(source);
  }

  /** Marks images as handed out: they will never be recycled. */
  expose(pages: readonly Uint8Array[]): void {
    for (const page of pages) this.#buffers.expose(page);
  }

  /** Takes back a buffer nobody uses any more (ignored if foreign or exposed). */
  recycle(page: Uint8Array): void {
    this.#buffers.recycle(page);
  }

  #recycleChain(entry: PageVersion | null): void {
    for (let e = entry; e !== null; e = e.older) if (e.data !== null) this.recycle(e.data);
  }

  /**
   * Makes a new version: the given pages replace theirs (a later duplicate wins), pages beyond
   * `pageCount` are cut off. The arrays are kept, not copied: callers must not change them.
   */
  commit(
    pageSizeBytes: number,
    pageCount: number,
    pageNumbers: ArrayLike<number>,
    pages: readonly Uint8Array[],
  ): number {
    if (pageNumbers.length !== pages.length) invariant("one page image per page number");
    this.#setPageSize(pageSizeBytes);
    const version = this.#version + 1;
    // Without pins nobody can read an older image: replace in place, keep no history.
    const keepOlder = this.#pinTotal > 0;
    for (let i = 0; i < pages.length; i++) {
      const pageNumber = pageNumbers[i];
      if (!(pageNumber >= 1 && pageNumber <= pageCount)) {
        invariant(`page ${pageNumber} beyond size ${pageCount}`);
      }
      if (pages[i].length !== pageSizeBytes) invariant("page image of the wrong size");
      this.#put(pageNumber - 1, version, pages[i], keepOlder);
    }
    for (let index = pageCount; index < this.#pages.length; index++) {
      if (this.#pages[index]?.data) this.#put(index, version, null, keepOlder);
    }
    for (let index = this.#pageCount; index < pageCount; index++) {
      if (!this.#pages[index]?.data)
        invariant(`page ${index + 1} missing: the database grew past it`);
    }
    if (this.#latestPins > 0) {
      // The pins of the version that was latest now hold an older one.
      this.#pins.set(this.#version, (this.#pins.get(this.#version) ?? 0) + this.#latestPins);
      this.#latestPins = 0;
    }
    this.#version = version;
    this.#pageCount = pageCount;
    this.#latest = pinOf(version, pageCount);
    if (keepOlder) this.#pruneAll();
    else this.#trimTail();
    return version;
  }

  #setPageSize(pageSizeBytes: number): void {
    if (this.#pageSizeBytes === pageSizeBytes) return;
    if (this.#pageCount !== 0 && this.#pinTotal !== 0) {
      invariant("page size changes while readers are pinned");
    }
    if (this.#pageSizeBytes !== 0) {
      // A different page size can only arrive with a whole new image (a restore).
      this.#pages = [];
      this.#chained.clear();
      this.#buffers.clear();
    }
    this.#pageSizeBytes = pageSizeBytes;
  }

  #put(index: number, version: number, data: Uint8Array | null, keepOlder: boolean): void {
    let previous = this.#pages[index] ?? null;
    if (previous !== null && previous.version === version) {
      // Written twice in this commit: the earlier image was never visible.
      if (previous.data !== null && previous.data !== data) this.recycle(previous.data);
      previous = previous.older;
    }
    if (!keepOlder) {
      // Nobody can read an older image: replace it, keep no history.
      if (previous !== null && previous.data !== data) this.#recycleChain(previous);
      previous = null;
    } else if (previous !== null && previous.data === null && previous.older === null) {
      previous = null;
    }
    this.#pages[index] = { version, data, older: previous };
    if (previous !== null) this.#chained.add(index);
  }

  /** Drops every page version no pin can reach, and trailing cut-off pages. */
  #pruneAll(): void {
    if (this.#chained.size === 0) {
      this.#trimTail();
      return;
    }
    const minimum = this.#minimumPinned();
    for (const index of this.#chained) {
      const head = this.#pages[index];
      if (head === undefined) {
        this.#chained.delete(index);
        continue;
      }
      // Keep versions newer than the oldest pin, plus the one that oldest pin reads.
      let entry: PageVersion = head;
      while (entry.older !== null && entry.version > minimum) entry = entry.older;
      this.#recycleChain(entry.older);
      entry.older = null;
      if (head.older === null) this.#chained.delete(index);
    }
    this.#trimTail();
  }

  /** Forgets cut-off pages beyond the database size that no pin can reach. */
  #trimTail(): void {
    let length = this.#pages.length;
    while (length > this.#pageCount) {
      const last = this.#pages[length - 1];
      if (last !== undefined && (last.data !== null || last.older !== null)) break;
      length--;
    }
    if (length < this.#pages.length) {
      for (let index = length; index < this.#pages.length; index++) this.#chained.delete(index);
      this.#pages.length = length;
    }
  }
}
