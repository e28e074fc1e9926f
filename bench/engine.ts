// The replicating engine against plain in-memory SQLite, measured in the same run:
//   1. 1-row insert transactions/s into a 100k-row indexed table: captured (VFS + pending +
//      apply) vs no capture (sqlite-wasm's in-memory database, same binding and settings).
//   2. Point SELECT by primary key through the binding: our VFS vs the in-memory database.
//   3. Snapshot of a 100 MB database (time), restore of it, and memory per 100 MB of database.
// Rates are per CPU second of this process (best round after a warm-up): the machine is shared.
// Standalone: node --import tsx bench/engine.ts [--short]

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { chunksSizeBytes, concatChunks, Fsm } from "../src/fsm/index.js";
import {
  type Connection,
  loadSqlite,
  openMemoryConnection,
  type Sqlite,
  Vfs,
} from "../src/sqlite/index.js";

setFlagsFromString("--expose-gc");
const collectGarbage = runInNewContext("gc") as () => void;

function rate(operations: number, ms: number): string {
  return `${Math.round((operations / ms) * 1000).toLocaleString("en-US")}/s`;
}

function ratio(ours: number, reference: number): string {
  return `${(ours / reference).toFixed(2)}x`;
}

/** CPU time of this process in ms: other processes on a shared machine do not inflate it. */
function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * Runs each function in turn, round after round (interleaved, so a change in the machine's
 * load hits all of them alike), each round for about `budgetMs` of CPU time, after a warm-up
 * round. Returns each function's operations per CPU millisecond in its best round.
 */
function measure(rounds: number, budgetMs: number, fns: ((i: number) => void)[]): number[] {
  const best = fns.map(() => 0);
  const counters = fns.map(() => 0);
  for (let round = 0; round <= rounds; round++) {
    fns.forEach((fn, f) => {
      const started = cpuMs();
      let n = 0;
      let elapsed = 0;
      while (elapsed < budgetMs) {
        for (let k = 0; k < 50; k++) fn(counters[f]++);
        n += 50;
        elapsed = cpuMs() - started;
      }
      if (round > 0) best[f] = Math.max(best[f], n / elapsed);
    });
  }
  return best;
}

const KEY_ALPHABET = "abcdefghijklmnopqrstuvwxyz";
function key(i: number): string {
  // Deterministic scattered keys so the index insert lands anywhere in the tree.
  let x = (Math.imul(i + 1, 2654435761) >>> 0).toString(36);
  while (x.length < 8) x += KEY_ALPHABET[x.length];
  return x;
}

function fill(connection: Connection, rows: number, afterEachCommit: () => void): void {
  connection.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT, v BLOB)");
  afterEachCommit();
  connection.exec("CREATE INDEX t_k ON t(k)");
  afterEachCommit();
  const insert = connection.prepare("INSERT INTO t (k, v) VALUES (?, randomblob(32))");
  const batch = 10000;
  for (let done = 0; done < rows; done += batch) {
    connection.exec("BEGIN");
    for (let i = done; i < Math.min(rows, done + batch); i++) {
      insert.bind(1, key(i));
      insert.step();
      insert.reset();
    }
    connection.exec("COMMIT");
    afterEachCommit();
  }
  insert.finalize();
}

function insertsAndSelects(sqlite: Sqlite, short: boolean): void {
  const rows = short ? 20000 : 100000;
  // Many short interleaved rounds, best of each: the machine is shared and its load swings.
  const rounds = short ? 10 : 20;
  const budgetMs = short ? 50 : 150;
  const insertSql = "INSERT INTO t (k, v) VALUES (?, x'00112233445566778899aabbccddeeff')";

  // No capture: sqlite-wasm's in-memory database through the same binding and settings.
  const plain = openMemoryConnection(sqlite);
  fill(plain, rows, () => {});
  // Captured: the replicating VFS; each commit becomes a pending transaction, then applied.
  const vfs = new Vfs(sqlite);
  const captured = vfs.connect("bench");
  fill(captured, rows, () => vfs.takeCommitted(captured)?.database.applyPending());
  // The whole local leader pipeline: FRAMES command encoded, applied by the Fsm as raft would.
  const fsm = new Fsm(sqlite);
  const leader = fsm.connect("bench");
  let index = 0;
  fill(leader, rows, () => {
    const transaction = fsm.takeCommitted(leader);
    if (transaction !== null) fsm.apply(++index, fsm.encode(transaction));
  });

  const plainInsert = plain.prepare(insertSql);
  const capturedInsert = captured.prepare(insertSql);
  const leaderInsert = leader.prepare(insertSql);
  let pagesCaptured = 0;
  let transactions = 0;
  const plainStep = (i: number) => {
    plainInsert.bind(1, key(rows + i));
    plainInsert.step();
    plainInsert.reset();
  };
  // Measured in pairs against the baseline: garbage one makes is collected while another runs.
  const [plainRate, capturedRate] = measure(rounds, budgetMs, [
    plainStep,
    (i) => {
      capturedInsert.bind(1, key(rows + i));
      capturedInsert.step();
      capturedInsert.reset();
      const transaction = vfs.takeCommitted(captured)!;
      pagesCaptured += transaction.pageNumbers.length;
      transactions++;
      transaction.database.applyPending();
    },
  ]);
  const [plainRate2, pipelineRate] = measure(rounds, budgetMs, [
    (i) => plainStep(1_000_000 + i),
    (i) => {
      leaderInsert.bind(1, key(rows + i));
      leaderInsert.step();
      leaderInsert.reset();
      fsm.apply(++index, fsm.encode(fsm.takeCommitted(leader)!));
    },
  ]);
  console.log(
    `1-row insert transactions into a ${rows.toLocaleString("en-US")}-row indexed table:`,
  );
  console.log(`  no capture (in-memory)  ${rate(plainRate * 1000, 1000)}`);
  console.log(
    `  captured (VFS, pending, apply)  ${rate(capturedRate * 1000, 1000)}  ${ratio(capturedRate, plainRate)} of no capture (target >= 0.3x); ${(pagesCaptured / transactions).toFixed(2)} pages per transaction`,
  );
  console.log(
    `  captured + FRAMES encode + Fsm.apply  ${rate(pipelineRate * 1000, 1000)}  ${ratio(pipelineRate, plainRate2)} of no capture (${rate(plainRate2 * 1000, 1000)} in that pair)`,
  );

  const select = (connection: Connection) => {
    const statement = connection.prepare("SELECT k, v FROM t WHERE id = ?");
    return (i: number) => {
      statement.bind(1, 1 + ((i * 7919) % rows));
      statement.step();
      statement.columnText(0);
      statement.columnBlob(1);
      statement.reset();
    };
  };
  const [plainSelectRate, capturedSelectRate] = measure(rounds, budgetMs, [
    select(plain),
    select(captured),
  ]);
  console.log("point SELECT by primary key (each its own read transaction):");
  console.log(`  in-memory database  ${rate(plainSelectRate * 1000, 1000)}`);
  console.log(
    `  replicating VFS     ${rate(capturedSelectRate * 1000, 1000)}  ${ratio(capturedSelectRate, plainSelectRate)} of in-memory (target >= 0.8x)`,
  );

  plain.close();
  captured.close();
  leader.close();
  vfs.close();
  fsm.close();
}

/** Collects garbage and waits for freed ArrayBuffers to be swept, so memory figures settle. */
async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 3; i++) {
    collectGarbage();
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return process.memoryUsage();
}

async function snapshots(sqlite: Sqlite, short: boolean): Promise<void> {
  const targetBytes = (short ? 20 : 100) * 1024 * 1024;
  const before = await settledMemory();
  const fsm = new Fsm(sqlite);
  const connection = fsm.connect("big");
  let index = 0;
  const replicate = () => {
    const transaction = fsm.takeCommitted(connection);
    if (transaction !== null) fsm.apply(++index, fsm.encode(transaction));
  };
  connection.exec("CREATE TABLE blobs (id INTEGER PRIMARY KEY, v BLOB)");
  replicate();
  const insert = connection.prepare("INSERT INTO blobs (v) VALUES (randomblob(1000))");
  const rowsPerTransaction = 1000;
  while (fsm.database("big").store.pageCount * 4096 < targetBytes) {
    connection.exec("BEGIN");
    for (let i = 0; i < rowsPerTransaction; i++) {
      insert.step();
      insert.reset();
    }
    connection.exec("COMMIT");
    replicate();
  }
  insert.finalize();
  connection.close();
  const after = await settledMemory();
  const databaseBytes = fsm.database("big").store.pageCount * 4096;
  const usedBytes = after.heapUsed + after.arrayBuffers - (before.heapUsed + before.arrayBuffers);
  const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  console.log(`a ${mb(databaseBytes)} MB database (${fsm.database("big").store.pageCount} pages):`);
  console.log(
    `  memory (JS heap + array buffers) ${mb(usedBytes)} MB = ${mb((usedBytes / databaseBytes) * 100 * 1024 * 1024)} MB per 100 MB of database (target < 150 MB)`,
  );

  let snapshotMs = Number.POSITIVE_INFINITY;
  let chunks: Uint8Array[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    chunks = fsm.snapshot();
    snapshotMs = Math.min(snapshotMs, performance.now() - started);
  }
  const scaled = (ms: number) => ((ms * 100 * 1024 * 1024) / databaseBytes).toFixed(1);
  console.log(
    `  snapshot (${chunks.length} chunks, ${mb(chunksSizeBytes(chunks))} MB, pages shared): ${snapshotMs.toFixed(1)} ms = ${scaled(snapshotMs)} ms per 100 MB (target < 200 ms)`,
  );
  let started = performance.now();
  const bytes = concatChunks(chunks);
  const concatMs = performance.now() - started;
  console.log(`  joining the chunks into one buffer: ${concatMs.toFixed(1)} ms`);
  const follower = new Fsm(sqlite);
  started = performance.now();
  follower.restore(bytes, index);
  const restoreMs = performance.now() - started;
  console.log(
    `  restore on another node: ${restoreMs.toFixed(1)} ms = ${scaled(restoreMs)} ms per 100 MB`,
  );
  follower.close();
  fsm.close();
}

export async function run(options: { short: boolean }): Promise<void> {
  const sqlite = await loadSqlite();
  insertsAndSelects(sqlite, options.short);
  await snapshots(sqlite, options.short);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ short: process.argv.includes("--short") });
}
