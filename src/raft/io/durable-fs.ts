// The few file-system steps the data directory needs, each made durable the way libraft's format
// expects (engine-internals §5.5), and counted so benchmarks can report syncs per entry.
import { constants } from "node:fs";
import { type FileHandle, open, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { TMP_PREFIX } from "./data-dir-names.js";

/** Counters of what reached the disk. */
export interface DiskStats {
  /** fsync/fdatasync calls, directory syncs, and O_DSYNC writes (each is one durable write). */
  syncs: number;
  /** Single writes that carried one or more append requests (group commits). */
  appendWrites: number;
  /** append() calls accepted. */
  appendRequests: number;
  entriesAppended: number;
  bytesWritten: number;
}

export function newDiskStats(): DiskStats {
  return { syncs: 0, appendWrites: 0, appendRequests: 0, entriesAppended: 0, bytesWritten: 0 };
}

export class DurableDir {
  readonly path: string;
  readonly stats: DiskStats;

  constructor(path: string, stats: DiskStats) {
    this.path = path;
    this.stats = stats;
  }

  file(name: string): string {
    return join(this.path, name);
  }

  async list(): Promise<string[]> {
    return (await readdir(this.path)).sort();
  }

  async sizeOf(name: string): Promise<number | null> {
    try {
      return (await stat(this.file(name))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  /** Makes creations, renames and removals in the directory durable. */
  async sync(): Promise<void> {
    const handle = await open(this.path, constants.O_RDONLY | constants.O_DIRECTORY);
    try {
      await handle.sync();
      this.stats.syncs++;
    } finally {
      await handle.close();
    }
  }

  /**
   * Creates `name` atomically: written to tmp-<name>, synced, renamed, directory synced. A crash
   * leaves either nothing (a tmp- file that startup deletes) or the whole file. Fails if `name`
   * exists, like libraft.
   */
  async createFile(name: string, pieces: readonly Uint8Array[]): Promise<void> {
    const tmp = TMP_PREFIX + name;
    const handle = await open(this.file(tmp), "wx");
    try {
      let position = 0;
      for (const piece of pieces) {
        await writeAll(handle, piece, position);
        position += piece.length;
      }
      this.stats.bytesWritten += position;
      await handle.sync();
      this.stats.syncs++;
    } catch (error) {
      await handle.close().catch(() => {});
      await rm(this.file(tmp), { force: true });
      throw error;
    }
    await handle.close();
    if ((await this.sizeOf(name)) !== null) {
      await rm(this.file(tmp), { force: true });
      throw new Error(`${this.file(name)} already exists`);
    }
    await rename(this.file(tmp), this.file(name));
    await this.sync();
  }

  /** Overwrites a small file in place (metadata): data sync, plus a directory sync if created. */
  async overwriteFile(name: string, bytes: Uint8Array): Promise<void> {
    const existed = (await this.sizeOf(name)) !== null;
    const handle = await open(this.file(name), constants.O_WRONLY | constants.O_CREAT);
    try {
      await writeAll(handle, bytes, 0);
      this.stats.bytesWritten += bytes.length;
      if (existed) await handle.datasync();
      else await handle.sync();
      this.stats.syncs++;
    } finally {
      await handle.close();
    }
    if (!existed) await this.sync();
  }

  async readFile(name: string): Promise<Uint8Array> {
    const handle = await open(this.file(name), "r");
    try {
      const { size } = await handle.stat();
      const bytes = new Uint8Array(size);
      let filled = 0;
      while (filled < size) {
        const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return filled === size ? bytes : bytes.subarray(0, filled);
    } finally {
      await handle.close();
    }
  }

  /** Removes files (missing ones are fine); the caller syncs the directory once afterwards. */
  async remove(name: string): Promise<void> {
    await rm(this.file(name), { force: true });
  }

  async rename(from: string, to: string): Promise<void> {
    await rename(this.file(from), this.file(to));
  }

  /** Shortens a file and syncs it (size is metadata, so a full sync). */
  async truncateFile(name: string, sizeBytes: number): Promise<void> {
    const handle = await open(this.file(name), constants.O_WRONLY);
    try {
      await handle.truncate(sizeBytes);
      await handle.sync();
      this.stats.syncs++;
    } finally {
      await handle.close();
    }
  }
}

export async function writeAll(
  handle: FileHandle,
  bytes: Uint8Array,
  position: number,
): Promise<void> {
  let written = 0;
  // Short writes are rare (disk full reports an error instead); the bound guards a stuck loop.
  for (let attempt = 0; written < bytes.length; attempt++) {
    if (attempt > 1000) throw new Error("write made no progress");
    const { bytesWritten } = await handle.write(
      bytes,
      written,
      bytes.length - written,
      position + written,
    );
    written += bytesWritten;
  }
}
