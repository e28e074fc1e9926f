// A connection's main database file on the replicating VFS: reads at its pinned version,
// writes into a private overlay, locks as many readers plus one writer, and the commit point
// that turns the overlay into the database's pending transaction. Pure TypeScript over byte
// arrays; the VFS glue copies between these arrays and wasm memory.

import {
  CHANGE_COUNTER_OFFSET,
  FILE_VERSION_BYTES,
  READ_VERSION_OFFSET,
  toSqliteFormat,
  toStoredFormat,
} from "./page-one.js";
import {
  type FileHandle,
  PendingTransaction,
  type ReplicatedDatabase,
  type View,
} from "./replicated-database.js";
import {
  SQLITE_BUSY,
  SQLITE_ERROR,
  SQLITE_IOERR_SHORT_READ,
  SQLITE_IOERR_TRUNCATE,
  SQLITE_IOERR_WRITE,
  SQLITE_NOTFOUND,
  SQLITE_OK,
} from "./result-codes.js";
import type { Pin, VersionedPages } from "./versioned-pages.js";

const LOCK_NONE = 0;
const LOCK_SHARED = 1;
const LOCK_RESERVED = 2;

/** The page size every new database gets, as in dqlite. */
export const PAGE_SIZE_BYTES = 4096;

interface Overlay {
  /** The store version this transaction applies on: the pin plus the chain under it. */
  readonly baseVersion: number;
  pageSizeBytes: number;
  pageCount: number;
  readonly pages: Map<number, Uint8Array>;
}

/** Outcome of a PRAGMA offered to the file: let SQLite handle it, answer it, or refuse it. */
export type PragmaOutcome =
  | { readonly rc: typeof SQLITE_NOTFOUND }
  | { readonly rc: typeof SQLITE_OK; readonly result: string | null }
  | { readonly rc: typeof SQLITE_ERROR; readonly message: string };

const NO_VIEW: View = { chain: [], serial: -1, atHead: false };

export class DatabaseFile implements FileHandle {
  readonly database: ReplicatedDatabase;
  stale = false;
  owner: { invalidateSchema(): void } | null = null;
  /**
   * Set by the connection's user before a statement that writes: its next shared lock then sees
   * the transactions still waiting for raft, so it can write on top of them (pipelining).
   */
  writeIntent = false;
  /** The transaction this file committed last and nobody took yet (see Vfs.takeCommitted). */
  committed: PendingTransaction | null = null;
  /**
   * The newest transaction still waiting for raft that this file's current (or last) read
   * transaction saw, through write intent; null if it saw none (see Vfs.takeReadPending).
   */
  readPending: PendingTransaction | null = null;
  #lock = LOCK_NONE;
  #pin: Pin | null = null;
  /** The store the pin is on: a restore may replace the database's store under a reader. */
  #pinned: VersionedPages | null = null;
  #view: View = NO_VIEW;
  #overlay: Overlay | null = null;

  constructor(database: ReplicatedDatabase) {
    this.database = database;
    database.attach(this);
  }

  #pageSize(): number {
    return this.#overlay?.pageSizeBytes || (this.#pinned ?? this.database.store).pageSizeBytes;
  }

  #pageCount(): number {
    if (this.#overlay !== null) return this.#overlay.pageCount;
    const chain = this.#view.chain;
    if (chain.length > 0) return chain[chain.length - 1].pageCount;
    return this.#pin?.pageCount ?? this.database.store.pageCount;
  }

  #page(pageNumber: number): Uint8Array | undefined {
    const fromOverlay = this.#overlay?.pages.get(pageNumber);
    if (fromOverlay !== undefined) return fromOverlay;
    const chain = this.#view.chain;
    for (let i = chain.length - 1; i >= 0; i--) {
      const page = chain[i].page(pageNumber);
      if (page !== undefined) return page;
    }
    const pinned = this.#pinned;
    if (pinned !== null) return pinned.peek(pageNumber, this.#pin!.version);
    return this.database.store.peek(pageNumber);
  }

  /** Size of the file as this connection sees it. */
  sizeBytes(): number {
    return this.#pageCount() * this.#pageSize();
  }

  /** Fills `dest` with the file bytes at `offset` (see `readInto`). */
  read(dest: Uint8Array, offset: number): number {
    return this.readInto(dest, 0, dest.length, offset);
  }

  /**
   * Copies `amount` file bytes at `offset` into `heap` at `at`. Reads may span pages or cover
   * part of one (a connection that assumed another page size reads across two stored pages:
   * pitfall 5); beyond the end the rest is zeros and the result SQLITE_IOERR_SHORT_READ.
   */
  readInto(heap: Uint8Array, at: number, amount: number, offset: number): number {
    const pageSize = this.#pageSize();
    const pageCount = this.#pageCount();
    if (pageSize === 0) {
      heap.fill(0, at, at + amount);
      return SQLITE_IOERR_SHORT_READ;
    }
    let rc = SQLITE_OK;
    if (amount === pageSize && offset % pageSize === 0) {
      const pageNumber = offset / pageSize + 1;
      const page = pageNumber <= pageCount ? this.#page(pageNumber) : undefined;
      if (page === undefined) {
        this.#checkMissing(pageNumber, pageCount);
        heap.fill(0, at, at + amount);
        return SQLITE_IOERR_SHORT_READ;
      }
      heap.set(page, at);
    } else {
      let done = 0;
      while (done < amount) {
        const position = offset + done;
        const pageNumber = Math.floor(position / pageSize) + 1;
        const within = position % pageSize;
        const n = Math.min(pageSize - within, amount - done);
        const page = pageNumber <= pageCount ? this.#page(pageNumber) : undefined;
        if (page === undefined) {
          this.#checkMissing(pageNumber, pageCount);
          heap.fill(0, at + done, at + amount);
          rc = SQLITE_IOERR_SHORT_READ;
          break;
        }
        if (n <= 64) {
          // Header reads (16 bytes at 24, 100 at 0): a loop beats creating a subarray.
          for (let i = 0; i < n; i++) heap[at + done + i] = page[within + i];
        } else heap.set(page.subarray(within, within + n), at + done);
        done += n;
      }
    }
    if (offset <= READ_VERSION_OFFSET) toSqliteFormat(heap, at, amount, offset);
    if (this.stale && offset === CHANGE_COUNTER_OFFSET && amount === FILE_VERSION_BYTES) {
      // The pager checks these 16 bytes when it takes a shared lock and drops its cache if
      // they changed. Pages applied from a WAL-mode leader keep the change counter, and an
      // aborted transaction's counter can come back with other content (pitfall 1): make the
      // check fail once so the cache is rebuilt from the store.
      this.stale = false;
      heap[at] ^= 0xff;
    }
    return rc;
  }

  #checkMissing(pageNumber: number, pageCount: number): void {
    if (pageNumber <= pageCount) {
      throw new Error(
        `page ${pageNumber} of ${this.database.name} missing below size ${pageCount}`,
      );
    }
  }

  /** Writes `src` at `offset` (see `writeFrom`). */
  write(src: Uint8Array, offset: number): number {
    return this.writeFrom(src, 0, src.length, offset);
  }

  /** Writes whole pages from `heap` at `at` into the writer's overlay. */
  writeFrom(heap: Uint8Array, at: number, amount: number, offset: number): number {
    const overlay = this.#overlay;
    if (overlay === null) return SQLITE_IOERR_WRITE;
    if (overlay.pageSizeBytes === 0) overlay.pageSizeBytes = amount;
    const pageSize = overlay.pageSizeBytes;
    if (amount !== pageSize || offset % pageSize !== 0) return SQLITE_IOERR_WRITE;
    const pageNumber = offset / pageSize + 1;
    let page = overlay.pages.get(pageNumber);
    if (page === undefined) {
      page = this.database.store.allocate(amount);
      overlay.pages.set(pageNumber, page);
    }
    page.set(heap.subarray(at, at + amount));
    if (pageNumber === 1) toStoredFormat(page);
    if (pageNumber > overlay.pageCount) overlay.pageCount = pageNumber;
    return SQLITE_OK;
  }

  truncate(sizeBytes: number): number {
    const overlay = this.#overlay;
    if (overlay === null) return SQLITE_IOERR_TRUNCATE;
    const pageSize = overlay.pageSizeBytes || PAGE_SIZE_BYTES;
    if (sizeBytes % pageSize !== 0) return SQLITE_IOERR_TRUNCATE;
    const pageCount = sizeBytes / pageSize;
    for (const [pageNumber, page] of overlay.pages) {
      if (pageNumber > pageCount) {
        overlay.pages.delete(pageNumber);
        this.database.store.recycle(page);
      }
    }
    overlay.pageCount = pageCount;
    return SQLITE_OK;
  }

  lock(level: number): number {
    if (level <= this.#lock) return SQLITE_OK;
    if (this.#lock === LOCK_NONE) {
      const store = this.database.store;
      this.#pinned = store;
      this.#pin = store.pin();
      this.#view = this.database.view(this.writeIntent);
      this.readPending = this.#view.chain.at(-1) ?? null;
      this.#lock = LOCK_SHARED;
    }
    if (level === LOCK_SHARED) return SQLITE_OK;
    if (this.#lock === LOCK_SHARED) {
      const pin = this.#pin!;
      if (!this.database.canWrite(this, this.#view)) return SQLITE_BUSY;
      this.database.beginWrite(this);
      this.#overlay = {
        baseVersion: pin.version + this.#view.chain.length,
        pageSizeBytes: this.database.store.pageSizeBytes,
        pageCount: this.#pageCount(),
        pages: new Map(),
      };
    }
    // PENDING and EXCLUSIVE need nothing more: readers keep their versions (WAL-like).
    this.#lock = level;
    return SQLITE_OK;
  }

  unlock(level: number): number {
    if (level >= this.#lock) return SQLITE_OK;
    if (this.#lock >= LOCK_RESERVED && level < LOCK_RESERVED) {
      // An overlay still here at unlock was never committed: the transaction rolled back.
      if (this.#overlay !== null) this.#drop(this.#overlay);
      this.#overlay = null;
      this.database.endWrite(this);
    }
    if (level === LOCK_NONE && this.#pin !== null) {
      this.#pinned!.unpin(this.#pin);
      this.#pinned = null;
      this.#pin = null;
      this.#view = NO_VIEW;
    }
    this.#lock = level;
    return SQLITE_OK;
  }

  #drop(overlay: Overlay): void {
    for (const page of overlay.pages.values()) this.database.store.recycle(page);
    overlay.pages.clear();
  }

  /** Whether some connection holds the write lock or a transaction is pending. */
  checkReservedLock(): boolean {
    return this.database.hasWriter;
  }

  /**
   * The commit point (SQLITE_FCNTL_COMMIT_PHASETWO): the overlay joins the database's queue of
   * transactions waiting for raft, invisible to every reader, this connection's included, until
   * raft decides; later writers build on it.
   */
  commitPhaseTwo(): number {
    const overlay = this.#overlay;
    if (overlay === null) return SQLITE_OK;
    this.#overlay = null;
    const chain = this.#view.chain;
    const basePageCount = chain.at(-1)?.pageCount ?? this.#pin!.pageCount;
    if (overlay.pages.size === 0 && overlay.pageCount === basePageCount) return SQLITE_OK;
    const store = this.database.store;
    if (!this.database.isHead(this.#view)) {
      // A transaction from elsewhere was applied under this one (leadership changed while it
      // ran): it can never apply. The caller sees BUSY and our cache and schema are reset.
      this.#drop(overlay);
      this.stale = true;
      this.owner?.invalidateSchema();
      return SQLITE_BUSY;
    }
    const pageNumbers: number[] = [];
    for (const [pageNumber, page] of overlay.pages) {
      if (pageNumber <= overlay.pageCount) pageNumbers.push(pageNumber);
      else store.recycle(page);
    }
    pageNumbers.sort((a, b) => a - b);
    const pages = pageNumbers.map((n) => overlay.pages.get(n)!);
    const transaction = new PendingTransaction(
      this.database,
      overlay.pageSizeBytes,
      overlay.pageCount,
      pageNumbers,
      pages,
      overlay.baseVersion,
      this,
    );
    try {
      this.database.commitWrite(transaction);
    } catch (error) {
      if (this.database.isQueued(transaction)) this.database.abortPending(transaction);
      throw error;
    }
    this.committed = transaction;
    return SQLITE_OK;
  }

  /**
   * PRAGMAs SQLite offers the file first: the journal mode, locking mode and page size are
   * fixed here; `journal_mode=wal` is answered "wal" as real dqlite does (it runs in WAL mode).
   */
  pragma(name: string, value: string | null): PragmaOutcome {
    const lowerValue = value?.toLowerCase() ?? null;
    switch (name.toLowerCase()) {
      case "journal_mode":
        if (lowerValue === null || lowerValue === "memory") return { rc: SQLITE_NOTFOUND };
        if (lowerValue === "wal") return { rc: SQLITE_OK, result: "wal" };
        return { rc: SQLITE_ERROR, message: "journal mode can't be changed" };
      case "locking_mode":
        if (lowerValue === null || lowerValue === "normal") return { rc: SQLITE_NOTFOUND };
        return { rc: SQLITE_ERROR, message: "locking mode can't be changed" };
      case "page_size":
        if (lowerValue === null || Number(lowerValue) === PAGE_SIZE_BYTES)
          return { rc: SQLITE_NOTFOUND };
        return { rc: SQLITE_ERROR, message: `page size can't be changed from ${PAGE_SIZE_BYTES}` };
      default:
        return { rc: SQLITE_NOTFOUND };
    }
  }

  /** Releases locks left behind and leaves the database. */
  close(): void {
    this.unlock(LOCK_NONE);
    this.database.detach(this);
  }
}
