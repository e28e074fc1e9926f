// Startup: reads a libraft uv data directory and tidies it (engine-internals §5.6), with our
// stricter rules where libraft 0.15 would lose acknowledged data or fail for no reason:
// - tmp- files and orphan snapshot halves are deleted; metadata follows libraft's rules.
// - Closed segments: any damage is a CorruptDataError naming the file and offset.
// - Open segments are read batch by batch. A bad batch is a torn final write (truncated, never
//   fatal) only if nothing valid follows it, in this segment or a later one; otherwise durable
//   data is damaged and that is a CorruptDataError. Open segments are then finalized into
//   closed ones like libraft does.
// - Two closed segments with the same first index are an interrupted truncation: the shorter is
//   the result, the longer is deleted.
// - Entries that contradict the snapshot (a different term at the snapshot's index) are a stale
//   history left by an interrupted snapshot install: never committed, deleted.
// - Auto-recovery quarantines (renames to corrupt-<ns>-<name>) a damaged closed segment only when
//   every entry it holds is covered by the newest snapshot, with all older segments; then the
//   load is retried once. Anything that might hold entries after the snapshot is never dropped.

import { decodeConfiguration } from "../core/configuration-codec.js";
import type { Configuration, Entry, HardState, Snapshot } from "../core/types.js";
import { EntryType } from "../core/types.js";
import {
  closedSegmentName,
  compareSegments,
  corruptName,
  METADATA_NAMES,
  parseSegmentName,
  type SegmentName,
  type SnapshotName,
  TMP_PREFIX,
} from "./data-dir-names.js";
import type { DurableDir } from "./durable-fs.js";
import { decodeMetadata, METADATA_BYTES } from "./metadata-format.js";
import {
  hasValidBatchAfter,
  readFormat,
  readSegmentBatches,
  SEGMENT_FORMAT,
} from "./segment-format.js";
import { listSnapshots, orphanSnapshotFiles, readSnapshot } from "./snapshot-files.js";
import { CorruptDataError, type LoadedState } from "./storage.js";

export interface ClosedSegment {
  name: string;
  firstIndex: number;
  lastIndex: number;
}

/** Everything DiskStorage needs to continue from where the directory left off. */
export interface LoadedDir extends LoadedState {
  metadataVersion: number;
  /** Closed segments on disk after load, oldest first (open ones were finalized). */
  closedSegments: ClosedSegment[];
  snapshots: SnapshotName[];
}

export interface LoadOptions {
  autoRecovery: boolean;
  maxSnapshotBytes: number;
  /** Bound on batches in one segment file (a guard against pathological files). */
  maxBatchesPerSegment: number;
}

export async function loadDataDir(dir: DurableDir, options: LoadOptions): Promise<LoadedDir> {
  try {
    return await loadOnce(dir, options);
  } catch (error) {
    if (!(error instanceof QuarantinedError)) throw error;
    // Something provably covered by the snapshot was set aside; the second pass must succeed.
    return await loadOnce(dir, { ...options, autoRecovery: false });
  }
}

class QuarantinedError extends Error {}

async function loadOnce(dir: DurableDir, options: LoadOptions): Promise<LoadedDir> {
  let names = await dir.list();
  let removed = false;
  for (const name of names) {
    if (name.startsWith(TMP_PREFIX)) {
      await dir.remove(name);
      removed = true;
    }
  }
  for (const name of orphanSnapshotFiles(names)) {
    await dir.remove(name);
    removed = true;
  }
  const metadata = await loadMetadata(dir);
  if (metadata.removed) removed = true;
  if (removed) {
    await dir.sync();
    names = await dir.list();
  }

  const snapshots = await listSnapshots(dir, names);
  const newest = snapshots.at(-1);
  const snapshot = newest ? await readSnapshot(dir, newest, options.maxSnapshotBytes) : null;
  const snapshotIndex = snapshot?.meta.index ?? 0;

  let segments = names.map(parseSegmentName).filter((s): s is SegmentName => s !== null);
  segments.sort(compareSegments);
  segments = await dropInterruptedTruncations(dir, segments);
  const kept = filterSegments(dir, segments, snapshotIndex);
  if (kept.length < segments.length) {
    // Segments before a gap, or wholly behind the snapshot with nothing after them: every entry
    // they hold is covered by the snapshot, so nothing needs them (libraft leaves them behind).
    for (const segment of segments) if (!kept.includes(segment)) await dir.remove(segment.name);
    await dir.sync();
    segments = kept;
  }

  let startIndex = 1;
  if (snapshot !== null) {
    const first = segments[0];
    startIndex =
      first === undefined || first.kind === "open" ? snapshotIndex + 1 : first.firstIndex;
  }

  const entries: Entry[] = [];
  const closedSegments: ClosedSegment[] = [];
  let nextIndex = startIndex;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    if (segment.kind === "closed") {
      if (segment.firstIndex !== nextIndex) {
        throw new CorruptDataError(
          dir.file(segment.name),
          null,
          `first index should have been ${nextIndex}`,
        );
      }
      let loaded: Entry[];
      try {
        loaded = await loadClosedSegment(dir, segment, options);
      } catch (error) {
        if (
          error instanceof CorruptDataError &&
          options.autoRecovery &&
          segment.lastIndex <= snapshotIndex
        ) {
          await quarantine(dir, segments.slice(0, i + 1));
          throw new QuarantinedError();
        }
        throw error;
      }
      for (const entry of loaded) entries.push(entry);
      closedSegments.push({
        name: segment.name,
        firstIndex: segment.firstIndex,
        lastIndex: segment.lastIndex,
      });
      nextIndex = segment.lastIndex + 1;
    } else {
      const later = segments.slice(i + 1);
      const loaded = await loadOpenSegment(dir, segment, nextIndex, later, options);
      if (loaded === null) continue;
      for (const entry of loaded.entries) entries.push(entry);
      closedSegments.push(loaded.closed);
      nextIndex = loaded.closed.lastIndex + 1;
    }
  }

  const lastIndex = startIndex + entries.length - 1;
  if (snapshot !== null && entries.length > 0) {
    if (lastIndex < snapshotIndex) {
      throw new CorruptDataError(
        dir.path,
        null,
        `last entry on disk has index ${lastIndex}, behind the snapshot at ${snapshotIndex}`,
      );
    }
    const atSnapshot = entries[snapshotIndex - startIndex];
    if (atSnapshot !== undefined && atSnapshot.term !== snapshot.meta.term) {
      // A stale history that an interrupted install did not finish deleting.
      for (const segment of closedSegments.reverse()) await dir.remove(segment.name);
      await dir.sync();
      return result(
        metadata.state,
        metadata.version,
        snapshot,
        snapshotIndex + 1,
        [],
        [],
        snapshots,
      );
    }
  }
  return result(
    metadata.state,
    metadata.version,
    snapshot,
    startIndex,
    entries,
    closedSegments,
    snapshots,
  );
}

function result(
  hardState: HardState,
  metadataVersion: number,
  snapshot: Snapshot | null,
  startIndex: number,
  entries: Entry[],
  closedSegments: ClosedSegment[],
  snapshots: SnapshotName[],
): LoadedDir {
  return {
    hardState,
    snapshot,
    startIndex,
    entries,
    lastConfiguration: lastConfigurationOf(entries, snapshot),
    metadataVersion,
    closedSegments,
    snapshots,
  };
}

function lastConfigurationOf(
  entries: Entry[],
  snapshot: Snapshot | null,
): { index: number; configuration: Configuration } | null {
  for (let i = entries.length - 1; i >= 0; i--) {
    const entry = entries[i];
    if (entry.type === EntryType.Change) {
      return { index: entry.index, configuration: decodeConfiguration(entry.data) };
    }
  }
  if (snapshot === null) return null;
  return { index: snapshot.meta.configurationIndex, configuration: snapshot.meta.configuration };
}

async function loadMetadata(
  dir: DurableDir,
): Promise<{ state: HardState; version: number; removed: boolean }> {
  let best: { version: number; term: number; votedFor: bigint } | null = null;
  let removed = false;
  const versions: number[] = [];
  for (const name of METADATA_NAMES) {
    const size = await dir.sizeOf(name);
    if (size === null) continue;
    if (size < METADATA_BYTES) {
      // A crash while the file was first written: it never held a state anybody relied on.
      await dir.remove(name);
      removed = true;
      continue;
    }
    const decoded = decodeMetadata(await dir.readFile(name));
    if (typeof decoded === "string") throw new CorruptDataError(dir.file(name), null, decoded);
    versions.push(decoded.version);
    if (best === null || decoded.version > best.version) best = decoded;
  }
  if (versions.length === 2 && versions[0] === versions[1]) {
    throw new CorruptDataError(
      dir.path,
      null,
      `metadata1 and metadata2 are both at version ${versions[0]}`,
    );
  }
  if (best === null) return { state: { term: 0, votedFor: 0n }, version: 0, removed };
  return { state: { term: best.term, votedFor: best.votedFor }, version: best.version, removed };
}

/** Closed segments sharing a first index: a truncation wrote the shorter one and then crashed. */
async function dropInterruptedTruncations(
  dir: DurableDir,
  segments: SegmentName[],
): Promise<SegmentName[]> {
  const kept: SegmentName[] = [];
  let removed = false;
  for (const segment of segments) {
    const previous = kept.at(-1);
    if (
      segment.kind === "closed" &&
      previous?.kind === "closed" &&
      previous.firstIndex === segment.firstIndex
    ) {
      // Sorted by (first, last): the previous one is the shorter, truncated result.
      await dir.remove(segment.name);
      removed = true;
      continue;
    }
    kept.push(segment);
  }
  if (removed) await dir.sync();
  return kept;
}

/** libraft's uvFilterSegments: keep the newest contiguous run of closed segments. */
function filterSegments(
  dir: DurableDir,
  segments: SegmentName[],
  snapshotIndex: number,
): SegmentName[] {
  const closed = segments.filter((s) => s.kind === "closed");
  const open = segments.filter((s) => s.kind === "open");
  if (closed.length === 0 || snapshotIndex === 0) return segments;
  const newest = closed[closed.length - 1];
  if (newest.lastIndex < snapshotIndex && open.length === 0) return [];
  let first = closed.length - 1;
  while (first > 0 && closed[first - 1].lastIndex === closed[first].firstIndex - 1) first--;
  if (closed[first].firstIndex > snapshotIndex + 1) {
    throw new CorruptDataError(
      dir.file(closed[first].name),
      null,
      `closed segment starts after the snapshot at ${snapshotIndex}: entries are missing`,
    );
  }
  return [...closed.slice(first), ...open];
}

async function loadClosedSegment(
  dir: DurableDir,
  segment: Extract<SegmentName, { kind: "closed" }>,
  options: LoadOptions,
): Promise<Entry[]> {
  const file = dir.file(segment.name);
  const bytes = await dir.readFile(segment.name);
  const format = readFormat(bytes);
  if (format === null) throw new CorruptDataError(file, 0, `file has only ${bytes.length} bytes`);
  if (format !== SEGMENT_FORMAT)
    throw new CorruptDataError(file, 0, `unexpected format version ${format}`);
  const read = readSegmentBatches(bytes, segment.firstIndex, options.maxBatchesPerSegment);
  if (read.stop) throw new CorruptDataError(file, read.stop.offset, read.stop.reason);
  const expected = segment.lastIndex - segment.firstIndex + 1;
  if (read.entries.length !== expected) {
    throw new CorruptDataError(
      file,
      null,
      `found ${read.entries.length} entries, expected ${expected}`,
    );
  }
  return read.entries;
}

/**
 * Loads an open segment, truncating a torn tail, and finalizes it into a closed segment.
 * Returns null when it held no entries (it is deleted).
 */
async function loadOpenSegment(
  dir: DurableDir,
  segment: Extract<SegmentName, { kind: "open" }>,
  firstIndex: number,
  later: SegmentName[],
  options: LoadOptions,
): Promise<{ entries: Entry[]; closed: ClosedSegment } | null> {
  const file = dir.file(segment.name);
  const bytes = await dir.readFile(segment.name);
  const format = readFormat(bytes);
  const unused =
    format === null ? bytes.every((b) => b === 0) : format === 0 && bytes.every((b) => b === 0);
  if (unused || format === null) {
    // Never written (preallocated), or a crash before its first write completed.
    await dir.remove(segment.name);
    await dir.sync();
    return null;
  }
  if (format !== SEGMENT_FORMAT)
    throw new CorruptDataError(file, 0, `unexpected format version ${format}`);
  const read = readSegmentBatches(bytes, firstIndex, options.maxBatchesPerSegment);
  if (read.stop && !read.stop.zeroCount) {
    if (hasValidBatchAfter(bytes, read.stop.offset) || (await laterSegmentHasData(dir, later))) {
      throw new CorruptDataError(
        file,
        read.stop.offset,
        `${read.stop.reason}, and valid data follows`,
      );
    }
  }
  if (read.entries.length === 0) {
    await dir.remove(segment.name);
    await dir.sync();
    return null;
  }
  const lastIndex = firstIndex + read.entries.length - 1;
  const name = closedSegmentName(firstIndex, lastIndex);
  await dir.truncateFile(segment.name, read.validBytes);
  await dir.rename(segment.name, name);
  await dir.sync();
  return {
    entries: compact(read.entries, bytes, read.validBytes),
    closed: { name, firstIndex, lastIndex },
  };
}

async function laterSegmentHasData(dir: DurableDir, later: SegmentName[]): Promise<boolean> {
  for (const segment of later) {
    const bytes = await dir.readFile(segment.name);
    if (readFormat(bytes) === SEGMENT_FORMAT && readSegmentBatches(bytes, 1, 1).entries.length > 0)
      return true;
  }
  return false;
}

/** Copies the used part of a (mostly zero, preallocated) file so entries do not pin all of it. */
function compact(entries: Entry[], bytes: Uint8Array, validBytes: number): Entry[] {
  if (validBytes * 2 > bytes.length) return entries;
  const copy = bytes.slice(0, validBytes);
  return entries.map((entry) => {
    const offset = entry.data.byteOffset - bytes.byteOffset;
    return { ...entry, data: copy.subarray(offset, offset + entry.data.length) };
  });
}

async function quarantine(dir: DurableDir, segments: SegmentName[]): Promise<void> {
  const unixNs = BigInt(Date.now()) * 1_000_000n;
  for (const segment of segments) await dir.rename(segment.name, corruptName(segment.name, unixNs));
  await dir.sync();
}
