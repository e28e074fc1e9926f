// The pages of one database, versioned: every applied transaction makes a new version, and a
// reader pinned to an older version keeps seeing the page images of that version until it
// unpins. Page images are immutable once stored, so they can be shared (snapshots, frames
// commands) without copying. Old images are dropped as soon as no pin can reach them.
import { invariant } from "./invariant.js";

/** A reader's hold on one version: the pages it sees and the database size then. */
export interface Pin {
  readonly version: number;
  readonly pageCount: number;
}

interface PageVersion {
  readonly version: number;
  /** null marks a page cut off by a truncation at this version. */
  readonly data: Uint8Array | null;
  older: PageVersion | null;
}

function pinOf(version: number, pageCount: number): Pin {
  return Object.freeze({ version, pageCount });
}

export class PageStore {
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
    let entry: PageVersion | null | undefined = this.#pages[pageNumber - 1];
    while (entry !== undefined && entry !== null && entry.version > version) entry = entry.older;
    return entry?.data ?? undefined;
  }

  /** References to the images of pages 1..pageCount at the latest version (zero-copy). */
  latestPages(): Uint8Array[] {
    const pages = new Array<Uint8Array>(this.#pageCount);
    for (let i = 0; i < this.#pageCount; i++) {
      const data = this.#pages[i]?.data;
      if (!data) invariant(`page ${i + 1} missing below the database size ${this.#pageCount}`);
      pages[i] = data;
    }
    return pages;
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
    }
    this.#pageSizeBytes = pageSizeBytes;
  }

  #put(index: number, version: number, data: Uint8Array | null, keepOlder: boolean): void {
    let previous = keepOlder ? (this.#pages[index] ?? null) : null;
    if (previous !== null && previous.version === version) previous = previous.older;
    if (previous !== null && previous.data === null && previous.older === null) previous = null;
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
