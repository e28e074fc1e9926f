// Shared helpers for storage tests: temporary data directories and recognisable entries.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Entry, EntryType, RaftRole, type Snapshot } from "../../../src/raft/core/types.js";
import { snapshotBytes } from "../../../src/raft/io/snapshot-data.js";

export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), "raft-io-test-"));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * An entry whose data (a multiple of 8 bytes) depends on its index, so mix-ups show, and has no
 * zero byte, so a zeroed tail always changes it.
 */
export function entry(index: number, term = 1, words = 2): Entry {
  const data = Uint8Array.from({ length: words * 8 }, (_, i) => ((index * 37 + i * 11) & 0xff) | 1);
  return { term, index, type: EntryType.Command, data };
}

export function entries(from: number, to: number, term = 1, words = 2): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term, words));
  return out;
}

export const CONFIGURATION = [
  { id: 1n, address: "127.0.0.1:9001", role: RaftRole.Voter },
  { id: 2n, address: "127.0.0.1:9002", role: RaftRole.Voter },
];

export function snapshot(index: number, term: number, sizeBytes = 4096): Snapshot {
  return {
    meta: { index, term, configuration: CONFIGURATION, configurationIndex: 1 },
    data: Uint8Array.from({ length: sizeBytes }, (_, i) => (i * 7 + index) & 0xff),
  };
}

/** A stored snapshot with its data read into memory (storage may hand back a stream). */
export async function inMemory(stored: Snapshot | null): Promise<Snapshot | null> {
  if (stored === null) return null;
  return { meta: stored.meta, data: await snapshotBytes(stored.data) };
}

/** Entries compared by what a reader cares about (data as plain arrays for readable diffs). */
export function plain(list: readonly Entry[]) {
  return list.map((e) => ({
    index: e.index,
    term: e.term,
    type: e.type,
    data: Buffer.from(e.data).toString("hex"),
  }));
}
