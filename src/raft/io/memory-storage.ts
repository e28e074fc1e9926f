// RaftStorage in memory, for tests and simulations. Its state lives in a plain object that can
// outlive the storage, so a test can "restart" a node on the same state. Same rules as
// DiskStorage (call order, implicit truncation of conflicting appends, trailing, install).

import { decodeConfiguration, encodeConfiguration } from "../core/configuration-codec.js";
import type { Configuration, Entry, HardState, Snapshot } from "../core/types.js";
import { EntryType } from "../core/types.js";
import { type DiskStats, newDiskStats } from "./durable-fs.js";
import { snapshotBytes } from "./snapshot-data.js";
import {
  EntriesUnavailableError,
  invalidReadRange,
  type LoadedState,
  type RaftStorage,
  StorageClosedError,
  StorageStateError,
} from "./storage.js";

/** What a MemoryStorage keeps "on disk". */
export interface MemoryStorageState {
  hardState: HardState;
  snapshot: Snapshot | null;
  /** Index of entries[0]. */
  startIndex: number;
  entries: Entry[];
}

export function emptyMemoryState(): MemoryStorageState {
  return { hardState: { term: 0, votedFor: 0n }, snapshot: null, startIndex: 1, entries: [] };
}

export class MemoryStorage implements RaftStorage {
  readonly stats: DiskStats = newDiskStats();
  readonly state: MemoryStorageState;
  #phase: "new" | "loaded" | "closed" = "new";

  constructor(state: MemoryStorageState = emptyMemoryState()) {
    this.state = state;
  }

  async load(): Promise<LoadedState> {
    if (this.#phase !== "new") throw new StorageStateError("load() must be called once, first");
    this.#phase = "loaded";
    const { hardState, snapshot, startIndex, entries } = this.state;
    return {
      hardState: { ...hardState },
      snapshot,
      startIndex,
      entries: [...entries],
      lastConfiguration: lastConfigurationOf(entries, snapshot),
    };
  }

  async bootstrap(configuration: Configuration): Promise<void> {
    this.#check();
    if (
      this.state.hardState.term !== 0 ||
      this.#lastIndex() !== 0 ||
      this.state.snapshot !== null
    ) {
      throw new StorageStateError("cannot bootstrap: this node already has state");
    }
    this.state.hardState = { term: 1, votedFor: 0n };
    this.state.entries.push(changeEntry(1, configuration));
    this.stats.syncs += 2;
  }

  async recover(configuration: Configuration): Promise<void> {
    this.#check();
    this.state.entries.push(changeEntry(this.#lastIndex() + 1, configuration));
    this.stats.syncs++;
  }

  async setHardState(state: HardState): Promise<void> {
    this.#check();
    this.state.hardState = { ...state };
    this.stats.syncs++;
  }

  async append(entries: readonly Entry[]): Promise<void> {
    this.#check();
    if (entries.length === 0) return;
    const first = entries[0].index;
    entries.forEach((entry, i) => {
      if (entry.index !== first + i)
        throw new StorageStateError(`entries are not contiguous at index ${entry.index}`);
      if (entry.data.length % 8 !== 0)
        throw new RangeError(`entry ${entry.index} is not a multiple of 8 bytes`);
    });
    if (first > this.#lastIndex() + 1) {
      throw new StorageStateError(
        `append at ${first} leaves a gap after the last index ${this.#lastIndex()}`,
      );
    }
    // At once, not awaited, so that the append takes effect in call order (a readEntries called
    // right after it sees its entries).
    if (first <= this.#lastIndex()) this.#truncateNow(first);
    this.state.entries.push(...entries.map((entry) => ({ ...entry, data: entry.data.slice() })));
    this.stats.appendRequests++;
    this.stats.appendWrites++;
    this.stats.syncs++;
    this.stats.entriesAppended += entries.length;
  }

  async truncate(fromIndex: number): Promise<void> {
    this.#check();
    this.#truncateNow(fromIndex);
  }

  #truncateNow(fromIndex: number): void {
    const snapshotIndex = this.state.snapshot?.meta.index ?? 0;
    if (fromIndex <= snapshotIndex) {
      throw new StorageStateError(
        `cannot truncate at ${fromIndex}: entries up to ${snapshotIndex} are in a snapshot`,
      );
    }
    if (fromIndex > this.#lastIndex()) return;
    this.state.entries.length = Math.max(0, fromIndex - this.state.startIndex);
    this.stats.syncs++;
  }

  async putSnapshot(snapshot: Snapshot, trailing: number): Promise<void> {
    this.#check();
    if (snapshot.meta.index > this.#lastIndex()) {
      throw new StorageStateError(`snapshot at ${snapshot.meta.index} is past the log`);
    }
    let copy = copySnapshot(snapshot);
    if (copy instanceof Promise) copy = await copy;
    if (snapshot.meta.index > this.#lastIndex()) {
      throw new StorageStateError(`snapshot at ${snapshot.meta.index} is past the log`);
    }
    this.state.snapshot = copy;
    const keepFrom = Math.max(this.state.startIndex, snapshot.meta.index - trailing + 1);
    this.state.entries.splice(0, keepFrom - this.state.startIndex);
    this.state.startIndex = keepFrom;
    this.stats.syncs++;
  }

  async installSnapshot(snapshot: Snapshot): Promise<void> {
    this.#check();
    let copy = copySnapshot(snapshot);
    if (copy instanceof Promise) copy = await copy;
    this.state.snapshot = copy;
    this.state.entries = [];
    this.state.startIndex = snapshot.meta.index + 1;
    this.stats.syncs++;
  }

  async loadSnapshot(): Promise<Snapshot | null> {
    this.#check();
    return this.state.snapshot;
  }

  async readEntries(
    fromIndex: number,
    toIndex: number,
    maxBytes = Number.POSITIVE_INFINITY,
  ): Promise<Entry[]> {
    this.#check();
    const invalid = invalidReadRange(fromIndex, toIndex, maxBytes);
    if (invalid) throw invalid;
    const { startIndex, entries } = this.state;
    const lastIndex = this.#lastIndex();
    if (fromIndex < startIndex || fromIndex > lastIndex) {
      const stored =
        lastIndex < startIndex
          ? "no entry is stored"
          : `entries ${startIndex} to ${lastIndex} are stored`;
      throw new EntriesUnavailableError(fromIndex, stored);
    }
    const out: Entry[] = [];
    let bytes = 0;
    for (let index = fromIndex; index <= Math.min(toIndex, lastIndex); index++) {
      const entry = entries[index - startIndex];
      if (out.length > 0 && bytes + entry.data.length > maxBytes) break;
      out.push({ term: entry.term, index, type: entry.type, data: entry.data.slice() });
      bytes += entry.data.length;
    }
    return out;
  }

  async close(): Promise<void> {
    this.#phase = "closed";
  }

  #check(): void {
    if (this.#phase === "closed") throw new StorageClosedError();
    if (this.#phase === "new") throw new StorageStateError("load() has not been called");
  }

  #lastIndex(): number {
    return this.state.startIndex + this.state.entries.length - 1;
  }
}

/** A copy held in memory (bytes are copied at once; a stream is read whole first). */
function copySnapshot(snapshot: Snapshot): Snapshot | Promise<Snapshot> {
  const meta = { ...snapshot.meta, configuration: [...snapshot.meta.configuration] };
  const data = snapshot.data;
  if (data instanceof Uint8Array) return { meta, data: data.slice() };
  return snapshotBytes(data).then((bytes) => ({ meta, data: bytes }));
}

function changeEntry(index: number, configuration: Configuration): Entry {
  return { term: 1, index, type: EntryType.Change, data: encodeConfiguration(configuration) };
}

function lastConfigurationOf(
  entries: readonly Entry[],
  snapshot: Snapshot | null,
): { index: number; configuration: Configuration } | null {
  for (let i = entries.length - 1; i >= 0; i--) {
    if (entries[i].type === EntryType.Change) {
      return { index: entries[i].index, configuration: decodeConfiguration(entries[i].data) };
    }
  }
  return snapshot
    ? { index: snapshot.meta.configurationIndex, configuration: snapshot.meta.configuration }
    : null;
}
