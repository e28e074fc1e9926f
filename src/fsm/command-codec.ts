// The commands dqlite 1.11 writes into raft entries (engine-internals §2.2-2.3), byte for byte.
// Every encoded command's length is a multiple of 8, as raft requires of entries.
import { DecodeError, pad8, Reader, textSizeBytes, utf8, Writer } from "./serialization.js";

const FORMAT = 1;
const ENVELOPE_BYTES = 8;
const TYPE_OPEN = 1;
const TYPE_FRAMES = 2;
const TYPE_UNDO = 3;
const TYPE_CHECKPOINT = 4;
const MAX_PAGE_SIZE_FIELD = 0xffff;

/** A decoded FRAMES command; `pages` are views into the decoded bytes (copy to keep them). */
export interface FramesCommand {
  readonly type: "frames";
  readonly filename: string;
  readonly txId: bigint;
  readonly truncate: number;
  readonly isCommit: boolean;
  readonly pageSizeBytes: number;
  readonly pageNumbers: readonly number[];
  readonly pages: readonly Uint8Array[];
}

/** Any dqlite FSM command. OPEN, UNDO and CHECKPOINT are legacy and apply as no-ops. */
export type Command =
  | { readonly type: "open"; readonly filename: string }
  | FramesCommand
  | { readonly type: "undo"; readonly txId: bigint }
  | { readonly type: "checkpoint"; readonly filename: string };

function envelope(writer: Writer, type: number): void {
  writer.u8(FORMAT);
  writer.u8(type);
  writer.u8(0);
  writer.u8(0);
  writer.u32(0);
}

function writeU32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value & 0xff;
  bytes[at + 1] = (value >>> 8) & 0xff;
  bytes[at + 2] = (value >>> 16) & 0xff;
  bytes[at + 3] = value >>> 24;
}

const MAX_CACHED_NAMES = 1024;
const nameCache = new Map<string, Uint8Array>();

/** UTF-8 of a database name; the few names a node uses are encoded once. */
function cachedUtf8(name: string): Uint8Array {
  let bytes = nameCache.get(name);
  if (bytes === undefined) {
    bytes = utf8(name);
    if (nameCache.size >= MAX_CACHED_NAMES) nameCache.clear();
    nameCache.set(name, bytes);
  }
  return bytes;
}

/** FRAMES: the pages of one committed transaction, in order (tx_id 0, truncate 0, is_commit 1). */
export function encodeFrames(
  filename: string,
  pageSizeBytes: number,
  pageNumbers: readonly number[],
  pages: readonly Uint8Array[],
): Uint8Array {
  if (pageNumbers.length !== pages.length) throw new RangeError("one page image per page number");
  if (pageSizeBytes > MAX_PAGE_SIZE_FIELD)
    throw new RangeError(`page size ${pageSizeBytes} does not fit a u16`);
  const name = cachedUtf8(filename);
  const n = pages.length;
  const nameBytes = textSizeBytes(name);
  const size = ENVELOPE_BYTES + nameBytes + 16 + 8 + 8 * n + pageSizeBytes * n;
  // Written byte by byte: this runs once per write transaction on the leader. The buffer
  // starts zeroed, so only non-zero fields are set.
  const bytes = new Uint8Array(size);
  bytes[0] = FORMAT;
  bytes[1] = TYPE_FRAMES;
  bytes.set(name, ENVELOPE_BYTES);
  let at = ENVELOPE_BYTES + nameBytes;
  bytes[at + 12] = 1; // tx_id 0, truncate 0, is_commit 1
  at += 16;
  writeU32(bytes, at, n);
  bytes[at + 4] = pageSizeBytes & 0xff;
  bytes[at + 5] = pageSizeBytes >>> 8;
  at += 8;
  for (const pageNumber of pageNumbers) {
    writeU32(bytes, at, pageNumber);
    at += 8;
  }
  for (const page of pages) {
    if (page.length !== pageSizeBytes) throw new RangeError("page image of the wrong size");
    bytes.set(page, at);
    at += pageSizeBytes;
  }
  return bytes;
}

/** OPEN (legacy, a no-op for every dqlite since 1.0). */
export function encodeOpen(filename: string): Uint8Array {
  const name = utf8(filename);
  const writer = new Writer(ENVELOPE_BYTES + textSizeBytes(name));
  envelope(writer, TYPE_OPEN);
  writer.text(name);
  return writer.bytes;
}

/** UNDO (legacy). */
export function encodeUndo(txId: bigint): Uint8Array {
  const writer = new Writer(ENVELOPE_BYTES + 8);
  envelope(writer, TYPE_UNDO);
  writer.u64(txId);
  return writer.bytes;
}

/** CHECKPOINT (legacy; 1.11 leaders still emit it after their WAL is checkpointed). */
export function encodeCheckpoint(filename: string): Uint8Array {
  const name = utf8(filename);
  const writer = new Writer(ENVELOPE_BYTES + textSizeBytes(name));
  envelope(writer, TYPE_CHECKPOINT);
  writer.text(name);
  return writer.bytes;
}

/** Decodes a raft entry's payload; throws `DecodeError` when it is not a valid command. */
export function decodeCommand(data: Uint8Array): Command {
  const reader = new Reader(data, "command");
  const format = reader.u8("format");
  if (format !== FORMAT) throw new DecodeError(`command: unknown format ${format}`);
  const type = reader.u8("type");
  reader.u8("unused");
  reader.u8("unused");
  reader.u32("unused");
  switch (type) {
    case TYPE_OPEN:
      return { type: "open", filename: reader.text("filename") };
    case TYPE_FRAMES:
      return decodeFrames(reader);
    case TYPE_UNDO:
      return { type: "undo", txId: reader.u64("tx_id") };
    case TYPE_CHECKPOINT:
      return { type: "checkpoint", filename: reader.text("filename") };
    default:
      throw new DecodeError(`command: unknown type ${type}`);
  }
}

/**
 * The database a FRAMES command is for, reading only its envelope and name; null for other
 * commands or bytes too short to tell. (A leader checks this before decoding its own entries.)
 */
export function framesFilename(data: Uint8Array): string | null {
  if (data.length < ENVELOPE_BYTES || data[0] !== FORMAT || data[1] !== TYPE_FRAMES) return null;
  const reader = new Reader(data, "command");
  reader.offset = ENVELOPE_BYTES;
  try {
    return reader.text("filename");
  } catch {
    return null;
  }
}

function decodeFrames(reader: Reader): FramesCommand {
  const filename = reader.text("filename");
  const txId = reader.u64("tx_id");
  const truncate = reader.u32("truncate");
  const isCommit = reader.u8("is_commit") !== 0;
  reader.u8("unused");
  reader.u16("unused");
  const n = reader.u32("n_pages");
  let pageSizeBytes = reader.u16("page_size");
  reader.u16("unused");
  if (n > 0 && pageSizeBytes === 0) {
    // The field cannot say 65536; the length can.
    pageSizeBytes = Math.floor((reader.remaining - 8 * n) / n);
  }
  if (n > 0 && (pageSizeBytes < 512 || (pageSizeBytes & (pageSizeBytes - 1)) !== 0)) {
    throw new DecodeError(`command: bad page size ${pageSizeBytes}`);
  }
  if (reader.remaining < n * (8 + pageSizeBytes)) {
    throw new DecodeError(
      `command: ${n} frames need ${n * (8 + pageSizeBytes)} bytes, ${reader.remaining} left`,
    );
  }
  const pageNumbers = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const pageNumber = reader.u64Number("page_number");
    if (pageNumber < 1 || pageNumber > 0xffffffff)
      throw new DecodeError(`command: bad page number ${pageNumber}`);
    pageNumbers[i] = pageNumber;
  }
  const pages = new Array<Uint8Array>(n);
  for (let i = 0; i < n; i++) pages[i] = reader.bytes(pageSizeBytes, "page");
  return { type: "frames", filename, txId, truncate, isCommit, pageSizeBytes, pageNumbers, pages };
}

/** Encoded size of a FRAMES command (for planning buffers and checking the 8-byte rule). */
export function framesSizeBytes(
  filename: string,
  pageSizeBytes: number,
  pageCount: number,
): number {
  return ENVELOPE_BYTES + pad8(utf8(filename).length + 1) + 24 + pageCount * (8 + pageSizeBytes);
}
