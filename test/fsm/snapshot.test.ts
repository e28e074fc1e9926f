import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import Database from "better-sqlite3";
import {
  concatChunks,
  DecodeError,
  decodeSnapshot,
  encodeSnapshot,
  Fsm,
  writeWal,
} from "../../src/fsm/index.js";
import { loadSqlite } from "../../src/sqlite/index.js";
import { ReplicationHarness, tableContents } from "./replication-harness.js";

const sqlite = await loadSqlite();

function leaderWithData(): ReplicationHarness {
  const harness = new ReplicationHarness(sqlite, 0);
  harness.run("alpha", "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT, b BLOB)");
  harness.run("alpha", "CREATE INDEX t_v ON t(v)");
  for (let i = 0; i < 20; i++) {
    harness.run("alpha", "INSERT INTO t (v, b) VALUES (?, randomblob(?))", [`row ${i}`, i * 700]);
  }
  harness.run("beta", "CREATE TABLE kv (k TEXT PRIMARY KEY, v) WITHOUT ROWID");
  harness.run("beta", "INSERT INTO kv VALUES ('a', 1), ('b', 2.5), ('c', x'00ff')");
  return harness;
}

test("a snapshot restores into a fresh node with the same pages and rows", () => {
  const harness = leaderWithData();
  const fresh = new Fsm(sqlite);
  try {
    const bytes = concatChunks(harness.leader.snapshot());
    fresh.restore(bytes, 42);
    assert.equal(fresh.lastAppliedIndex, 42);
    assert.deepEqual(fresh.databaseNames(), ["alpha", "beta"]);
    for (const name of ["alpha", "beta"]) {
      const ours = harness.leader.database(name).store.latestPages();
      const theirs = fresh.database(name).store.latestPages();
      assert.deepEqual(theirs, ours);
      assert.deepEqual(tableContents(fresh, name), tableContents(harness.leader, name));
    }
  } finally {
    fresh.close();
    harness.close();
  }
});

test("native SQLite opens a snapshot's database image and passes integrity_check", () => {
  const harness = leaderWithData();
  const dir = mkdtempSync(join(tmpdir(), "engine-snapshot-"));
  try {
    const [alpha] = decodeSnapshot(concatChunks(harness.leader.snapshot()));
    const path = join(dir, "alpha.db");
    writeFileSync(path, concatChunks(alpha.pages as Uint8Array[]));
    const native = new Database(path);
    assert.equal(native.pragma("integrity_check", { simple: true }), "ok");
    assert.equal(
      native.pragma("journal_mode", { simple: true }),
      "wal",
      "pages carry the WAL-mode bytes",
    );
    const rows = native.prepare("SELECT id, v, length(b) FROM t ORDER BY id").raw().all();
    const ours = harness.connection("alpha").query("SELECT id, v, length(b) FROM t ORDER BY id");
    assert.deepEqual(rows, ours);
    native.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
    harness.close();
  }
});

test("a snapshot stays consistent while writes continue (pages are shared, never changed)", () => {
  const harness = leaderWithData();
  try {
    const chunks = harness.leader.snapshot();
    const frozen = concatChunks(chunks);
    harness.run("alpha", "UPDATE t SET v = 'changed', b = randomblob(5000)");
    harness.run("alpha", "DELETE FROM t WHERE id > 3");
    harness.run("alpha", "VACUUM");
    assert.ok(Buffer.from(concatChunks(chunks)).equals(Buffer.from(frozen)));
    const fresh = new Fsm(sqlite);
    fresh.restore(frozen);
    assert.equal(tableContents(fresh, "alpha").t.length, 20);
    fresh.close();
  } finally {
    harness.close();
  }
});

test("the produced snapshot has the merged shape: wal_size 0, main_size = pages x 4096", () => {
  const harness = leaderWithData();
  try {
    const bytes = concatChunks(harness.leader.snapshot());
    const view = new DataView(bytes.buffer);
    assert.equal(view.getBigUint64(0, true), 1n);
    assert.equal(view.getBigUint64(8, true), 2n);
    assert.equal(Buffer.from(bytes.subarray(16, 22)).toString(), "alpha\0");
    const pages = harness.leader.database("alpha").store.pageCount;
    assert.equal(view.getBigUint64(24, true), BigInt(pages * 4096));
    assert.equal(view.getBigUint64(32, true), 0n);
    // Page 1's in-header size equals the page count (1.11 restores by it).
    assert.equal(view.getUint32(40 + 28), pages);
  } finally {
    harness.close();
  }
});

test("restore replaces every database: absent ones become empty, pending ones are aborted", () => {
  const harness = leaderWithData();
  const other = new ReplicationHarness(sqlite, 0);
  try {
    other.run("gamma", "CREATE TABLE g (x)");
    const snapshot = concatChunks(other.leader.snapshot());
    const connection = harness.connection("alpha");
    connection.exec("DELETE FROM t");
    const pending = harness.leader.takeCommitted(connection)!;
    harness.leader.restore(snapshot);
    assert.equal(pending.state, "aborted");
    assert.equal(harness.leader.database("alpha").store.pageCount, 0);
    assert.equal(harness.leader.database("beta").store.pageCount, 0);
    assert.deepEqual(
      Object.keys(tableContents(harness.leader, "gamma")).filter((k) => !k.startsWith("<")),
      ["g"],
    );
    assert.deepEqual(connection.query("SELECT count(*) FROM sqlite_master"), [[0]]);
    assert.deepEqual(
      decodeSnapshot(concatChunks(harness.leader.snapshot())).map((d) => d.name),
      ["gamma"],
    );
  } finally {
    other.close();
    harness.close();
  }
});

// The 1.11 shape: the main file as it is plus the WAL, whose committed frames are merged.
function walShape(name: string, main: Uint8Array[], wal: Uint8Array): Uint8Array {
  const bytes = concatChunks(encodeSnapshot([{ name, pageSizeBytes: 4096, pages: main }]));
  const view = new DataView(bytes.buffer);
  const walSizeAt = 16 + 8 + 8;
  view.setBigUint64(walSizeAt, BigInt(wal.length), true);
  return concatChunks([bytes, wal]);
}

function pageWithCount(fill: number, pageCount: number): Uint8Array {
  const page = new Uint8Array(4096).fill(fill);
  page.set([0x10, 0x00], 16);
  new DataView(page.buffer).setUint32(28, pageCount);
  return page;
}

test("1.11 shape: committed WAL frames are merged in order; the last commit gives the size", () => {
  const main = [pageWithCount(1, 2), new Uint8Array(4096).fill(2)];
  const wal = writeWal(4096, [
    {
      frames: [
        { pageNumber: 2, page: new Uint8Array(4096).fill(20) },
        { pageNumber: 3, page: new Uint8Array(4096).fill(30) },
      ],
      pageCount: 3,
    },
    {
      frames: [
        { pageNumber: 3, page: new Uint8Array(4096).fill(31) },
        { pageNumber: 1, page: pageWithCount(11, 3) },
      ],
      pageCount: 3,
    },
  ]);
  const [database] = decodeSnapshot(walShape("w", main, wal));
  assert.deepEqual(
    database.pages.map((p) => p[100]),
    [11, 20, 31],
  );
});

test("1.11 shape: frames after the last commit, a torn frame, a bad checksum or salt end the WAL", () => {
  const main = [pageWithCount(1, 1)];
  const first = { frames: [{ pageNumber: 2, page: new Uint8Array(4096).fill(2) }], pageCount: 2 };
  const second = { frames: [{ pageNumber: 2, page: new Uint8Array(4096).fill(22) }], pageCount: 2 };
  const wal = writeWal(4096, [first, second]);
  const frameBytes = 24 + 4096;
  const valueOfPage2 = (walImage: Uint8Array) =>
    decodeSnapshot(walShape("w", main, walImage))[0].pages[1]?.[0];
  assert.equal(valueOfPage2(wal), 22);
  assert.equal(valueOfPage2(wal.subarray(0, wal.length - 1)), 2, "torn last frame");
  const badChecksum = wal.slice();
  badChecksum[32 + frameBytes + 24 + 100] ^= 1;
  assert.equal(valueOfPage2(badChecksum), 2, "bad checksum");
  const badSalt = wal.slice();
  badSalt[32 + frameBytes + 8] ^= 1;
  assert.equal(valueOfPage2(badSalt), 2, "bad salt");
  const uncommitted = wal.slice();
  new DataView(uncommitted.buffer).setUint32(32 + frameBytes + 4, 0);
  assert.equal(valueOfPage2(uncommitted), 2, "no commit marker");
  const badHeader = wal.slice();
  badHeader[25] ^= 1;
  assert.equal(
    decodeSnapshot(walShape("w", main, badHeader))[0].pages.length,
    1,
    "invalid WAL header: WAL ignored",
  );
});

test("malformed snapshots are refused with DecodeError before anything is replaced", () => {
  const harness = leaderWithData();
  try {
    const good = concatChunks(harness.leader.snapshot());
    const before = tableContents(harness.leader, "alpha");
    for (const bad of [
      good.subarray(0, 10),
      good.subarray(0, good.length - 1),
      Uint8Array.from([2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
    ]) {
      assert.throws(() => harness.leader.restore(bad), DecodeError);
    }
    assert.deepEqual(tableContents(harness.leader, "alpha"), before);
  } finally {
    harness.close();
  }
});

test("a connection open during a restore sees the restored content and schema", () => {
  const harness = leaderWithData();
  const other = new ReplicationHarness(sqlite, 0);
  try {
    other.run("alpha", "CREATE TABLE t (x TEXT)");
    other.run("alpha", "INSERT INTO t VALUES ('restored')");
    const connection = harness.connection("alpha");
    assert.equal(connection.query("SELECT count(*) FROM t")[0][0], 20);
    harness.leader.restore(concatChunks(other.leader.snapshot()));
    assert.deepEqual(connection.query("SELECT * FROM t"), [["restored"]]);
  } finally {
    other.close();
    harness.close();
  }
});

test("a snapshot with pages of another size than dqlite's 4096 is refused", () => {
  const fsm = new Fsm(sqlite);
  try {
    const page = new Uint8Array(512);
    page.set([0x02, 0x00], 16);
    new DataView(page.buffer).setUint32(28, 1);
    const bytes = concatChunks(
      encodeSnapshot([{ name: "small", pageSizeBytes: 512, pages: [page] }]),
    );
    assert.equal(decodeSnapshot(bytes)[0].pageSizeBytes, 512);
    assert.throws(() => fsm.restore(bytes), /512-byte pages/);
    assert.equal(fsm.vfs.has("small"), false);
  } finally {
    fsm.close();
  }
});
