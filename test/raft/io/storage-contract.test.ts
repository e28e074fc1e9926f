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
import { type RaftStorage, StorageStateError } from "../../../src/raft/io/storage.js";
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
}
