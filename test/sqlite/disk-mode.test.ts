// Disk mode through SQL: applied pages in a file behind a small cache, pending ones in memory
// and invisible, pipelined writers, aborts, long readers under heavy eviction.
import assert from "node:assert/strict";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { FilePageStore } from "../../src/sqlite/file-page-store.js";
import {
  type Connection,
  loadSqlite,
  type PendingTransaction,
  Vfs,
} from "../../src/sqlite/index.js";
import { databaseFileName } from "../../src/sqlite/vfs.js";
import { diskDirectory } from "./modes.js";

const sqlite = await loadSqlite();

function setup(cachePages = 8) {
  const directory = diskDirectory();
  const vfs = new Vfs(sqlite, { disk: { directory, cacheSizeBytes: cachePages * 4096 } });
  const writer = vfs.connect("disk");
  const reader = vfs.connect("disk");
  const take = (connection: Connection): PendingTransaction => {
    const transaction = vfs.takeCommitted(connection);
    assert.ok(transaction, "the statement committed a transaction");
    return transaction;
  };
  const write = (sql: string) => {
    writer.exec(sql);
    take(writer).database.applyPending();
  };
  const close = () => {
    writer.close();
    reader.close();
    vfs.close();
  };
  return { directory, vfs, writer, reader, take, write, close };
}

const count = (connection: Connection) => connection.query("SELECT count(*) FROM t")[0][0];

test("applied pages live in the database's file; the store keeps no image beyond its cache", () => {
  const { directory, vfs, write, reader, close } = setup(8);
  write("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)");
  write(
    "INSERT INTO t (v) SELECT randomblob(2000) FROM json_each(json_array(" +
      Array.from({ length: 200 }, (_, i) => i).join(",") +
      "))",
  );
  const store = vfs.database("disk").store;
  assert.ok(store instanceof FilePageStore);
  assert.ok(store.pageCount > 100);
  assert.equal(statSync(join(directory, "disk")).size, store.pageCount * 4096);
  assert.equal(count(reader), 200);
  assert.deepEqual(reader.query("PRAGMA integrity_check"), [["ok"]]);
  assert.ok(vfs.pageCache!.pageCount <= 8, `${vfs.pageCache!.pageCount} pages cached`);
  close();
});

test("a pending transaction is invisible, even from the file, until raft applies it; an abort leaves no trace", () => {
  const { directory, writer, reader, take, write, close } = setup();
  write("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  write("INSERT INTO t (v) VALUES ('a')");
  const sizeBefore = statSync(join(directory, "disk")).size;
  writer.exec("INSERT INTO t (v) VALUES ('b')");
  const pending = take(writer);
  assert.equal(count(reader), 1);
  assert.equal(count(writer), 1, "the writer does not see it either");
  assert.equal(statSync(join(directory, "disk")).size, sizeBefore);
  pending.database.abortPending();
  assert.equal(count(writer), 1);
  writer.exec("INSERT INTO t (v) VALUES ('c')");
  take(writer).database.applyPending();
  assert.deepEqual(reader.query("SELECT v FROM t ORDER BY id"), [["a"], ["c"]]);
  close();
});

test("pipelined writers build on pending transactions; readers see them only as they apply, in order", () => {
  const { vfs, writer, reader, take, write, close } = setup();
  write("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  vfs.setWriteIntent(writer, true);
  const chain: PendingTransaction[] = [];
  for (const v of ["a", "b", "c"]) {
    writer.exec(`INSERT INTO t (v) VALUES ('${v}')`);
    chain.push(take(writer));
  }
  assert.equal(vfs.database("disk").pendingCount, 3);
  assert.equal(count(reader), 0);
  chain[0].database.applyPending();
  assert.deepEqual(reader.query("SELECT v FROM t"), [["a"]]);
  chain[1].database.applyPending();
  chain[2].database.applyPending();
  assert.deepEqual(reader.query("SELECT v FROM t ORDER BY id"), [["a"], ["b"], ["c"]]);
  vfs.setWriteIntent(writer, false);
  close();
});

test("aborting a pipelined transaction drops every later one built on it", () => {
  const { vfs, writer, reader, take, write, close } = setup();
  write("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  vfs.setWriteIntent(writer, true);
  const chain: PendingTransaction[] = [];
  for (const v of ["a", "b", "c"]) {
    writer.exec(`INSERT INTO t (v) VALUES ('${v}')`);
    chain.push(take(writer));
  }
  chain[0].database.applyPending();
  chain[1].database.abortPending(chain[1]);
  assert.deepEqual(
    chain.map((t) => t.state),
    ["applied", "aborted", "aborted"],
  );
  assert.deepEqual(writer.query("SELECT v FROM t"), [["a"]]);
  writer.exec("INSERT INTO t (v) VALUES ('d')");
  take(writer).database.applyPending();
  assert.deepEqual(reader.query("SELECT v FROM t ORDER BY id"), [["a"], ["d"]]);
  vfs.setWriteIntent(writer, false);
  close();
});

test("a long reader keeps its version while commits evict everything from the cache", () => {
  const { vfs, writer, reader, write, close } = setup(4);
  write("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)");
  write(
    "INSERT INTO t (v) SELECT zeroblob(1500) FROM json_each('[" +
      Array.from({ length: 100 }, (_, i) => i).join(",") +
      "]')",
  );
  reader.exec("BEGIN");
  assert.equal(count(reader), 100);
  const sum = () => reader.query("SELECT sum(length(v)), count(*) FROM t")[0];
  const before = sum();
  for (let i = 0; i < 20; i++) {
    write(`UPDATE t SET v = randomblob(1500) WHERE id % 20 = ${i}`);
    write(`INSERT INTO t (v) VALUES (randomblob(${1000 + i}))`);
  }
  write("DELETE FROM t WHERE id < 50");
  assert.deepEqual(sum(), before, "the reader still sees its version");
  assert.ok(vfs.database("disk").store.olderVersionCount > 0);
  reader.exec("COMMIT");
  assert.equal(vfs.database("disk").store.olderVersionCount, 0, "history freed with the pin");
  assert.equal(count(reader), 71);
  assert.deepEqual(writer.query("PRAGMA integrity_check"), [["ok"]]);
  close();
});

test("database names that are not plain file names get digest file names", () => {
  const directory = diskDirectory();
  const vfs = new Vfs(sqlite, { disk: { directory } });
  for (const name of ["plain.db", "../escape", "a/b", ".hidden", "é"]) {
    const connection = vfs.connect(name);
    connection.exec("CREATE TABLE t (x)");
    vfs.takeCommitted(connection)!.database.applyPending();
    connection.close();
  }
  const files = readdirSync(directory).sort();
  assert.equal(files.length, 5);
  assert.ok(files.includes("plain.db"));
  assert.ok(
    files.every((f) => f === "plain.db" || /^~[0-9a-f]{40}$/.test(f)),
    files.join(),
  );
  assert.equal(databaseFileName("../escape").length, 41);
  vfs.close();
});

test("the database directory is emptied when a disk-mode VFS starts", () => {
  const directory = diskDirectory();
  const first = new Vfs(sqlite, { disk: { directory } });
  const connection = first.connect("old");
  connection.exec("CREATE TABLE t (x)");
  first.takeCommitted(connection)!.database.applyPending();
  connection.close();
  first.close();
  assert.deepEqual(readdirSync(directory), ["old"]);
  const second = new Vfs(sqlite, { disk: { directory } });
  assert.deepEqual(readdirSync(directory), []);
  assert.equal(second.has("old"), false);
  second.close();
});

test("a directory holding raft files is never wiped for disk mode", async () => {
  const directory = diskDirectory();
  const { writeFileSync } = await import("node:fs");
  writeFileSync(join(directory, "metadata1"), new Uint8Array(32));
  assert.throws(() => new Vfs(sqlite, { disk: { directory } }), /raft files/);
  assert.deepEqual(readdirSync(directory), ["metadata1"]);
});
