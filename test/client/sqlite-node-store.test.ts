// The SQLite node store against files made by go-dqlite (fixtures, see make-node-store-fixtures.sh)
// and checked with a native SQLite (better-sqlite3, a dev dependency) as an independent reader.
import assert from "node:assert/strict";
import { chmod, copyFile, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import Database from "better-sqlite3";
import { DqliteError, MemoryNodeStore } from "../../src/client/index.js";
import { openNodeStore } from "../../src/client/open-node-store.js";
import { SqliteNodeStore } from "../../src/client/sqlite-node-store.js";
import { YamlNodeStore } from "../../src/client/yaml-node-store.js";
import { Role } from "../../src/wire/index.js";

const FIXTURES = join(import.meta.dirname, "fixtures");
let work: string;
let counter = 0;

before(async () => {
  work = await mkdtemp(join(tmpdir(), "sqlite-node-store-"));
});

after(async () => {
  await rm(work, { recursive: true, force: true });
});

function freshPath(name = "servers.db"): string {
  counter++;
  return join(work, `${counter}-${name}`);
}

async function fixture(name: string): Promise<string> {
  const path = freshPath(name);
  await copyFile(join(FIXTURES, name), path);
  return path;
}

function nativeRows(path: string, sql = "SELECT address FROM servers ORDER BY rowid"): unknown[] {
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).pluck().all();
  } finally {
    db.close();
  }
}

const node = (address: string, id = 7n, role: Role = Role.Spare) => ({ id, address, role });

test("reads a store whose table go-dqlite created: every row is id 1, voter", async () => {
  const store = await SqliteNodeStore.open(await fixture("go-dqlite-servers.db"));
  assert.deepEqual(await store.get(), [
    { id: 1n, address: "127.0.0.1:9001", role: Role.Voter },
    { id: 1n, address: "[::1]:9002", role: Role.Voter },
    { id: 1n, address: "@dqlite-3", role: Role.Voter },
  ]);
});

test("opening an existing store does not rewrite the file", async () => {
  const path = await fixture("go-dqlite-servers.db");
  const before = await readFile(path);
  const { mtimeMs } = await stat(path);
  await SqliteNodeStore.open(path);
  assert.deepEqual(await readFile(path), before);
  assert.equal((await stat(path)).mtimeMs, mtimeMs);
});

test("a new store has exactly go-dqlite's table and reads back what was set", async () => {
  const path = freshPath();
  const store = await SqliteNodeStore.open(path);
  assert.deepEqual(await store.get(), []);
  await store.set([node("127.0.0.1:9001"), node("127.0.0.1:9002"), node("@abstract")]);
  assert.deepEqual(
    (await store.get()).map((n) => n.address),
    ["127.0.0.1:9001", "127.0.0.1:9002", "@abstract"],
  );
  const db = new Database(path, { readonly: true });
  try {
    const schema = db.prepare("SELECT type, name, sql FROM sqlite_schema ORDER BY name").all();
    assert.deepEqual(schema, [
      {
        type: "table",
        name: "servers",
        sql: "CREATE TABLE servers (address TEXT, UNIQUE(address))",
      },
      { type: "index", name: "sqlite_autoindex_servers_1", sql: null },
    ]);
    assert.equal(db.pragma("integrity_check", { simple: true }), "ok");
  } finally {
    db.close();
  }
  assert.deepEqual(nativeRows(path), ["127.0.0.1:9001", "127.0.0.1:9002", "@abstract"]);
});

test("set replaces every row; ids and roles are not kept", async () => {
  const store = await SqliteNodeStore.open(await fixture("go-dqlite-servers.db"));
  await store.set([node("10.1.1.1:9001", 99n, Role.StandBy)]);
  assert.deepEqual(await store.get(), [{ id: 1n, address: "10.1.1.1:9001", role: Role.Voter }]);
  await store.set([]);
  assert.deepEqual(await store.get(), []);
});

test("a duplicate address fails the whole set and leaves the file as it was", async () => {
  const path = await fixture("go-dqlite-servers.db");
  const before = await readFile(path);
  const store = await SqliteNodeStore.open(path);
  await assert.rejects(store.set([node("a:1"), node("b:1"), node("a:1")]), (error: Error) => {
    assert.ok(error instanceof DqliteError);
    assert.match(error.message, /^failed to insert server a:1: UNIQUE constraint failed/);
    return true;
  });
  assert.deepEqual(await readFile(path), before);
  assert.equal((await store.get()).length, 3);
});

test("a where clause filters get; set still replaces every row", async () => {
  const path = await fixture("go-dqlite-servers.db");
  const store = await SqliteNodeStore.open(path, { where: "address LIKE '127.%'" });
  assert.deepEqual(
    (await store.get()).map((n) => n.address),
    ["127.0.0.1:9001"],
  );
  await store.set([node("127.0.0.2:1"), node("10.0.0.1:1")]);
  assert.deepEqual(nativeRows(path), ["127.0.0.2:1", "10.0.0.1:1"]);
  assert.deepEqual(
    (await store.get()).map((n) => n.address),
    ["127.0.0.2:1"],
  );
});

test("other tables of the file are kept by set", async () => {
  const path = freshPath();
  const db = new Database(path);
  db.exec(
    "CREATE TABLE settings (k TEXT PRIMARY KEY, v TEXT); INSERT INTO settings VALUES ('a', 'b')",
  );
  db.close();
  const store = await SqliteNodeStore.open(path);
  await store.set([node("x:1")]);
  assert.deepEqual(nativeRows(path, "SELECT v FROM settings"), ["b"]);
  assert.deepEqual(nativeRows(path), ["x:1"]);
});

test("custom table and column names, created when missing", async () => {
  const path = freshPath();
  const store = await SqliteNodeStore.open(path, { table: "my nodes", column: "addr" });
  await store.set([node("n:1")]);
  assert.deepEqual(nativeRows(path, 'SELECT addr FROM "my nodes"'), ["n:1"]);
  assert.deepEqual(
    (await (await SqliteNodeStore.open(path, { table: "my nodes", column: "addr" })).get()).map(
      (n) => n.address,
    ),
    ["n:1"],
  );
});

test("a WAL-mode file reads, and stays in WAL mode after set", async () => {
  const path = await fixture("go-dqlite-servers-wal.db");
  const store = await SqliteNodeStore.open(path);
  assert.deepEqual(
    (await store.get()).map((n) => n.address),
    ["10.0.0.1:9001", "10.0.0.2:9001"],
  );
  await store.set([node("10.0.0.3:9001")]);
  const bytes = await readFile(path);
  assert.deepEqual([bytes[18], bytes[19]], [2, 2]);
  assert.deepEqual(nativeRows(path), ["10.0.0.3:9001"]);
});

test("changes still in a -wal file or a hot journal are refused, not half read", async () => {
  const path = freshPath();
  const writer = new Database(path);
  writer.pragma("journal_mode = WAL");
  writer.exec(
    "CREATE TABLE servers (address TEXT, UNIQUE(address)); INSERT INTO servers VALUES ('w:1')",
  );
  try {
    // The writer is open: its rows are in the -wal file only.
    await assert.rejects(
      SqliteNodeStore.open(path),
      /-wal holds changes not yet in the database file/,
    );
  } finally {
    writer.close();
  }
  // Closing checkpointed and removed the -wal file.
  assert.deepEqual(
    (await (await SqliteNodeStore.open(path)).get()).map((n) => n.address),
    ["w:1"],
  );

  const journaled = await fixture("go-dqlite-servers.db");
  const journal = Buffer.alloc(512);
  Buffer.from("d9d505f920a163d7", "hex").copy(journal);
  await writeFile(`${journaled}-journal`, journal);
  await assert.rejects(SqliteNodeStore.open(journaled), /-journal holds an unfinished transaction/);
  // A journal whose header was zeroed (journal_mode=PERSIST after a commit) is no transaction.
  await writeFile(`${journaled}-journal`, Buffer.alloc(512));
  assert.equal((await (await SqliteNodeStore.open(journaled)).get()).length, 3);
});

test("a file that is not a database, or a NULL address, fails with a DqliteError", async () => {
  const path = freshPath();
  await writeFile(path, "this is not a SQLite database, not even close to one".repeat(4));
  await assert.rejects(SqliteNodeStore.open(path), (error: Error) => {
    assert.ok(error instanceof DqliteError);
    assert.match(error.message, /file is not a database/);
    return true;
  });

  const withNull = freshPath();
  const db = new Database(withNull);
  db.exec(
    "CREATE TABLE servers (address TEXT, UNIQUE(address)); INSERT INTO servers VALUES (NULL)",
  );
  db.close();
  const store = await SqliteNodeStore.open(withNull);
  await assert.rejects(store.get(), /the address is NULL/);
});

test("get sees what another writer put in the file since the last get", async () => {
  const path = freshPath();
  const store = await SqliteNodeStore.open(path);
  const first = await store.get();
  assert.equal(first.length, 0);
  // The answer is a copy: changing it does not change the store's next answer.
  first.push({ id: 9n, address: "mine:1", role: Role.Voter });
  assert.deepEqual(await store.get(), []);
  const db = new Database(path);
  db.exec("INSERT INTO servers VALUES ('other:1')");
  db.close();
  assert.deepEqual(
    (await store.get()).map((n) => n.address),
    ["other:1"],
  );
});

test("concurrent sets apply in call order", async () => {
  const store = await SqliteNodeStore.open(freshPath());
  await Promise.all([
    store.set([node("a:1")]),
    store.set([node("b:1")]),
    store.set([node("c:1"), node("d:1")]),
  ]);
  assert.deepEqual(
    (await store.get()).map((n) => n.address),
    ["c:1", "d:1"],
  );
});

test("a new file gets go-sqlite3's mode less the umask; a rewritten file keeps its mode", async () => {
  const path = freshPath();
  await SqliteNodeStore.open(path);
  const umask = process.umask();
  assert.equal((await stat(path)).mode & 0o777, 0o644 & ~umask);
  await chmod(path, 0o600);
  const store = await SqliteNodeStore.open(path);
  await store.set([node("m:1")]);
  assert.equal((await stat(path)).mode & 0o777, 0o600);
});

test("openNodeStore: .yaml is the YAML store, anything else SQLite (go-dqlite's DefaultNodeStore)", async () => {
  const yaml = await openNodeStore(freshPath("cluster.yaml"));
  assert.ok(yaml instanceof YamlNodeStore);
  const sqlite = await openNodeStore(freshPath("servers.yml"));
  assert.ok(sqlite instanceof SqliteNodeStore);
  assert.ok(!(sqlite instanceof MemoryNodeStore));
});
