// Reading and writing snapshot-T-I-M and snapshot-T-I-M.meta (engine-internals §5.4).
import type { Snapshot } from "../core/types.js";
import {
  compareSnapshots,
  metaNameOf,
  parseSnapshotName,
  type SnapshotName,
  snapshotName,
} from "./data-dir-names.js";
import type { DurableDir } from "./durable-fs.js";
import { isLz4Frame, lz4Compress, lz4Decompress } from "./lz4-frame.js";
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

export async function readSnapshot(
  dir: DurableDir,
  info: SnapshotName,
  maxBytes: number,
): Promise<Snapshot> {
  const metaFile = metaNameOf(info.name);
  const meta = decodeSnapshotMeta(await dir.readFile(metaFile));
  if (typeof meta === "string") throw new CorruptDataError(dir.file(metaFile), null, meta);
  let data = await dir.readFile(info.name);
  if (isLz4Frame(data)) {
    try {
      data = lz4Decompress(data, maxBytes);
    } catch (error) {
      throw new CorruptDataError(dir.file(info.name), null, `LZ4: ${(error as Error).message}`);
    }
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
  if (snapshot.data.length === 0) throw new RangeError("snapshot data is empty");
  const data = compress ? lz4Compress(snapshot.data) : snapshot.data;
  await dir.createFile(name, [data]);
  return { term, index, timestampMs, name };
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
