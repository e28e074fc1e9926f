// Snapshot bytes in either form the core carries (SnapshotData): one buffer, or a stream of
// chunks read from wherever the bytes live. Large snapshots (a disk-mode database of gigabytes)
// are never joined into one buffer: storage writes them chunk by chunk, the transport sends
// them chunk by chunk, and a received one lands in a file (snapshot-spool.ts).
import { open, rm } from "node:fs/promises";
import type { SnapshotData, SnapshotStream } from "../core/types.js";

/** Chunk size for reading snapshot files and for batching small chunks into writes. */
export const SNAPSHOT_CHUNK_BYTES = 1024 * 1024;

/** Size of snapshot data in bytes. */
export function snapshotSizeBytes(data: SnapshotData): number {
  return data instanceof Uint8Array ? data.length : data.sizeBytes;
}

/** The bytes of snapshot data, chunk by chunk. */
export async function* snapshotChunks(data: SnapshotData): AsyncIterable<Uint8Array> {
  if (data instanceof Uint8Array) {
    if (data.length > 0) yield data;
    return;
  }
  yield* data.chunks();
}

/** Releases what streamed snapshot data holds (nothing for bytes). */
export function releaseSnapshot(data: SnapshotData): void {
  if (!(data instanceof Uint8Array)) data.release();
}

/**
 * Joins snapshot data into one buffer, checking its announced size; for small snapshots and
 * for what needs the whole (LZ4 compression, in-memory storage).
 */
export async function snapshotBytes(data: SnapshotData): Promise<Uint8Array> {
  if (data instanceof Uint8Array) return data;
  const out = new Uint8Array(data.sizeBytes);
  let filled = 0;
  for await (const chunk of data.chunks()) {
    if (filled + chunk.length > out.length) {
      throw new RangeError(`snapshot stream is longer than its ${data.sizeBytes} bytes`);
    }
    out.set(chunk, filled);
    filled += chunk.length;
  }
  if (filled !== out.length) {
    throw new RangeError(`snapshot stream ended at ${filled} of ${data.sizeBytes} bytes`);
  }
  return out;
}

/** A stream over chunks already in memory (shared, not copied). */
export function chunkedSnapshot(chunks: readonly Uint8Array[], release = () => {}): SnapshotStream {
  let sizeBytes = 0;
  for (const chunk of chunks) sizeBytes += chunk.length;
  let released = false;
  return {
    sizeBytes,
    async *chunks() {
      if (released) throw new Error("snapshot data was released");
      for (const chunk of chunks) if (chunk.length > 0) yield chunk;
    },
    release() {
      if (released) return;
      released = true;
      release();
    },
  };
}

/**
 * A stream over `sizeBytes` bytes of the file at `path` from `offset`. The file is opened at
 * each read (so a stream costs no descriptor while unread); `removeOnRelease` deletes it on
 * release (a received snapshot's temporary file).
 */
export function fileSnapshot(
  path: string,
  sizeBytes: number,
  options: { offset?: number; removeOnRelease?: boolean; onRelease?: () => void } = {},
): SnapshotStream {
  const offset = options.offset ?? 0;
  let released = false;
  return {
    sizeBytes,
    async *chunks() {
      if (released) throw new Error(`snapshot data ${path} was released`);
      const handle = await open(path, "r");
      try {
        let done = 0;
        while (done < sizeBytes) {
          // A fresh buffer per chunk: consumers may keep chunks (they are handed over).
          const chunk = new Uint8Array(Math.min(SNAPSHOT_CHUNK_BYTES, sizeBytes - done));
          let filled = 0;
          while (filled < chunk.length) {
            const { bytesRead } = await handle.read(
              chunk,
              filled,
              chunk.length - filled,
              offset + done + filled,
            );
            if (bytesRead === 0) {
              throw new Error(`${path} ends at ${done + filled} of ${sizeBytes} snapshot bytes`);
            }
            filled += bytesRead;
          }
          done += chunk.length;
          yield chunk;
        }
      } finally {
        await handle.close();
      }
    },
    release() {
      if (released) return;
      released = true;
      options.onRelease?.();
      if (options.removeOnRelease) rm(path, { force: true }).catch(() => {});
    },
  };
}

/**
 * Regroups chunks into pieces of at least `targetBytes` (except the last), so that a stream of
 * 4 KiB pages is written with a few large writes. Chunks at least that large pass through.
 */
export async function* coalesceChunks(
  chunks: AsyncIterable<Uint8Array>,
  targetBytes = SNAPSHOT_CHUNK_BYTES,
): AsyncIterable<Uint8Array> {
  let buffer: Uint8Array | null = null;
  let filled = 0;
  for await (const chunk of chunks) {
    if (filled === 0 && chunk.length >= targetBytes) {
      yield chunk;
      continue;
    }
    let input = chunk;
    while (input.length > 0) {
      buffer ??= new Uint8Array(targetBytes);
      const take = Math.min(input.length, targetBytes - filled);
      buffer.set(input.subarray(0, take), filled);
      filled += take;
      input = input.subarray(take);
      if (filled === targetBytes) {
        yield buffer;
        buffer = null;
        filled = 0;
      }
    }
  }
  if (buffer !== null && filled > 0) yield buffer.subarray(0, filled);
}
