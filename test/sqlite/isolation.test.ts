import assert from "node:assert/strict";
import { type Connection, loadSqlite, SqliteError, Vfs } from "../../src/sqlite/index.js";

import { type StorageMode, testBothModes, vfsOptions } from "./modes.js";

const sqlite = await loadSqlite();

function setup(mode: StorageMode) {
  const vfs = new Vfs(sqlite, vfsOptions(mode));
  const writer = vfs.connect("iso");
  const reader = vfs.connect("iso");
  const apply = (connection: Connection) => vfs.takeCommitted(connection)!.database.applyPending();
  writer.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)");
  apply(writer);
  writer.exec("INSERT INTO t SELECT value, 'old' FROM json_each('[1,2,3,4,5,6,7,8,9,10]')");
  apply(writer);
  const close = () => {
    writer.close();
    reader.close();
    vfs.close();
  };
  return { vfs, writer, reader, apply, close };
}

testBothModes(
  "a reader that started before a commit keeps its version until it ends; long reads never block commits",
  (mode) => {
    const { vfs, writer, reader, apply, close } = setup(mode);
    const scan = reader.prepare("SELECT id, v FROM t ORDER BY id");
    assert.equal(scan.step(), true);
    assert.deepEqual(scan.row(), [1, "old"]);
    // The reader holds its shared lock mid-statement; the writer commits and raft applies.
    writer.exec("UPDATE t SET v = 'new'");
    apply(writer);
    writer.exec("DELETE FROM t WHERE id > 5");
    apply(writer);
    const rest = [];
    while (scan.step()) rest.push(scan.row());
    assert.equal(rest.length, 9);
    assert.ok(rest.every(([, v]) => v === "old"));
    scan.reset();
    assert.deepEqual(
      scan.all().map(([, v]) => v),
      ["new", "new", "new", "new", "new"],
    );
    scan.finalize();
    assert.equal(vfs.database("iso").store.olderVersionCount, 0, "old versions are freed");
    close();
  },
);

testBothModes("a read transaction sees one version across statements", (mode) => {
  const { writer, reader, apply, close } = setup(mode);
  reader.exec("BEGIN");
  assert.deepEqual(reader.query("SELECT count(*) FROM t"), [[10]]);
  writer.exec("DELETE FROM t");
  apply(writer);
  assert.deepEqual(reader.query("SELECT count(*) FROM t"), [[10]]);
  reader.exec("COMMIT");
  assert.deepEqual(reader.query("SELECT count(*) FROM t"), [[0]]);
  close();
});

testBothModes(
  "a pending transaction is invisible to every connection, the writer too, and blocks other writers",
  (mode) => {
    const { vfs, writer, reader, close } = setup(mode);
    writer.exec("INSERT INTO t VALUES (100, 'pending')");
    const pending = vfs.takeCommitted(writer)!;
    for (const connection of [writer, reader]) {
      assert.deepEqual(connection.query("SELECT count(*) FROM t"), [[10]]);
    }
    assert.throws(
      () => reader.exec("INSERT INTO t VALUES (200, 'x')"),
      (e: unknown) => e instanceof SqliteError && e.code === 5,
    );
    pending.database.applyPending();
    for (const connection of [writer, reader]) {
      assert.deepEqual(connection.query("SELECT v FROM t WHERE id = 100"), [["pending"]]);
    }
    close();
  },
);

testBothModes("a write transaction from a stale version cannot start (BUSY)", (mode) => {
  const { writer, reader, apply, close } = setup(mode);
  reader.exec("BEGIN");
  reader.query("SELECT count(*) FROM t");
  writer.exec("DELETE FROM t WHERE id = 1");
  apply(writer);
  assert.throws(
    () => reader.exec("DELETE FROM t WHERE id = 2"),
    (e: unknown) => e instanceof SqliteError && e.code === 5,
  );
  reader.exec("ROLLBACK");
  reader.exec("DELETE FROM t WHERE id = 2");
  apply(reader);
  assert.deepEqual(writer.query("SELECT count(*) FROM t"), [[8]]);
  close();
});

testBothModes(
  "a writer whose base changed under it (frames applied from elsewhere) fails its commit and recovers",
  (mode) => {
    const { vfs, writer, reader, apply, close } = setup(mode);
    writer.exec("BEGIN");
    writer.exec("INSERT INTO t VALUES (50, 'doomed')");
    // Meanwhile a transaction from another leader is applied (a copy of the current pages).
    const database = vfs.database("iso");
    const store = database.store;
    database.apply(store.pageSizeBytes, [1], [store.page(1)!.slice()]);
    assert.throws(
      () => writer.exec("COMMIT"),
      (e: unknown) => e instanceof SqliteError && e.code === 5,
    );
    if (!writer.isAutocommit()) writer.exec("ROLLBACK");
    assert.equal(database.pending, null);
    for (const connection of [writer, reader]) {
      assert.deepEqual(connection.query("SELECT count(*) FROM t WHERE id = 50"), [[0]]);
    }
    writer.exec("INSERT INTO t VALUES (51, 'fine')");
    apply(writer);
    assert.deepEqual(reader.query("SELECT v FROM t WHERE id = 51"), [["fine"]]);
    close();
  },
);

testBothModes(
  "a second pipelined writer builds on the first's pending transaction, not on its own older cache",
  (mode) => {
    const { vfs, writer, reader: second, close } = setup(mode);
    vfs.setWriteIntent(writer, true);
    vfs.setWriteIntent(second, true);
    assert.deepEqual(second.query("SELECT count(*) FROM t"), [[10]]); // its cache: the store
    writer.exec("INSERT INTO t VALUES (100, 'first')");
    const first = vfs.takeCommitted(writer)!;
    second.exec("INSERT INTO t VALUES (101, 'second')");
    const next = vfs.takeCommitted(second)!;
    first.database.applyPending();
    next.database.applyPending();
    assert.deepEqual(writer.query("SELECT id FROM t WHERE id > 10 ORDER BY id"), [[100], [101]]);
    close();
  },
);

testBothModes(
  "a pipelined writer that read a pending transaction forgets it when aborted",
  (mode) => {
    const { vfs, writer, reader: second, close } = setup(mode);
    vfs.setWriteIntent(writer, true);
    vfs.setWriteIntent(second, true);
    writer.exec("UPDATE t SET v = 'doomed' WHERE id = 1");
    const doomed = vfs.takeCommitted(writer)!;
    assert.deepEqual(second.query("SELECT v FROM t WHERE id = 1"), [["doomed"]]);
    doomed.database.abortPending(doomed);
    assert.deepEqual(second.query("SELECT v FROM t WHERE id = 1"), [["old"]]);
    close();
  },
);
