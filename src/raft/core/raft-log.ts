// The in-memory log: what the core knows of its entries, like libraft's in-memory log.
//
// Entries live here from the last snapshot's trailing window up to the last index; the driver
// keeps the durable copy. Index `snapshotIndex` may be below the first entry (after compaction
// the snapshot's own term is remembered) or inside the entries (trailing entries kept).
//
// The data of old applied commands is dropped (`dropData`): their slots then hold stand-ins with
// index, term and size only, so terms still answer consistency checks and flow control still
// counts bytes, while a lagging follower's entries are read back from storage by the driver.
// Memory then holds the newest few MiB of entry data instead of everything since the snapshot.
import { invariant } from "./errors.js";
import { type Entry, EntryType } from "./types.js";

const NO_DATA = new Uint8Array(0);

/** Bytes an entry costs on the wire and in flow control: its data plus libraft's 16-byte header. */
export function entrySizeBytes(entry: Entry): number {
  return (entry.droppedDataBytes ?? entry.data.length) + 16;
}

export class RaftLog {
  /**
   * Entries are `#buffer[#head..]`; dropping from the front moves `#head` and clears the slots
   * (a dropped entry's data must not stay reachable until the array is next compacted).
   */
  #buffer: (Entry | undefined)[] = [];
  #head = 0;
  #firstIndex: number;
  #snapshotIndex: number;
  #snapshotTerm: number;
  /** Entries at or below this index had their command data dropped (a prefix of the log). */
  #droppedThrough: number;
  /** Data bytes held by entries above `#droppedThrough`. */
  #heldBytes = 0;

  constructor(snapshotIndex = 0, snapshotTerm = 0, firstIndex = snapshotIndex + 1) {
    invariant(firstIndex >= 1 && firstIndex <= snapshotIndex + 1, "log starts after its snapshot");
    this.#snapshotIndex = snapshotIndex;
    this.#snapshotTerm = snapshotTerm;
    this.#firstIndex = firstIndex;
    this.#droppedThrough = firstIndex - 1;
  }

  /** Data bytes of the entries whose data is still in memory (the dropped ones hold none). */
  get heldBytes(): number {
    return this.#heldBytes;
  }

  /** Entries at or below this index may be stand-ins without their data. */
  get droppedThrough(): number {
    return this.#droppedThrough;
  }

  get snapshotIndex(): number {
    return this.#snapshotIndex;
  }

  get snapshotTerm(): number {
    return this.#snapshotTerm;
  }

  /** Index of the first entry held in memory (lastIndex + 1 when none). */
  get firstIndex(): number {
    return this.#firstIndex;
  }

  get length(): number {
    return this.#buffer.length - this.#head;
  }

  get lastIndex(): number {
    const n = this.length;
    return n > 0 ? this.#firstIndex + n - 1 : Math.max(this.#snapshotIndex, this.#firstIndex - 1);
  }

  get lastTerm(): number {
    return this.termAt(this.lastIndex);
  }

  /** The term of the entry at `index`, or 0 when this log does not know it. */
  termAt(index: number): number {
    if (index >= this.#firstIndex) {
      const entry = this.#buffer[this.#head + index - this.#firstIndex];
      if (entry !== undefined) return entry.term;
    }
    return index === this.#snapshotIndex ? this.#snapshotTerm : 0;
  }

  /** The entry at `index` if it is held in memory. */
  get(index: number): Entry | undefined {
    if (index < this.#firstIndex) return undefined;
    return this.#buffer[this.#head + index - this.#firstIndex];
  }

  append(entry: Entry): void {
    if (this.length === 0) {
      // An empty log takes its next entry after the snapshot, or (when loading entries that
      // trail the snapshot) at its first index.
      invariant(
        entry.index === this.lastIndex + 1 || entry.index === this.#firstIndex,
        `append ${entry.index} to an empty log at ${this.#firstIndex}/${this.lastIndex}`,
      );
      this.#firstIndex = entry.index;
    } else {
      invariant(
        entry.index === this.lastIndex + 1,
        `append ${entry.index} after ${this.lastIndex}`,
      );
    }
    this.#buffer.push(entry);
    this.#heldBytes += entry.data.length;
  }

  /**
   * Drops the data of entries up to `throughIndex` (applied and durable, so storage has them),
   * oldest first, until at most `keepBytes` of data remain held. Commands become stand-ins; other
   * entries (barriers, configurations: a few bytes) keep their data.
   */
  dropData(throughIndex: number, keepBytes: number): void {
    const last = Math.min(throughIndex, this.lastIndex);
    let index = Math.max(this.#droppedThrough, this.#firstIndex - 1) + 1;
    while (index <= last && this.#heldBytes > keepBytes) {
      const slot = this.#head + index - this.#firstIndex;
      const entry = this.#buffer[slot]!;
      this.#heldBytes -= entry.data.length;
      if (entry.type === EntryType.Command) {
        // A new object: the old one may still be on its way to the FSM or a follower.
        this.#buffer[slot] = {
          term: entry.term,
          index: entry.index,
          type: entry.type,
          data: NO_DATA,
          droppedDataBytes: entry.data.length,
        };
      }
      this.#droppedThrough = index;
      index++;
    }
  }

  /**
   * Entries from `fromIndex` to `toIndex` (inclusive), stopping once `maxBytes` are reached but
   * always returning at least one entry when any is in range.
   */
  slice(fromIndex: number, toIndex: number, maxBytes = Number.POSITIVE_INFINITY): Entry[] {
    invariant(fromIndex >= this.#firstIndex, `slice from ${fromIndex} below ${this.#firstIndex}`);
    const last = Math.min(toIndex, this.lastIndex);
    const out: Entry[] = [];
    let bytes = 0;
    for (let index = fromIndex; index <= last; index++) {
      const entry = this.#buffer[this.#head + index - this.#firstIndex]!;
      bytes += entrySizeBytes(entry);
      if (out.length > 0 && bytes > maxBytes) break;
      out.push(entry);
    }
    return out;
  }

  /** Drops every entry at `fromIndex` and after. Never touches the snapshot. */
  truncate(fromIndex: number): void {
    invariant(fromIndex > this.#snapshotIndex, `truncate ${fromIndex} at or below snapshot`);
    if (fromIndex > this.lastIndex) return;
    invariant(fromIndex >= this.#firstIndex, "truncate below the first entry");
    invariant(fromIndex > this.#droppedThrough, `truncate ${fromIndex} of dropped data`);
    for (let index = fromIndex; index <= this.lastIndex; index++) {
      this.#heldBytes -= this.get(index)!.data.length;
    }
    this.#buffer.length = this.#head + (fromIndex - this.#firstIndex);
  }

  /** Replaces the whole log by a snapshot point (InstallSnapshot). */
  restore(snapshotIndex: number, snapshotTerm: number): void {
    this.#buffer = [];
    this.#head = 0;
    this.#snapshotIndex = snapshotIndex;
    this.#snapshotTerm = snapshotTerm;
    this.#firstIndex = snapshotIndex + 1;
    this.#droppedThrough = snapshotIndex;
    this.#heldBytes = 0;
  }

  /**
   * Records a snapshot at `index` and releases the entries before it except the newest
   * `trailing`, and of those only as many as hold at most `trailingBytes` of data.
   */
  compact(index: number, trailing: number, trailingBytes = Number.POSITIVE_INFINITY): void {
    const term = this.termAt(index);
    invariant(term > 0, `snapshot at ${index} which the log does not hold`);
    invariant(index >= this.#snapshotIndex, "snapshot older than the current one");
    this.#snapshotIndex = index;
    this.#snapshotTerm = term;
    let keepFrom = Math.max(this.#firstIndex, index - trailing + 1);
    if (trailingBytes !== Number.POSITIVE_INFINITY) {
      let bytes = 0;
      let from = Math.min(index, this.lastIndex) + 1;
      while (from > keepFrom) {
        bytes += this.get(from - 1)!.data.length;
        if (bytes > trailingBytes) break;
        from--;
      }
      keepFrom = from;
    }
    const drop = Math.min(keepFrom - this.#firstIndex, this.length);
    if (drop <= 0) return;
    const lastDropped = this.#firstIndex + drop - 1;
    for (let index = this.#droppedThrough + 1; index <= lastDropped; index++) {
      this.#heldBytes -= this.get(index)!.data.length;
    }
    if (this.#droppedThrough < lastDropped) this.#droppedThrough = lastDropped;
    this.#buffer.fill(undefined, this.#head, this.#head + drop);
    this.#head += drop;
    this.#firstIndex += drop;
    if (this.#head > 1024 && this.#head > this.#buffer.length / 2) {
      this.#buffer = this.#buffer.slice(this.#head);
      this.#head = 0;
    }
  }
}
