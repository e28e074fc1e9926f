// Disk mode's page store: the pages of the latest applied version live in a database file,
// the hot ones also in a shared, bounded cache (page-cache.ts); what pinned readers still need
// of older versions lives in memory, only as long as they need it. Pending transactions never
// reach this store: they stay in memory until raft commits them, as in memory mode.
//
// The file is a cache of the raft state, never synced: the node rebuilds it from the snapshot
// and the log at every start (its directory is wiped first), as dqlite 1.13-1.18's disk mode
// did. So a write is a plain pwrite into the OS page cache.
//
// Older versions: when a commit overwrites a page while some reader is pinned, the image it
// replaces is kept in that page's history first, with the version it became current at; a
// reader pinned at version v reads the newest history entry at or before v, or the file when
// the file's image is from v or before. Histories are dropped once no pin can reach them.
// Cutting pages off (a shrinking database) waits until no reader is pinned: pinned readers
// may still read them from the file.
import {
  closeSync,
  ftruncateSync,
  openSync,
  read,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { invariant } from "./invariant.js";
import { PageBufferPool } from "./page-buffer-pool.js";
import { PageCache } from "./page-cache.js";
import type { Pin, VersionedPages } from "./versioned-pages.js";

interface OlderImage {
  /** The version this image became current at (0: before any reader now pinned). */
  readonly version: number;
  readonly data: Uint8Array;
  older: OlderImage | null;
}

interface History {
  /** The version the file's image of the page is from. */
  current: number;
  older: OlderImage | null;
}

function pinOf(version: number, pageCount: number): Pin {
  return Object.freeze({ version, pageCount });
}

export class FilePageStore implements VersionedPages {
  #path: string;
  readonly #cache: PageCache;
  readonly #storeId: number;
  #fd: number | null;
  #pageSizeBytes: number;
  #version: number;
  #pageCount: number;
  /** Pages the file holds (at least pageCount; more while a cut waits for readers). */
  #filePages: number;
  #latest: Pin;
  #latestPins = 0;
  readonly #pins = new Map<number, number>();
  #pinTotal = 0;
  readonly #history = new Map<number, History>();
  readonly #buffers = new PageBufferPool();
  #retired = false;

  /**
   * A store over the file at `path`: a new empty one, or (from a restore) one already holding
   * `pageCount` pages of `pageSizeBytes` and open as `fd`, starting at `version`.
   */
  constructor(
    path: string,
    cache: PageCache,
    existing?: { fd: number; pageSizeBytes: number; pageCount: number; version: number },
  ) {
    this.#path = path;
    this.#cache = cache;
    this.#storeId = cache.newStoreId();
    if (existing === undefined) {
      this.#fd = openSync(path, "w+");
      this.#pageSizeBytes = 0;
      this.#pageCount = 0;
      this.#version = 0;
    } else {
      this.#fd = existing.fd;
      this.#pageSizeBytes = existing.pageSizeBytes;
      this.#pageCount = existing.pageCount;
      this.#version = existing.version;
    }
    this.#filePages = this.#pageCount;
    this.#latest = pinOf(this.#version, this.#pageCount);
  }

  /** The database file. */
  get path(): string {
    return this.#path;
  }

  get pageSizeBytes(): number {
    return this.#pageSizeBytes;
  }

  get version(): number {
    return this.#version;
  }

  get pageCount(): number {
    return this.#pageCount;
  }

  get olderVersionCount(): number {
    let n = 0;
    for (const history of this.#history.values()) {
      for (let e = history.older; e !== null; e = e.older) n++;
    }
    return n;
  }

  /** Bytes of older page images kept for pinned readers. */
  get olderVersionBytes(): number {
    return this.olderVersionCount * this.#pageSizeBytes;
  }

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
    } else {
      const count = this.#pins.get(pin.version);
      if (count === undefined) invariant("unpin without a pin");
      this.#pinTotal--;
      if (count > 1) this.#pins.set(pin.version, count - 1);
      else {
        this.#pins.delete(pin.version);
        if (pin.version < this.#minimumPinned()) this.#prune();
      }
    }
    if (this.#pinTotal === 0) {
      if (this.#retired) this.#close();
      else this.#cutFile();
    }
  }

  #minimumPinned(): number {
    if (this.#pinTotal === 0) return Number.POSITIVE_INFINITY;
    let minimum = this.#latestPins > 0 ? this.#version : Number.POSITIVE_INFINITY;
    for (const version of this.#pins.keys()) if (version < minimum) minimum = version;
    return minimum;
  }

  /** A copy here: the cache reuses the buffers of what it evicts. */
  page(pageNumber: number, version = this.#version): Uint8Array | undefined {
    return this.peek(pageNumber, version)?.slice();
  }

  peek(pageNumber: number, version = this.#version): Uint8Array | undefined {
    if (version !== this.#version) {
      const history = this.#history.get(pageNumber);
      if (history !== undefined && history.current > version) {
        let entry = history.older;
        while (entry !== null && entry.version > version) entry = entry.older;
        return entry?.data;
      }
    } else if (pageNumber > this.#pageCount) {
      return undefined;
    }
    return this.#current(pageNumber);
  }

  /** The file's image of a page, through the cache (valid until the cache is used again). */
  #current(pageNumber: number): Uint8Array | undefined {
    if (pageNumber < 1 || pageNumber > this.#filePages) return undefined;
    const cache = this.#cache;
    const key = PageCache.key(this.#storeId, pageNumber);
    const cached = cache.get(key);
    if (cached !== undefined) return cached;
    const data = this.#readFile(pageNumber, cache.buffer(this.#pageSizeBytes));
    cache.set(key, data, true);
    return data;
  }

  #readFile(
    pageNumber: number,
    data: Uint8Array = new Uint8Array(this.#pageSizeBytes),
  ): Uint8Array {
    const size = this.#pageSizeBytes;
    const position = (pageNumber - 1) * size;
    let filled = 0;
    // A short read can only be the end of the file, which #filePages rules out: bounded.
    for (let attempt = 0; filled < size; attempt++) {
      const n = readSync(this.#openFd(), data, filled, size - filled, position + filled);
      if (n === 0 || attempt > 100) invariant(`page ${pageNumber} missing from ${this.path}`);
      filled += n;
    }
    return data;
  }

  /** Copies of every page: the whole database in memory (tests, dumps, small databases). */
  latestPages(): Uint8Array[] {
    const pages = new Array<Uint8Array>(this.#pageCount);
    for (let i = 0; i < this.#pageCount; i++) {
      const data = this.#cache.get(PageCache.key(this.#storeId, i + 1));
      pages[i] = data === undefined ? this.#readFile(i + 1) : data.slice();
    }
    return pages;
  }

  peekLatestPages(): Uint8Array[] {
    return this.latestPages();
  }

  async readPages(pin: Pin, firstPage: number, count: number): Promise<Uint8Array> {
    if (!(firstPage >= 1 && count >= 0 && firstPage + count - 1 <= pin.pageCount)) {
      invariant(`pages ${firstPage}+${count} beyond the pinned size ${pin.pageCount}`);
    }
    const size = this.#pageSizeBytes;
    const out = new Uint8Array(count * size);
    const fd = this.#openFd();
    let filled = 0;
    while (filled < out.length) {
      const n = await new Promise<number>((resolve, reject) =>
        read(
          fd,
          out,
          filled,
          out.length - filled,
          (firstPage - 1) * size + filled,
          (error, bytes) => (error ? reject(error) : resolve(bytes)),
        ),
      );
      // The file may be shorter than the pinned size only if pages were cut while pinned,
      // which never happens: a zero read is a bug.
      if (n === 0) invariant(`${this.path} ends before page ${firstPage + count - 1}`);
      filled += n;
    }
    // Pages overwritten since the pin (also those overwritten while the read ran, whose old
    // image was saved before the write) come from their history.
    if (this.#history.size > 0) {
      for (let i = 0; i < count; i++) {
        const history = this.#history.get(firstPage + i);
        if (history === undefined || history.current <= pin.version) continue;
        let entry = history.older;
        while (entry !== null && entry.version > pin.version) entry = entry.older;
        if (entry === null) invariant(`page ${firstPage + i} has no image at ${pin.version}`);
        out.set(entry.data, i * size);
      }
    }
    return out;
  }

  allocate(pageSizeBytes: number): Uint8Array {
    return this.#buffers.allocate(pageSizeBytes);
  }

  copy(source: Uint8Array): Uint8Array {
    return this.#buffers.copy(source);
  }

  expose(pages: readonly Uint8Array[]): void {
    for (const page of pages) this.#buffers.expose(page);
  }

  /** Only buffers that never became a page image come back here (an overlay rolled back). */
  recycle(page: Uint8Array): void {
    this.#buffers.recycle(page);
  }

  commit(
    pageSizeBytes: number,
    pageCount: number,
    pageNumbers: ArrayLike<number>,
    pages: readonly Uint8Array[],
  ): number {
    if (pageNumbers.length !== pages.length) invariant("one page image per page number");
    if (this.#retired) invariant("commit on a replaced store");
    if (this.#pageSizeBytes !== pageSizeBytes) {
      if (this.#filePages !== 0) invariant("the page size of a disk-mode database changed");
      this.#pageSizeBytes = pageSizeBytes;
    }
    const version = this.#version + 1;
    const keepOlder = this.#pinTotal > 0;
    const fd = this.#openFd();
    for (let i = 0; i < pages.length; i++) {
      const pageNumber = pageNumbers[i];
      if (!(pageNumber >= 1 && pageNumber <= pageCount)) {
        invariant(`page ${pageNumber} beyond size ${pageCount}`);
      }
      const data = pages[i];
      if (data.length !== pageSizeBytes) invariant("page image of the wrong size");
      if (keepOlder && pageNumber <= this.#filePages) this.#keepOlder(pageNumber, version);
      writeAllSync(fd, data, (pageNumber - 1) * pageSizeBytes);
      if (pageNumber > this.#filePages) this.#filePages = pageNumber;
      this.#cache.set(PageCache.key(this.#storeId, pageNumber), data);
    }
    if (pageCount > this.#pageCount) {
      // A database grows only by pages its transaction wrote (the file may still hold stale
      // ones from before a cut).
      const grown = new Set<number>();
      for (let i = 0; i < pageNumbers.length; i++) {
        if (pageNumbers[i] > this.#pageCount) grown.add(pageNumbers[i]);
      }
      if (grown.size !== pageCount - this.#pageCount) {
        invariant(`pages missing: the database grew from ${this.#pageCount} to ${pageCount}`);
      }
    }
    if (this.#latestPins > 0) {
      this.#pins.set(this.#version, (this.#pins.get(this.#version) ?? 0) + this.#latestPins);
      this.#latestPins = 0;
    }
    this.#version = version;
    this.#pageCount = pageCount;
    this.#latest = pinOf(version, pageCount);
    if (keepOlder) this.#prune();
    else this.#cutFile();
    return version;
  }

  /** Saves the image page `pageNumber` has before `version` overwrites it, for pinned readers. */
  #keepOlder(pageNumber: number, version: number): void {
    let history = this.#history.get(pageNumber);
    if (history === undefined) {
      history = { current: 0, older: null };
      this.#history.set(pageNumber, history);
    } else if (history.current === version) {
      return; // written twice in this commit: the earlier image was never visible
    }
    // The cached image leaves the cache with its buffer (a new image replaces it right after).
    const data =
      this.#cache.take(PageCache.key(this.#storeId, pageNumber)) ?? this.#readFile(pageNumber);
    history.older = { version: history.current, data, older: history.older };
    history.current = version;
  }

  /** Drops every older image no pin can reach. */
  #prune(): void {
    if (this.#history.size === 0) return;
    const minimum = this.#minimumPinned();
    for (const [pageNumber, history] of this.#history) {
      if (history.current <= minimum) {
        this.#history.delete(pageNumber);
        continue;
      }
      // Keep images newer than the oldest pin, plus the one that oldest pin reads.
      let entry = history.older;
      while (entry !== null && entry.version > minimum) entry = entry.older;
      if (entry !== null) entry.older = null;
    }
  }

  /** Cuts pages beyond the database size off the file once no reader may need them. */
  #cutFile(): void {
    if (this.#filePages <= this.#pageCount || this.#pinTotal > 0 || this.#fd === null) return;
    for (let n = this.#pageCount + 1; n <= this.#filePages; n++) {
      this.#cache.delete(PageCache.key(this.#storeId, n));
    }
    ftruncateSync(this.#fd, this.#pageCount * this.#pageSizeBytes);
    this.#filePages = this.#pageCount;
  }

  /** Moves the file to `path` (a restored file taking its final name). */
  rename(path: string): void {
    renameSync(this.#path, path);
    this.#path = path;
  }

  retire(): void {
    this.#retired = true;
    if (this.#pinTotal === 0) this.#close();
  }

  /** Closes the file now and deletes it (a store that will never be used). */
  discard(): void {
    this.#retired = true;
    this.#close();
    rmSync(this.path, { force: true });
  }

  #close(): void {
    if (this.#fd === null) return;
    closeSync(this.#fd);
    this.#fd = null;
    this.#history.clear();
    this.#buffers.clear();
  }

  #openFd(): number {
    if (this.#fd === null) invariant(`${this.path} is closed`);
    return this.#fd;
  }
}

/** pwrite until done (short writes only on a full disk, which then throws). */
export function writeAllSync(fd: number, data: Uint8Array, position: number): void {
  let done = 0;
  for (let attempt = 0; done < data.length; attempt++) {
    if (attempt > 1000) throw new Error("write made no progress");
    done += writeSync(fd, data, done, data.length - done, position + done);
  }
}
