// Readers for the samples written by real dqlite 1.11 (test/fixtures/engine/README.md).
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { lz4Decompress } from "../../src/raft/io/lz4-frame.js";
import type { SqlValue } from "../../src/sqlite/index.js";

const DIR = new URL("../fixtures/engine/real-dqlite/", import.meta.url);

export interface LoggedEntry {
  readonly index: number;
  readonly data: Uint8Array;
}

/** Every COMMAND entry of the real node's log, in index order. */
export function realEntries(): LoggedEntry[] {
  const bundle = gunzipSync(readFileSync(new URL("entries.bin.gz", DIR)));
  const view = new DataView(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  const entries: LoggedEntry[] = [];
  for (let at = 0; at < bundle.length; ) {
    const index = view.getUint32(at, true);
    const length = view.getUint32(at + 4, true);
    entries.push({ index, data: new Uint8Array(bundle.subarray(at + 8, at + 8 + length)) });
    at += 8 + length;
  }
  return entries;
}

/** The snapshot raft wrote at index 1024, decompressed. */
export function realSnapshot(): { index: number; data: Uint8Array } {
  return { index: 1024, data: lz4Decompress(readFileSync(new URL("snapshot-1-1024.lz4", DIR))) };
}

/** The real node's answer to the model query after entry `index` (7 or 1046), line by line. */
export function expectedModel(index: 7 | 1046): string[] {
  const raw =
    index === 7
      ? readFileSync(new URL("expected-after-entry-7.txt", DIR))
      : gunzipSync(readFileSync(new URL("expected-after-entry-1046.txt.gz", DIR)));
  return raw
    .toString("utf8")
    .split("\n")
    .filter((line) => line !== "");
}

/** Rows formatted as the dqlite shell prints them ("key|value"). */
export function shellLines(rows: readonly SqlValue[][]): string[] {
  return rows.map((row) => row.map((value) => String(value)).join("|"));
}
