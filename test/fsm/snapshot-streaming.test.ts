// Snapshots as streams, in both storage modes: a disk-mode snapshot is read from the database
// files while writes go on and has the bytes a memory-mode node produces for the same pages;
// restoring from a stream of any chunking gives what restoring the bytes gives; a malformed
// stream changes nothing.
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { test } from "node:test";
import {
  concatChunks,
  DecodeError,
  encodeSnapshot,
  encodeSnapshotHeader,
  Fsm,
  readSnapshotStream,
  readWal,
  type SnapshotSource,
} from "../../src/fsm/index.js";
import { FilePageStore, loadSqlite, type VfsOptions } from "../../src/sqlite/index.js";
import { diskDirectory, MODES, type StorageMode, vfsOptions } from "../sqlite/modes.js";
import { realSnapshot } from "./real-dqlite-fixtures.js";
import { ReplicationHarness, tableContents } from "./replication-harness.js";

const sqlite = await loadSqlite();

/** A leader in `mode` and a memory-mode follower fed the same frames. */
function leaderWithData(mode: StorageMode): ReplicationHarness {
  const harness = new ReplicationHarness(sqlite, 1, { leader: vfsOptions(mode) });
  harness.run("alpha", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, b BLOB)");
  harness.run("alpha", "CREATE INDEX t_v ON t(v)");
  for (let i = 0; i < 40; i++) {
    harness.run("alpha", "INSERT INTO t (v, b) VALUES (?, randomblob(?))", [`row ${i}`, i * 700]);
  }
  harness.run("beta", "CREATE TABLE kv (k TEXT PRIMARY KEY, v) WITHOUT ROWID");
  harness.run("beta", "INSERT INTO kv VALUES ('a', 1), ('b', 2.5), ('c', x'00ff')");
  harness.connection("empty"); // opened, never written: not in snapshots
  return harness;
}

async function bytesOf(source: SnapshotSource): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of source.chunks()) chunks.push(chunk);
  const bytes = concatChunks(chunks);
  assert.equal(bytes.length, source.sizeBytes);
  return bytes;
}

/** `bytes` re-cut into chunks of `size` bytes (odd sizes split every field and page). */
async function* rechunked(bytes: Uint8Array, size: number): AsyncIterable<Uint8Array> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.slice(at, at + size);
}

test("a disk-mode snapshot has the bytes of the memory-mode snapshot of the same pages", async () => {
  const harness = leaderWithData("disk");
  try {
    assert.ok(harness.leader.database("alpha").store instanceof FilePageStore);
    const source = harness.leader.openSnapshot();
    const streamed = await bytesOf(source);
    source.release();
    const reference = concatChunks(harness.followers[0].snapshot());
    assert.ok(Buffer.from(streamed).equals(Buffer.from(reference)));
    assert.ok(Buffer.from(concatChunks(harness.leader.snapshot())).equals(Buffer.from(reference)));
  } finally {
    harness.close();
  }
});

for (const mode of MODES) {
  test(`an open snapshot keeps its version while writes go on, until released (${mode} mode)`, async () => {
    const harness = leaderWithData(mode);
    try {
      const before = concatChunks(harness.followers[0].snapshot());
      const source = harness.leader.openSnapshot();
      harness.run("alpha", "UPDATE t SET v = 'changed', b = randomblob(5000)");
      harness.run("alpha", "DELETE FROM t WHERE id > 3");
      harness.run("alpha", "VACUUM");
      harness.run("beta", "DROP TABLE kv");
      const read = await bytesOf(source);
      assert.ok(Buffer.from(read).equals(Buffer.from(before)), "the snapshot's version");
      assert.ok(Buffer.from(await bytesOf(source)).equals(Buffer.from(before)), "read twice");
      source.release();
      source.release();
      assert.equal(harness.leader.database("alpha").store.olderVersionCount, 0);
      const fresh = new Fsm(sqlite, vfsOptions(mode));
      await fresh.restoreFrom(rechunked(read, 65_536), 9);
      assert.equal(tableContents(fresh, "alpha").t.length, 40);
      fresh.close();
    } finally {
      harness.close();
    }
  });

  test(`restoring from a stream of any chunking equals restoring the bytes (${mode} mode)`, async () => {
    const harness = leaderWithData("memory");
    try {
      const bytes = concatChunks(harness.leader.snapshot());
      const expected = {
        alpha: tableContents(harness.leader, "alpha"),
        beta: tableContents(harness.leader, "beta"),
      };
      for (const size of [13, 4096, 4097, 1 << 20]) {
        const fresh = new Fsm(sqlite, vfsOptions(mode));
        fresh.connect("stale").close();
        await fresh.restoreFrom(rechunked(bytes, size), 42);
        assert.equal(fresh.lastAppliedIndex, 42);
        for (const name of ["alpha", "beta"] as const) {
          assert.deepEqual(
            tableContents(fresh, name),
            expected[name],
            `${name}, chunks of ${size}`,
          );
          assert.deepEqual(
            fresh.database(name).store.latestPages(),
            harness.leader.database(name).store.latestPages(),
          );
        }
        assert.equal(fresh.database("stale").store.pageCount, 0);
        fresh.close();
      }
    } finally {
      harness.close();
    }
  });

  test(`a real 1.11 snapshot (main file and WAL) restores from a stream as from bytes (${mode} mode)`, async () => {
    const { data, index } = realSnapshot();
    const fromBytes = new Fsm(sqlite);
    const fromStream = new Fsm(sqlite, vfsOptions(mode));
    try {
      fromBytes.restore(data, index);
      await fromStream.restoreFrom(rechunked(data, 5000), index);
      assert.deepEqual(
        fromStream.database("demo").store.latestPages(),
        fromBytes.database("demo").store.latestPages(),
      );
      assert.deepEqual(tableContents(fromStream, "demo"), tableContents(fromBytes, "demo"));
    } finally {
      fromBytes.close();
      fromStream.close();
    }
  });

  test(`a malformed or short stream is refused and changes nothing (${mode} mode)`, async () => {
    const harness = leaderWithData("memory");
    const options: VfsOptions =
      mode === "disk" ? { disk: { directory: diskDirectory(), cacheSizeBytes: 8 * 4096 } } : {};
    const target = new ReplicationHarness(sqlite, 0, { leader: options });
    try {
      target.run("alpha", "CREATE TABLE kept (x)");
      target.run("alpha", "INSERT INTO kept VALUES ('still here')");
      const before = tableContents(target.leader, "alpha");
      const good = concatChunks(harness.leader.snapshot());
      const withBadWal = good.slice();
      // alpha's wal_size claims more bytes than there are.
      new DataView(withBadWal.buffer).setBigUint64(16 + 8 + 8, 1n << 40n, true);
      // Two databases of the same name.
      const twice = concatChunks([
        encodeSnapshotHeader(2),
        ...encodeSnapshot([
          {
            name: "alpha",
            pageSizeBytes: 4096,
            pages: harness.leader.database("alpha").store.latestPages(),
          },
        ]).slice(1),
        ...encodeSnapshot([
          {
            name: "alpha",
            pageSizeBytes: 4096,
            pages: harness.leader.database("alpha").store.latestPages(),
          },
        ]).slice(1),
      ]);
      assert.throws(() => target.leader.restore(twice), /appears twice/);
      for (const bad of [
        good.subarray(0, 10),
        good.subarray(0, good.length - 1),
        withBadWal,
        twice,
      ]) {
        await assert.rejects(target.leader.restoreFrom(rechunked(bad, 3000), 5), DecodeError);
      }
      assert.deepEqual(tableContents(target.leader, "alpha"), before);
      if (mode === "disk") {
        assert.deepEqual(
          readdirSync(options.disk!.directory).filter((f) => f.startsWith(".restore-")),
          [],
          "staged files are deleted",
        );
      }
    } finally {
      target.close();
      harness.close();
    }
  });
}

test("the stream reader hands a sink whole pages in order, then WAL frames over them", async () => {
  const { data } = realSnapshot();
  const writes: [number, number][] = [];
  const [demo] = await readSnapshotStream(rechunked(data, 777), {
    openSink: (_name, pageSizeBytes) => ({
      write: (first, pages) => {
        assert.equal(pages.length % pageSizeBytes, 0);
        writes.push([first, pages.length / pageSizeBytes]);
      },
      abandon: () => assert.fail("not abandoned"),
    }),
  });
  assert.equal(demo.name, "demo");
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const mainPages = Number(view.getBigUint64(24, true)) / 4096;
  const frames = readWal(data.subarray(40 + mainPages * 4096)).frames.length;
  // Page 1 first (it names the page size), then the rest in one run, then each WAL frame.
  assert.deepEqual(writes.slice(0, 2), [
    [1, 1],
    [2, mainPages - 1],
  ]);
  assert.ok(frames > 0);
  assert.equal(writes.length, 2 + frames);
  assert.ok(demo.pageCount >= mainPages);
});
