// dqlite's snapshot encoding (engine-internals §2.5). We produce the merged shape of dqlite
// 1.17+ (main image only, wal_size 0), which 1.11 restores too; we read both that and the 1.11
// shape (main file + WAL image), merging the WAL's committed frames into the pages.
import { headerPageSize } from "../sqlite/index.js";
import { DecodeError, Reader, textSizeBytes, utf8, Writer } from "./serialization.js";
import { readWal } from "./wal-image.js";

const FORMAT = 1;

/** One database of a snapshot: its pages 1..n, all of one size. */
export interface SnapshotDatabase {
  readonly name: string;
  readonly pageSizeBytes: number;
  readonly pages: readonly Uint8Array[];
}

/**
 * Encodes databases as snapshot chunks: headers are new buffers, pages are the given arrays
 * (no copy). Concatenated, the chunks are the snapshot.
 */
export function encodeSnapshot(databases: readonly SnapshotDatabase[]): Uint8Array[] {
  const chunks: Uint8Array[] = [encodeSnapshotHeader(databases.length)];
  for (const database of databases) {
    chunks.push(
      encodeDatabaseHeader(database.name, database.pages.length * database.pageSizeBytes),
    );
    for (const page of database.pages) {
      if (page.length !== database.pageSizeBytes)
        throw new RangeError("page image of the wrong size");
      chunks.push(page);
    }
  }
  return chunks;
}

/** The snapshot's first 16 bytes: format and number of databases. */
export function encodeSnapshotHeader(databaseCount: number): Uint8Array {
  const header = new Writer(16);
  header.u64(FORMAT);
  header.u64(databaseCount);
  return header.bytes;
}

/** What precedes a database's main image in the merged shape: name, main size, WAL size 0. */
export function encodeDatabaseHeader(name: string, mainSizeBytes: number): Uint8Array {
  const bytes = utf8(name);
  const writer = new Writer(textSizeBytes(bytes) + 16);
  writer.text(bytes);
  writer.u64(mainSizeBytes);
  writer.u64(0);
  return writer.bytes;
}

/** Total size of snapshot chunks. */
export function chunksSizeBytes(chunks: readonly Uint8Array[]): number {
  let size = 0;
  for (const chunk of chunks) size += chunk.length;
  return size;
}

/** Joins chunks into one buffer. */
export function concatChunks(chunks: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunksSizeBytes(chunks));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/**
 * Decodes a snapshot of either shape into merged databases. Pages are views into `data`
 * (restoring copies them). Throws `DecodeError` on anything malformed; nothing is half-decoded.
 */
export function decodeSnapshot(data: Uint8Array): SnapshotDatabase[] {
  const reader = new Reader(data, "snapshot");
  const format = reader.u64("format");
  if (format !== BigInt(FORMAT)) throw new DecodeError(`snapshot: unknown format ${format}`);
  const count = reader.u64Number("database count");
  // Each database needs at least 24 header bytes: this bounds the loop by the input.
  if (count > reader.remaining / 24)
    throw new DecodeError(`snapshot: ${count} databases cannot fit`);
  const databases: SnapshotDatabase[] = [];
  const names = new Set<string>();
  for (let i = 0; i < count; i++) {
    const name = reader.text("filename");
    if (names.has(name)) throw new DecodeError(`snapshot: database ${name} appears twice`);
    names.add(name);
    const mainSize = reader.u64Number("main_size");
    const walSize = reader.u64Number("wal_size");
    const main = reader.bytes(mainSize, "main image");
    const wal = reader.bytes(walSize, "wal image");
    databases.push(mergeDatabase(name, main, wal));
  }
  return databases;
}

/** The format word every snapshot starts with. */
export const SNAPSHOT_FORMAT = FORMAT;

function mergeDatabase(name: string, main: Uint8Array, walImage: Uint8Array): SnapshotDatabase {
  const wal = readWal(walImage);
  const pageSizeBytes = main.length > 0 ? headerPageSize(main) : wal.pageSizeBytes;
  if (pageSizeBytes === 0) {
    if (main.length === 0 && wal.frames.length === 0) return { name, pageSizeBytes: 0, pages: [] };
    throw new DecodeError(`snapshot: database ${name} has no valid page size`);
  }
  if (main.length % pageSizeBytes !== 0) {
    throw new DecodeError(`snapshot: main image of ${name} is not a whole number of pages`);
  }
  if (wal.frames.length > 0 && wal.pageSizeBytes !== pageSizeBytes) {
    throw new DecodeError(`snapshot: WAL page size of ${name} differs from its database's`);
  }
  const pages: Uint8Array[] = [];
  for (let offset = 0; offset < main.length; offset += pageSizeBytes) {
    pages.push(main.subarray(offset, offset + pageSizeBytes));
  }
  // A page can only exist if the main image or some frame holds it: this bounds the array.
  const mostPages = pages.length + wal.frames.length;
  for (const frame of wal.frames) {
    if (frame.pageNumber > mostPages) {
      throw new DecodeError(
        `snapshot: WAL frame for page ${frame.pageNumber} of ${name} is out of range`,
      );
    }
    pages[frame.pageNumber - 1] = frame.page;
  }
  const pageCount = wal.pageCount ?? pages.length;
  if (pageCount > mostPages) throw new DecodeError(`snapshot: ${name} claims ${pageCount} pages`);
  pages.length = Math.min(pages.length, pageCount);
  for (let i = 0; i < pageCount; i++) {
    if (pages[i] === undefined)
      throw new DecodeError(`snapshot: page ${i + 1} of ${name} is missing`);
  }
  return { name, pageSizeBytes, pages };
}
