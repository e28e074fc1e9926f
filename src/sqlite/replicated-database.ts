// One replicated database: its versioned pages, the open files (connections) on it, the single
// writer, and the queue of committed transactions that wait for raft. See ENGINE.md.
//
// Transactions are pipelined: a writer may start on top of transactions still waiting for raft
// (it sees them, nobody else does), so many commits can share one raft round and one fsync.
// They apply in queue order; when one is aborted, every later one (built on it) is too.
import { invariant } from "./invariant.js";
import { headerPageCount } from "./page-one.js";
import { PageStore } from "./page-store.js";
import type { VersionedPages } from "./versioned-pages.js";

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
   * The page images, in the order of `pageNumbers`. Images read here are never recycled by the
   * store (prefer `withPages` to copy them).
   */
  get pages(): readonly Uint8Array[] {
    this.database.store.expose(this.#pages);
    return this.#pages;
  }

  /** Calls `use` with the page images, valid during the call only (e.g. to encode them). */
  withPages<T>(use: (pages: readonly Uint8Array[]) => T): T {
    return use(this.#pages);
  }

  /** The image of page `pageNumber` in this transaction, if it wrote that page. */
  page(pageNumber: number): Uint8Array | undefined {
    const numbers = this.pageNumbers;
    let low = 0;
    let high = numbers.length - 1;
    while (low <= high) {
      const middle = (low + high) >> 1;
      const n = numbers[middle];
      if (n === pageNumber) return this.#pages[middle];
      if (n < pageNumber) low = middle + 1;
      else high = middle - 1;
    }
    return undefined;
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

/** What a connection saw when it took its shared lock, and whether it may write on top of it. */
export interface View {
  /** Transactions waiting for raft that this view includes, oldest first. */
  readonly chain: readonly PendingTransaction[];
  /** `headSerial` then: the view is the newest state while the serial has not moved. */
  readonly serial: number;
  /** The view included every waiting transaction (a writer's view, or an empty queue). */
  readonly atHead: boolean;
}

export class ReplicatedDatabase {
  readonly name: string;
  #store: VersionedPages;
  readonly #files = new Set<FileHandle>();
  #writer: FileHandle | null = null;
  readonly #queue: PendingTransaction[] = [];
  /**
   * Moves whenever the newest state changes other than by a waiting transaction becoming
   * visible: a commit joins the queue, an abort, frames from elsewhere, a restore.
   */
  #headSerial = 0;
  readonly #onCommit: CommitListener;

  constructor(name: string, onCommit: CommitListener, store: VersionedPages = new PageStore()) {
    this.name = name;
    this.#onCommit = onCommit;
    this.#store = store;
  }

  /** The versioned pages (read access for files, snapshots and dumps). */
  get store(): VersionedPages {
    return this.#store;
  }

  /** The oldest transaction waiting for raft (the next to apply), if any. */
  get pending(): PendingTransaction | null {
    return this.#queue[0] ?? null;
  }

  /** Whether `transaction` waits for raft in this database's queue. */
  isQueued(transaction: PendingTransaction): boolean {
    return this.#queue.includes(transaction);
  }

  /** Transactions waiting for raft. */
  get pendingCount(): number {
    return this.#queue.length;
  }

  /** Makes the oldest waiting transaction visible: raft committed it. */
  applyPending(): void {
    const transaction = this.#queue.shift();
    if (transaction === undefined) throw invariant(`no pending transaction on ${this.name}`);
    if (transaction.baseVersion !== this.#store.version)
      invariant("pending transaction lost its base");
    // The images stay reachable from the transaction: a writer that built on it may still read
    // them (its pin keeps the store from recycling them).
    transaction.withPages((pages) =>
      this.#store.commit(
        transaction.pageSizeBytes,
        transaction.pageCount,
        transaction.pageNumbers,
        pages,
      ),
    );
    transaction.state = "applied";
    // The writer's cache already holds these pages; every other cache is out of date.
    for (const file of this.#files) if (file !== transaction.origin) file.stale = true;
  }

  /**
   * Drops a waiting transaction (raft failed it) and every later one, which was built on it.
   * Every connection sees the state before them. The oldest by default.
   */
  abortPending(transaction: PendingTransaction | null = this.pending): void {
    const at = transaction === null ? -1 : this.#queue.indexOf(transaction);
    if (at < 0) throw invariant(`no such pending transaction on ${this.name}`);
    for (const aborted of this.#queue.splice(at)) {
      aborted.state = "aborted";
      // The images are left to the garbage collector: a writer that built on this transaction
      // may read them until its own commit fails. The writer's cache and schema hold the
      // aborted pages and may match a later commit's change counter and schema cookie byte for
      // byte (ENGINE.md pitfalls 1-3).
      aborted.origin.stale = true;
      aborted.origin.owner?.invalidateSchema();
    }
    this.#headSerial++;
  }

  /** Drops every waiting transaction. */
  abortAllPending(): void {
    if (this.#queue.length > 0) this.abortPending(this.#queue[0]);
  }

  /**
   * Applies a transaction that did not start here (a frames command from raft). Page images are
   * copied (views into a raft entry are fine). The caller aborts any pending transaction first.
   */
  apply(pageSizeBytes: number, pageNumbers: ArrayLike<number>, pages: readonly Uint8Array[]): void {
    if (this.#queue.length > 0) invariant("apply over a pending transaction: abort it first");
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
    this.#headSerial++;
    // A writer in the middle of a transaction now works on an old version: its commit fails.
    for (const file of this.#files) file.stale = true;
  }

  /** Replaces the whole content (a snapshot restore; pages are copied); aborts what is pending. */
  replace(pageSizeBytes: number, pages: readonly Uint8Array[]): void {
    this.abortAllPending();
    this.#headSerial++;
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

  /**
   * Replaces the whole content with another store's (a disk-mode restore, whose pages were
   * written to a new file); aborts what is pending. The old store keeps serving the readers
   * pinned on it and gives up its file after the last one.
   */
  replaceStore(store: VersionedPages): void {
    this.abortAllPending();
    this.#headSerial++;
    const old = this.#store;
    this.#store = store;
    old.retire();
    for (const file of this.#files) {
      file.stale = true;
      file.owner?.invalidateSchema();
    }
  }

  /** Closes the store's file, if it has one (the VFS is closing). */
  close(): void {
    this.#store.retire();
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

  /**
   * What a connection taking its shared lock sees: a writer (`withChain`) sees the transactions
   * waiting for raft on top of the store's latest version, a reader only the latest version.
   */
  view(withChain: boolean): View {
    const chain = withChain ? [...this.#queue] : [];
    return { chain, serial: this.#headSerial, atHead: withChain || this.#queue.length === 0 };
  }

  /** True if a connection with this view may become the writer now. */
  canWrite(file: FileHandle, view: View): boolean {
    return (
      (this.#writer === null || this.#writer === file) &&
      view.atHead &&
      view.serial === this.#headSerial
    );
  }

  /** Database size in pages at the newest state (waiting transactions included). */
  get headPageCount(): number {
    return this.#queue.at(-1)?.pageCount ?? this.#store.pageCount;
  }

  beginWrite(file: FileHandle): void {
    if (this.#writer !== null && this.#writer !== file) invariant("a second writer");
    this.#writer = file;
  }

  endWrite(file: FileHandle): void {
    if (this.#writer === file) this.#writer = null;
  }

  get hasWriter(): boolean {
    return this.#writer !== null || this.#queue.length > 0;
  }

  /** Whether a view is still the newest state (a writer's commit may join the queue). */
  isHead(view: View): boolean {
    return view.atHead && view.serial === this.#headSerial;
  }

  /** Queues a committed overlay for raft and tells the listener. */
  commitWrite(transaction: PendingTransaction): void {
    const expectedBase = this.#store.version + this.#queue.length;
    if (transaction.baseVersion !== expectedBase) {
      invariant(`transaction built on version ${transaction.baseVersion}, head is ${expectedBase}`);
    }
    const followersCount = transaction.withPages((pages) =>
      transactionPageCount(this.headPageCount, transaction.pageNumbers, pages),
    );
    if (transaction.pageCount !== followersCount) {
      invariant(
        `followers would size this transaction ${followersCount}, not ${transaction.pageCount}`,
      );
    }
    this.#queue.push(transaction);
    this.#headSerial++;
    this.#onCommit(transaction);
  }
}
