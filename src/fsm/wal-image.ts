// Reading a SQLite WAL image as dqlite 1.11 puts it in snapshots: the frames SQLite's own
// recovery would accept (right salts, checksum chain intact), up to the last commit frame.
// Formats are SQLite's (big-endian fields); see engine-internals §1.2.

const HEADER_BYTES = 32;
const FRAME_HEADER_BYTES = 24;
const MAGIC = 0x377f0682;
const FORMAT_VERSION = 3007000;

/** One frame of a committed transaction: a page number and a view of its image. */
export interface WalFrame {
  readonly pageNumber: number;
  readonly page: Uint8Array;
}

/** The committed content of a WAL image. */
export interface WalContent {
  /** 0 when the WAL header is missing or invalid (the WAL then counts as empty). */
  readonly pageSizeBytes: number;
  /** Frames of every committed transaction, in order (later frames win). */
  readonly frames: readonly WalFrame[];
  /** Database size in pages after the last committed transaction; null if none committed. */
  readonly pageCount: number | null;
}

const EMPTY: WalContent = { pageSizeBytes: 0, frames: [], pageCount: null };

/**
 * Cumulative WAL checksum over `data` (a multiple of 8 bytes): pairs of 32-bit words, read
 * big-endian when `bigEndian`, else little-endian; `s1 += w0 + s2; s2 += w1 + s1` mod 2^32.
 */
export function walChecksum(
  view: DataView,
  offset: number,
  sizeBytes: number,
  bigEndian: boolean,
  seed: readonly [number, number],
): [number, number] {
  let s1 = seed[0];
  let s2 = seed[1];
  const littleEndian = !bigEndian;
  for (let at = offset; at < offset + sizeBytes; at += 8) {
    s1 = (s1 + view.getUint32(at, littleEndian) + s2) >>> 0;
    s2 = (s2 + view.getUint32(at + 4, littleEndian) + s1) >>> 0;
  }
  return [s1, s2];
}

function validPageSize(size: number): boolean {
  return size >= 512 && size <= 65536 && (size & (size - 1)) === 0;
}

/** Parses a WAL image; frames after the last valid commit frame are ignored, as SQLite does. */
export function readWal(wal: Uint8Array): WalContent {
  if (wal.length < HEADER_BYTES) return EMPTY;
  const view = new DataView(wal.buffer, wal.byteOffset, wal.byteLength);
  const magic = view.getUint32(0);
  if ((magic & 0xfffffffe) !== MAGIC) return EMPTY;
  const bigEndian = (magic & 1) === 1;
  if (view.getUint32(4) !== FORMAT_VERSION) return EMPTY;
  const pageSizeBytes = view.getUint32(8);
  if (!validPageSize(pageSizeBytes)) return EMPTY;
  let checksum = walChecksum(view, 0, 24, bigEndian, [0, 0]);
  if (checksum[0] !== view.getUint32(24) || checksum[1] !== view.getUint32(28)) return EMPTY;
  const salt1 = view.getUint32(16);
  const salt2 = view.getUint32(20);

  const frames: WalFrame[] = [];
  let committedFrames = 0;
  let pageCount: number | null = null;
  const frameBytes = FRAME_HEADER_BYTES + pageSizeBytes;
  for (let at = HEADER_BYTES; at + frameBytes <= wal.length; at += frameBytes) {
    const pageNumber = view.getUint32(at);
    const commitSize = view.getUint32(at + 4);
    if (pageNumber === 0) break;
    if (view.getUint32(at + 8) !== salt1 || view.getUint32(at + 12) !== salt2) break;
    checksum = walChecksum(view, at, 8, bigEndian, checksum);
    checksum = walChecksum(view, at + FRAME_HEADER_BYTES, pageSizeBytes, bigEndian, checksum);
    if (checksum[0] !== view.getUint32(at + 16) || checksum[1] !== view.getUint32(at + 20)) break;
    frames.push({ pageNumber, page: wal.subarray(at + FRAME_HEADER_BYTES, at + frameBytes) });
    if (commitSize !== 0) {
      committedFrames = frames.length;
      pageCount = commitSize;
    }
  }
  frames.length = committedFrames;
  return { pageSizeBytes, frames, pageCount };
}

/**
 * Builds a WAL image of committed transactions (tests and tools: real dqlite 1.11 snapshots
 * carry one). Checksums use little-endian words, as dqlite on x86-64 writes them.
 */
export function writeWal(
  pageSizeBytes: number,
  transactions: readonly { readonly frames: readonly WalFrame[]; readonly pageCount: number }[],
  salts: readonly [number, number] = [0x01020304, 0x05060708],
): Uint8Array {
  const frameCount = transactions.reduce((n, t) => n + t.frames.length, 0);
  const frameBytes = FRAME_HEADER_BYTES + pageSizeBytes;
  const wal = new Uint8Array(HEADER_BYTES + frameCount * frameBytes);
  const view = new DataView(wal.buffer);
  view.setUint32(0, MAGIC);
  view.setUint32(4, FORMAT_VERSION);
  view.setUint32(8, pageSizeBytes);
  view.setUint32(12, 0);
  view.setUint32(16, salts[0]);
  view.setUint32(20, salts[1]);
  let checksum = walChecksum(view, 0, 24, false, [0, 0]);
  view.setUint32(24, checksum[0]);
  view.setUint32(28, checksum[1]);
  let at = HEADER_BYTES;
  for (const transaction of transactions) {
    transaction.frames.forEach((frame, i) => {
      const last = i === transaction.frames.length - 1;
      view.setUint32(at, frame.pageNumber);
      view.setUint32(at + 4, last ? transaction.pageCount : 0);
      view.setUint32(at + 8, salts[0]);
      view.setUint32(at + 12, salts[1]);
      wal.set(frame.page, at + FRAME_HEADER_BYTES);
      checksum = walChecksum(view, at, 8, false, checksum);
      checksum = walChecksum(view, at + FRAME_HEADER_BYTES, pageSizeBytes, false, checksum);
      view.setUint32(at + 16, checksum[0]);
      view.setUint32(at + 20, checksum[1]);
      at += frameBytes;
    });
  }
  return wal;
}
