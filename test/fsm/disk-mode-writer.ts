// A one-node disk-mode cluster in its own process that writes until it is killed, for the crash
// tests (crash-loop.ts):
//   disk-mode-writer.ts <address> <data dir>
// Prints, once serving, "state <rows> <max id> <sum of ids> <total> <bad rows> <integrity>"
// for what the restarted node found; then writes one transaction per row, in id order, and
// prints "ack <id>" after each one the node confirmed.
import { connect } from "../../src/client/index.js";
import { BOOTSTRAP_ID, Node } from "../../src/server/node.js";

const [address, dataDir] = process.argv.slice(2);
const node = new Node({
  id: BOOTSTRAP_ID,
  address,
  dataDir,
  networkLatencyMs: 20,
  // Snapshots often, so that kills land while one is taken or written.
  snapshotThreshold: Number(process.env.SNAPSHOT_THRESHOLD ?? 32),
  snapshotTrailing: Number(process.env.SNAPSHOT_THRESHOLD ?? 32),
  diskMode: true,
  // A few pages: reads go to the file, older versions pile up under snapshots.
  diskCacheSizeBytes: 16 * 4096,
});
await node.start();
const db = await connect({ cluster: [address], database: "crash", timeoutMs: 30_000 });
await db.exec(
  "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT NOT NULL); " +
    "CREATE TABLE IF NOT EXISTS c (one INTEGER PRIMARY KEY CHECK (one = 1), total INTEGER); " +
    "INSERT OR IGNORE INTO c VALUES (1, 0)",
);
// Each row's content follows from its id, so a torn or stale page shows as a bad row.
const expected = "printf('row-%d-', id) || hex(zeroblob(100 + id % 900))";
const { rows } = await db.query(
  `SELECT count(*) AS n, coalesce(max(id), 0) AS top, coalesce(sum(id), 0) AS sum, ` +
    `(SELECT total FROM c) AS total, ` +
    `(SELECT count(*) FROM t WHERE v != ${expected}) AS bad, ` +
    `(SELECT group_concat(integrity_check) FROM pragma_integrity_check) AS integrity FROM t`,
);
const state = rows[0];
process.stdout.write(
  `state ${state.n} ${state.top} ${state.sum} ${state.total} ${state.bad} ${state.integrity}\n`,
);
for (let id = Number(state.top) + 1; ; id++) {
  await db.transaction(async (tx) => {
    await tx.exec(`INSERT INTO t (id, v) SELECT id, ${expected} FROM (SELECT ? AS id)`, [id]);
    await tx.exec("UPDATE c SET total = total + ?", [id]);
    // Rewrite a few older rows in place (same content): pages change all over the file.
    await tx.exec(`UPDATE t SET v = ${expected} WHERE id IN (?, ?)`, [
      Math.ceil(id / 2),
      Math.ceil(id / 3),
    ]);
  });
  process.stdout.write(`ack ${id}\n`);
}
