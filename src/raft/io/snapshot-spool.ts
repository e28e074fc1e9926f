// Temporary files for large snapshots received from the leader: an InstallSnapshot carries the
// whole snapshot in one message (libraft's wire format), which can be larger than memory. The
// transport writes its payload here as it arrives and hands raft a stream over the file; the
// file goes away when raft releases the stream (stored and restored), when the connection dies
// half-way, or, for a stream dropped without release, when it is garbage collected.
import { closeSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import type { SnapshotStream } from "../core/types.js";
import { fileSnapshot } from "./snapshot-data.js";

/** Where a received payload is being written. */
export interface SpoolWriter {
  /** Appends received bytes (synchronously: the socket's chunks are small). */
  write(chunk: Uint8Array): void;
  /** All bytes arrived: the file as a stream, deleted on release. */
  finish(): SnapshotStream;
  /** The message will never complete: delete the file. */
  abandon(): void;
}

/** Files of received streams that were dropped without release. */
const unreleased = new FinalizationRegistry<string>((path) => {
  rmSync(path, { force: true });
});

export class SnapshotSpool {
  readonly directory: string;
  #counter = 0;

  /** Uses `directory` (created if needed), deleting what an earlier process left there. */
  constructor(directory: string) {
    this.directory = directory;
    mkdirSync(directory, { recursive: true });
    for (const name of readdirSync(directory)) {
      if (name.startsWith("received-")) rmSync(join(directory, name), { force: true });
    }
  }

  /** A new file to receive `sizeBytes` bytes into. */
  create(sizeBytes: number): SpoolWriter {
    this.#counter++;
    const path = join(this.directory, `received-${process.pid}-${this.#counter}`);
    let fd: number | null = openSync(path, "wx");
    let written = 0;
    const closeFile = () => {
      if (fd !== null) closeSync(fd);
      fd = null;
    };
    return {
      write(chunk) {
        if (fd === null) throw new Error(`${path} is closed`);
        if (written + chunk.length > sizeBytes) throw new RangeError(`${path}: payload too long`);
        let done = 0;
        // A bound on short writes: a disk that takes nothing fails here instead of spinning.
        for (let attempt = 0; done < chunk.length; attempt++) {
          if (attempt > 1000) throw new Error(`${path}: write made no progress`);
          done += writeSync(fd, chunk, done, chunk.length - done, written + done);
        }
        written += chunk.length;
      },
      finish() {
        closeFile();
        if (written !== sizeBytes) throw new RangeError(`${path}: ${written} of ${sizeBytes}`);
        const token = {};
        const stream = fileSnapshot(path, sizeBytes, {
          removeOnRelease: true,
          onRelease: () => unreleased.unregister(token),
        });
        unreleased.register(stream, path, token);
        return stream;
      },
      abandon() {
        closeFile();
        rmSync(path, { force: true });
      },
    };
  }
}
