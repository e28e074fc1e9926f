// The behaviour both RaftStorage implementations promise, checked on each of them, including
// across a restart (a new instance on the same directory / state).
import assert from "node:assert/strict";
import { test } from "node:test";
import { EntryType } from "../../../src/raft/core/types.js";
import { DiskStorage } from "../../../src/raft/io/disk-storage.js";
import {
  emptyMemoryState,
  MemoryStorage,
  type MemoryStorageState,
} from "../../../src/raft/io/memory-storage.js";
import {
  EntriesUnavailableError,
  type RaftStorage,
  StorageClosedError,
  StorageStateError,
} from "../../../src/raft/io/storage.js";
import {
  CONFIGURATION,
  entries,
  inMemory,
  plain,
  snapshot,
  withTempDir,
} from "./storage-helpers.js";

interface Kind {
  name: string;
  /** Runs `fn` with a factory that opens a storage on the same persistent state each time. */
  run(fn: (open: () => RaftStorage) => Promise<void>): Promise<void>;
}

const kinds: Kind[] = [
  {
    name: "DiskStorage",
    run: (fn) => withTempDir((dir) => fn(() => new DiskStorage(dir, { segmentSizeBytes: 4096 }))),
  },
  {
    name: "MemoryStorage",
    run: (fn) => {
      const state: MemoryStorageState = emptyMemoryState();
      return fn(() => new MemoryStorage(state));
    },
  },
];

for (const kind of kinds) {
  test(`${kind.name}: a new node loads nothing, bootstraps, and finds its configuration after restart`, () =>
    kind.run(async (open) => {
      const first = open();
      const empty = await first.load();
      assert.deepEqual(empty.hardState, { term: 0, votedFor: 0n });
      assert.equal(empty.snapshot, null);
      assert.equal(empty.startIndex, 1);
      assert.deepEqual(empty.entries, []);
      await first.bootstrap(CONFIGURATION);
      await assert.rejects(first.bootstrap(CONFIGURATION), StorageStateError);
      await first.close();

      const second = open();
      const loaded = await second.load();
      assert.deepEqual(loaded.hardState, { term: 1, votedFor: 0n });
      assert.equal(loaded.entries.length, 1);
      assert.equal(loaded.entries[0].type, EntryType.Change);
      assert.equal(loaded.entries[0].term, 1);
      assert.deepEqual(loaded.lastConfiguration, { index: 1, configuration: CONFIGURATION });
      await second.close();
    }));

  test(`${kind.name}: appended entries and the hard state survive a restart`, () =>
    kind.run(async (open) => {
      const first = open();
      await first.load();
      await first.bootstrap(CONFIGURATION);
      await first.setHardState({ term: 3, votedFor: 2n });
      await first.append(entries(2, 40, 3));
      await Promise.all([first.append(entries(41, 50, 3)), first.append(entries(51, 60, 3))]);
      await first.close();
      const second = open();
      const loaded = await second.load();
      assert.deepEqual(loaded.hardState, { term: 3, votedFor: 2n });
      assert.equal(loaded.startIndex, 1);
      assert.deepEqual(plain(loaded.entries.slice(1)), plain(entries(2, 60, 3)));
      await second.close();
    }));

  test(`${kind.name}: a conflicting append replaces the suffix, and truncate removes one`, () =>
    kind.run(async (open) => {
      const first = open();
      await first.load();
      await first.append(entries(1, 30, 1));
      await first.append(entries(20, 25, 2));
      await first.truncate(24);
      await first.append(entries(24, 26, 3));
      await first.close();
      const second = open();
      const loaded = await second.load();
      assert.deepEqual(
        plain(loaded.entries),
        plain([...entries(1, 19, 1), ...entries(20, 23, 2), ...entries(24, 26, 3)]),
      );
      await assert.rejects(second.append(entries(30, 31)), StorageStateError);
      const odd = { ...entries(27, 27)[0], data: new Uint8Array(12) };
      await assert.rejects(second.append([odd]), RangeError);
      await second.close();
    }));

  test(`${kind.name}: a snapshot keeps the trailing entries and later entries`, () =>
    kind.run(async (open) => {
      const first = open();
      await first.load();
      // 80-byte entries in batches of 10: about 50 entries per 4 KiB segment on disk.
      for (let i = 1; i <= 100; i += 10) await first.append(entries(i, i + 9, 1, 8));
      await first.putSnapshot(snapshot(90, 1), 20);
      await first.append(entries(101, 110, 2));
      await first.close();
      const second = open();
      const loaded = await second.load();
      assert.equal(loaded.snapshot?.meta.index, 90);
      assert.deepEqual(await inMemory(loaded.snapshot), snapshot(90, 1));
      assert.ok(loaded.startIndex <= 71, `trailing kept from ${loaded.startIndex}`);
      assert.ok(loaded.startIndex > 1, "entries long before the trailing window are gone");
      const last = loaded.entries.at(-1)!;
      assert.equal(last.index, 110);
      assert.equal(loaded.startIndex + loaded.entries.length - 1, 110);
      assert.deepEqual(plain(loaded.entries.slice(-10)), plain(entries(101, 110, 2)));
      assert.deepEqual(await inMemory(await second.loadSnapshot()), snapshot(90, 1));
      await assert.rejects(second.truncate(90), StorageStateError);
      await second.close();
    }));

  test(`${kind.name}: installing a snapshot discards the log; appends continue after it`, () =>
    kind.run(async (open) => {
      const first = open();
      await first.load();
      await first.append(entries(1, 50, 1));
      await first.installSnapshot(snapshot(200, 5));
      await first.append(entries(201, 205, 5));
      await first.close();
      const second = open();
      const loaded = await second.load();
      assert.equal(loaded.snapshot?.meta.index, 200);
      assert.equal(loaded.startIndex, 201);
      assert.deepEqual(plain(loaded.entries), plain(entries(201, 205, 5)));
      await second.close();
    }));

  test(`${kind.name}: recover appends a forced configuration with term 1 after the last entry`, () =>
    kind.run(async (open) => {
      const first = open();
      await first.load();
      await first.append(entries(1, 12, 4));
      await first.recover([CONFIGURATION[0]]);
      await first.close();
      const second = open();
      const loaded = await second.load();
      const last = loaded.entries.at(-1)!;
      assert.equal(last.index, 13);
      assert.equal(last.term, 1);
      assert.equal(last.type, EntryType.Change);
      assert.deepEqual(loaded.lastConfiguration, { index: 13, configuration: [CONFIGURATION[0]] });
      await second.close();
    }));

  test(`${kind.name}: readEntries gives stored ranges exactly as appended, cut by maxBytes, never empty`, () =>
    kind.run(async (open) => {
      const storage = open();
      await storage.load();
      await assert.rejects(storage.readEntries(1, 1), EntriesUnavailableError);
      // 64-byte entries in batches of ten (DiskStorage: several segments and an open one).
      const appended = entries(1, 120, 2, 8);
      for (let i = 0; i < 120; i += 10) await storage.append(appended.slice(i, i + 10));
      for (const entry of appended) entry.data.fill(0); // the caller's buffers are not kept
      const expected = (from: number, to: number) => plain(entries(from, to, 2, 8));
      assert.deepEqual(plain(await storage.readEntries(1, 120)), expected(1, 120));
      assert.deepEqual(plain(await storage.readEntries(37, 64)), expected(37, 64));
      assert.deepEqual(plain(await storage.readEntries(115, 500)), expected(115, 120));
      assert.deepEqual(plain(await storage.readEntries(10, 120, 64 * 5)), expected(10, 14));
      assert.deepEqual(plain(await storage.readEntries(10, 120, 64 * 6 - 1)), expected(10, 14));
      assert.deepEqual(plain(await storage.readEntries(10, 120, 0)), expected(10, 10));
      await assert.rejects(storage.readEntries(121, 130), EntriesUnavailableError);
      await assert.rejects(storage.readEntries(0, 5), RangeError);
      await assert.rejects(storage.readEntries(6, 5), RangeError);
      await assert.rejects(storage.readEntries(1, 5, -1), RangeError);
      const read = await storage.readEntries(50, 52);
      for (const entry of read) entry.data.fill(0);
      assert.deepEqual(plain(await storage.readEntries(50, 52)), expected(50, 52));
      await storage.close();
      await assert.rejects(storage.readEntries(50, 52), StorageClosedError);

      const again = open();
      await assert.rejects(again.readEntries(1, 1), StorageStateError);
      await again.load();
      assert.deepEqual(plain(await again.readEntries(1, 120)), expected(1, 120));
      await again.close();
    }));

  test(`${kind.name}: readEntries sees the appends, truncations and snapshots called before it`, () =>
    kind.run(async (open) => {
      const storage = open();
      await storage.load();
      for (let i = 1; i <= 100; i += 10) await storage.append(entries(i, i + 9, 1, 8));
      // Not awaited: each read is ordered after the calls before it, and before those after it.
      const early = storage.readEntries(101, 110);
      const appended = storage.append(entries(101, 110, 1, 8));
      const conflicting = storage.append(entries(95, 105, 2, 8));
      const read = storage.readEntries(90, 110);
      await assert.rejects(early, EntriesUnavailableError);
      assert.deepEqual(
        plain(await read),
        plain([...entries(90, 94, 1, 8), ...entries(95, 105, 2, 8)]),
      );
      await Promise.all([appended, conflicting]);
      await storage.truncate(100);
      await assert.rejects(storage.readEntries(100, 100), EntriesUnavailableError);
      assert.deepEqual(plain(await storage.readEntries(98, 110)), plain(entries(98, 99, 2, 8)));

      // A snapshot at 90 keeping 20 trailing entries: 71 on are still there, 1 is not.
      await storage.putSnapshot(snapshot(90, 1), 20);
      await assert.rejects(storage.readEntries(1, 10), EntriesUnavailableError);
      assert.deepEqual(
        plain(await storage.readEntries(71, 99)),
        plain([...entries(71, 94, 1, 8), ...entries(95, 99, 2, 8)]),
      );
      await storage.close();
      const again = open();
      await again.load();
      await assert.rejects(again.readEntries(1, 10), EntriesUnavailableError);
      assert.deepEqual(plain(await again.readEntries(71, 75)), plain(entries(71, 75, 1, 8)));

      // Installing a snapshot discards the whole log.
      await again.installSnapshot(snapshot(200, 3));
      await assert.rejects(again.readEntries(99, 99), EntriesUnavailableError);
      await assert.rejects(again.readEntries(200, 201), EntriesUnavailableError);
      await again.append(entries(201, 205, 3, 8));
      assert.deepEqual(plain(await again.readEntries(201, 300)), plain(entries(201, 205, 3, 8)));
      await again.close();
    }));
}
