// A seeded random SQL workload for replication tests: DDL, inserts, updates, deletes, large
// blobs that spill a small page cache, VACUUM, rolled-back transactions, transactions raft
// "fails" (aborted), several databases.
import assert from "node:assert/strict";
import { type Connection, SqliteError, type SqlValue } from "../../src/sqlite/index.js";
import type { ReplicationHarness } from "./replication-harness.js";

/** Every table's rows as one string, read in the connection's current transaction. */
function digest(connection: Connection): string {
  const tables = connection.query(
    "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
  );
  const parts = tables.map(([table]) => {
    const rows = connection.query(`SELECT * FROM "${String(table)}" ORDER BY 1`);
    return `${String(table)}:${JSON.stringify(rows, (_key, value: SqlValue) =>
      value instanceof Uint8Array
        ? Buffer.from(value).toString("hex")
        : typeof value === "bigint"
          ? String(value)
          : value,
    )}`;
  });
  return parts.join("\n");
}

interface LongReader {
  readonly connection: Connection;
  readonly expected: string;
  readonly untilStep: number;
}

/** Small fast PRNG (mulberry32): the same seed gives the same workload. */
export function randomGenerator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const DATABASES = ["main-db", "second", "third"];

export interface WorkloadOptions {
  readonly steps: number;
  /** Chance that a committed transaction is aborted instead of replicated. */
  readonly abortRate: number;
}

export function runWorkload(
  harness: ReplicationHarness,
  seed: number,
  options: WorkloadOptions,
): void {
  const random = randomGenerator(seed);
  const int = (n: number) => Math.floor(random() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)];
  const bytes = (n: number) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = int(256);
    return out;
  };
  const text = (n: number) => {
    let s = "";
    for (let i = 0; i < n; i++) s += String.fromCharCode(97 + int(26));
    return s;
  };
  const blobSize = () => {
    const roll = random();
    if (roll < 0.8) return int(200);
    if (roll < 0.97) return 1000 + int(20000);
    return 100000 + int(300000);
  };

  // Readers that hold a read transaction across several steps: they must keep seeing the
  // version they started on while the workload writes, aborts and vacuums around them.
  const readers = new Map<string, LongReader>();
  const finishReader = (db: string, reader: LongReader) => {
    assert.equal(digest(reader.connection), reader.expected, `long reader on ${db} saw a change`);
    reader.connection.exec("COMMIT");
    reader.connection.close();
    readers.delete(db);
  };
  for (let step = 0; step < options.steps; step++) {
    for (const [db, reader] of readers) if (reader.untilStep <= step) finishReader(db, reader);
    const db = pick(DATABASES);
    if (!readers.has(db) && random() < 0.15) {
      const connection = harness.leader.connect(db);
      connection.exec("BEGIN");
      readers.set(db, { connection, expected: digest(connection), untilStep: step + 1 + int(6) });
    }
    const abort = random() < options.abortRate;
    const tables = harness
      .run(db, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
      .map(([name]) => String(name));
    const table = tables.length > 0 ? pick(tables) : null;
    const roll = random();
    const run = (sql: string, parameters: (string | number | Uint8Array | null)[] = []) =>
      harness.run(db, sql, parameters, abort);
    try {
      if (table === null || (roll < 0.08 && tables.length < 4)) {
        const name = `t${int(1000)}`;
        run(`CREATE TABLE IF NOT EXISTS ${name} (id INTEGER PRIMARY KEY, a TEXT, b BLOB, c REAL)`);
        if (random() < 0.5) run(`CREATE INDEX IF NOT EXISTS ${name}_a ON ${name}(a)`);
      } else if (roll < 0.45) {
        const rows = 1 + int(8);
        const explicit = random() < 0.4;
        if (explicit) run("BEGIN");
        for (let i = 0; i < rows; i++) {
          run(`INSERT INTO ${table} (a, b, c) VALUES (?, ?, ?)`, [
            text(int(40)),
            bytes(blobSize()),
            random() * 1000,
          ]);
        }
        if (explicit) run(random() < 0.2 ? "ROLLBACK" : "COMMIT");
      } else if (roll < 0.6) {
        run(`UPDATE ${table} SET a = ?, c = c + 1 WHERE id % ? = ?`, [
          text(int(60)),
          2 + int(5),
          int(3),
        ]);
      } else if (roll < 0.7) {
        run(`DELETE FROM ${table} WHERE id % ? = ?`, [2 + int(6), int(4)]);
      } else if (roll < 0.78) {
        // A transaction larger than a tiny page cache: pages spill into the overlay early.
        run("PRAGMA cache_size = 5");
        run("BEGIN");
        for (let i = 0; i < 3; i++) {
          run(`INSERT INTO ${table} (a, b, c) VALUES (?, ?, ?)`, [
            text(10),
            bytes(30000 + int(60000)),
            i,
          ]);
        }
        run(`UPDATE ${table} SET c = -c WHERE id % 3 = 0`);
        run(random() < 0.25 ? "ROLLBACK" : "COMMIT");
        run("PRAGMA cache_size = -2000");
      } else if (roll < 0.84) {
        run("BEGIN");
        run(`DELETE FROM ${table} WHERE id % 2 = 0`);
        run(`INSERT INTO ${table} (a) VALUES ('rolled back')`);
        run("ROLLBACK");
      } else if (roll < 0.89) {
        run("VACUUM");
      } else if (roll < 0.92 && tables.length > 1) {
        run(`DROP TABLE ${table}`);
      } else if (roll < 0.96) {
        run(`ALTER TABLE ${table} ADD COLUMN x${int(100)} INTEGER DEFAULT ${int(9)}`);
      } else {
        run(`INSERT INTO ${table} (a, c) SELECT a || 'x', c * 2 FROM ${table} LIMIT 20`);
      }
    } catch (error) {
      // Random DDL can collide (duplicate column); that is part of the workload, not a failure.
      if (!(error instanceof SqliteError) || error.code !== 1) throw error;
      const connection = harness.connection(db);
      if (!connection.isAutocommit()) harness.run(db, "ROLLBACK");
    }
  }
  for (const [db, reader] of readers) finishReader(db, reader);
}
