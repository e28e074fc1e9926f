// A segment's entries read back for readEntries (a leader sending entries whose data the raft
// core no longer keeps). The file is read once and its batches are parsed, checksums and all, only
// as far as reads need, a slice at a time: parsing a whole 8 MiB segment takes tens of ms here,
// while a catch-up read wants ~1 MiB of it, and the next read wants the next ~1 MiB. The open
// segment is read as it grows: only the bytes written since the previous read.
import type { Entry } from "../core/types.js";
import { FORMAT_BYTES, readBatch, readFormat, SEGMENT_FORMAT } from "./segment-format.js";
import { CorruptDataError } from "./storage.js";

/** Bytes parsed before letting the event loop run (about 1-2 ms of checksumming here). */
const SLICE_BYTES = 256 * 1024;

export interface SegmentSource {
  /** The file, for errors. */
  readonly file: string;
  /** Index of the first entry. */
  readonly firstIndex: number;
  /** The last index, when fixed (a closed segment); null while the segment still grows. */
  readonly lastIndex: number | null;
  /** The bytes from `position` on that are there to read now (empty when none). */
  readFrom(position: number): Promise<Uint8Array>;
}

export class SegmentEntries {
  /** What this holds the entries of (a closed segment's record, or the open segment). */
  readonly key: object;
  readonly source: SegmentSource;
  /** Parsed so far: entries[i] has index firstIndex + i; data are views into the bytes read. */
  readonly entries: Entry[] = [];
  #chunk: Uint8Array = new Uint8Array(0);
  /** File offset of #chunk[0]. */
  #chunkStart = 0;
  /** Next batch's offset in #chunk. */
  #offset = 0;

  constructor(key: object, source: SegmentSource) {
    this.key = key;
    this.source = source;
  }

  get nextIndex(): number {
    return this.source.firstIndex + this.entries.length;
  }

  /** The parsed entry at `index` (which must be below nextIndex). */
  at(index: number): Entry {
    return this.entries[index - this.source.firstIndex];
  }

  /**
   * Parses at least one more batch (reading more of the file first if all read bytes are parsed),
   * going on while under a slice of bytes and not yet past `through`. Returns false when there is
   * nothing more to parse. Throws CorruptDataError for a bad batch, or for a closed segment whose
   * entries do not match its name.
   */
  async parseMore(through: number): Promise<boolean> {
    if (this.#offset >= this.#chunk.length) {
      const position = this.#chunkStart + this.#chunk.length;
      const more = await this.source.readFrom(position);
      if (more.length === 0) {
        this.#checkComplete();
        return false;
      }
      let offset = 0;
      if (position === 0) {
        const format = readFormat(more);
        if (format !== SEGMENT_FORMAT) {
          throw new CorruptDataError(
            this.source.file,
            0,
            format === null ? `file has only ${more.length} bytes` : `unexpected format ${format}`,
          );
        }
        offset = FORMAT_BYTES;
      }
      this.#chunk = more;
      this.#chunkStart = position;
      this.#offset = offset;
      if (offset >= more.length) return this.parseMore(through);
    }
    const { lastIndex, file } = this.source;
    const start = this.#offset;
    do {
      const batch = readBatch(this.#chunk, this.#offset, this.nextIndex);
      if (!batch.ok)
        throw new CorruptDataError(file, this.#chunkStart + this.#offset, batch.reason);
      if (lastIndex !== null && this.nextIndex + batch.entries.length - 1 > lastIndex) {
        throw new CorruptDataError(
          file,
          this.#chunkStart + this.#offset,
          `holds entries after its last index ${lastIndex}`,
        );
      }
      for (const entry of batch.entries) this.entries.push(entry);
      this.#offset = batch.end;
    } while (
      this.#offset < this.#chunk.length &&
      this.#offset - start < SLICE_BYTES &&
      this.nextIndex <= through
    );
    if (this.#offset >= this.#chunk.length && lastIndex !== null) this.#checkComplete();
    if (this.#offset - start >= SLICE_BYTES) await new Promise((resolve) => setImmediate(resolve));
    return true;
  }

  #checkComplete(): void {
    const { lastIndex, firstIndex, file } = this.source;
    if (lastIndex !== null && this.nextIndex !== lastIndex + 1) {
      throw new CorruptDataError(
        file,
        null,
        `found ${this.entries.length} entries, expected ${lastIndex - firstIndex + 1}`,
      );
    }
  }
}

/** Copies entries into one buffer of their own (so they pin no segment bytes and share no memory). */
export function detachedEntries(entries: readonly Entry[]): Entry[] {
  let total = 0;
  for (const entry of entries) total += entry.data.length;
  const buffer = new Uint8Array(total);
  let offset = 0;
  return entries.map((entry) => {
    buffer.set(entry.data, offset);
    const data = buffer.subarray(offset, offset + entry.data.length);
    offset += entry.data.length;
    return { term: entry.term, index: entry.index, type: entry.type, data };
  });
}
