import assert from "node:assert/strict";
import { test } from "node:test";
import { DatabaseFile } from "../../src/sqlite/database-file.js";
import {
  ReplicatedDatabase,
  SQLITE_BUSY,
  SQLITE_IOERR_SHORT_READ,
  SQLITE_OK,
} from "../../src/sqlite/index.js";

const SIZE = 4096;
function pageOf(n: number): Uint8Array {
  const page = new Uint8Array(SIZE);
  for (let i = 0; i < SIZE; i++) page[i] = (n * 31 + i) & 0xff;
  return page;
}
function page1(pageCount: number): Uint8Array {
  const page = pageOf(1);
  page.set([0x10, 0x00, 2, 2], 16); // page size 4096, WAL-mode format bytes
  new DataView(page.buffer).setUint32(28, pageCount);
  return page;
}
function database(pageCount: number): ReplicatedDatabase {
  const db = new ReplicatedDatabase("t", () => {});
  const numbers = Array.from({ length: pageCount }, (_, i) => i + 1);
  db.apply(
    SIZE,
    numbers,
    numbers.map((n) => (n === 1 ? page1(pageCount) : pageOf(n))),
  );
  return db;
}

test("a read spanning two stored pages returns both (pitfall 5: another assumed page size)", () => {
  const file = new DatabaseFile(database(3));
  const dest = new Uint8Array(2 * SIZE);
  assert.equal(file.read(dest, SIZE), SQLITE_OK);
  assert.deepEqual(dest.subarray(0, SIZE), pageOf(2));
  assert.deepEqual(dest.subarray(SIZE), pageOf(3));
});

test("a read of an 8 KiB page at offset 0 covers pages 1 and 2 with page 1 in rollback format", () => {
  const file = new DatabaseFile(database(2));
  const dest = new Uint8Array(2 * SIZE);
  assert.equal(file.read(dest, 0), SQLITE_OK);
  assert.deepEqual([dest[18], dest[19]], [1, 1]);
  assert.deepEqual(dest.subarray(SIZE), pageOf(2));
});

test("a read past the end is zero-filled and reports a short read", () => {
  const file = new DatabaseFile(database(2));
  const dest = new Uint8Array(SIZE).fill(7);
  assert.equal(file.read(dest, 2 * SIZE - 100), SQLITE_IOERR_SHORT_READ);
  assert.deepEqual(dest.subarray(0, 100), pageOf(2).subarray(SIZE - 100));
  assert.ok(dest.subarray(100).every((b) => b === 0));
});

test("partial reads inside a page (the 100-byte header, the 16 bytes at 24)", () => {
  const file = new DatabaseFile(database(2));
  const header = new Uint8Array(100);
  assert.equal(file.read(header, 0), SQLITE_OK);
  assert.equal(header[16], 0x10);
  const versions = new Uint8Array(16);
  assert.equal(file.read(versions, 24), SQLITE_OK);
  assert.deepEqual(versions, page1(2).subarray(24, 40));
});

test("a stale file reports a changed change counter once, then the truth", () => {
  const file = new DatabaseFile(database(2));
  file.stale = true;
  const first = new Uint8Array(16);
  const second = new Uint8Array(16);
  file.read(first, 24);
  file.read(second, 24);
  assert.notDeepEqual(first, second);
  assert.deepEqual(second, page1(2).subarray(24, 40));
});

test("pages written by SQLite in rollback format are stored in WAL format", () => {
  const db = database(1);
  const file = new DatabaseFile(db);
  assert.equal(file.lock(1), SQLITE_OK);
  assert.equal(file.lock(2), SQLITE_OK);
  const written = page1(1);
  written[18] = 1;
  written[19] = 1;
  assert.equal(file.write(written, 0), SQLITE_OK);
  assert.equal(file.commitPhaseTwo(), SQLITE_OK);
  assert.deepEqual([db.pending!.pages[0][18], db.pending!.pages[0][19]], [2, 2]);
});

test("one writer at a time, and none while a transaction is pending", () => {
  const db = database(1);
  const a = new DatabaseFile(db);
  const b = new DatabaseFile(db);
  a.lock(1);
  b.lock(1);
  assert.equal(a.lock(2), SQLITE_OK);
  assert.equal(b.lock(2), SQLITE_BUSY);
  a.write(page1(1), 0);
  a.commitPhaseTwo();
  a.unlock(0);
  assert.equal(b.lock(2), SQLITE_BUSY, "pending blocks writers");
  db.applyPending();
  assert.equal(b.lock(2), SQLITE_BUSY, "b's pinned version is not the latest any more");
  b.unlock(0);
  b.lock(1);
  assert.equal(b.lock(2), SQLITE_OK);
});
