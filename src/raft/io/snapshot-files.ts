// Reading and writing snapshot-T-I-M and snapshot-T-I-M.meta (engine-internals §5.4).
import { open, rename, rm } from "node:fs/promises";
import type { Snapshot, SnapshotData } from "../core/types.js";
import {
  compareSnapshots,
  metaNameOf,
  parseSnapshotName,
  type SnapshotName,
  snapshotName,
  TMP_PREFIX,
} from "./data-dir-names.js";
import { type DurableDir, writeAll } from "./durable-fs.js";
import { isLz4Frame, lz4Compress, lz4Decompress } from "./lz4-frame.js";
import {
  coalesceChunks,
  fileSnapshot,
  snapshotBytes,
  snapshotChunks,
  snapshotSizeBytes,
} from "./snapshot-data.js";
import { decodeSnapshotMeta, encodeSnapshotMeta } from "./snapshot-meta-format.js";
import { CorruptDataError } from "./storage.js";

/** Snapshots whose .meta and non-empty data file both exist, oldest first. */
export async function listSnapshots(
  dir: DurableDir,
  names: readonly string[],
): Promise<SnapshotName[]> {
  const present = new Set(names);
  const snapshots: SnapshotName[] = [];
  for (const name of names) {
    const parsed = parseSnapshotName(name, true);
    if (parsed === null || !present.has(parsed.name)) continue;
    if (((await dir.sizeOf(parsed.name)) ?? 0) === 0) continue;
    snapshots.push(parsed);
  }
  return snapshots.sort(compareSnapshots);
}

/** Names of snapshot files missing their companion (interrupted writes), to delete at startup. */
export function orphanSnapshotFiles(names: readonly string[]): string[] {
  const present = new Set(names);
  const orphans: string[] = [];
  for (const name of names) {
    const data = parseSnapshotName(name, false);
    if (data !== null && !present.has(metaNameOf(name))) orphans.push(name);
    const meta = parseSnapshotName(name, true);
    if (meta !== null && !present.has(meta.name)) orphans.push(name);
  }
  return orphans;
}

/**
 * The snapshot `info` names. Uncompressed data stays in its file and is streamed from there (a
 * snapshot can be larger than memory); an LZ4 frame (libraft's compressed form) is decompressed
 * into memory, at most `maxBytes`.
 */
export async function readSnapshot(
  dir: DurableDir,
  info: SnapshotName,
  maxBytes: number,
): Promise<Snapshot> {
  const metaFile = metaNameOf(info.name);
  const meta = decodeSnapshotMeta(await dir.readFile(metaFile));
  if (typeof meta === "string") throw new CorruptDataError(dir.file(metaFile), null, meta);
  const path = dir.file(info.name);
  const handle = await open(path, "r");
  let sizeBytes: number;
  const magic = new Uint8Array(4);
  try {
    sizeBytes = (await handle.stat()).size;
    await handle.read(magic, 0, Math.min(4, sizeBytes), 0);
  } finally {
    await handle.close();
  }
  let data: SnapshotData;
  if (sizeBytes >= 4 && isLz4Frame(magic)) {
    try {
      data = lz4Decompress(await dir.readFile(info.name), maxBytes);
    } catch (error) {
      throw new CorruptDataError(path, null, `LZ4: ${(error as Error).message}`);
    }
  } else {
    data = fileSnapshot(path, sizeBytes);
  }
  return {
    meta: {
      index: info.index,
      term: info.term,
      configuration: meta.configuration,
      configurationIndex: meta.configurationIndex,
    },
    data,
  };
}

/**
 * Writes a snapshot's .meta then its data, each through a tmp- file (so a crash leaves an orphan
 * that startup deletes, never a half file). Returns the new snapshot's name.
 */
export async function writeSnapshot(
  dir: DurableDir,
  snapshot: Snapshot,
  timestampMs: number,
  compress: boolean,
): Promise<SnapshotName> {
  const { index, term, configuration, configurationIndex } = snapshot.meta;
  const name = snapshotName(term, index, timestampMs);
  await dir.createFile(metaNameOf(name), [
    encodeSnapshotMeta({ configuration, configurationIndex }),
  ]);
  // An empty data file would not count as a snapshot on load; libraft never writes one either.
  if (snapshotSizeBytes(snapshot.data) === 0) throw new RangeError("snapshot data is empty");
  if (compress) {
    // The LZ4 encoder needs the whole content (libraft's snapshots are compressed whole too).
    await dir.createFile(name, [lz4Compress(await snapshotBytes(snapshot.data))]);
  } else {
    await createFileFromChunks(
      dir,
      name,
      coalesceChunks(snapshotChunks(snapshot.data)),
      snapshotSizeBytes(snapshot.data),
    );
  }
  return { term, index, timestampMs, name };
}

/**
 * As DurableDir.createFile, for content that arrives as a stream: tmp-<name>, written chunk by
 * chunk, synced, renamed, directory synced. Checks that exactly `sizeBytes` arrived.
 */
async function createFileFromChunks(
  dir: DurableDir,
  name: string,
  chunks: AsyncIterable<Uint8Array>,
  sizeBytes: number,
): Promise<void> {
  const tmp = dir.file(TMP_PREFIX + name);
  const handle = await open(tmp, "wx");
  try {
    let position = 0;
    for await (const chunk of chunks) {
      if (position + chunk.length > sizeBytes) {
        throw new RangeError(`snapshot data is longer than its ${sizeBytes} bytes`);
      }
      await writeAll(handle, chunk, position);
      position += chunk.length;
    }
    if (position !== sizeBytes) {
      throw new RangeError(`snapshot data ended at ${position} of ${sizeBytes} bytes`);
    }
    dir.stats.bytesWritten += position;
    await handle.sync();
    dir.stats.syncs++;
  } catch (error) {
    await handle.close().catch(() => {});
    await rm(tmp, { force: true });
    throw error;
  }
  await handle.close();
  if ((await dir.sizeOf(name)) !== null) {
    await rm(tmp, { force: true });
    throw new Error(`${dir.file(name)} already exists`);
  }
  await rename(tmp, dir.file(name));
  await dir.sync();
}

/** Deletes all but the newest `keep` snapshots (libraft keeps two). The caller syncs the dir. */
export async function pruneSnapshots(
  dir: DurableDir,
  snapshots: SnapshotName[],
  keep: number,
): Promise<SnapshotName[]> {
  const sorted = [...snapshots].sort(compareSnapshots);
  const doomed = sorted.slice(0, Math.max(0, sorted.length - keep));
  for (const snapshot of doomed) {
    await dir.remove(metaNameOf(snapshot.name));
    await dir.remove(snapshot.name);
  }
  return sorted.slice(doomed.length);
}
