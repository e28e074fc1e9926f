// DiskStorage.readEntries: entries read back from closed segments and the open one, in call order
// with appends, truncation and snapshots, with the byte limit, across restarts, and the cache of
// the segment read last. (The contract shared with MemoryStorage is in storage-contract.test.ts.)
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { Entry } from "../../../src/raft/core/types.js";
import { DiskStorage } from "../../../src/raft/io/disk-storage.js";
import {
  CorruptDataError,
  EntriesUnavailableError,
  StorageClosedError,
  StorageStateError,
} from "../../../src/raft/io/storage.js";
import { entries, plain, snapshot, withTempDir } from "./storage-helpers.js";

/** 64-byte entries in batches of 10: a batch is 816 bytes, a 4 KiB segment holds 50 entries. */
const SEGMENT_BYTES = 4096;
const WORDS = 8;
const DATA_BYTES = WORDS * 8;
const closed = (first: number, last: number) =>
  `${String(first).padStart(16, "0")}-${String(last).padStart(16, "0")}`;
const closedFiles = (dir: string) => readdirSync(dir).filter((n) => /^\d+-\d+$/.test(n));

async function opened(dir: string): Promise<DiskStorage> {
  const storage = new DiskStorage(dir, { segmentSizeBytes: SEGMENT_BYTES });
  await storage.load();
  return storage;
}

/** Appends `from`..`to` in batches of ten (one append each). */
async function appendTens(storage: DiskStorage, from: number, to: number, term = 1) {
  for (let i = from; i <= to; i += 10)
    await storage.append(entries(i, Math.min(i + 9, to), term, WORDS));
}

/**
 * Entries 1..230: closed segments 1-50, 51-100, 101-150, 151-200, and 201-230 in the open one
 * (the last roll's rename may still be under way when the appends resolve: waited for here).
 */
async function filled(dir: string, term = 1): Promise<DiskStorage> {
  const storage = await opened(dir);
  await appendTens(storage, 1, 230, term);
  const layout = [closed(1, 50), closed(51, 100), closed(101, 150), closed(151, 200)];
  for (let waited = 0; waited < 200 && closedFiles(dir).length < layout.length; waited++)
    await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(closedFiles(dir), layout);
  return storage;
}

const expected = (from: number, to: number, term = 1) => plain(entries(from, to, term, WORDS));

test("ranges inside a closed segment, across several, into and inside the open one", () =>
  withTempDir(async (dir) => {
    const storage = await filled(dir);
    assert.deepEqual(plain(await storage.readEntries(3, 7)), expected(3, 7));
    assert.deepEqual(plain(await storage.readEntries(50, 51)), expected(50, 51));
    assert.deepEqual(plain(await storage.readEntries(45, 215)), expected(45, 215));
    assert.deepEqual(plain(await storage.readEntries(220, 230)), expected(220, 230));
    assert.deepEqual(plain(await storage.readEntries(1, 230)), expected(1, 230));
    // Past the end: shortened at the last stored entry.
    assert.deepEqual(plain(await storage.readEntries(225, 1000)), expected(225, 230));
    await storage.close();
  }));

test("indexes not stored reject with EntriesUnavailableError; bad arguments with RangeError", () =>
  withTempDir(async (dir) => {
    const storage = await opened(dir);
    await assert.rejects(storage.readEntries(1, 1), EntriesUnavailableError);
    await appendTens(storage, 1, 60);
    await assert.rejects(storage.readEntries(61, 70), (error: unknown) => {
      assert.ok(error instanceof EntriesUnavailableError);
      assert.equal(error.index, 61);
      assert.match(error.message, /entries 1 to 60 are stored/);
      return true;
    });
    await assert.rejects(storage.readEntries(0, 3), RangeError);
    await assert.rejects(storage.readEntries(5, 4), RangeError);
    await assert.rejects(storage.readEntries(1.5, 4), RangeError);
    await assert.rejects(storage.readEntries(1, 4, -1), RangeError);
    // None of that failed the storage.
    await storage.append(entries(61, 61, 1, WORDS));
    assert.deepEqual(plain(await storage.readEntries(60, 61)), expected(60, 61));
    await storage.close();
  }));

test("maxBytes cuts the result at an entry boundary, but at least one entry comes back", () =>
  withTempDir(async (dir) => {
    const storage = await filled(dir);
    assert.deepEqual(plain(await storage.readEntries(1, 230, DATA_BYTES * 10)), expected(1, 10));
    assert.deepEqual(
      plain(await storage.readEntries(1, 230, DATA_BYTES * 11 - 1)),
      expected(1, 10),
    );
    assert.deepEqual(plain(await storage.readEntries(5, 230, 0)), expected(5, 5));
    assert.deepEqual(plain(await storage.readEntries(5, 230, 1)), expected(5, 5));
    // Cut across segments, and inside the open one.
    assert.deepEqual(plain(await storage.readEntries(45, 230, DATA_BYTES * 20)), expected(45, 64));
    assert.deepEqual(
      plain(await storage.readEntries(195, 230, DATA_BYTES * 15)),
      expected(195, 209),
    );
    // An entry bigger than a segment (it gets one of its own) comes back alone under a small limit.
    await storage.append(entries(231, 231, 1, 1024));
    await storage.append(entries(232, 240, 1, WORDS));
    const big = await storage.readEntries(231, 240, 100);
    assert.deepEqual(plain(big), plain(entries(231, 231, 1, 1024)));
    assert.deepEqual(
      plain(await storage.readEntries(229, 240)),
      plain([
        ...entries(229, 230, 1, WORDS),
        ...entries(231, 231, 1, 1024),
        ...entries(232, 240, 1, WORDS),
      ]),
    );
    await storage.close();
  }));

test("returned data is fresh: changing it changes neither storage nor other results", () =>
  withTempDir(async (dir) => {
    const storage = await filled(dir);
    const first = await storage.readEntries(60, 70);
    const again = await storage.readEntries(60, 70);
    assert.notEqual(first[0].data.buffer, again[0].data.buffer);
    for (const entry of first) entry.data.fill(0);
    assert.deepEqual(plain(again), expected(60, 70));
    assert.deepEqual(plain(await storage.readEntries(60, 70)), expected(60, 70));
    const open = await storage.readEntries(210, 212);
    for (const entry of open) entry.data.fill(0);
    assert.deepEqual(plain(await storage.readEntries(210, 212)), expected(210, 212));
    await storage.close();
  }));

test("a read queued right behind appends sees them once durable; one queued before does not", () =>
  withTempDir(async (dir) => {
    const storage = await filled(dir);
    const before = storage.readEntries(231, 240);
    const appends: Promise<void>[] = [];
    // 17 batches of ten: several segments roll while these are written, the last just before
    // the read runs (its rename to a closed name may still be in flight).
    for (let i = 231; i <= 400; i += 10) appends.push(storage.append(entries(i, i + 9, 2, WORDS)));
    const behind = storage.readEntries(221, 400);
    const tail = storage.readEntries(391, 400);
    await assert.rejects(before, EntriesUnavailableError);
    assert.deepEqual(plain(await behind), [...expected(221, 230), ...expected(231, 400, 2)]);
    assert.deepEqual(plain(await tail), expected(391, 400, 2));
    await Promise.all(appends);
    // Reads right behind appends that roll segments, repeatedly.
    for (let round = 0; round < 10; round++) {
      const from = 401 + round * 60;
      const pending: Promise<void>[] = [];
      for (let i = from; i < from + 60; i += 10)
        pending.push(storage.append(entries(i, i + 9, 3, WORDS)));
      assert.deepEqual(plain(await storage.readEntries(from - 5, from + 59)), [
        ...expected(from - 5, from - 1, round === 0 ? 2 : 3),
        ...expected(from, from + 59, 3),
      ]);
      await Promise.all(pending);
    }
    await storage.close();
  }));

test("the open segment is read again as it grows, and after it rolled", () =>
  withTempDir(async (dir) => {
    const storage = await filled(dir);
    assert.deepEqual(plain(await storage.readEntries(201, 205)), expected(201, 205));
    // 201-230 use 2456 bytes of the open segment: two more batches of ten fit, a third does not.
    await storage.append(entries(231, 240, 1, WORDS));
    assert.deepEqual(plain(await storage.readEntries(206, 240)), expected(206, 240));
    await storage.append(entries(241, 250, 1, WORDS));
    assert.deepEqual(plain(await storage.readEntries(236, 250)), expected(236, 250));
    await storage.append(entries(251, 260, 1, WORDS)); // rolls: 201-250 closes
    assert.deepEqual(plain(await storage.readEntries(235, 260)), expected(235, 260));
    await storage.close();
    assert.deepEqual(closedFiles(dir).slice(-2), [closed(201, 250), closed(251, 260)]);
  }));

test("after putSnapshot dropped old segments, their indexes reject and the trailing ones remain", () =>
  withTempDir(async (dir) => {
    const storage = await filled(dir);
    assert.deepEqual(plain(await storage.readEntries(101, 110)), expected(101, 110)); // cached
    await storage.putSnapshot(snapshot(180, 1), 20); // keeps segments ending at 161 or later
    assert.deepEqual(closedFiles(dir), [closed(151, 200), closed(201, 230)]);
    for (const [from, to] of [
      [1, 10],
      [101, 110],
      [150, 160],
    ]) {
      await assert.rejects(storage.readEntries(from, to), (error: unknown) => {
        assert.ok(error instanceof EntriesUnavailableError, String(error));
        assert.equal(error.index, from);
        assert.match(error.message, /entries 151 to 230 are stored/);
        return true;
      });
    }
    assert.deepEqual(plain(await storage.readEntries(161, 180)), expected(161, 180));
    assert.deepEqual(plain(await storage.readEntries(151, 230)), expected(151, 230));
    await storage.append(entries(231, 240, 2, WORDS));
    assert.deepEqual(plain(await storage.readEntries(175, 240)), [
      ...expected(175, 230),
      ...expected(231, 240, 2),
    ]);
    await storage.close();
  }));

test("installSnapshot discards every entry; reads start again after it", () =>
  withTempDir(async (dir) => {
    const storage = await filled(dir);
    assert.deepEqual(plain(await storage.readEntries(151, 160)), expected(151, 160)); // cached
    await storage.installSnapshot(snapshot(300, 4));
    await assert.rejects(storage.readEntries(151, 160), EntriesUnavailableError);
    await assert.rejects(storage.readEntries(300, 300), EntriesUnavailableError);
    await assert.rejects(storage.readEntries(301, 301), /no entry is stored/);
    await storage.append(entries(301, 310, 4, WORDS));
    await assert.rejects(
      storage.readEntries(300, 400),
      /entry 300 .*entries 301 to 310 are stored/,
    );
    assert.deepEqual(plain(await storage.readEntries(301, 400)), expected(301, 310, 4));
    await storage.close();
  }));

test("after truncate the old entries are gone and new ones at the same indexes come back", () =>
  withTempDir(async (dir) => {
    const storage = await filled(dir);
    // Cache segment 101-150, then cut it: it is rewritten as 101-124 (same first index).
    assert.deepEqual(plain(await storage.readEntries(120, 130)), expected(120, 130));
    await storage.truncate(125);
    assert.deepEqual(plain(await storage.readEntries(120, 130)), expected(120, 124));
    await assert.rejects(storage.readEntries(125, 125), EntriesUnavailableError);
    await storage.append(entries(125, 140, 3, WORDS));
    assert.deepEqual(plain(await storage.readEntries(120, 150)), [
      ...expected(120, 124),
      ...expected(125, 140, 3),
    ]);
    // A conflicting append truncates implicitly.
    await storage.append(entries(130, 135, 4, WORDS));
    assert.deepEqual(plain(await storage.readEntries(128, 150)), [
      ...expected(128, 129, 3),
      ...expected(130, 135, 4),
    ]);
    // Not awaited: the read is queued behind the truncation and the append.
    void storage.truncate(132);
    const appended = storage.append(entries(132, 133, 5, WORDS));
    assert.deepEqual(plain(await storage.readEntries(131, 150)), [
      ...expected(131, 131, 4),
      ...expected(132, 133, 5),
    ]);
    await appended;
    await storage.close();
  }));

test("truncating inside the open segment (read before) drops its cached entries", () =>
  withTempDir(async (dir) => {
    const storage = await filled(dir);
    assert.deepEqual(plain(await storage.readEntries(215, 225)), expected(215, 225));
    await storage.truncate(220);
    assert.deepEqual(plain(await storage.readEntries(215, 230)), expected(215, 219));
    await storage.append(entries(220, 225, 5, WORDS));
    assert.deepEqual(plain(await storage.readEntries(215, 230)), [
      ...expected(215, 219),
      ...expected(220, 225, 5),
    ]);
    // Cut at the open segment's first index: the next open segment starts at the same index.
    assert.deepEqual(plain(await storage.readEntries(220, 225)), expected(220, 225, 5));
    await storage.truncate(220);
    await storage.append(entries(220, 229, 6, WORDS));
    assert.deepEqual(plain(await storage.readEntries(218, 229)), [
      ...expected(218, 219),
      ...expected(220, 229, 6),
    ]);
    await storage.close();
  }));

test("a segment cut away whole and written again (same name, new terms) is not served from the cache", () =>
  withTempDir(async (dir) => {
    const storage = await filled(dir);
    assert.deepEqual(plain(await storage.readEntries(151, 160)), expected(151, 160));
    await storage.truncate(151);
    await assert.rejects(storage.readEntries(151, 160), EntriesUnavailableError);
    await appendTens(storage, 151, 210, 3); // 151-200 fill a segment again, 201-210 roll it
    for (let waited = 0; waited < 200 && !closedFiles(dir).includes(closed(151, 200)); waited++)
      await new Promise((resolve) => setTimeout(resolve, 5));
    assert.deepEqual(closedFiles(dir).slice(-1), [closed(151, 200)]);
    assert.deepEqual(plain(await storage.readEntries(151, 210)), expected(151, 210, 3));
    assert.deepEqual(plain(await storage.readEntries(145, 152)), [
      ...expected(145, 150),
      ...expected(151, 152, 3),
    ]);
    await storage.close();
  }));

test("after close and re-open + load the same entries read back; closed storage rejects", () =>
  withTempDir(async (dir) => {
    const first = await filled(dir);
    await first.putSnapshot(snapshot(180, 1), 20);
    await first.close();
    await assert.rejects(first.readEntries(161, 170), StorageClosedError);

    const unloaded = new DiskStorage(dir, { segmentSizeBytes: SEGMENT_BYTES });
    await assert.rejects(unloaded.readEntries(161, 170), StorageStateError);
    const loaded = await unloaded.load();
    assert.equal(loaded.startIndex, 151);
    assert.deepEqual(plain(await unloaded.readEntries(161, 230)), expected(161, 230));
    await assert.rejects(unloaded.readEntries(1, 1), EntriesUnavailableError);
    await unloaded.append(entries(231, 240, 2, WORDS));
    assert.deepEqual(plain(await unloaded.readEntries(225, 240)), [
      ...expected(225, 230),
      ...expected(231, 240, 2),
    ]);
    await unloaded.close();
  }));

test("cache: sequential reads in one segment are right and read its file once; a dropped one rejects", () =>
  withTempDir(async (dir) => {
    const storage = await filled(dir);
    const read = async (from: number, to: number, maxBytes?: number): Promise<Entry[]> =>
      storage.readEntries(from, to, maxBytes);
    // Sequential chunks, as a leader sends a lagging follower, then backwards and across.
    let next = 51;
    while (next <= 100) {
      const chunk = await read(next, 100, DATA_BYTES * 7);
      assert.deepEqual(plain(chunk), expected(next, Math.min(next + 6, 100)));
      next += chunk.length;
      if (next === 72) {
        // The segment's file is gone from under the storage: later reads in it come from the
        // cache (a storage without one would fail here).
        rmSync(join(dir, closed(51, 100)));
      }
    }
    assert.deepEqual(plain(await read(55, 58)), expected(55, 58));
    assert.deepEqual(plain(await read(96, 99)), expected(96, 99));
    // Another segment replaces it in the cache; the removed file cannot be read again.
    assert.deepEqual(plain(await read(101, 105)), expected(101, 105));
    await assert.rejects(read(60, 61), /ENOENT/);
    // The storage still works, and a segment dropped by a snapshot while cached rejects.
    assert.deepEqual(plain(await read(1, 10)), expected(1, 10));
    await storage.putSnapshot(snapshot(160, 1), 5);
    await assert.rejects(read(1, 10), EntriesUnavailableError);
    await assert.rejects(read(41, 50), EntriesUnavailableError);
    assert.deepEqual(plain(await read(156, 165)), expected(156, 165));
    await storage.close();
  }));

test("a damaged closed segment rejects the read with CorruptDataError and leaves the storage usable", () =>
  withTempDir(async (dir) => {
    const storage = await filled(dir);
    const name = closed(51, 100);
    const bytes = readFileSync(join(dir, name));
    const secondBatch = 8 + 816;
    bytes[secondBatch + 16 + 10 * 16 + 3] ^= 0x10; // data of entry 61
    writeFileSync(join(dir, name), bytes);
    // Batches are parsed only as far as a read needs.
    assert.deepEqual(plain(await storage.readEntries(51, 60)), expected(51, 60));
    await assert.rejects(storage.readEntries(55, 65), (error: unknown) => {
      assert.ok(error instanceof CorruptDataError);
      assert.equal(error.file, join(dir, name));
      assert.equal(error.offset, secondBatch);
      assert.match(error.message, /data checksum mismatch/);
      return true;
    });
    await storage.append(entries(231, 235, 1, WORDS));
    assert.deepEqual(plain(await storage.readEntries(101, 235)), expected(101, 235));
    await storage.close();
  }));
