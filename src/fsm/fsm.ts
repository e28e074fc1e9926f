// dqlite's state machine: what raft drives. It owns the node's replicating VFS (the registry
// of databases), applies committed commands to it, and takes and restores snapshots.
import assert from "node:assert/strict";
import {
  type Connection,
  PAGE_SIZE_BYTES,
  type PendingTransaction,
  type ReplicatedDatabase,
  type Sqlite,
  Vfs,
  type VfsOptions,
} from "../sqlite/index.js";
import { decodeCommand, encodeFrames, framesFilename } from "./command-codec.js";
import { DecodeError } from "./serialization.js";
import { decodeSnapshot, encodeSnapshot } from "./snapshot-codec.js";

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
   * Replaces every database with the content of `data` (either snapshot shape), aborting what
   * is pending. Databases absent from the snapshot become empty. Validates everything first.
   */
  restore(data: Uint8Array, index = 0): void {
    const restored = decodeSnapshot(data);
    for (const { name, pageSizeBytes } of restored) {
      if (pageSizeBytes !== 0 && pageSizeBytes !== PAGE_SIZE_BYTES) {
        throw new DecodeError(
          `snapshot: ${name} has ${pageSizeBytes}-byte pages, dqlite uses ${PAGE_SIZE_BYTES}`,
        );
      }
    }
    const byName = new Map(restored.map((database) => [database.name, database]));
    for (const database of this.vfs.databases()) {
      if (!byName.has(database.name)) database.replace(database.store.pageSizeBytes, []);
    }
    for (const { name, pageSizeBytes, pages } of restored) {
      this.vfs.database(name).replace(pageSizeBytes, pages);
    }
    this.#lastAppliedIndex = index;
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

function isSameCommand(ours: Uint8Array, data: Uint8Array): boolean {
  if (ours === data) return true;
  if (ours.length !== data.length) return false;
  return Buffer.from(ours.buffer, ours.byteOffset, ours.length).equals(
    Buffer.from(data.buffer, data.byteOffset, data.length),
  );
}
