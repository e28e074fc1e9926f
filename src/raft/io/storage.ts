// What the raft driver needs from durable storage, implemented by DiskStorage (libraft's uv
// data directory) and MemoryStorage (tests, simulations). Every method resolves only once its
// effect is durable; operations take effect in call order.
import type { Configuration, Entry, HardState, Snapshot } from "../core/types.js";
import type { DiskStats } from "./durable-fs.js";

/** What a restarted node finds. */
export interface LoadedState {
  hardState: HardState;
  /** The newest snapshot, if any. */
  snapshot: Snapshot | null;
  /** Index of `entries[0]`; with no entries, the index the next append must use. */
  startIndex: number;
  /** Entries on disk, contiguous from startIndex (may start at or before the snapshot index). */
  entries: Entry[];
  /** The latest configuration found: the last CHANGE entry, else the snapshot's. */
  lastConfiguration: { index: number; configuration: Configuration } | null;
}

export interface RaftStorage {
  /** Reads (and tidies) the stored state. Must be called once, before anything else. */
  load(): Promise<LoadedState>;
  /** First start of a node that founds a cluster: term 1 and a CHANGE entry at index 1. */
  bootstrap(configuration: Configuration): Promise<void>;
  /** Forces a configuration: a CHANGE entry (term 1) after the last entry, like raft_recover. */
  recover(configuration: Configuration): Promise<void>;
  setHardState(state: HardState): Promise<void>;
  /**
   * Appends entries whose indexes follow on from the log; entries starting at or before the last
   * index first truncate the conflicting suffix. Resolves once durable.
   */
  append(entries: readonly Entry[]): Promise<void>;
  /** Removes entries from `fromIndex` on. */
  truncate(fromIndex: number): Promise<void>;
  /** Stores a snapshot taken locally; keeps `trailing` entries before it, drops older segments. */
  putSnapshot(snapshot: Snapshot, trailing: number): Promise<void>;
  /** Stores a snapshot received from the leader and discards the whole log. */
  installSnapshot(snapshot: Snapshot): Promise<void>;
  /** The newest stored snapshot (to send to a follower), or null. */
  loadSnapshot(): Promise<Snapshot | null>;
  /**
   * The stored entries from `fromIndex` to `toIndex` inclusive (at most `maxBytes` of data, but at
   * least one entry), exactly as appended. Rejects with EntriesUnavailableError when `fromIndex` is
   * not stored (behind the snapshot's trailing entries, truncated, or not yet appended).
   *
   * Takes effect in call order like the rest: it sees every append and truncation called before
   * it; entries that putSnapshot or installSnapshot drop are gone once that call resolved. The
   * result ends early at the last stored entry or at the byte limit, never empty. Each call's
   * entries own their data (fresh memory, not shared with storage or other calls). Invalid
   * arguments (not integers, `fromIndex` < 1, `toIndex` < `fromIndex`, negative `maxBytes`)
   * reject with a RangeError.
   */
  readEntries(fromIndex: number, toIndex: number, maxBytes?: number): Promise<Entry[]>;
  /**
   * Optional hint from the driver for the appends that follow: whether they may block the event
   * loop (see open-segment.ts). A follower answers the leader only once its write is done, and a
   * lone voter's write is its commit; a leader with followers keeps serving clients meanwhile.
   */
  setInlineAppends?(inline: boolean): void;
  /** Counters of durable writes. */
  readonly stats: DiskStats;
  /** Waits for pending operations, closes files. Later calls fail with StorageClosedError. */
  close(): Promise<void>;
}

/** Stored data that cannot be trusted: names the file and, where known, the byte offset. */
export class CorruptDataError extends Error {
  override name = "CorruptDataError";
  readonly file: string;
  readonly offset: number | null;
  constructor(file: string, offset: number | null, reason: string) {
    super(`${file}${offset === null ? "" : ` at byte ${offset}`}: ${reason}`);
    this.file = file;
    this.offset = offset;
  }
}

/** A call the storage cannot honour in its current state (bootstrap twice, a gap in indexes). */
export class StorageStateError extends Error {
  override name = "StorageStateError";
}

/**
 * readEntries: the first index asked for is not stored (compacted away behind a snapshot,
 * truncated, or not yet appended).
 */
export class EntriesUnavailableError extends Error {
  override name = "EntriesUnavailableError";
  readonly index: number;
  constructor(index: number, reason: string) {
    super(`entry ${index} is not stored: ${reason}`);
    this.index = index;
  }
}

/** Why readEntries' arguments are invalid, or null. */
export function invalidReadRange(
  fromIndex: number,
  toIndex: number,
  maxBytes: number,
): RangeError | null {
  if (!Number.isSafeInteger(fromIndex) || fromIndex < 1)
    return new RangeError(`readEntries: fromIndex ${fromIndex} is not an index`);
  if (!Number.isSafeInteger(toIndex) || toIndex < fromIndex)
    return new RangeError(
      `readEntries: toIndex ${toIndex} is not an index at or after ${fromIndex}`,
    );
  if (Number.isNaN(maxBytes) || maxBytes < 0)
    return new RangeError(`readEntries: maxBytes ${maxBytes} is negative`);
  return null;
}

export class StorageClosedError extends Error {
  override name = "StorageClosedError";
  constructor() {
    super("storage is closed");
  }
}
