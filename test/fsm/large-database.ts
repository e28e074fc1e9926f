// A large database for the slow tests, made fast by native SQLite and handed to a node as the
// raft snapshot its data directory starts from (no gigabytes through the raft log).
import { stat } from "node:fs/promises";
import Database from "better-sqlite3";
import { encodeDatabaseHeader, encodeSnapshotHeader } from "../../src/fsm/index.js";
import { RaftRole, type SnapshotStream } from "../../src/raft/core/types.js";
import { DiskStorage } from "../../src/raft/io/disk-storage.js";
import { fileSnapshot } from "../../src/raft/io/snapshot-data.js";

/** A kv table (32-byte keys `%032d` of 0..rows-1, 1 KiB values) of about `targetBytes`. */
export function buildKvDatabase(path: string, targetBytes: number): number {
  const db = new Database(path);
  db.pragma("page_size = 4096");
  db.pragma("journal_mode = WAL"); // page 1 then carries the WAL-mode bytes dqlite stores
  db.exec("CREATE TABLE model (key TEXT, value TEXT, UNIQUE(key))");
  const rowsPerBatch = 50_000;
  const insert = db.prepare(
    `WITH RECURSIVE n(i) AS (SELECT ? UNION ALL SELECT i + 1 FROM n WHERE i < ?)
     INSERT INTO model (key, value) SELECT printf('%032d', i), hex(randomblob(512)) FROM n`,
  );
  let rows = 0;
  while (Number(db.pragma("page_count", { simple: true })) * 4096 < targetBytes) {
    insert.run(rows, rows + rowsPerBatch - 1);
    rows += rowsPerBatch;
    db.pragma("wal_checkpoint(TRUNCATE)");
  }
  db.close();
  return rows;
}

/**
 * Makes `dataDir` a raft data directory whose state is one snapshot at index 1 holding the
 * database file as database `name`, with a one-voter configuration.
 */
export async function writeSnapshotDataDir(
  dataDir: string,
  databasePath: string,
  name: string,
  voter: { id: bigint; address: string },
): Promise<number> {
  const sizeBytes = (await stat(databasePath)).size;
  const file = fileSnapshot(databasePath, sizeBytes);
  const header = encodeSnapshotHeader(1);
  const databaseHeader = encodeDatabaseHeader(name, sizeBytes);
  const data: SnapshotStream = {
    sizeBytes: header.length + databaseHeader.length + sizeBytes,
    async *chunks() {
      yield header;
      yield databaseHeader;
      yield* file.chunks();
    },
    release() {},
  };
  const storage = new DiskStorage(dataDir);
  await storage.load();
  await storage.setHardState({ term: 1, votedFor: 0n });
  await storage.installSnapshot({
    meta: {
      index: 1,
      term: 1,
      configuration: [{ ...voter, role: RaftRole.Voter }],
      configurationIndex: 1,
    },
    data,
  });
  await storage.close();
  return sizeBytes;
}
