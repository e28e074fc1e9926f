// Segment file contents in libraft's uv format (engine-internals §5.3): a u64 format word (1),
// then batches. A batch is what one write appended:
//   u32 crc(header), u32 crc(data), u64 n, n × {u64 term, u8 type, 3 unused, u32 length},
//   then the entries' data back to back (each length a multiple of 8, so no padding occurs).
// The CRCs are libraft's (crc32.ts). The 3 unused bytes are written as zeros and ignored on read
// (libraft leaves them uninitialised on the wire).
import { type Entry, EntryType } from "../core/types.js";
import { crc32 } from "./crc32.js";
import { readU64, viewOf, writeU64 } from "./little-endian.js";

export const SEGMENT_FORMAT = 1;
export const FORMAT_BYTES = 8;
const BATCH_PREAMBLE_BYTES = 16; // two CRCs and the count
const ENTRY_HEADER_BYTES = 16;

/** Size of the batch `encodeBatch` produces for these entries. */
export function batchBytes(entries: readonly Entry[]): number {
  let size = BATCH_PREAMBLE_BYTES + ENTRY_HEADER_BYTES * entries.length;
  for (const entry of entries) size += entry.data.length;
  return size;
}

/** Writes one batch holding `entries` into `out` at `offset`; returns the offset after it. */
export function encodeBatch(entries: readonly Entry[], out: Uint8Array, offset: number): number {
  if (entries.length === 0) throw new RangeError("a batch holds at least one entry");
  const view = viewOf(out);
  const headerStart = offset + 8;
  writeU64(view, headerStart, entries.length);
  let cursor = headerStart + 8;
  for (const entry of entries) {
    if (entry.data.length % 8 !== 0) {
      throw new RangeError(
        `entry ${entry.index} has ${entry.data.length} bytes, not a multiple of 8`,
      );
    }
    writeU64(view, cursor, entry.term);
    out[cursor + 8] = entry.type;
    out[cursor + 9] = 0;
    out[cursor + 10] = 0;
    out[cursor + 11] = 0;
    view.setUint32(cursor + 12, entry.data.length, true);
    cursor += ENTRY_HEADER_BYTES;
  }
  const dataStart = cursor;
  for (const entry of entries) {
    out.set(entry.data, cursor);
    cursor += entry.data.length;
  }
  view.setUint32(offset, crc32(out.subarray(headerStart, dataStart)), true);
  view.setUint32(offset + 4, crc32(out.subarray(dataStart, cursor)), true);
  return cursor;
}

/** One batch read back; entries' data are views into the segment bytes. */
export type BatchRead =
  | { ok: true; entries: Entry[]; end: number }
  | { ok: false; reason: string; zeroCount: boolean };

/**
 * Reads the batch at `offset`, numbering its entries from `firstIndex`. Never throws on bad bytes:
 * it says why the batch is not valid (a torn write, corruption, or the zeroed tail of a
 * preallocated segment, which reads as a count of 0).
 */
export function readBatch(bytes: Uint8Array, offset: number, firstIndex: number): BatchRead {
  const fail = (reason: string, zeroCount = false): BatchRead => ({ ok: false, reason, zeroCount });
  if (offset + BATCH_PREAMBLE_BYTES > bytes.length) {
    return fail(`short read: ${bytes.length - offset} bytes left for a batch preamble`);
  }
  const view = viewOf(bytes);
  const countHigh = view.getUint32(offset + 12, true);
  const count = view.getUint32(offset + 8, true);
  if (count === 0 && countHigh === 0) return fail("entries count in preamble is zero", true);
  const room = Math.floor((bytes.length - offset - BATCH_PREAMBLE_BYTES) / ENTRY_HEADER_BYTES);
  if (countHigh !== 0 || count > room) {
    return fail(`entries count ${countHigh * 2 ** 32 + count} does not fit the remaining bytes`);
  }
  const headerStart = offset + 8;
  const dataStart = headerStart + 8 + ENTRY_HEADER_BYTES * count;
  if (crc32(bytes.subarray(headerStart, dataStart)) !== view.getUint32(offset, true)) {
    return fail("header checksum mismatch");
  }
  let dataBytes = 0;
  for (let i = 0, cursor = headerStart + 8; i < count; i++, cursor += ENTRY_HEADER_BYTES) {
    const type = bytes[cursor + 8];
    if (type !== EntryType.Command && type !== EntryType.Barrier && type !== EntryType.Change) {
      return fail(`entry ${i} has unknown type ${type}`);
    }
    dataBytes += view.getUint32(cursor + 12, true);
  }
  const end = dataStart + dataBytes;
  if (end > bytes.length)
    return fail(`short read: batch data needs ${end - bytes.length} more bytes`);
  if (crc32(bytes.subarray(dataStart, end)) !== view.getUint32(offset + 4, true)) {
    return fail("data checksum mismatch");
  }
  const entries: Entry[] = [];
  let cursor = dataStart;
  for (let i = 0, header = headerStart + 8; i < count; i++, header += ENTRY_HEADER_BYTES) {
    const length = view.getUint32(header + 12, true);
    let term: number;
    try {
      term = readU64(view, header);
    } catch {
      return fail(`entry ${i} has a term beyond 2^53`);
    }
    entries.push({
      term,
      index: firstIndex + i,
      type: bytes[header + 8],
      data: bytes.subarray(cursor, cursor + length),
    });
    // libraft's reader steps over padding to 8; writers never need any (lengths are multiples of 8).
    cursor += length;
  }
  return { ok: true, entries, end };
}

/** Result of reading every batch of a segment file. */
export interface SegmentRead {
  entries: Entry[];
  /** Offset just past the last valid batch (where a torn tail starts). */
  validBytes: number;
  /** Why reading stopped before the end of the file, if it did. */
  stop?: { offset: number; reason: string; zeroCount: boolean };
}

/** Reads the batches of a segment whose format word was checked; stops at the first bad batch. */
export function readSegmentBatches(
  bytes: Uint8Array,
  firstIndex: number,
  maxBatches: number,
): SegmentRead {
  const entries: Entry[] = [];
  let offset = FORMAT_BYTES;
  for (let batches = 0; offset < bytes.length; batches++) {
    if (batches >= maxBatches) throw new Error(`more than ${maxBatches} batches in one segment`);
    const batch = readBatch(bytes, offset, firstIndex + entries.length);
    if (!batch.ok) {
      return {
        entries,
        validBytes: offset,
        stop: { offset, reason: batch.reason, zeroCount: batch.zeroCount },
      };
    }
    for (const entry of batch.entries) entries.push(entry);
    offset = batch.end;
  }
  return { entries, validBytes: offset };
}

/**
 * Whether any valid batch starts after `offset` (at an 8-byte boundary, where every batch starts).
 * A torn final write leaves none; finding one means data that was durably written is damaged.
 */
export function hasValidBatchAfter(bytes: Uint8Array, offset: number): boolean {
  for (
    let at = offset + 8;
    at + BATCH_PREAMBLE_BYTES + ENTRY_HEADER_BYTES <= bytes.length;
    at += 8
  ) {
    // Cheap filters first: a plausible count and an entry type, before any checksum.
    const countLow =
      bytes[at + 8] | (bytes[at + 9] << 8) | (bytes[at + 10] << 16) | (bytes[at + 11] << 24);
    const countHigh = bytes[at + 12] | bytes[at + 13] | bytes[at + 14] | bytes[at + 15];
    if (countLow === 0 || countHigh !== 0) continue;
    if (readBatch(bytes, at, 1).ok) return true;
  }
  return false;
}

/** The format word of a segment (-1 when it does not fit 32 bits), or null if it is too short. */
export function readFormat(bytes: Uint8Array): number | null {
  if (bytes.length < FORMAT_BYTES) return null;
  const view = viewOf(bytes);
  return view.getUint32(4, true) === 0 ? view.getUint32(0, true) : -1;
}
