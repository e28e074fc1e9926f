// Database size is bounded by memory, not by wasm's 4 GiB: committed pages live in JavaScript
// buffers, so the wasm heap does not grow with the database (only with SQLite's own caches).
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadSqlite, Vfs } from "../../src/sqlite/index.js";
import { loadWasm } from "../../src/sqlite/wasm.js";

test("a 64 MiB database leaves the wasm heap where a 1 MiB one had it", async () => {
  const sqlite = await loadSqlite();
  const wasm = await loadWasm();
  const vfs = new Vfs(sqlite);
  const writer = vfs.connect("big");
  const commit = () => vfs.takeCommitted(writer)!.database.applyPending();
  writer.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB)");
  commit();
  const insertMiB = () => {
    writer.exec(
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 256) INSERT INTO t (v) SELECT randomblob(4000) FROM n",
    );
    commit();
  };
  insertMiB();
  const heapAfterFirst = wasm.u8().length;
  for (let i = 1; i < 64; i++) insertMiB();
  const pages = writer.prepare(
    "SELECT page_count * page_size FROM pragma_page_count, pragma_page_size",
  );
  assert.equal(pages.step(), true);
  const databaseBytes = Number(pages.row()[0]);
  pages.finalize();
  assert.ok(databaseBytes > 64 * 1024 * 1024, `database of ${databaseBytes} bytes`);
  const growth = wasm.u8().length - heapAfterFirst;
  assert.ok(
    growth < 16 * 1024 * 1024,
    `wasm heap grew by ${growth} bytes for a ${databaseBytes}-byte database`,
  );
  writer.close();
  vfs.close();
});
