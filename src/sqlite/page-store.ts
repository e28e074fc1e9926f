// The pages of one database, versioned: every applied transaction makes a new version, and a
// reader pinned to an older version keeps seeing the page images of that version until it
// unpins. Page images are immutable once stored, so they can be shared (snapshots, frames
// commands) without copying. Old images are dropped as soon as no pin can reach them.
import assert from "node:assert/strict";

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

class PinHandle implements Pin {
  released = false;
  constructor(
    readonly version: number,
    readonly pageCount: number,
  ) {}
}

export class PageStore {
  #pageSizeBytes = 0;
  #version = 0;
  #pageCount = 0;
  /** Newest version of page n at index n - 1, each linked to the older ones still reachable. */
  #pages: (PageVersion | undefined)[] = [];
  /** Pinned version → number of pins. */
  readonly #pins = new Map<number, number>();
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

  /** Pins the latest version; release it with `unpin`. */
  pin(): Pin {
    const pin = new PinHandle(this.#version, this.#pageCount);
    this.#pins.set(pin.version, (this.#pins.get(pin.version) ?? 0) + 1);
    return pin;
  }

  unpin(pin: Pin): void {
    assert.ok(pin instanceof PinHandle && !pin.released, "pin released twice or foreign");
    pin.released = true;
    const count = this.#pins.get(pin.version);
    assert.ok(count !== undefined && count > 0);
    if (count > 1) {
      this.#pins.set(pin.version, count - 1);
      return;
    }
    this.#pins.delete(pin.version);
    if (pin.version < this.#minimumPinned()) this.#pruneAll();
  }

  #minimumPinned(): number {
    let minimum = Number.POSITIVE_INFINITY;
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
      assert.ok(data, `page ${i + 1} missing below the database size ${this.#pageCount}`);
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
    assert.equal(pageNumbers.length, pages.length);
    this.#setPageSize(pageSizeBytes);
    const version = this.#version + 1;
    // Without pins nobody can read an older image: replace in place, keep no history.
    const keepOlder = this.#pins.size > 0;
    for (let i = 0; i < pages.length; i++) {
      const pageNumber = pageNumbers[i];
      assert.ok(
        pageNumber >= 1 && pageNumber <= pageCount,
        `page ${pageNumber} beyond size ${pageCount}`,
      );
      assert.equal(pages[i].length, pageSizeBytes, "page image of the wrong size");
      this.#put(pageNumber - 1, version, pages[i], keepOlder);
    }
    for (let index = pageCount; index < this.#pages.length; index++) {
      if (this.#pages[index]?.data) this.#put(index, version, null, keepOlder);
    }
    for (let index = this.#pageCount; index < pageCount; index++) {
      assert.ok(this.#pages[index]?.data, `page ${index + 1} missing: the database grew past it`);
    }
    this.#version = version;
    this.#pageCount = pageCount;
    if (keepOlder) this.#pruneAll();
    else this.#trimTail();
    return version;
  }

  #setPageSize(pageSizeBytes: number): void {
    if (this.#pageSizeBytes === pageSizeBytes) return;
    assert.ok(
      this.#pageCount === 0 || this.#pins.size === 0,
      "page size changes while readers are pinned",
    );
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
