// dqlite's state machine: what raft drives. It owns the node's replicating VFS (the registry
// of databases), applies committed commands to it, and takes and restores snapshots.
import assert from "node:assert/strict";
import {
  type Connection,
  PAGE_SIZE_BYTES,
  type PageFileBuilder,
  type PendingTransaction,
  type Pin,
  type ReplicatedDatabase,
  type Sqlite,
  type VersionedPages,
  Vfs,
  type VfsOptions,
} from "../sqlite/index.js";
import { decodeCommand, encodeFrames, framesFilename } from "./command-codec.js";
import { DecodeError } from "./serialization.js";
import {
  chunksSizeBytes,
  concatChunks,
  decodeSnapshot,
  encodeDatabaseHeader,
  encodeSnapshot,
  encodeSnapshotHeader,
} from "./snapshot-codec.js";
import { readSnapshotStream } from "./snapshot-reader.js";

/** A database as the Dump request returns it: the main file and its WAL (always empty here). */
export interface DatabaseDump {
  readonly main: Uint8Array;
  readonly wal: Uint8Array;
}

/** What applying an entry did (for logs and tests). */
export type ApplyOutcome =
  | "noop"
  /** Our own pending transaction became visible. */
  | "applied-pending"
  /** Pages from elsewhere were applied (a follower, or a transaction of an earlier leader). */
  | "applied-frames"
  /** As "applied-frames", after aborting a pending transaction of ours that lost the race. */
  | "aborted-pending-and-applied-frames";

export class Fsm {
  /** The node's databases; connections for client SQL are opened on it. */
  readonly vfs: Vfs;
  /** The command encoded for each transaction proposed: how we recognise our own entries. */
  readonly #commands = new WeakMap<PendingTransaction, Uint8Array>();
  #lastAppliedIndex = 0;

  constructor(sqlite: Sqlite, options: VfsOptions = {}) {
    this.vfs = new Vfs(sqlite, options);
  }

  /** Index of the last entry applied (or of the snapshot restored). */
  get lastAppliedIndex(): number {
    return this.#lastAppliedIndex;
  }

  /** Opens a leader connection to database `name` (created on first use). */
  connect(name: string): Connection {
    return this.vfs.connect(name);
  }

  /** The transaction `connection` committed in its last step, once (dqlite's VfsPoll). */
  takeCommitted(connection: Connection): PendingTransaction | null {
    return this.vfs.takeCommitted(connection);
  }

  /** See Vfs.takeReadPending. */
  takeReadPending(connection: Connection): PendingTransaction | null {
    return this.vfs.takeReadPending(connection);
  }

  /**
   * The FRAMES command to propose for `transaction`. When raft commits exactly these bytes,
   * `apply` makes the transaction visible without decoding its pages again.
   */
  encode(transaction: PendingTransaction): Uint8Array {
    assert.equal(transaction.state, "pending", "only a pending transaction can be proposed");
    const command = transaction.withPages((pages) =>
      encodeFrames(
        transaction.database.name,
        transaction.pageSizeBytes,
        transaction.pageNumbers,
        pages,
      ),
    );
    this.#commands.set(transaction, command);
    return command;
  }

  /**
   * Drops `transaction`, and every later one of its database (built on it), if it is still
   * waiting (raft failed it, or the leader stepped down).
   */
  abort(transaction: PendingTransaction): void {
    if (transaction.state === "pending" && transaction.database.isQueued(transaction)) {
      transaction.database.abortPending(transaction);
    }
  }

  /** See Vfs.setWriteIntent. */
  setWriteIntent(connection: Connection, intent: boolean): void {
    this.vfs.setWriteIntent(connection, intent);
  }

  /**
   * Applies the raft entry at `index`. Throws `DecodeError` for bytes that are not a dqlite
   * command and `InvalidTransactionError` for frames that cannot apply.
   */
  apply(index: number, data: Uint8Array): ApplyOutcome {
    assert.ok(
      index > this.#lastAppliedIndex,
      `entry ${index} applied after ${this.#lastAppliedIndex}`,
    );
    const outcome = this.#apply(data);
    this.#lastAppliedIndex = index;
    return outcome;
  }

  #apply(data: Uint8Array): ApplyOutcome {
    // Our own entry is the oldest waiting transaction of its database, proposed with these
    // bytes: raft usually hands back the very buffer; after a copy or a restart, equal bytes
    // (equal bytes mean equal pages, so applying ours is the same).
    const target = framesFilename(data);
    if (target !== null && this.vfs.has(target)) {
      const database = this.vfs.database(target);
      const oldest = database.pending;
      const command = oldest === null ? undefined : this.#commands.get(oldest);
      if (command !== undefined && (command === data || isSameCommand(command, data))) {
        database.applyPending();
        return "applied-pending";
      }
    }
    const command = decodeCommand(data);
    if (command.type !== "frames") return "noop";
    if (!command.isCommit) {
      throw new DecodeError(
        "command: uncommitted frames (replication before dqlite 1.0) are not supported",
      );
    }
    const database = this.vfs.database(command.filename);
    let outcome: ApplyOutcome = "applied-frames";
    if (database.pending !== null) {
      // Another leader's transaction committed first: ours were built on a state that is gone.
      database.abortAllPending();
      outcome = "aborted-pending-and-applied-frames";
    }
    // Decoded pages are views into the entry; the database copies them into its own pages.
    database.apply(command.pageSizeBytes, command.pageNumbers, command.pages);
    return outcome;
  }

  /**
   * A snapshot of every non-empty database at the last applied state, as chunks to write or send
   * in order. Pages are shared, not copied: they are immutable, so writes may continue.
   */
  snapshot(): Uint8Array[] {
    const databases = this.vfs
      .databases()
      .filter((database) => database.store.pageCount > 0)
      .map((database) => ({
        name: database.name,
        pageSizeBytes: database.store.pageSizeBytes,
        pages: database.store.latestPages(),
      }));
    return encodeSnapshot(databases);
  }

  /**
   * The snapshot as a stream (what raft writes to disk and sends): memory mode shares the page
   * images as `snapshot` does; disk mode pins each database's latest version and reads its
   * pages from the file as the stream is read, in runs, while writes go on. Release it once
   * written: the pins keep the older page images that later commits replace in memory.
   */
  openSnapshot(): SnapshotSource {
    if (!this.vfs.diskMode) return memorySnapshot(this.snapshot());
    const held: { name: string; store: VersionedPages; pin: Pin }[] = [];
    for (const database of this.vfs.databases()) {
      const store = database.store;
      const pin = store.pin();
      if (pin.pageCount > 0) held.push({ name: database.name, store, pin });
      else store.unpin(pin);
    }
    const headers = held.map(({ name, store, pin }) =>
      encodeDatabaseHeader(name, pin.pageCount * store.pageSizeBytes),
    );
    let sizeBytes = 16;
    held.forEach(({ store, pin }, i) => {
      sizeBytes += headers[i].length + pin.pageCount * store.pageSizeBytes;
    });
    let released = false;
    return {
      sizeBytes,
      async *chunks() {
        if (released) throw new Error("snapshot released");
        yield encodeSnapshotHeader(held.length);
        for (let i = 0; i < held.length; i++) {
          const { store, pin } = held[i];
          yield headers[i];
          const pagesPerRun = Math.max(1, Math.floor(SNAPSHOT_RUN_BYTES / store.pageSizeBytes));
          for (let first = 1; first <= pin.pageCount; first += pagesPerRun) {
            if (released) throw new Error("snapshot released");
            yield await store.readPages(
              pin,
              first,
              Math.min(pagesPerRun, pin.pageCount - first + 1),
            );
          }
        }
      },
      release() {
        if (released) return;
        released = true;
        for (const { store, pin } of held) store.unpin(pin);
      },
    };
  }

  /**
   * Replaces every database with the content of `data` (either snapshot shape), aborting what
   * is pending. Databases absent from the snapshot become empty. Validates everything first.
   */
  restore(data: Uint8Array, index = 0): void {
    const restored = decodeSnapshot(data);
    for (const { name, pageSizeBytes } of restored) checkPageSize(name, pageSizeBytes);
    if (this.vfs.diskMode) {
      // Each database's pages go to a new file that replaces its file once all are written.
      const staged: { name: string; pageCount: number; builder: PageFileBuilder | null }[] = [];
      try {
        for (const { name, pageSizeBytes, pages } of restored) {
          const builder = pages.length === 0 ? null : this.vfs.stageRestore(name, pageSizeBytes);
          staged.push({ name, pageCount: pages.length, builder });
          for (let i = 0; i < pages.length; i++) builder!.writeSync(i + 1, pages[i]);
        }
      } catch (error) {
        for (const { builder } of staged) builder?.abandon();
        throw error;
      }
      this.#install(staged);
    } else {
      const byName = new Map(restored.map((database) => [database.name, database]));
      for (const database of this.vfs.databases()) {
        if (!byName.has(database.name)) database.replace(database.store.pageSizeBytes, []);
      }
      for (const { name, pageSizeBytes, pages } of restored) {
        this.vfs.database(name).replace(pageSizeBytes, pages);
      }
    }
    this.#lastAppliedIndex = index;
  }

  /**
   * As `restore`, for a snapshot read chunk by chunk (a snapshot file, a stream from the
   * leader). Disk mode never holds it whole: each database's pages go to a new file as they
   * arrive, and the files replace the databases only once the whole snapshot checked out.
   * Memory mode joins the chunks and restores the bytes (the pages end up in memory anyway).
   */
  async restoreFrom(
    data: Uint8Array | SnapshotSource | AsyncIterable<Uint8Array>,
    index = 0,
  ): Promise<void> {
    if (data instanceof Uint8Array) {
      this.restore(data, index);
      return;
    }
    const sizeBytes = "sizeBytes" in data ? data.sizeBytes : null;
    const chunks = "chunks" in data ? data.chunks() : data;
    if (!this.vfs.diskMode) {
      this.restore(await joinChunks(chunks, sizeBytes), index);
      return;
    }
    const builders = new Map<string, PageFileBuilder>();
    const restored = await readSnapshotStream(chunks, {
      openSink: (name, pageSizeBytes) => {
        checkPageSize(name, pageSizeBytes);
        const builder = this.vfs.stageRestore(name, pageSizeBytes);
        builders.set(name, builder);
        return {
          write: (first, pages) => builder.write(first, pages),
          abandon: () => builder.abandon(),
        };
      },
    });
    this.#install(
      restored.map(({ name, pageCount }) => ({
        name,
        pageCount,
        builder: pageCount === 0 ? null : builders.get(name)!,
      })),
    );
    this.#lastAppliedIndex = index;
  }

  /** Disk mode: staged files become their databases; every other database becomes empty. */
  #install(staged: { name: string; pageCount: number; builder: PageFileBuilder | null }[]): void {
    const restored = new Set(staged.filter((s) => s.builder !== null).map((s) => s.name));
    for (const database of this.vfs.databases()) {
      if (!restored.has(database.name)) database.replace(database.store.pageSizeBytes, []);
    }
    for (const { name, pageCount, builder } of staged) {
      if (builder !== null) this.vfs.installRestored(name, builder, pageCount);
      else this.vfs.database(name);
    }
  }

  /** The named database's file image for the Dump request; null if there is no such database. */
  dump(name: string): DatabaseDump | null {
    if (!this.vfs.has(name)) return null;
    return { main: this.vfs.database(name).image(), wal: new Uint8Array(0) };
  }

  /** The database called `name`, created empty on first use. */
  database(name: string): ReplicatedDatabase {
    return this.vfs.database(name);
  }

  /** Names of every database, in creation order. */
  databaseNames(): string[] {
    return this.vfs.databases().map((database) => database.name);
  }

  /** Unregisters the VFS; close every connection first. */
  close(): void {
    this.vfs.close();
  }
}

/** Bytes of pages a disk-mode snapshot reads from a file at once. */
const SNAPSHOT_RUN_BYTES = 1024 * 1024;

/** A snapshot read chunk by chunk (raft's SnapshotStream). */
export interface SnapshotSource {
  readonly sizeBytes: number;
  /** The snapshot's bytes in order; may be read more than once until `release`. */
  chunks(): AsyncIterable<Uint8Array>;
  /** Lets go of the pinned versions (idempotent). */
  release(): void;
}

function memorySnapshot(chunks: readonly Uint8Array[]): SnapshotSource {
  return {
    sizeBytes: chunksSizeBytes(chunks),
    async *chunks() {
      yield* chunks;
    },
    release() {},
  };
}

/** The chunks in one buffer (of `sizeBytes` when the source says). */
async function joinChunks(
  chunks: AsyncIterable<Uint8Array>,
  sizeBytes: number | null,
): Promise<Uint8Array> {
  if (sizeBytes === null) {
    const all: Uint8Array[] = [];
    for await (const chunk of chunks) all.push(chunk);
    return concatChunks(all);
  }
  const out = new Uint8Array(sizeBytes);
  let filled = 0;
  for await (const chunk of chunks) {
    if (filled + chunk.length > sizeBytes) {
      throw new DecodeError(`snapshot: more than the ${sizeBytes} bytes announced`);
    }
    out.set(chunk, filled);
    filled += chunk.length;
  }
  return out.subarray(0, filled);
}

function checkPageSize(name: string, pageSizeBytes: number): void {
  if (pageSizeBytes !== 0 && pageSizeBytes !== PAGE_SIZE_BYTES) {
    throw new DecodeError(
      `snapshot: ${name} has ${pageSizeBytes}-byte pages, dqlite uses ${PAGE_SIZE_BYTES}`,
    );
  }
}

function isSameCommand(ours: Uint8Array, data: Uint8Array): boolean {
  if (ours === data) return true;
  if (ours.length !== data.length) return false;
  return Buffer.from(ours.buffer, ours.byteOffset, ours.length).equals(
    Buffer.from(data.buffer, data.byteOffset, data.length),
  );
}
