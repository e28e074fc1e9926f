import assert from "node:assert/strict";
import { test } from "node:test";
import {
  loadSqlite,
  openMemoryConnection,
  SQLITE_BLOB,
  SQLITE_FLOAT,
  SQLITE_INTEGER,
  SQLITE_NULL,
  SQLITE_TEXT,
  SqliteError,
  Vfs,
} from "../../src/sqlite/index.js";

const sqlite = await loadSqlite();

test("every value type binds and reads back with its SQLite type", () => {
  const db = openMemoryConnection(sqlite);
  const statement = db.prepare("SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?");
  const values = [
    42,
    -(2 ** 40),
    2n ** 62n,
    1.5,
    "héllo ✓",
    new Uint8Array([0, 255, 7]),
    new Uint8Array(0),
    null,
    -1,
  ];
  statement.bindAll(values);
  assert.equal(statement.step(), true);
  assert.deepEqual(statement.row(), [
    42,
    -(2 ** 40),
    2n ** 62n,
    1.5,
    "héllo ✓",
    new Uint8Array([0, 255, 7]),
    new Uint8Array(0),
    null,
    -1,
  ]);
  assert.deepEqual(
    [0, 3, 4, 5, 7].map((i) => statement.columnType(i)),
    [SQLITE_INTEGER, SQLITE_FLOAT, SQLITE_TEXT, SQLITE_BLOB, SQLITE_NULL],
  );
  assert.equal(statement.columnInt64(2), 2n ** 62n);
  assert.equal(statement.step(), false);
  statement.finalize();
  db.close();
});

test("integers beyond 2^53 come back as bigint, safe ones as number", () => {
  const db = openMemoryConnection(sqlite);
  const rows = db.query("SELECT 9007199254740991, 9007199254740992, -9223372036854775808, ?", [
    BigInt(7),
  ]);
  assert.deepEqual(rows, [[9007199254740991, 9007199254740992n, -9223372036854775808n, 7]]);
  db.close();
});

test("long and non-ASCII text round-trips", () => {
  const db = openMemoryConnection(sqlite);
  const text = "ü€😀".repeat(5000);
  assert.deepEqual(db.query("SELECT ?, length(?)", [text, text]), [[text, 15000]]);
  db.close();
});

test("prepareAt walks multi-statement SQL by UTF-8 byte offsets", () => {
  const db = openMemoryConnection(sqlite);
  const sql = new TextEncoder().encode("SELECT 'é'; SELECT 2 ;  -- trailing comment\n");
  const first = db.prepareAt(sql, 0);
  assert.ok(first.statement);
  first.statement.step();
  assert.equal(first.statement.columnText(0), "é");
  const second = db.prepareAt(sql, first.tailOffsetBytes);
  assert.ok(second.statement);
  second.statement.step();
  assert.equal(second.statement.columnValue(0), 2);
  const third = db.prepareAt(sql, second.tailOffsetBytes);
  assert.equal(third.statement, null);
  assert.equal(third.tailOffsetBytes, sql.length);
  db.close();
});

test("columns, parameters and read-only are reported", () => {
  const db = openMemoryConnection(sqlite);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)");
  const select = db.prepare("SELECT id, name AS n, 1 FROM t WHERE id = :id");
  assert.equal(select.columnCount(), 3);
  assert.deepEqual(
    [0, 1, 2].map((i) => select.columnName(i)),
    ["id", "n", "1"],
  );
  assert.deepEqual(
    [0, 1, 2].map((i) => select.columnDecltype(i)),
    ["INTEGER", "TEXT", ""],
  );
  assert.equal(select.parameterCount(), 1);
  assert.equal(select.parameterName(1), ":id");
  assert.equal(select.isReadonly(), true);
  assert.equal(db.prepare("DELETE FROM t").isReadonly(), false);
  db.close();
});

test("changes and last insert rowid follow writes", () => {
  const db = openMemoryConnection(sqlite);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v)");
  db.exec("INSERT INTO t VALUES (10, 'a'), (20, 'b'), (2000000000000000000, 'c')");
  assert.equal(db.changes(), 3);
  assert.equal(db.lastInsertRowid(), 2000000000000000000n);
  db.exec("UPDATE t SET v = 'x' WHERE id < 100");
  assert.equal(db.changes(), 2);
  db.close();
});

test("errors carry extended codes and SQLite's message", () => {
  const db = openMemoryConnection(sqlite);
  db.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, u UNIQUE)");
  db.exec("INSERT INTO t (u) VALUES (1)");
  assert.throws(
    () => db.exec("INSERT INTO t (u) VALUES (1)"),
    (e: unknown) =>
      e instanceof SqliteError &&
      e.code === 19 &&
      e.extendedCode === 2067 &&
      /UNIQUE/.test(e.message),
  );
  assert.throws(
    () => db.prepare("SELEC 1"),
    (e: unknown) => e instanceof SqliteError && /syntax error/.test(e.message),
  );
  assert.throws(() => db.prepare("   "), SqliteError);
  const statement = db.prepare("SELECT ?");
  assert.throws(
    () => statement.bind(2, 1),
    (e: unknown) => e instanceof SqliteError && e.code === 25,
  );
  db.close();
});

test("interrupt stops a running statement with SQLITE_INTERRUPT", () => {
  const db = openMemoryConnection(sqlite);
  const statement = db.prepare(
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c",
  );
  assert.equal(statement.step(), true);
  db.interrupt();
  assert.throws(
    () => statement.step(),
    (e: unknown) => e instanceof SqliteError && e.code === 9,
  );
  db.close();
});

test("the dialect dqlite users get: double-quoted strings, foreign keys, secure delete, 4 KiB pages", () => {
  const vfs = new Vfs(sqlite, { onCommit: (tx) => tx.database.applyPending() });
  const db = vfs.connect("dialect");
  assert.deepEqual(db.query(`SELECT "not a column"`), [["not a column"]]);
  assert.deepEqual(db.query("PRAGMA foreign_keys"), [[1]]);
  assert.deepEqual(db.query("PRAGMA secure_delete"), [[1]]);
  db.exec("CREATE TABLE p (id INTEGER PRIMARY KEY); CREATE TABLE c (p REFERENCES p(id))");
  assert.throws(() => db.exec("INSERT INTO c VALUES (5)"), /FOREIGN KEY/);
  assert.deepEqual(db.query("PRAGMA page_size"), [[4096]]);
  assert.equal(vfs.database("dialect").store.pageSizeBytes, 4096);
  db.close();
  vfs.close();
});

test("journal mode, locking mode and page size cannot be changed; journal_mode=wal answers wal", () => {
  const vfs = new Vfs(sqlite);
  const db = vfs.connect("fixed");
  assert.throws(() => db.exec("PRAGMA journal_mode=DELETE"), /journal mode/);
  assert.throws(() => db.exec("PRAGMA locking_mode=EXCLUSIVE"), /locking mode/);
  assert.throws(() => db.exec("PRAGMA page_size=8192"), /page size/);
  assert.deepEqual(db.query("PRAGMA journal_mode=WAL"), [["wal"]]);
  assert.deepEqual(db.query("PRAGMA journal_mode"), [["memory"]]);
  db.close();
  vfs.close();
});

test("names that would leave the VFS are refused", () => {
  const vfs = new Vfs(sqlite);
  for (const name of ["", ":memory:", "file:x?vfs=memdb"]) {
    assert.throws(() => vfs.connect(name), SqliteError);
  }
  vfs.close();
});

test("finalized statements and closed connections refuse use", () => {
  const db = openMemoryConnection(sqlite);
  const statement = db.prepare("SELECT 1");
  statement.finalize();
  statement.finalize();
  assert.throws(() => statement.step(), /finalized/);
  const open = db.prepare("SELECT 2");
  db.close();
  db.close();
  assert.throws(() => open.step(), /finalized/);
  assert.throws(() => db.prepare("SELECT 1"), /closed/);
});

test("temporary tables live in private memory and are never replicated", () => {
  const vfs = new Vfs(sqlite);
  const db = vfs.connect("temp");
  db.exec("CREATE TEMP TABLE scratch (v)");
  db.exec("INSERT INTO scratch SELECT randomblob(5000) FROM json_each('[1,2,3,4,5,6,7,8,9,10]')");
  assert.deepEqual(db.query("SELECT count(*), sum(length(v)) FROM scratch"), [[10, 50000]]);
  assert.equal(vfs.takeCommitted(db), null);
  assert.equal(vfs.database("temp").store.pageCount, 0);
  db.close();
  vfs.close();
});

test("ATTACH and VACUUM INTO cannot open other replicated databases", () => {
  const vfs = new Vfs(sqlite, { onCommit: (tx) => tx.database.applyPending() });
  const db = vfs.connect("main-only");
  db.exec("CREATE TABLE t (x)");
  assert.throws(() => db.exec("ATTACH DATABASE 'other' AS other"), /unable to open/);
  assert.throws(() => db.exec("VACUUM INTO 'copy'"), /unable to open/);
  db.exec("ATTACH DATABASE ':memory:' AS scratch");
  db.exec("CREATE TABLE scratch.s (y)");
  assert.equal(vfs.has("other"), false);
  assert.equal(vfs.has("copy"), false);
  db.close();
  vfs.close();
});
