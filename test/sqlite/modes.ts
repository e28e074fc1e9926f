// The two ways a VFS keeps applied pages: in memory, or in files (disk mode) behind a page
// cache. Tests of behaviour both must share run once per mode; disk mode gets a cache of a few
// pages so that reads go through evictions and the file all the time.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import type { VfsOptions } from "../../src/sqlite/index.js";

export type StorageMode = "memory" | "disk";
export const MODES: readonly StorageMode[] = ["memory", "disk"];

const directories: string[] = [];
after(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

/** A fresh directory for a disk-mode VFS, removed after the file's tests. */
export function diskDirectory(): string {
  const directory = mkdtempSync(join(tmpdir(), "disk-mode-"));
  directories.push(directory);
  return directory;
}

/** VFS options for `mode` (disk mode: a new directory and a cache of 8 pages). */
export function vfsOptions(mode: StorageMode, options: VfsOptions = {}): VfsOptions {
  if (mode === "memory") return options;
  return { ...options, disk: { directory: diskDirectory(), cacheSizeBytes: 8 * 4096 } };
}

/** Registers `name` once per mode; the disk-mode run is named so. */
export function testBothModes(name: string, fn: (mode: StorageMode) => void | Promise<void>): void {
  for (const mode of MODES) test(mode === "memory" ? name : `${name} (disk mode)`, () => fn(mode));
}
