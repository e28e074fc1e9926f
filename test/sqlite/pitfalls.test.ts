// The pitfalls ENGINE.md lists, each with the scenario that shows it. Pitfall 5 (reads
// spanning pages) is in database-file.test.ts, at the level where it lives.
import assert from "node:assert/strict";
import {
  type Connection,
  loadSqlite,
  type PendingTransaction,
  SqliteError,
  Vfs,
} from "../../src/sqlite/index.js";

import { type StorageMode, testBothModes, vfsOptions } from "./modes.js";

const sqlite = await loadSqlite();

/** A VFS whose transactions wait for the test to apply or abort them. */
function setup(mode: StorageMode, name = "db") {
  const vfs = new Vfs(sqlite, vfsOptions(mode));
  const a = vfs.connect(name);
  const b = vfs.connect(name);
  const take = (connection: Connection): PendingTransaction => {
    const transaction = vfs.takeCommitted(connection);
    assert.ok(transaction, "the statement committed a transaction");
    return transaction;
  };
  // Statement by statement, each commit applied before the next statement (pitfall 4).
  const commit = (connection: Connection, sql: string) => {
    const text = new TextEncoder().encode(sql);
    let offset = 0;
    for (;;) {
      const { statement, tailOffsetBytes } = connection.prepareAt(text, offset);
      if (statement === null) break;
      while (statement.step()) {}
      statement.finalize();
      vfs.takeCommitted(connection)?.database.applyPending();
      offset = tailOffsetBytes;
    }
  };
  const close = () => {
    a.close();
    b.close();
    vfs.close();
  };
  return { vfs, a, b, take, commit, close };
}

// Fixed twice: the abort marks the writer's cache stale, and so does every later apply for
// every connection but the one that wrote it. Without both, the test fails.
testBothModes(
  "pitfall 1: after an abort the writer's cache does not serve the aborted rows",
  (mode) => {
    const { a, b, take, commit, close } = setup(mode);
    commit(a, "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
    a.exec("INSERT INTO t VALUES (1, 'aborted')");
    take(a).database.abortPending();
    // b's commit carries the same change counter the aborted one had.
    commit(b, "INSERT INTO t VALUES (1, 'committed')");
    assert.deepEqual(a.query("SELECT * FROM t"), [[1, "committed"]]);
    assert.deepEqual(b.query("SELECT * FROM t"), [[1, "committed"]]);
    close();
  },
);

testBothModes(
  "pitfall 2: after an aborted CREATE TABLE the writer does not keep the aborted schema",
  (mode) => {
    const { a, b, take, commit, close } = setup(mode);
    a.exec("CREATE TABLE a (x)");
    take(a).database.abortPending();
    commit(b, "CREATE TABLE b (y); INSERT INTO b VALUES ('b row')");
    assert.throws(() => a.query("SELECT * FROM a"), /no such table: a/);
    assert.deepEqual(a.query("SELECT * FROM b"), [["b row"]]);
    close();
  },
);

testBothModes(
  "pitfall 3: an aborted schema change is noticed at prepare time, not only at step",
  (mode) => {
    const { a, take, close } = setup(mode);
    a.exec("CREATE TABLE gone (x)");
    take(a).database.abortPending();
    assert.throws(
      () => a.prepare("SELECT * FROM gone"),
      (e: unknown) => e instanceof SqliteError && /no such table/.test(e.message),
    );
    close();
  },
);

testBothModes(
  "after an abort every connection, the writer included, sees exactly the state before",
  (mode) => {
    const { a, b, take, commit, close } = setup(mode);
    commit(
      a,
      "CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB); INSERT INTO t VALUES (1, zeroblob(10000))",
    );
    const before = a.query("SELECT id, length(v), hex(substr(v, 1, 4)) FROM t");
    const schemaBefore = a.query("SELECT sql FROM sqlite_master ORDER BY name");
    a.exec("BEGIN");
    a.exec("INSERT INTO t VALUES (2, randomblob(50000))");
    a.exec("CREATE INDEX t_v ON t(v)");
    a.exec("ALTER TABLE t ADD COLUMN w DEFAULT 7");
    a.exec("DELETE FROM t WHERE id = 1");
    a.exec("COMMIT");
    take(a).database.abortPending();
    for (const connection of [a, b]) {
      assert.deepEqual(
        connection.query("SELECT id, length(v), hex(substr(v, 1, 4)) FROM t"),
        before,
      );
      assert.deepEqual(
        connection.query("SELECT sql FROM sqlite_master ORDER BY name"),
        schemaBefore,
      );
      assert.deepEqual(connection.query("PRAGMA integrity_check"), [["ok"]]);
    }
    commit(a, "INSERT INTO t VALUES (3, x'00')");
    assert.deepEqual(b.query("SELECT id FROM t ORDER BY id"), [[1], [3]]);
    close();
  },
);

testBothModes(
  "pitfall 4: in autocommit the next write of a multi-statement SQL is BUSY until the first applies",
  (mode) => {
    const { vfs, a, commit, close } = setup(mode);
    commit(a, "CREATE TABLE t (x)");
    assert.throws(
      () => a.exec("INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)"),
      (e: unknown) => e instanceof SqliteError && e.code === 5,
    );
    vfs.takeCommitted(a)!.database.applyPending();
    assert.deepEqual(a.query("SELECT x FROM t"), [[1]]);
    // Statement by statement with the apply in between, as dqlite steps it.
    const sql = new TextEncoder().encode("INSERT INTO t VALUES (3); INSERT INTO t VALUES (4)");
    let offset = 0;
    for (;;) {
      const { statement, tailOffsetBytes } = a.prepareAt(sql, offset);
      if (statement === null) break;
      statement.step();
      statement.finalize();
      vfs.takeCommitted(a)!.database.applyPending();
      offset = tailOffsetBytes;
    }
    assert.deepEqual(a.query("SELECT x FROM t ORDER BY x"), [[1], [3], [4]]);
    close();
  },
);

testBothModes(
  "pitfall 6: every transaction carries page 1, so followers take the size from it (VACUUM shrinks them)",
  (mode) => {
    const leader = new Vfs(sqlite, vfsOptions(mode));
    const follower = new Vfs(sqlite, vfsOptions(mode));
    const db = leader.connect("shrink");
    const replicate = () => {
      const transaction = leader.takeCommitted(db)!;
      assert.equal(transaction.pageNumbers[0], 1, "page 1 is in the transaction");
      transaction.withPages((pages) =>
        follower
          .database("shrink")
          .apply(transaction.pageSizeBytes, transaction.pageNumbers, pages),
      );
      transaction.database.applyPending();
    };
    const run = (sql: string) => {
      db.exec(sql);
      replicate();
    };
    run("CREATE TABLE t (v)");
    run(
      "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) INSERT INTO t SELECT randomblob(3000) FROM n",
    );
    run("DELETE FROM t");
    const grown = follower.database("shrink").store.pageCount;
    run("VACUUM");
    const shrunk = leader.database("shrink").store.pageCount;
    assert.ok(shrunk < grown / 10, `vacuum shrank ${grown} to ${shrunk}`);
    assert.equal(follower.database("shrink").store.pageCount, shrunk);
    db.close();
    leader.close();
    follower.close();
  },
);

testBothModes(
  "pitfall 7: an exception inside a VFS method becomes an I/O error, not a crash",
  (mode) => {
    const vfs = new Vfs(
      sqlite,
      vfsOptions(mode, {
        onCommit: () => {
          throw new Error("listener failed");
        },
      }),
    );
    const db = vfs.connect("throws");
    assert.throws(
      () => db.exec("CREATE TABLE t (x)"),
      (e: unknown) => e instanceof SqliteError && e.code === 10,
    );
    assert.match(String(vfs.lastError), /listener failed/);
    assert.equal(vfs.database("throws").pending, null);
    assert.equal(vfs.database("throws").store.pageCount, 0);
    assert.deepEqual(db.query("SELECT count(*) FROM sqlite_master"), [[0]]);
    db.close();
    vfs.close();
  },
);
