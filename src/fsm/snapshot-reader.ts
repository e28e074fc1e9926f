// Decoding a snapshot (engine-internals §2.5, either shape) as its bytes stream in, without
// holding it whole: each database's main image goes to a page sink run by run as it arrives;
// its WAL image (small: 1.11 checkpoints at 1000 frames) is read whole, and its committed
// frames written over the pages. The checks are decodeSnapshot's: a snapshot refused here
// has already been refused there.
import { headerPageSize } from "../sqlite/index.js";
import { DecodeError } from "./serialization.js";
import { SNAPSHOT_FORMAT } from "./snapshot-codec.js";
import { readWal } from "./wal-image.js";

/** Where one database's pages go while the snapshot streams in. */
export interface PageSink {
  /** Whole pages from page `firstPage` on; `pages` is valid during the call only. */
  write(firstPage: number, pages: Uint8Array): void | Promise<void>;
  /** The snapshot was refused: forget what was written. */
  abandon(): void;
}

/** A database read from a snapshot: its pages went to `sink` (null for an empty database). */
export interface StreamedDatabase {
  readonly name: string;
  readonly pageSizeBytes: number;
  readonly pageCount: number;
  readonly sink: PageSink | null;
}

export interface SnapshotReadOptions {
  /** Opens the sink for a database's pages once its page size is known. */
  openSink(name: string, pageSizeBytes: number): PageSink;
  /** Largest WAL image read into memory (default 1 GiB). */
  maxWalBytes?: number;
}

/** Bytes of main image handed to a sink at once. */
const RUN_BYTES = 1024 * 1024;
const MAX_NAME_BYTES = 64 * 1024;
const MAX_DATABASES = 1 << 20;
const textDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * Reads a snapshot from `chunks`. On any error every sink opened is abandoned and the error
 * (a DecodeError for malformed bytes) propagates.
 */
export async function readSnapshotStream(
  chunks: AsyncIterable<Uint8Array>,
  options: SnapshotReadOptions,
): Promise<StreamedDatabase[]> {
  const reader = new ChunkReader(chunks);
  const databases: StreamedDatabase[] = [];
  const opened: PageSink[] = [];
  const openSink = (name: string, pageSizeBytes: number) => {
    const sink = options.openSink(name, pageSizeBytes);
    opened.push(sink);
    return sink;
  };
  try {
    const format = await reader.u64("format");
    if (format !== BigInt(SNAPSHOT_FORMAT)) {
      throw new DecodeError(`snapshot: unknown format ${format}`);
    }
    const count = await reader.u64Number("database count");
    // Each database takes at least 24 bytes, so a lying count ends in a short read; this
    // bound only keeps the result array sane.
    if (count > MAX_DATABASES) throw new DecodeError(`snapshot: ${count} databases`);
    const names = new Set<string>();
    for (let i = 0; i < count; i++) {
      const database = await readDatabase(reader, openSink, options.maxWalBytes ?? 2 ** 30);
      if (names.has(database.name)) {
        throw new DecodeError(`snapshot: database ${database.name} appears twice`);
      }
      names.add(database.name);
      databases.push(database);
    }
    return databases;
  } catch (error) {
    for (const sink of opened) sink.abandon();
    throw error;
  } finally {
    await reader.close();
  }
}

async function readDatabase(
  reader: ChunkReader,
  openSink: (name: string, pageSizeBytes: number) => PageSink,
  maxWalBytes: number,
): Promise<StreamedDatabase> {
  const name = await reader.text("filename");
  const mainSize = await reader.u64Number("main_size");
  const walSize = await reader.u64Number("wal_size");
  if (walSize > maxWalBytes) {
    throw new DecodeError(`snapshot: WAL image of ${name} (${walSize} bytes) is too large`);
  }
  let pageSizeBytes = 0;
  let sink: PageSink | null = null;
  let mainPages = 0;
  if (mainSize > 0) {
    // Page 1's header names the page size: read it before the rest of the image.
    const head = (await reader.read(Math.min(mainSize, 100), "main image")).slice();
    pageSizeBytes = headerPageSize(head);
    if (pageSizeBytes === 0 || mainSize % pageSizeBytes !== 0) {
      throw new DecodeError(`snapshot: main image of ${name} is not a whole number of pages`);
    }
    mainPages = mainSize / pageSizeBytes;
    sink = openSink(name, pageSizeBytes);
    const page1 = new Uint8Array(pageSizeBytes);
    page1.set(head);
    page1.set(await reader.read(pageSizeBytes - head.length, "main image"), head.length);
    await sink.write(1, page1);
    const pagesPerRun = Math.max(1, Math.floor(RUN_BYTES / pageSizeBytes));
    for (let next = 2; next <= mainPages; next += pagesPerRun) {
      const n = Math.min(pagesPerRun, mainPages - next + 1);
      await sink.write(next, await reader.read(n * pageSizeBytes, "main image"));
    }
  }
  const wal = readWal((await reader.read(walSize, "wal image")).slice());
  if (pageSizeBytes === 0) {
    if (wal.frames.length === 0) return { name, pageSizeBytes: 0, pageCount: 0, sink: null };
    pageSizeBytes = wal.pageSizeBytes;
    sink = openSink(name, pageSizeBytes);
  }
  if (wal.frames.length > 0 && wal.pageSizeBytes !== pageSizeBytes) {
    throw new DecodeError(`snapshot: WAL page size of ${name} differs from its database's`);
  }
  // A page can only exist if the main image or some frame holds it: this bounds the count.
  const mostPages = mainPages + wal.frames.length;
  const beyondMain = new Set<number>();
  for (const frame of wal.frames) {
    if (frame.pageNumber > mostPages) {
      throw new DecodeError(
        `snapshot: WAL frame for page ${frame.pageNumber} of ${name} is out of range`,
      );
    }
    if (frame.pageNumber > mainPages) beyondMain.add(frame.pageNumber);
  }
  const pageCount = wal.pageCount ?? mainPages;
  if (pageCount > mostPages) throw new DecodeError(`snapshot: ${name} claims ${pageCount} pages`);
  for (let n = mainPages + 1; n <= pageCount; n++) {
    if (!beyondMain.has(n)) throw new DecodeError(`snapshot: page ${n} of ${name} is missing`);
  }
  // In order: a later frame of the same page wins.
  for (const frame of wal.frames) await sink!.write(frame.pageNumber, frame.page);
  return { name, pageSizeBytes, pageCount, sink };
}

/** Reads fields and byte runs from a stream of chunks, across chunk boundaries. */
class ChunkReader {
  readonly #iterator: AsyncIterator<Uint8Array>;
  #chunk: Uint8Array = new Uint8Array(0);
  #offset = 0;
  #position = 0;

  constructor(chunks: AsyncIterable<Uint8Array>) {
    this.#iterator = chunks[Symbol.asyncIterator]();
  }

  /** Makes bytes available in the current chunk; false at the end of the stream. */
  async #fill(): Promise<boolean> {
    // Empty chunks are skipped; each turn consumes one chunk of the stream.
    while (this.#offset >= this.#chunk.length) {
      const next = await this.#iterator.next();
      if (next.done) return false;
      this.#chunk = next.value;
      this.#offset = 0;
    }
    return true;
  }

  /** The next `n` bytes: a view into a chunk when they lie in one, else a copy. */
  async read(n: number, field: string): Promise<Uint8Array> {
    if (n === 0) return new Uint8Array(0);
    if (!(await this.#fill())) this.#short(n, 0, field);
    if (this.#chunk.length - this.#offset >= n) {
      const view = this.#chunk.subarray(this.#offset, this.#offset + n);
      this.#offset += n;
      this.#position += n;
      return view;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (!(await this.#fill())) this.#short(n, filled, field);
      const take = Math.min(n - filled, this.#chunk.length - this.#offset);
      out.set(this.#chunk.subarray(this.#offset, this.#offset + take), filled);
      this.#offset += take;
      this.#position += take;
      filled += take;
    }
    return out;
  }

  #short(n: number, got: number, field: string): never {
    throw new DecodeError(
      `snapshot: ${field} needs ${n} bytes at offset ${this.#position}, the data ends after ${got}`,
    );
  }

  async u64(field: string): Promise<bigint> {
    const bytes = await this.read(8, field);
    return new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  }

  async u64Number(field: string): Promise<number> {
    const value = await this.u64(field);
    if (value > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new DecodeError(`snapshot: ${field} ${value} is out of range`);
    }
    return Number(value);
  }

  /** dqlite text: bytes, NUL, zero padding to a multiple of 8 (read a word at a time). */
  async text(field: string): Promise<string> {
    const parts: Uint8Array[] = [];
    let length = 0;
    for (;;) {
      const word = await this.read(8, field);
      const nul = word.indexOf(0);
      if (nul >= 0) {
        parts.push(word.subarray(0, nul));
        length += nul;
        break;
      }
      parts.push(word.slice());
      length += 8;
      if (length > MAX_NAME_BYTES) throw new DecodeError(`snapshot: ${field} is too long`);
    }
    const bytes = new Uint8Array(length);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    try {
      return textDecoder.decode(bytes);
    } catch {
      throw new DecodeError(`snapshot: ${field} is not valid UTF-8`);
    }
  }

  /** Stops the stream (its source closes a file it reads, for instance). */
  async close(): Promise<void> {
    await this.#iterator.return?.();
  }
}
