import assert from "node:assert/strict";
import { test } from "node:test";
import {
  DecodeError,
  decodeCommand,
  encodeCheckpoint,
  encodeFrames,
  encodeOpen,
  encodeUndo,
  Fsm,
} from "../../src/fsm/index.js";
import { type Connection, InvalidTransactionError, loadSqlite } from "../../src/sqlite/index.js";

const sqlite = await loadSqlite();

/** A leader fsm and a connection on it; `commit` runs one statement and returns its command. */
function leader(name = "db") {
  const fsm = new Fsm(sqlite);
  const connection = fsm.connect(name);
  let index = 0;
  const commit = (sql: string) => {
    connection.exec(sql);
    const transaction = fsm.takeCommitted(connection);
    assert.ok(transaction);
    return { transaction, command: fsm.encode(transaction) };
  };
  const nextIndex = () => ++index;
  const close = () => {
    connection.close();
    fsm.close();
  };
  return { fsm, connection, commit, nextIndex, close };
}

const count = (connection: Connection, table = "t") =>
  connection.query(`SELECT count(*) FROM ${table}`)[0][0];

test("the leader recognises its own entry by identity or by equal bytes and applies its pending pages", () => {
  const { fsm, connection, commit, nextIndex, close } = leader();
  const create = commit("CREATE TABLE t (x)");
  assert.equal(fsm.apply(nextIndex(), create.command), "applied-pending");
  assert.equal(create.transaction.state, "applied");
  const insert = commit("INSERT INTO t VALUES (1)");
  // After a restart or a copy inside raft the bytes arrive in another buffer.
  assert.equal(fsm.apply(nextIndex(), insert.command.slice()), "applied-pending");
  assert.equal(count(connection), 1);
  close();
});

test("a different transaction for a database with a pending one aborts ours first, then applies", () => {
  const old = leader();
  const other = new Fsm(sqlite);
  const otherConnection = other.connect("db");
  try {
    const create = old.commit("CREATE TABLE t (x)");
    old.fsm.apply(1, create.command);
    other.apply(1, create.command);
    // Our leader proposes a write, loses leadership; the new leader's write commits instead.
    const ours = old.commit("INSERT INTO t VALUES ('ours')");
    otherConnection.exec("INSERT INTO t VALUES ('theirs')");
    const theirs = other.encode(other.takeCommitted(otherConnection)!);
    assert.equal(old.fsm.apply(2, theirs), "aborted-pending-and-applied-frames");
    assert.equal(ours.transaction.state, "aborted");
    assert.deepEqual(old.connection.query("SELECT x FROM t"), [["theirs"]]);
    // Our stale entry, if raft still delivered it, would not be ours any more: it applies as frames.
    assert.equal(old.fsm.database("db").pending, null);
  } finally {
    otherConnection.close();
    other.close();
    old.close();
  }
});

test("abort drops a pending transaction once; aborting twice or after apply is harmless", () => {
  const { fsm, connection, commit, nextIndex, close } = leader();
  fsm.apply(nextIndex(), commit("CREATE TABLE t (x)").command);
  const { transaction } = commit("INSERT INTO t VALUES (1)");
  fsm.abort(transaction);
  fsm.abort(transaction);
  assert.equal(transaction.state, "aborted");
  assert.equal(count(connection), 0);
  const next = commit("INSERT INTO t VALUES (2)");
  fsm.apply(nextIndex(), next.command);
  fsm.abort(next.transaction);
  assert.deepEqual(connection.query("SELECT x FROM t"), [[2]]);
  close();
});

test("legacy OPEN, UNDO and CHECKPOINT entries apply as no-ops", () => {
  const { fsm, close } = leader();
  assert.equal(fsm.apply(1, encodeOpen("db")), "noop");
  assert.equal(fsm.apply(2, encodeUndo(1n)), "noop");
  assert.equal(fsm.apply(3, encodeCheckpoint("db")), "noop");
  assert.equal(fsm.lastAppliedIndex, 3);
  close();
});

test("bad entries are refused: malformed bytes, uncommitted frames, pages that do not fit", () => {
  const { fsm, close } = leader();
  assert.throws(() => fsm.apply(1, Uint8Array.from([1, 7, 0, 0, 0, 0, 0, 0])), DecodeError);
  const frames = encodeFrames("db", 4096, [1], [new Uint8Array(4096)]);
  const uncommitted = frames.slice();
  uncommitted[28] = 0;
  assert.throws(() => fsm.apply(2, uncommitted), DecodeError);
  // Page 2 without page 1 on an empty database: the file would have a hole.
  assert.throws(
    () => fsm.apply(3, encodeFrames("db", 4096, [2], [new Uint8Array(4096)])),
    InvalidTransactionError,
  );
  close();
});

test("entries apply in index order only", () => {
  const { fsm, close } = leader();
  fsm.apply(5, encodeOpen("db"));
  assert.throws(() => fsm.apply(5, encodeOpen("db")), /applied after/);
  close();
});

test("dump returns the database image (as snapshots carry it) and an empty WAL; unknown names give null", () => {
  const { fsm, commit, nextIndex, close } = leader();
  fsm.apply(nextIndex(), commit("CREATE TABLE t (x)").command);
  fsm.apply(nextIndex(), commit("INSERT INTO t VALUES (randomblob(9000))").command);
  const dump = fsm.dump("db");
  assert.ok(dump);
  assert.equal(dump.wal.length, 0);
  const pages = fsm.database("db").store.latestPages();
  assert.equal(dump.main.length, pages.length * 4096);
  assert.deepEqual(dump.main.subarray(4096, 8192), pages[1]);
  assert.deepEqual([dump.main[18], dump.main[19]], [2, 2]);
  assert.equal(fsm.dump("nope"), null);
  close();
});

test("a page 1 whose in-header size is 0 (newer dqlite's delete marker) leaves a 1-page database", () => {
  const { fsm, commit, nextIndex, close } = leader();
  fsm.apply(nextIndex(), commit("CREATE TABLE t (x)").command);
  fsm.apply(nextIndex(), commit("INSERT INTO t VALUES (randomblob(20000))").command);
  const page1 = fsm.database("db").store.page(1)!.slice();
  new DataView(page1.buffer).setUint32(28, 0);
  fsm.apply(nextIndex(), encodeFrames("db", 4096, [1], [page1]));
  assert.equal(fsm.database("db").store.pageCount, 1);
  close();
});

test("frames commands we produce carry page 1 in WAL format, like real dqlite's", () => {
  const { commit, close } = leader();
  const { command } = commit("CREATE TABLE t (x)");
  const decoded = decodeCommand(command);
  assert.ok(decoded.type === "frames");
  assert.equal(decoded.pageNumbers[0], 1);
  assert.deepEqual([decoded.pages[0][18], decoded.pages[0][19]], [2, 2]);
  close();
});
