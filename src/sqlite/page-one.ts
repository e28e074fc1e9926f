// Facts about the SQLite database header on page 1 that the engine relies on.

/** Offsets of the two file-format bytes: 1 = rollback journal, 2 = WAL. */
export const WRITE_VERSION_OFFSET = 18;
export const READ_VERSION_OFFSET = 19;
/** The 4-byte change counter; SQLite's pager compares the 16 bytes starting here. */
export const CHANGE_COUNTER_OFFSET = 24;
export const FILE_VERSION_BYTES = 16;
/** In-header database size in pages (big-endian u32). */
export const PAGE_COUNT_OFFSET = 28;

const ROLLBACK_FORMAT = 1;
const WAL_FORMAT = 2;

/** Page size from bytes 16-17 (big-endian; 1 means 65536), 0 if not a valid power of two. */
export function headerPageSize(page1: Uint8Array): number {
  if (page1.length < 18) return 0;
  const raw = (page1[16] << 8) | page1[17];
  const size = raw === 1 ? 65536 : raw;
  return size >= 512 && (size & (size - 1)) === 0 ? size : 0;
}

/** In-header database size in pages. */
export function headerPageCount(page1: Uint8Array): number {
  return (
    ((page1[PAGE_COUNT_OFFSET] << 24) |
      (page1[PAGE_COUNT_OFFSET + 1] << 16) |
      (page1[PAGE_COUNT_OFFSET + 2] << 8) |
      page1[PAGE_COUNT_OFFSET + 3]) >>>
    0
  );
}

/**
 * Stored pages use the WAL-mode file format bytes (2, 2) as real dqlite's do; our SQLite runs
 * with a rollback journal and must see (1, 1). Converts a page-1 image SQLite wrote, in place.
 */
export function toStoredFormat(page1: Uint8Array): void {
  if (page1[WRITE_VERSION_OFFSET] === ROLLBACK_FORMAT) page1[WRITE_VERSION_OFFSET] = WAL_FORMAT;
  if (page1[READ_VERSION_OFFSET] === ROLLBACK_FORMAT) page1[READ_VERSION_OFFSET] = WAL_FORMAT;
}

/**
 * Converts the file-format bytes of a read that covers them (`dest[at..at+amount)` holds file
 * bytes starting at `offset`) from stored (WAL) to what our SQLite expects (rollback).
 */
export function toSqliteFormat(dest: Uint8Array, at: number, amount: number, offset: number): void {
  for (const position of [WRITE_VERSION_OFFSET, READ_VERSION_OFFSET]) {
    const i = position - offset;
    if (i >= 0 && i < amount && dest[at + i] === WAL_FORMAT) dest[at + i] = ROLLBACK_FORMAT;
  }
}
