// One replicated database: its versioned pages, the open files (connections) on it, the single
// writer, and the single pending transaction that waits for raft. See ENGINE.md.
import { invariant } from "./invariant.js";
import { headerPageCount } from "./page-one.js";
import { PageStore } from "./page-store.js";

/** What a database needs from a connection's main file to coordinate with it. */
export interface FileHandle {
  /** Set when the file's page cache may hold pages that are no longer the truth. */
  stale: boolean;
  /** The connection using the file, told to reload its schema after an abort or restore. */
  readonly owner: { invalidateSchema(): void } | null;
}

/** A transaction bad input from outside (a frames command, a snapshot) asks to apply. */
export class InvalidTransactionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "InvalidTransactionError";
  }
}

/** Where a pending transaction stands. */
export type PendingState = "pending" | "applied" | "aborted";

/**
 * A committed write transaction waiting for raft: invisible to every connection until
 * `applyPending`, dropped by `abortPending`. Page images are in stored form (page 1 with the
 * WAL-mode format bytes), ascending page numbers, all within `pageCount`.
 */
export class PendingTransaction {
  state: PendingState = "pending";
  /** Set once `Vfs.takeCommitted` handed it out. */
  taken = false;
  #pages: readonly Uint8Array[];

  constructor(
    readonly database: ReplicatedDatabase,
    readonly pageSizeBytes: number,
    readonly pageCount: number,
    readonly pageNumbers: readonly number[],
    pages: readonly Uint8Array[],
    /** The version the transaction was written on; it can only apply on top of that one. */
    readonly baseVersion: number,
    readonly origin: FileHandle,
  ) {
    this.#pages = pages;
  }

  /**
   * The page images, in the order of `pageNumbers`; empty once applied or aborted. Images read
   * here are never recycled by the store (prefer `withPages` to copy them).
   */
  get pages(): readonly Uint8Array[] {
    this.database.store.expose(this.#pages);
    return this.#pages;
  }

  /** Calls `use` with the page images, valid during the call only (e.g. to encode them). */
  withPages<T>(use: (pages: readonly Uint8Array[]) => T): T {
    return use(this.#pages);
  }

  /** The images leave the transaction (to the store, or back to be recycled). */
  takePages(): readonly Uint8Array[] {
    const pages = this.#pages;
    this.#pages = [];
    return pages;
  }
}

/**
 * Database size after a transaction, the rule every node applies: page 1's in-header size
 * when page 1 is in the transaction (0 is the delete-database marker of newer dqlite and means
 * 1), else the larger of the current size and the highest page written.
 */
export function transactionPageCount(
  currentPageCount: number,
  pageNumbers: ArrayLike<number>,
  pages: readonly Uint8Array[],
): number {
  let page1: Uint8Array | undefined;
  let highest = 0;
  for (let i = 0; i < pageNumbers.length; i++) {
    if (pageNumbers[i] === 1) page1 = pages[i];
    if (pageNumbers[i] > highest) highest = pageNumbers[i];
  }
  if (page1 !== undefined) return Math.max(headerPageCount(page1), 1);
  return Math.max(currentPageCount, highest);
}

export type CommitListener = (transaction: PendingTransaction) => void;

export class ReplicatedDatabase {
  readonly name: string;
  readonly #store = new PageStore();
  readonly #files = new Set<FileHandle>();
  #writer: FileHandle | null = null;
  #pending: PendingTransaction | null = null;
  readonly #onCommit: CommitListener;

  constructor(name: string, onCommit: CommitListener) {
    this.name = name;
    this.#onCommit = onCommit;
  }

  /** The versioned pages (read access for files, snapshots and dumps). */
  get store(): PageStore {
    return this.#store;
  }

  /** The transaction waiting for raft, if any. */
  get pending(): PendingTransaction | null {
    return this.#pending;
  }

  /** Makes the pending transaction visible: raft committed it. */
  applyPending(): void {
    const transaction = this.#pending;
    if (transaction === null) throw invariant(`no pending transaction on ${this.name}`);
    if (transaction.baseVersion !== this.#store.version)
      invariant("pending transaction lost its base");
    this.#store.commit(
      transaction.pageSizeBytes,
      transaction.pageCount,
      transaction.pageNumbers,
      transaction.takePages(),
    );
    transaction.state = "applied";
    this.#pending = null;
    // The writer's cache already holds these pages; every other cache is out of date.
    for (const file of this.#files) if (file !== transaction.origin) file.stale = true;
  }

  /** Drops the pending transaction: raft failed it. Every connection sees the state before it. */
  abortPending(): void {
    const transaction = this.#pending;
    if (transaction === null) throw invariant(`no pending transaction on ${this.name}`);
    transaction.state = "aborted";
    this.#pending = null;
    for (const page of transaction.takePages()) this.#store.recycle(page);
    // The writer's cache and schema hold the aborted pages and may match a later commit's
    // change counter and schema cookie byte for byte (ENGINE.md pitfalls 1-3).
    transaction.origin.stale = true;
    transaction.origin.owner?.invalidateSchema();
  }

  /**
   * Applies a transaction that did not start here (a frames command from raft). Page images are
   * copied (views into a raft entry are fine). The caller aborts any pending transaction first.
   */
  apply(pageSizeBytes: number, pageNumbers: ArrayLike<number>, pages: readonly Uint8Array[]): void {
    if (this.#pending !== null) invariant("apply over a pending transaction: abort it first");
    const current = this.#store;
    if (current.pageSizeBytes !== 0 && current.pageSizeBytes !== pageSizeBytes) {
      throw new InvalidTransactionError(
        `page size ${pageSizeBytes} differs from the database's ${current.pageSizeBytes}`,
      );
    }
    if (pageNumbers.length === 0) return;
    for (let i = 0; i < pages.length; i++) {
      if (pages[i].length !== pageSizeBytes)
        throw new InvalidTransactionError("truncated page image");
      if (!(pageNumbers[i] >= 1))
        throw new InvalidTransactionError(`bad page number ${pageNumbers[i]}`);
    }
    const pageCount = transactionPageCount(current.pageCount, pageNumbers, pages);
    const keptNumbers: number[] = [];
    const keptPages: Uint8Array[] = [];
    const grown = new Set<number>();
    for (let i = 0; i < pages.length; i++) {
      // Pages beyond the new size are cut off by it, as the commit frame's size does in a WAL.
      if (pageNumbers[i] > pageCount) continue;
      keptNumbers.push(pageNumbers[i]);
      keptPages.push(current.copy(pages[i]));
      if (pageNumbers[i] > current.pageCount) grown.add(pageNumbers[i]);
    }
    if (pageCount > current.pageCount && grown.size !== pageCount - current.pageCount) {
      throw new InvalidTransactionError(
        `database grows from ${current.pageCount} to ${pageCount} pages without all the new pages`,
      );
    }
    current.commit(pageSizeBytes, pageCount, keptNumbers, keptPages);
    // A writer in the middle of a transaction now works on an old version: its commit fails.
    for (const file of this.#files) file.stale = true;
  }

  /** Replaces the whole content (a snapshot restore; pages are copied); aborts what is pending. */
  replace(pageSizeBytes: number, pages: readonly Uint8Array[]): void {
    if (this.#pending !== null) this.abortPending();
    const numbers = pages.map((_, i) => i + 1);
    const size = pages.length === 0 ? this.#store.pageSizeBytes || pageSizeBytes : pageSizeBytes;
    this.#store.commit(
      size,
      pages.length,
      numbers,
      pages.map((page) => this.#store.copy(page)),
    );
    for (const file of this.#files) {
      file.stale = true;
      // A restored history can repeat a schema cookie with a different schema.
      file.owner?.invalidateSchema();
    }
  }

  /** The database file image at the latest applied version (a copy). */
  image(): Uint8Array {
    const pages = this.#store.peekLatestPages();
    const image = new Uint8Array(pages.length * this.#store.pageSizeBytes);
    for (let i = 0; i < pages.length; i++) image.set(pages[i], i * this.#store.pageSizeBytes);
    return image;
  }

  // The rest serves the VFS files of this folder.

  attach(file: FileHandle): void {
    this.#files.add(file);
  }

  detach(file: FileHandle): void {
    this.#files.delete(file);
    if (this.#writer === file) this.#writer = null;
  }

  /** True if `file` may become the writer now: nobody else writes and nothing is pending. */
  canWrite(file: FileHandle, pinnedVersion: number): boolean {
    return (
      (this.#writer === null || this.#writer === file) &&
      this.#pending === null &&
      pinnedVersion === this.#store.version
    );
  }

  beginWrite(file: FileHandle): void {
    if (this.#writer !== null && this.#writer !== file) invariant("a second writer");
    this.#writer = file;
  }

  endWrite(file: FileHandle): void {
    if (this.#writer === file) this.#writer = null;
  }

  get hasWriter(): boolean {
    return this.#writer !== null || this.#pending !== null;
  }

  /** Turns a committed overlay into the pending transaction and tells the listener. */
  commitWrite(transaction: PendingTransaction): void {
    if (this.#pending !== null) invariant("a second pending transaction");
    const followersCount = transaction.withPages((pages) =>
      transactionPageCount(this.#store.pageCount, transaction.pageNumbers, pages),
    );
    if (transaction.pageCount !== followersCount) {
      invariant(
        `followers would size this transaction ${followersCount}, not ${transaction.pageCount}`,
      );
    }
    this.#pending = transaction;
    this.#onCommit(transaction);
  }
}
