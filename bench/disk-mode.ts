// Disk mode with a database larger than the node's heap: a one-node cluster in a process
// capped at 512 MB of JS heap (--max-old-space-size=512) starts from a raft snapshot of a
// 2 GB database (200 MB with --short), streams it into its database file, then serves
// point reads of random existing keys (nearly all cache misses: 64 MiB of cache), then kvwrite
// (dqlite-benchmark's INSERT OR REPLACE of 32-byte keys and 1 KiB values; raft snapshots the
// whole database every 1024 writes, as dqlite does). Printed: restore time, rates, peak RSS
// and heap. Reference, in the same run: a memory-mode node with the
// 200 MB database, same workload, no heap cap.
// Standalone: node --import tsx bench/disk-mode.ts [--short]
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { KV_WRITE_SQL, randomLetters, randomValue } from "../src/cli/benchmark/workload.js";
import { connect } from "../src/client/index.js";
import { BOOTSTRAP_ID, Node } from "../src/server/node.js";
import { buildKvDatabase, writeSnapshotDataDir } from "../test/fsm/large-database.js";

const HEAP_CAP_MB = 512;
const DATABASE = "bench";

interface ChildResult {
  mode: "disk" | "memory";
  databaseBytes: number;
  restoreMs: number;
  writes: number;
  writeMs: number;
  reads: number;
  readMs: number;
  peakRssBytes: number;
  peakHeapUsedBytes: number;
  cacheSizeBytes: number;
  /** Raft snapshots completed during the writes. */
  snapshots: number;
}

function key(i: number): string {
  return String(i).padStart(32, "0");
}

function runChild(args: string[], heapCapMb: number | null): Promise<ChildResult> {
  const self = fileURLToPath(import.meta.url);
  const flags = heapCapMb === null ? [] : [`--max-old-space-size=${heapCapMb}`];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, "--import", "tsx", self, "--child", ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.on("exit", (code) => {
      const line = output.split("\n").find((l) => l.startsWith("result "));
      if (code !== 0 || line === undefined) reject(new Error(`child failed (${code}): ${output}`));
      else resolve(JSON.parse(line.slice("result ".length)) as ChildResult);
    });
  });
}

/** In the child: start the node from its data directory, then measure. */
async function child(args: string[]): Promise<void> {
  const [mode, dataDir, address, durationText, rowsText] = args;
  const durationMs = Number(durationText);
  const rows = Number(rowsText);
  let peakRssBytes = 0;
  let peakHeapUsedBytes = 0;
  const sample = () => {
    const usage = process.memoryUsage();
    peakRssBytes = Math.max(peakRssBytes, usage.rss);
    peakHeapUsedBytes = Math.max(peakHeapUsedBytes, usage.heapUsed);
  };
  const sampler = setInterval(sample, 50);
  const cacheSizeBytes = 64 * 1024 * 1024;
  const node = new Node({
    id: BOOTSTRAP_ID,
    address,
    dataDir,
    networkLatencyMs: 20,
    diskMode: mode === "disk",
    diskCacheSizeBytes: cacheSizeBytes,
  });
  let started = performance.now();
  await node.start();
  const restoreMs = performance.now() - started;
  const db = await connect({ cluster: [address], database: DATABASE, timeoutMs: 60_000 });
  let random = 12345;
  const next = () => {
    random = (Math.imul(random, 1664525) + 1013904223) >>> 0;
    return random / 2 ** 32;
  };
  // Reads first: no snapshot is being written yet (writes trigger one every 1024 entries).
  started = performance.now();
  let reads = 0;
  while (performance.now() - started < durationMs) {
    const row = await db.get("SELECT value FROM model WHERE key = ?", [
      key(Math.floor(next() * rows)),
    ]);
    if (row === undefined) throw new Error("a key of the database is missing");
    reads++;
  }
  const readMs = performance.now() - started;
  // Raft snapshots of the whole database written while the writes run.
  const snapshotNames = new Set<string>();
  const watcher = setInterval(() => {
    for (const name of readdirSync(dataDir)) {
      if (/^snapshot-\d+-\d+-\d+$/.test(name)) snapshotNames.add(name);
    }
  }, 100);
  const snapshotsBefore = readdirSync(dataDir).filter((n) => n.startsWith("snapshot-")).length;
  started = performance.now();
  let writes = 0;
  while (performance.now() - started < durationMs) {
    await db.exec(KV_WRITE_SQL, [randomLetters(32, next), randomValue(1024, next)]);
    writes++;
  }
  const writeMs = performance.now() - started;
  clearInterval(watcher);
  const snapshots = Math.max(0, snapshotNames.size - snapshotsBefore / 2);
  sample();
  clearInterval(sampler);
  await db.close();
  await node.close();
  const result: ChildResult = {
    mode: mode as ChildResult["mode"],
    databaseBytes: 0,
    restoreMs,
    writes,
    writeMs,
    reads,
    readMs,
    peakRssBytes,
    peakHeapUsedBytes,
    cacheSizeBytes,
    snapshots,
  };
  process.stdout.write(`result ${JSON.stringify(result)}\n`);
}

/** A loopback port the kernel just gave out (the node binds it a moment later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;
const perSecond = (n: number, ms: number) =>
  `${Math.round((n / ms) * 1000).toLocaleString("en-US")}/s`;

export async function run(options: { short: boolean }): Promise<void> {
  const largeBytes = (options.short ? 200 : 2048) * 1024 * 1024;
  const referenceBytes = 200 * 1024 * 1024;
  const durationMs = options.short ? 3000 : 10_000;
  const dir = await mkdtemp(join(tmpdir(), "bench-disk-mode-"));
  try {
    const results: { label: string; result: ChildResult; heapCap: number | null }[] = [];
    for (const [label, mode, targetBytes, heapCap] of [
      ["disk mode", "disk", largeBytes, HEAP_CAP_MB],
      ["memory mode (reference)", "memory", referenceBytes, null],
    ] as const) {
      let started = performance.now();
      const databasePath = join(dir, `${mode}.db`);
      const rows = buildKvDatabase(databasePath, targetBytes);
      const buildMs = performance.now() - started;
      const dataDir = join(dir, `${mode}-node`);
      const address = `127.0.0.1:${await freePort()}`;
      started = performance.now();
      const databaseBytes = await writeSnapshotDataDir(dataDir, databasePath, DATABASE, {
        id: BOOTSTRAP_ID,
        address,
      });
      const installMs = performance.now() - started;
      await rm(databasePath, { force: true });
      console.log(
        `${label}: ${mb(databaseBytes)} database (${rows.toLocaleString("en-US")} rows) built by native SQLite in ${(buildMs / 1000).toFixed(1)} s, stored as a raft snapshot in ${(installMs / 1000).toFixed(1)} s`,
      );
      const result = await runChild(
        [mode, dataDir, address, String(durationMs), String(rows)],
        heapCap,
      );
      result.databaseBytes = databaseBytes;
      results.push({ label, result, heapCap });
      await rm(dataDir, { recursive: true, force: true });
    }
    const [disk, memory] = results.map((r) => r.result);
    for (const { label, result, heapCap } of results) {
      console.log(
        `${label}, ${mb(result.databaseBytes)} database${heapCap ? `, heap capped at ${heapCap} MB` : ""}:`,
      );
      console.log(
        `  start (snapshot streamed into the ${result.mode === "disk" ? "database file" : "memory"}): ${(result.restoreMs / 1000).toFixed(1)} s`,
      );
      console.log(
        `  kvwrite (1 client, 1 KiB values; ${result.snapshots} snapshots of the whole database written meanwhile): ${perSecond(result.writes, result.writeMs)}${result === disk ? `  ${(result.writes / result.writeMs / (memory.writes / memory.writeMs)).toFixed(2)}x of memory mode` : ""}`,
      );
      console.log(
        `  point reads of random keys: ${perSecond(result.reads, result.readMs)}${result === disk ? `  ${(result.reads / result.readMs / (memory.reads / memory.readMs)).toFixed(2)}x of memory mode (cache ${mb(result.cacheSizeBytes)})` : ""}`,
      );
      console.log(
        `  peak RSS ${mb(result.peakRssBytes)}, peak JS heap used ${mb(result.peakHeapUsedBytes)}`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const invokedDirectly = process.argv[1] === fileURLToPath(import.meta.url);
if (invokedDirectly) {
  const args = process.argv.slice(2);
  if (args[0] === "--child") await child(args.slice(1));
  else await run({ short: args.includes("--short") });
}
