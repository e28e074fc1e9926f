// RaftStorage over a libraft 0.15 uv data directory (engine-internals §5), readable by libraft
// and reading what libraft wrote. Operations run one at a time in call order, except that
// appends queued behind a write in flight are written together in the next single durable write
// (group commit); each append request stays its own batch. readEntries is an operation too, so it
// sees exactly the appends, truncations and segment removals queued before it.
import { mkdir } from "node:fs/promises";
import { encodeConfiguration } from "../core/configuration-codec.js";
import type { Configuration, Entry, HardState, Snapshot } from "../core/types.js";
import { EntryType } from "../core/types.js";
import { type ClosedSegment, loadDataDir } from "./data-dir-loader.js";
import { closedSegmentName, compareSnapshots, type SnapshotName } from "./data-dir-names.js";
import { type DiskStats, DurableDir, newDiskStats } from "./durable-fs.js";
import { viewOf, writeU64 } from "./little-endian.js";
import { encodeMetadata, metadataFileOf } from "./metadata-format.js";
import { OpenSegment } from "./open-segment.js";
import {
  batchBytes,
  encodeBatch,
  FORMAT_BYTES,
  readSegmentBatches,
  SEGMENT_FORMAT,
} from "./segment-format.js";
import { detachedEntries, SegmentEntries } from "./segment-reader.js";
import { pruneSnapshots, readSnapshot, writeSnapshot } from "./snapshot-files.js";
import {
  CorruptDataError,
  EntriesUnavailableError,
  invalidReadRange,
  type LoadedState,
  type RaftStorage,
  StorageClosedError,
  StorageStateError,
} from "./storage.js";

export interface DiskStorageOptions {
  /** Preallocated size of open segments (libraft: 8 MiB). */
  segmentSizeBytes?: number;
  /** Write snapshots as LZ4 frames (libraft 0.15 with liblz4 does; default off). */
  compressSnapshots?: boolean;
  /** Quarantine damaged segments that the snapshot covers (libraft: on). */
  autoRecovery?: boolean;
  /** Largest snapshot accepted when decompressing (guards corrupt size fields). */
  maxSnapshotBytes?: number;
  /** Bound on queued operations; beyond it calls fail instead of growing memory. */
  maxQueuedOperations?: number;
}

const DEFAULTS = {
  segmentSizeBytes: 8 * 1024 * 1024,
  compressSnapshots: false,
  autoRecovery: true,
  maxSnapshotBytes: 2 ** 31,
  maxQueuedOperations: 65536,
};
/** Snapshots kept on disk (libraft keeps two). */
const SNAPSHOTS_KEPT = 2;
/** Bound on batches read from one segment file. */
const MAX_BATCHES_PER_SEGMENT = 1 << 20;

type Operation =
  | {
      kind: "append";
      entries: readonly Entry[];
      resolve: () => void;
      reject: (error: Error) => void;
    }
  | { kind: "task"; run: () => Promise<void>; resolve: () => void; reject: (error: Error) => void };

export class DiskStorage implements RaftStorage {
  readonly stats: DiskStats = newDiskStats();
  /** Appends block the event loop, or go through the thread pool (see setInlineAppends). */
  #inlineAppends = true;
  readonly #dir: DurableDir;
  readonly #options: typeof DEFAULTS;
  #phase: "new" | "loaded" | "closed" = "new";
  #failure: Error | null = null;
  #metadataVersion = 0;
  #hardState: HardState = { term: 0, votedFor: 0n };
  #closedSegments: ClosedSegment[] = [];
  #snapshots: SnapshotName[] = [];
  #snapshotIndex = 0;
  /** Last index once every queued operation has run (what new calls are checked against). */
  #tailIndex = 0;
  /** Last index written so far. */
  #lastIndex = 0;
  #queue: Operation[] = [];
  #pumping = false;
  #open: OpenSegment | null = null;
  #spare: Promise<OpenSegment> | null = null;
  #counter = 0;
  #finalizing: Promise<void>[] = [];
  /** Closed segments rolled from the open one, until their finalization (rename) is done. */
  readonly #finalizationOf = new WeakMap<ClosedSegment, Promise<void>>();
  /** readEntries' cache: the closed segment read last (its record in #closedSegments is its key). */
  #closedCache: SegmentEntries | null = null;
  /** readEntries' cache of the open segment (keyed by it), read further as it grows. */
  #openCache: SegmentEntries | null = null;
  /** Snapshot file writes, one after the other, outside the operation queue. */
  #snapshotChain: Promise<void> = Promise.resolve();

  constructor(path: string, options: DiskStorageOptions = {}) {
    this.#dir = new DurableDir(path, this.stats);
    this.#options = {
      ...DEFAULTS,
      ...(Object.fromEntries(
        Object.entries(options).filter(([, v]) => v !== undefined),
      ) as DiskStorageOptions),
    };
  }

  /** The data directory. */
  get path(): string {
    return this.#dir.path;
  }

  setInlineAppends(inline: boolean): void {
    this.#inlineAppends = inline;
  }

  async load(): Promise<LoadedState> {
    if (this.#phase !== "new") throw new StorageStateError("load() must be called once, first");
    await mkdir(this.#dir.path, { recursive: true });
    const loaded = await loadDataDir(this.#dir, {
      autoRecovery: this.#options.autoRecovery,
      maxSnapshotBytes: this.#options.maxSnapshotBytes,
      maxBatchesPerSegment: MAX_BATCHES_PER_SEGMENT,
    });
    this.#phase = "loaded";
    this.#metadataVersion = loaded.metadataVersion;
    this.#hardState = loaded.hardState;
    this.#closedSegments = loaded.closedSegments;
    this.#snapshots = loaded.snapshots;
    this.#snapshotIndex = loaded.snapshot?.meta.index ?? 0;
    this.#lastIndex = loaded.startIndex + loaded.entries.length - 1;
    this.#tailIndex = this.#lastIndex;
    this.#prepareSpare();
    const { hardState, snapshot, startIndex, entries, lastConfiguration } = loaded;
    return { hardState, snapshot, startIndex, entries, lastConfiguration };
  }

  bootstrap(configuration: Configuration): Promise<void> {
    const unusable = this.#unusable();
    if (unusable) return Promise.reject(unusable);
    if (this.#hardState.term !== 0 || this.#tailIndex !== 0 || this.#snapshotIndex !== 0) {
      return Promise.reject(new StorageStateError("cannot bootstrap: this node already has state"));
    }
    this.#tailIndex = 1;
    return this.#enqueueTask(async () => {
      await this.#writeHardState({ term: 1, votedFor: 0n });
      await this.#writeClosedSegment(1, 1, [changeEntry(1, configuration)]);
    });
  }

  recover(configuration: Configuration): Promise<void> {
    const unusable = this.#unusable();
    if (unusable) return Promise.reject(unusable);
    const index = this.#tailIndex + 1;
    this.#tailIndex = index;
    return this.#enqueueTask(async () => {
      await this.#barrier();
      await this.#writeClosedSegment(index, index, [changeEntry(index, configuration)]);
    });
  }

  setHardState(state: HardState): Promise<void> {
    const unusable = this.#unusable();
    if (unusable) return Promise.reject(unusable);
    const copy = { ...state };
    return this.#enqueueTask(() => this.#writeHardState(copy));
  }

  append(entries: readonly Entry[]): Promise<void> {
    const unusable = this.#unusable();
    if (unusable) return Promise.reject(unusable);
    if (entries.length === 0) return Promise.resolve();
    const first = entries[0].index;
    for (let i = 0; i < entries.length; i++) {
      if (entries[i].droppedDataBytes !== undefined) {
        // The core's stand-in for an entry whose data it dropped: never what is to be stored.
        return Promise.reject(new RangeError(`entry ${entries[i].index} is a stand-in`));
      }
      if (entries[i].data.length % 8 !== 0) {
        // libraft's readers assume 8-byte multiples; refuse before anything reaches the disk.
        return Promise.reject(
          new RangeError(`entry ${entries[i].index} is not a multiple of 8 bytes`),
        );
      }
      if (entries[i].index !== first + i) {
        return Promise.reject(
          new StorageStateError(`entries are not contiguous at index ${entries[i].index}`),
        );
      }
    }
    if (first > this.#tailIndex + 1) {
      return Promise.reject(
        new StorageStateError(
          `append at ${first} leaves a gap after the last index ${this.#tailIndex}`,
        ),
      );
    }
    const truncation = first <= this.#tailIndex ? this.truncate(first) : null;
    if (this.#queue.length >= this.#options.maxQueuedOperations) {
      return Promise.reject(new StorageStateError("too many queued storage operations"));
    }
    this.#tailIndex = entries[entries.length - 1].index;
    this.stats.appendRequests++;
    const appended = new Promise<void>((resolve, reject) => {
      this.#queue.push({ kind: "append", entries, resolve, reject });
      this.#pump();
    });
    return truncation === null ? appended : Promise.all([truncation, appended]).then(() => {});
  }

  truncate(fromIndex: number): Promise<void> {
    const unusable = this.#unusable();
    if (unusable) return Promise.reject(unusable);
    if (fromIndex > this.#tailIndex) return Promise.resolve();
    if (fromIndex <= this.#snapshotIndex) {
      return Promise.reject(
        new StorageStateError(
          `cannot truncate at ${fromIndex}: entries up to ${this.#snapshotIndex} are in a snapshot`,
        ),
      );
    }
    this.#tailIndex = fromIndex - 1;
    return this.#enqueueTask(() => this.#truncate(fromIndex));
  }

  putSnapshot(snapshot: Snapshot, trailing: number): Promise<void> {
    const unusable = this.#unusable();
    if (unusable) return Promise.reject(unusable);
    if (snapshot.meta.index > this.#tailIndex) {
      return Promise.reject(
        new StorageStateError(`snapshot at ${snapshot.meta.index} is past the log`),
      );
    }
    // First, in the queue, close the open segment (as libraft does): an open segment's first
    // index is not on disk, and a loader that finds a snapshot and no closed segment before the
    // open ones takes it to start right after the snapshot. Then the snapshot files are written
    // beside the log while appends go on in a new segment; only the pruning is queued again.
    const closed = this.#enqueueTask(() => this.#barrier());
    const stored = Promise.all([closed, this.#snapshotChain]).then(() =>
      this.#storeSnapshot(snapshot),
    );
    this.#snapshotChain = stored.catch((error: Error) => this.#fail(error));
    return stored.then(() =>
      this.#enqueueTask(async () => {
        this.#snapshotIndex = Math.max(this.#snapshotIndex, snapshot.meta.index);
        await this.#dropSegmentsBefore(snapshot.meta.index, trailing);
      }),
    );
  }

  installSnapshot(snapshot: Snapshot): Promise<void> {
    const unusable = this.#unusable();
    if (unusable) return Promise.reject(unusable);
    this.#tailIndex = snapshot.meta.index;
    return this.#enqueueTask(async () => {
      await this.#snapshotChain;
      await this.#barrier();
      await this.#storeSnapshot(snapshot);
      // Newest first, so a crash leaves a prefix of the old log, which load checks against the
      // snapshot's term (a conflicting history is discarded there).
      for (const segment of [...this.#closedSegments].reverse())
        await this.#dir.remove(segment.name);
      this.#closedSegments = [];
      this.#dropStaleCache();
      await this.#dir.sync();
      this.#snapshotIndex = snapshot.meta.index;
      this.#lastIndex = snapshot.meta.index;
    });
  }

  loadSnapshot(): Promise<Snapshot | null> {
    const unusable = this.#unusable();
    if (unusable) return Promise.reject(unusable);
    let result: Snapshot | null = null;
    return this.#enqueueTask(async () => {
      const newest = this.#snapshots.at(-1);
      if (newest) result = await readSnapshot(this.#dir, newest, this.#options.maxSnapshotBytes);
    }).then(() => result);
  }

  readEntries(
    fromIndex: number,
    toIndex: number,
    maxBytes = Number.POSITIVE_INFINITY,
  ): Promise<Entry[]> {
    const unusable = this.#unusable() ?? invalidReadRange(fromIndex, toIndex, maxBytes);
    if (unusable) return Promise.reject(unusable);
    // A failed read leaves the disk as it was: it rejects this call and does not fail the storage
    // (a task that throws would).
    let result: Entry[] | Error = [];
    return this.#enqueueTask(async () => {
      try {
        result = await this.#readEntries(fromIndex, toIndex, maxBytes);
      } catch (error) {
        if (!(error instanceof EntriesUnavailableError)) {
          // A segment that failed to read or parse is not kept half-parsed.
          this.#closedCache = null;
          this.#openCache = null;
        }
        result = error as Error;
      }
    }).then(() => {
      if (result instanceof Error) throw result;
      return result;
    });
  }

  async close(): Promise<void> {
    if (this.#phase === "closed") return;
    if (this.#phase === "new") {
      this.#phase = "closed";
      return;
    }
    const drained = this.#enqueueTask(async () => {
      await this.#barrier();
    });
    this.#phase = "closed";
    await drained.catch(() => {});
    await this.#snapshotChain;
    await Promise.allSettled(this.#finalizing);
    this.#closedCache = null;
    this.#openCache = null;
    const spare = this.#spare;
    this.#spare = null;
    if (spare) {
      const segment = await spare.catch(() => null);
      await segment?.finalize(this.#dir).catch(() => {});
    }
  }

  // ---------------------------------------------------------------------------------------------

  /** Why calls cannot be accepted now, or null. */
  #unusable(): Error | null {
    if (this.#phase === "closed") return new StorageClosedError();
    if (this.#phase === "new") return new StorageStateError("load() has not been called");
    return this.#failure;
  }

  #enqueueTask(run: () => Promise<void>): Promise<void> {
    if (this.#queue.length >= this.#options.maxQueuedOperations) {
      return Promise.reject(new StorageStateError("too many queued storage operations"));
    }
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ kind: "task", run, resolve, reject });
      this.#pump();
    });
  }

  async #pump(): Promise<void> {
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (this.#queue.length > 0) {
        const head = this.#queue[0];
        if (head.kind === "task") {
          this.#queue.shift();
          try {
            if (this.#failure) throw this.#failure;
            await head.run();
            head.resolve();
          } catch (error) {
            this.#fail(error as Error);
            head.reject(error as Error);
          }
          continue;
        }
        let group: Extract<Operation, { kind: "append" }>[] = [];
        try {
          if (this.#failure) throw this.#failure;
          // An inline write blocks the event loop (see open-segment.ts): first let every socket
          // read of this loop turn queue its appends, so that they all share the durable write.
          if (this.#inlineAppends) await new Promise((resolve) => setImmediate(resolve));
          group = await this.#takeAppendGroup();
          const open = this.#open!;
          await open.append(
            group.map((op) => op.entries),
            this.#dir,
            this.#inlineAppends,
          );
          this.stats.entriesAppended += group.reduce((n, op) => n + op.entries.length, 0);
          this.#lastIndex = open.lastIndex;
          for (const op of group) op.resolve();
        } catch (error) {
          this.#fail(error as Error);
          if (group.length === 0)
            group = [this.#queue.shift() as Extract<Operation, { kind: "append" }>];
          for (const op of group) op.reject(error as Error);
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * Takes the appends at the head of the queue that fit in the open segment together, rolling
   * to the next segment first when even the first does not fit (one that is larger than a whole
   * segment gets a fresh segment to itself, which grows past its preallocated size).
   */
  async #takeAppendGroup(): Promise<Extract<Operation, { kind: "append" }>[]> {
    let open = await this.#currentSegment();
    const first = this.#queue[0] as Extract<Operation, { kind: "append" }>;
    if (!open.isEmpty && !open.fits(open.costOf([first.entries]))) {
      this.#roll();
      open = await this.#currentSegment();
    }
    const group: Extract<Operation, { kind: "append" }>[] = [];
    let bytes = open.isEmpty ? FORMAT_BYTES : 0;
    while (this.#queue.length > 0) {
      const next = this.#queue[0];
      if (next.kind !== "append") break;
      const cost = batchBytes(next.entries);
      if (group.length > 0 && !open.fits(bytes + cost)) break;
      bytes += cost;
      group.push(next);
      this.#queue.shift();
    }
    return group;
  }

  async #currentSegment(): Promise<OpenSegment> {
    if (this.#open === null) {
      this.#prepareSpare();
      this.#open = await this.#spare!;
      this.#spare = null;
      this.#prepareSpare();
    }
    return this.#open;
  }

  #prepareSpare(): void {
    if (this.#spare !== null) return;
    this.#counter++;
    const spare = OpenSegment.prepare(this.#dir, this.#counter, this.#options.segmentSizeBytes);
    spare.catch(() => {}); // a failure surfaces when the segment is needed
    this.#spare = spare;
  }

  /** Finalizes the open segment in the background; later tasks wait for it via #barrier. */
  #roll(): void {
    const open = this.#open;
    if (open === null) return;
    this.#open = null;
    if (this.#openCache?.key === open) this.#openCache = null;
    const done = open.finalize(this.#dir);
    done.catch((error: Error) => this.#fail(error));
    this.#finalizing.push(done);
    if (!open.isEmpty) {
      const segment = {
        name: open.closedName,
        firstIndex: open.firstIndex,
        lastIndex: open.lastIndex,
      };
      this.#closedSegments.push(segment);
      this.#finalizationOf.set(segment, done);
    }
  }

  /** Closes the open segment and waits until every segment on disk has its closed name. */
  async #barrier(): Promise<void> {
    if (this.#open !== null && !this.#open.isEmpty) this.#roll();
    const pending = this.#finalizing;
    this.#finalizing = [];
    await Promise.all(pending);
  }

  #fail(error: Error): void {
    // After a failed write the disk state is unknown: refuse everything rather than guess.
    this.#failure ??= error;
  }

  async #writeHardState(state: HardState): Promise<void> {
    const version = this.#metadataVersion + 1;
    await this.#dir.overwriteFile(metadataFileOf(version), encodeMetadata({ version, ...state }));
    this.#metadataVersion = version;
    this.#hardState = state;
  }

  async #writeClosedSegment(
    firstIndex: number,
    lastIndex: number,
    entries: readonly Entry[],
  ): Promise<void> {
    const name = closedSegmentName(firstIndex, lastIndex);
    const bytes = new Uint8Array(FORMAT_BYTES + batchBytes(entries));
    writeU64(viewOf(bytes), 0, SEGMENT_FORMAT);
    encodeBatch(entries, bytes, FORMAT_BYTES);
    await this.#dir.createFile(name, [bytes]);
    this.#closedSegments.push({ name, firstIndex, lastIndex });
    this.#lastIndex = lastIndex;
  }

  async #truncate(fromIndex: number): Promise<void> {
    await this.#barrier();
    const doomed = this.#closedSegments.filter((s) => s.firstIndex >= fromIndex);
    for (const segment of doomed.reverse()) await this.#dir.remove(segment.name);
    this.#closedSegments = this.#closedSegments.filter((s) => s.firstIndex < fromIndex);
    await this.#dir.sync();
    const containing = this.#closedSegments.at(-1);
    if (containing !== undefined && containing.lastIndex >= fromIndex) {
      // Rewrite the kept prefix as a new closed segment. If we crash before the old one is
      // removed, load sees two segments with the same first index and keeps the shorter.
      const bytes = await this.#dir.readFile(containing.name);
      const read = readSegmentBatches(bytes, containing.firstIndex, MAX_BATCHES_PER_SEGMENT);
      if (read.stop || read.entries.length !== containing.lastIndex - containing.firstIndex + 1) {
        throw new CorruptDataError(
          this.#dir.file(containing.name),
          read.stop?.offset ?? null,
          "cannot re-read for truncation",
        );
      }
      this.#closedSegments.pop();
      await this.#writeClosedSegment(
        containing.firstIndex,
        fromIndex - 1,
        read.entries.slice(0, fromIndex - containing.firstIndex),
      );
      await this.#dir.remove(containing.name);
      await this.#dir.sync();
    }
    this.#lastIndex = fromIndex - 1;
    this.#dropStaleCache();
  }

  async #storeSnapshot(snapshot: Snapshot): Promise<void> {
    const { term, index } = snapshot.meta;
    let timestampMs = Date.now();
    for (const existing of this.#snapshots) {
      if (existing.term === term && existing.index === index)
        timestampMs = Math.max(timestampMs, existing.timestampMs + 1);
    }
    const written = await writeSnapshot(
      this.#dir,
      snapshot,
      timestampMs,
      this.#options.compressSnapshots,
    );
    this.#snapshots = await pruneSnapshots(
      this.#dir,
      [...this.#snapshots, written],
      SNAPSHOTS_KEPT,
    );
    this.#snapshots.sort(compareSnapshots);
  }

  /** libraft's trailing rule: drop closed segments that end before index - trailing + 1. */
  async #dropSegmentsBefore(index: number, trailing: number): Promise<void> {
    if (index <= trailing) {
      await this.#dir.sync();
      return;
    }
    const retainFrom = index - trailing + 1;
    // Oldest first, so a crash leaves a contiguous suffix.
    while (this.#closedSegments.length > 0 && this.#closedSegments[0].lastIndex < retainFrom) {
      const segment = this.#closedSegments.shift()!;
      await this.#dir.remove(segment.name);
    }
    this.#dropStaleCache();
    await this.#dir.sync();
  }

  /**
   * readEntries' work, in the queue: no append, truncation, roll or segment removal runs
   * meanwhile. Entries are in the closed segments (some maybe still being renamed from open-N:
   * their finalization is awaited first) and in the open segment (read through its handle, up to
   * its used size). The spare never holds entries: it becomes the open segment before any append.
   */
  async #readEntries(fromIndex: number, toIndex: number, maxBytes: number): Promise<Entry[]> {
    const picked: Entry[] = [];
    let bytes = 0;
    let index = fromIndex;
    reading: while (index <= toIndex) {
      const holder = this.#entriesHolding(index);
      if (holder === null) break;
      const { parsed, lastIndex } = holder;
      const end = Math.min(toIndex, lastIndex);
      while (index <= end) {
        if (index >= parsed.nextIndex) {
          if (await parsed.parseMore(end)) continue;
          throw new CorruptDataError(parsed.source.file, null, `entry ${index} is missing`);
        }
        const entry = parsed.at(index);
        if (picked.length > 0 && bytes + entry.data.length > maxBytes) break reading;
        picked.push(entry);
        bytes += entry.data.length;
        index++;
      }
    }
    if (picked.length === 0) throw new EntriesUnavailableError(fromIndex, this.#storedRange());
    return detachedEntries(picked);
  }

  /** The (cached) entries of the segment holding `index`, or null when no segment does. */
  #entriesHolding(index: number): { parsed: SegmentEntries; lastIndex: number } | null {
    const open = this.#open;
    if (open !== null && !open.isEmpty && index >= open.firstIndex && index <= open.lastIndex) {
      if (this.#openCache?.key !== open) {
        this.#openCache = new SegmentEntries(open, {
          file: this.#dir.file(open.name),
          firstIndex: open.firstIndex,
          lastIndex: null,
          readFrom: (position) => open.readWritten(position),
        });
      }
      return { parsed: this.#openCache, lastIndex: open.lastIndex };
    }
    const segment = findSegment(this.#closedSegments, index);
    if (segment === null) return null;
    if (this.#closedCache?.key !== segment) {
      this.#closedCache = new SegmentEntries(segment, {
        file: this.#dir.file(segment.name),
        firstIndex: segment.firstIndex,
        lastIndex: segment.lastIndex,
        readFrom: async (position) => {
          if (position > 0) return new Uint8Array(0); // read whole at position 0
          await this.#finalizationOf.get(segment);
          return this.#dir.readFile(segment.name);
        },
      });
    }
    return { parsed: this.#closedCache, lastIndex: segment.lastIndex };
  }

  /** What is stored, for EntriesUnavailableError's message. */
  #storedRange(): string {
    const open = this.#open !== null && !this.#open.isEmpty ? this.#open : null;
    const first = this.#closedSegments[0]?.firstIndex ?? open?.firstIndex;
    const last = open?.lastIndex ?? this.#closedSegments.at(-1)?.lastIndex;
    if (first === undefined || last === undefined) return "no entry is stored";
    return `entries ${first} to ${last} are stored`;
  }

  /** Lets go of cached entries of a segment that is no longer there. */
  #dropStaleCache(): void {
    const key = this.#closedCache?.key;
    if (key !== undefined && !this.#closedSegments.includes(key as ClosedSegment))
      this.#closedCache = null;
    if (this.#openCache !== null && this.#openCache.key !== this.#open) this.#openCache = null;
  }
}

/** The segment holding `index` (segments are sorted and contiguous), or null. */
function findSegment(segments: readonly ClosedSegment[], index: number): ClosedSegment | null {
  let low = 0;
  let high = segments.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const segment = segments[middle];
    if (index < segment.firstIndex) high = middle - 1;
    else if (index > segment.lastIndex) low = middle + 1;
    else return segment;
  }
  return null;
}

function changeEntry(index: number, configuration: Configuration): Entry {
  return { term: 1, index, type: EntryType.Change, data: encodeConfiguration(configuration) };
}
