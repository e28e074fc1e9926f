// The last entry of a stopped node's raft log (go-dqlite's ReadLastEntryInfo): the step of a
// quorum-loss recovery that picks the member with the most recent data as the template.
import { DiskStorage } from "../raft/io/disk-storage.js";

/** Term and index of a log's last entry; 0/0 for an empty log. */
export interface LastEntryInfo {
  term: number;
  index: number;
}

/** True when entry `a` is strictly less recent than `b` (lower term, or same term and lower index). */
export function isBefore(a: LastEntryInfo, b: LastEntryInfo): boolean {
  return a.term < b.term || (a.term === b.term && a.index < b.index);
}

/**
 * Reads the last entry of the raft log in `dir` (the node must not be running): the last entry
 * on disk, else the snapshot's. Like libraft's load, it closes an open segment it finds.
 */
export async function readLastEntryInfo(dir: string): Promise<LastEntryInfo> {
  const storage = new DiskStorage(dir, { autoRecovery: false });
  try {
    const loaded = await storage.load();
    const last = loaded.entries.at(-1);
    if (last !== undefined) return { term: last.term, index: last.index };
    const snapshot = loaded.snapshot?.meta;
    if (snapshot !== undefined) return { term: snapshot.term, index: snapshot.index };
    return { term: 0, index: 0 };
  } finally {
    await storage.close();
  }
}
