// Several pipelined writers, readers, applies and aborts in a random order, checked against a
// model: a writer (write intent) must see every transaction waiting for raft, a reader only the
// applied ones, and an aborted transaction takes every later one with it. Caches are what this
// exercises: each connection keeps SQLite's page cache between statements, and only the VFS's
// answer to the pager's 16-byte check at offset 24 tells it what changed.
import assert from "node:assert/strict";
import { Prng } from "../../src/raft/sim/prng.js";
import {
  type Connection,
  loadSqlite,
  type PendingTransaction,
  Vfs,
} from "../../src/sqlite/index.js";
import { testBothModes, vfsOptions } from "./modes.js";

const sqlite = await loadSqlite();
const KEYS = 60; // rows of ~600 bytes: several leaf pages
const SEEDS = Array.from({ length: 6 }, (_, i) => 7 + i * 101);

interface Pending {
  transaction: PendingTransaction;
  /** Key → value this transaction wrote. */
  writes: Map<number, number>;
}

for (const seed of SEEDS) {
  testBothModes(`pipelined writers and readers agree with the model (seed ${seed})`, (mode) => {
    const prng = new Prng(seed);
    const vfs = new Vfs(sqlite, vfsOptions(mode));
    const writers = [vfs.connect("p"), vfs.connect("p"), vfs.connect("p")];
    const readers = [vfs.connect("p"), vfs.connect("p")];
    for (const writer of writers) vfs.setWriteIntent(writer, true);
    const applied = new Map<number, number>();
    const queue: Pending[] = [];
    const take = (connection: Connection) => vfs.takeCommitted(connection)!;
    const head = (key: number) => {
      for (let i = queue.length - 1; i >= 0; i--) {
        const value = queue[i].writes.get(key);
        if (value !== undefined) return value;
      }
      return applied.get(key);
    };
    const readValue = (connection: Connection, key: number) => {
      const rows = connection.query("SELECT v FROM kv WHERE k = ?", [key]);
      return rows.length === 0 ? undefined : Number(rows[0][0]);
    };
    try {
      writers[0].exec("CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER, pad BLOB)");
      take(writers[0]).database.applyPending();
      const stats = { writes: 0, applies: 0, aborts: 0, reads: 0 };
      for (let step = 0; step < 400; step++) {
        const action = prng.int(0, 100);
        if (action < 45) {
          // A writer bumps a key by one on top of what it sees (all waiting transactions).
          const writer = prng.pick(writers);
          const key = prng.int(0, KEYS);
          const next = (head(key) ?? 0) + 1;
          const seen = readValue(writer, key);
          assert.equal(seen, head(key), `step ${step}: a writer sees the newest value of ${key}`);
          writer.query(
            "INSERT OR REPLACE INTO kv (k, v, pad) VALUES (?, coalesce((SELECT v FROM kv WHERE k = ?), 0) + 1, randomblob(600))",
            [key, key],
          );
          queue.push({ transaction: take(writer), writes: new Map([[key, next]]) });
          stats.writes++;
        } else if (action < 65 && queue.length > 0) {
          const oldest = queue.shift()!;
          oldest.transaction.database.applyPending();
          for (const [key, value] of oldest.writes) applied.set(key, value);
          stats.applies++;
        } else if (action < 72 && queue.length > 0) {
          // Raft failed one: it and every later one go.
          const at = prng.int(0, queue.length);
          queue[at].transaction.database.abortPending(queue[at].transaction);
          queue.splice(at);
          stats.aborts++;
        } else {
          const key = prng.int(0, KEYS);
          const reader = prng.pick(readers);
          assert.equal(
            readValue(reader, key),
            applied.get(key),
            `step ${step}: reader, key ${key}`,
          );
          const writer = prng.pick(writers);
          assert.equal(readValue(writer, key), head(key), `step ${step}: writer, key ${key}`);
          stats.reads++;
        }
      }
      while (queue.length > 0) {
        const oldest = queue.shift()!;
        oldest.transaction.database.applyPending();
        for (const [key, value] of oldest.writes) applied.set(key, value);
      }
      const everything = new Map(
        readers[0].query("SELECT k, v FROM kv").map(([k, v]) => [Number(k), Number(v)]),
      );
      assert.deepEqual(everything, applied);
      assert.deepEqual(readers[1].query("PRAGMA integrity_check"), [["ok"]]);
      assert.ok(stats.aborts > 0 && stats.applies > 20 && stats.reads > 20, JSON.stringify(stats));
    } finally {
      for (const connection of [...writers, ...readers]) connection.close();
      vfs.close();
    }
  });
}
