// Side by side: Debian's real dqlite (dqlite-demo over libdqlite 1.11) and ours (our dqlite-demo),
// clusters of 3 and 1 nodes on random loopback ports, driven by the same client and workloads,
// runs alternated (real, ours, real, ours) so that drift of this shared machine cancels out.
// Prints OUR/REAL ratios, writes JSON and an SVG chart to bench/results/.
//
//   npm run bench -- compare            full run (about 20 minutes)
//   npm run bench -- --short compare    the harness check CI runs (under 2 minutes)
//   node --import tsx bench/compare.ts [--short] [--sizes 3,1] [--seconds N]
//                                      [--memory-mb N (default 100, 0 in short mode)]
//                                      [--soak-minutes N (ours, kvwrite ×8 over 2,704 keys, RSS every 30 s)]
//                                      [--failovers N (leader kills per side, default 3, 1 short)]
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  runWorkload,
  setUpKvSchema,
  summarize,
  type WorkloadName,
} from "../src/cli/benchmark/index.js";
import { Client, connect, type Database } from "../src/client/index.js";
import { type DemoCluster, startDemoCluster } from "../test/harness/real-dqlite.js";
import {
  type ChartRow,
  chartSvg,
  flushCounter,
  measureFsyncRate,
  measureLoopbackRoundTripUs,
  memoryOf,
  ROOT,
  readyToCompare,
} from "./lib/compare-support.js";

type Impl = "real" | "ours";

interface Measurement {
  opsPerSecond: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  flushesPerOp: number | null;
  /**
   * Successful writes per second (kv workloads). Real dqlite fails concurrent writes at once
   * ("database is locked") and its workers go on to cheap reads, so with several workers ops/s
   * alone flatters it; this column shows what each side actually wrote.
   */
  writesPerSecond: number | null;
}

interface WorkloadSpec {
  label: string;
  run(db: Database, cluster: DemoCluster, seconds: number): Promise<Measurement>;
}

const flushes = flushCounter(tmpdir());

function withFlushes<T extends Omit<Measurement, "flushesPerOp" | "writesPerSecond">>(
  before: number | null,
  result: T & { operations: number; writesPerSecond?: number },
): Measurement {
  const after = flushes?.() ?? null;
  return {
    opsPerSecond: result.opsPerSecond,
    errors: result.errors,
    p50Ms: result.p50Ms,
    p99Ms: result.p99Ms,
    writesPerSecond: result.writesPerSecond ?? null,
    flushesPerOp:
      before === null || after === null || result.operations === 0
        ? null
        : (after - before) / result.operations,
  };
}

function kv(workload: WorkloadName, workers: number): WorkloadSpec {
  return {
    label: `${workload} ×${workers}`,
    async run(db, _cluster, seconds) {
      const before = flushes?.() ?? null;
      const result = await runWorkload({ db, workload, workers, durationMs: seconds * 1000 });
      const summary = summarize(result);
      return withFlushes(before, {
        opsPerSecond: summary.total.opsPerSecond,
        errors: summary.total.errors,
        p50Ms: summary.total.p50Ms,
        p99Ms: summary.total.p99Ms,
        operations: summary.total.successes,
        writesPerSecond: summary.byKind.exec?.opsPerSecond ?? 0,
      });
    },
  };
}

/** Times `operation` in a loop on `workers` concurrent workers for `seconds`. */
async function timed(
  workers: number,
  seconds: number,
  operation: (worker: number, i: number) => Promise<unknown>,
): Promise<{
  opsPerSecond: number;
  errors: number;
  p50Ms: number;
  p99Ms: number;
  operations: number;
}> {
  const samples: number[] = [];
  let errors = 0;
  const started = performance.now();
  const deadline = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      for (let i = 0; performance.now() < deadline; i++) {
        const t0 = performance.now();
        try {
          await operation(worker, i);
          samples.push(performance.now() - t0);
        } catch {
          errors++;
        }
      }
    }),
  );
  const elapsedS = (performance.now() - started) / 1000;
  samples.sort((a, b) => a - b);
  const at = (p: number) =>
    samples[Math.min(samples.length - 1, Math.floor(p * samples.length))] ?? 0;
  return {
    opsPerSecond: samples.length / elapsedS,
    errors,
    p50Ms: at(0.5),
    p99Ms: at(0.99),
    operations: samples.length,
  };
}

const POINT_KEYS = 1000;

const pointReads: WorkloadSpec = {
  label: "point reads ×8",
  async run(db, _cluster, seconds) {
    return withFlushes(
      flushes?.() ?? null,
      await timed(8, seconds, (_w, i) =>
        db.get("SELECT value FROM points WHERE id = ?", [(i * 7919) % POINT_KEYS]),
      ),
    );
  },
};

const transaction100: WorkloadSpec = {
  label: "transaction of 100 inserts",
  async run(db, _cluster, seconds) {
    const before = flushes?.() ?? null;
    const result = await timed(1, seconds, async () => {
      await db.transaction(async (tx) => {
        for (let i = 0; i < 100; i++) {
          await tx.exec("INSERT INTO tx100 (v) VALUES (?)", [`value-${i}`]);
        }
      });
    });
    return withFlushes(before, result);
  },
};

const query10k: WorkloadSpec = {
  label: "10,000-row query streamed",
  async run(db, _cluster, seconds) {
    return withFlushes(
      flushes?.() ?? null,
      await timed(1, seconds, async () => {
        let rows = 0;
        for await (const _row of db.iterate("SELECT id, v FROM rows10k")) rows++;
        if (rows !== 10_000) throw new Error(`${rows} rows`);
      }),
    );
  },
};

async function prepare(db: Database): Promise<void> {
  await setUpKvSchema(db);
  await db.exec("CREATE TABLE IF NOT EXISTS points (id INTEGER PRIMARY KEY, value TEXT)");
  await db.exec("CREATE TABLE IF NOT EXISTS tx100 (id INTEGER PRIMARY KEY, v TEXT)");
  await db.exec("CREATE TABLE IF NOT EXISTS rows10k (id INTEGER PRIMARY KEY, v TEXT)");
  await db
    .exec(
      `INSERT OR IGNORE INTO points SELECT value, printf('%0100d', value) FROM generate_series(0, ${POINT_KEYS - 1})`,
    )
    .catch(async () => {
      // No generate_series (real dqlite's SQLite 3.40): a recursive CTE does the same.
      await db.exec(
        `WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < ${POINT_KEYS - 1}) INSERT OR IGNORE INTO points SELECT x, printf('%0100d', x) FROM n`,
      );
    });
  await db.exec(
    "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 10000) INSERT OR IGNORE INTO rows10k SELECT x, printf('row %020d', x) FROM n",
  );
}

interface ClusterUnderTest {
  impl: Impl;
  cluster: DemoCluster;
  db: Database;
}

function startDemo(impl: Impl, size: number): Promise<DemoCluster> {
  return impl === "real"
    ? startDemoCluster(size)
    : startDemoCluster(size, {
        command: process.execPath,
        args: [join(ROOT, "bin", "dqlite-demo")],
      });
}

async function startCluster(impl: Impl, size: number): Promise<ClusterUnderTest> {
  const cluster = await startDemo(impl, size);
  // go-dqlite's benchmark does not retry "database is locked": neither does this client here.
  const db = await connect({
    cluster: cluster.nodes.map((n) => n.db),
    database: "benchmark",
    busyTimeoutMs: 0,
    maxConnections: 64,
    timeoutMs: 60_000,
  });
  await prepare(db);
  // Warm up both the same way before measuring (our JIT and wasm tiers, both sides' caches).
  await runWorkload({ db, workload: "kvreadwrite", workers: 4, durationMs: WARM_UP_MS });
  return { impl, cluster, db };
}

/** Seconds from SIGKILL of the leader to the first acknowledged write. */
async function failoverSeconds(under: ClusterUnderTest): Promise<number> {
  const addresses = under.cluster.nodes.map((n) => n.db);
  const admin = await Client.findLeader(addresses, { timeoutMs: 10_000 });
  const leaderAddress = admin.address;
  admin.close();
  const index = under.cluster.nodes.findIndex((n) => n.db === leaderAddress);
  const leader = under.cluster.nodes[index];
  await under.db.exec(KV_WRITE, ["failover", "before"]);
  const killedAt = performance.now();
  leader.process.kill("SIGKILL");
  await leader.process.exited;
  for (;;) {
    try {
      await under.db.exec(KV_WRITE, ["failover", "after"], { timeoutMs: 30_000 });
      break;
    } catch {
      // not yet
    }
  }
  const seconds = (performance.now() - killedAt) / 1000;
  await under.cluster.restart(index + 1);
  return seconds;
}

const KV_WRITE = "INSERT OR REPLACE INTO model(key, value) VALUES(?, ?)";
const WARM_UP_MS = 3000;

function serverMemory(cluster: DemoCluster): { rssBytes: number; peakBytes: number } {
  let rssBytes = 0;
  let peakBytes = 0;
  for (const node of cluster.nodes) {
    const memory = memoryOf(node.process.pid);
    if (memory === null) continue;
    rssBytes = Math.max(rssBytes, memory.rssBytes);
    peakBytes = Math.max(peakBytes, memory.peakBytes);
  }
  return { rssBytes, peakBytes };
}

/**
 * On a fresh cluster (nothing else stored, so the ratio is to this database alone), grows a
 * database to `targetMb` in transactions of 1 MB (1,000 rows of 1 KiB random bytes), then reads
 * the database's size and every node's RSS. The same statements for both.
 */
async function memoryWithDatabase(
  impl: Impl,
  size: number,
  targetMb: number,
): Promise<{ databaseBytes: number; rssBytes: number; peakBytes: number; loadSeconds: number }> {
  const cluster = await startDemo(impl, size);
  const db = await connect({
    cluster: cluster.nodes.map((n) => n.db),
    database: "memory",
    timeoutMs: 60_000,
  });
  try {
    await db.exec("CREATE TABLE IF NOT EXISTS blobs (id INTEGER PRIMARY KEY, v BLOB)");
    const started = performance.now();
    for (let mb = 0; mb < targetMb; mb++) {
      await db.exec(
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 1000) INSERT INTO blobs (v) SELECT randomblob(1024) FROM n",
      );
      if ((mb + 1) % 25 === 0) process.stderr.write(`  ${impl}: ${mb + 1}/${targetMb} MB\r`);
    }
    const loadSeconds = (performance.now() - started) / 1000;
    const pages = await db.get<{ n: number }>(
      "SELECT page_count * page_size AS n FROM pragma_page_count, pragma_page_size",
    );
    // Let snapshots and followers settle before reading RSS.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    return { databaseBytes: Number(pages?.n ?? 0), ...serverMemory(cluster), loadSeconds };
  } finally {
    await db.close();
    await cluster.stop();
  }
}

/**
 * Ours only: kvwrite ×8 for `minutes` over a bounded set of keys (2 letters: at most 2,704 rows of
 * 1 KiB), so that the database stops growing within the first minutes and any growth of RSS
 * after that is the server's. RSS of the largest node and the database's size every 30 s.
 */
async function soak(
  under: ClusterUnderTest,
  minutes: number,
): Promise<{ minutes: number; rssBytes: number; databaseBytes: number }[]> {
  const samples: { minutes: number; rssBytes: number; databaseBytes: number }[] = [];
  const deadline = performance.now() + minutes * 60_000;
  while (performance.now() < deadline) {
    const result = await runWorkload({
      db: under.db,
      workload: "kvwrite",
      workers: 8,
      durationMs: 30_000,
      keySizeBytes: 2,
    });
    const written = summarize(result).total;
    const pages = await under.db.get<{ n: number }>(
      "SELECT page_count * page_size AS n FROM pragma_page_count, pragma_page_size",
    );
    const sample = {
      minutes: (samples.length + 1) / 2,
      rssBytes: serverMemory(under.cluster).rssBytes,
      databaseBytes: Number(pages?.n ?? 0),
    };
    samples.push(sample);
    console.log(
      `  soak: ${sample.minutes} min, ${written.successes} writes (${written.errors} failed) in 30 s, database ${mb(sample.databaseBytes)}, RSS ${mb(sample.rssBytes)}`,
    );
  }
  return samples;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length === 0 ? Number.NaN : sorted[Math.floor(sorted.length / 2)];
};
const fmt = (n: number | null, digits = 1) =>
  n === null || Number.isNaN(n) ? "n/a" : n.toFixed(digits);
const mb = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MB`;

export async function run(options: { short: boolean }): Promise<void> {
  if (!readyToCompare()) return;
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const at = args.indexOf(name);
    return at >= 0 ? args[at + 1] : undefined;
  };
  const short = options.short;
  const sizes = (flag("--sizes") ?? (short ? "3" : "3,1")).split(",").map(Number);
  const seconds = Number(flag("--seconds") ?? (short ? 2 : 10));
  const reps = short ? 1 : 2;
  // A database of this many MB is built in both clusters and RSS read (0: skip).
  const memoryMb = Number(flag("--memory-mb") ?? (short ? 0 : 100));
  const soakMinutes = Number(flag("--soak-minutes") ?? 0);
  // Leader kills per side; each kill follows the restart of the node killed before.
  const failovers = Number(flag("--failovers") ?? (short ? 1 : 3));

  const fsyncPerSecond = measureFsyncRate(short ? 500 : 2000);
  const roundTripUs = await measureLoopbackRoundTripUs(short ? 500 : 3000);
  console.log(
    `machine: ${fsyncPerSecond.toFixed(0)} durable 4 KiB writes/s, loopback round trip ${roundTripUs.toFixed(0)} µs, flush counter ${flushes ? "available" : "not available"}`,
  );

  const workloads: WorkloadSpec[] = short
    ? [
        kv("kvwrite", 1),
        kv("kvwrite", 32),
        kv("kvreadwrite", 8),
        pointReads,
        transaction100,
        query10k,
      ]
    : [
        kv("kvwrite", 1),
        kv("kvwrite", 8),
        kv("kvwrite", 32),
        kv("kvreadwrite", 1),
        kv("kvreadwrite", 8),
        kv("kvreadwrite", 32),
        pointReads,
        transaction100,
        query10k,
      ];

  const report: Record<string, unknown>[] = [];
  for (const size of sizes) {
    console.log(`\n${size}-node clusters, ${seconds} s per run, ${reps * 2} runs per workload`);
    const clusters: Record<Impl, ClusterUnderTest> = {
      real: await startCluster("real", size),
      ours: await startCluster("ours", size),
    };
    const rows: ChartRow[] = [];
    try {
      console.log(
        `${"workload".padEnd(28)} ${"real ops/s".padStart(10)} ${"ours ops/s".padStart(10)} ${"ratio".padStart(6)}  ${"p50 real/ours ms".padStart(17)}  ${"p99 real/ours ms".padStart(17)}  ${"errors r/o".padStart(12)}  flushes/op r/o  writes/s r/o`,
      );
      for (const workload of workloads) {
        const results: Record<Impl, Measurement[]> = { real: [], ours: [] };
        for (let rep = 0; rep < reps; rep++) {
          for (const impl of ["real", "ours"] as const) {
            results[impl].push(
              await workload.run(clusters[impl].db, clusters[impl].cluster, seconds),
            );
          }
        }
        const agg = (impl: Impl): Measurement => ({
          opsPerSecond: median(results[impl].map((m) => m.opsPerSecond)),
          p50Ms: median(results[impl].map((m) => m.p50Ms)),
          p99Ms: median(results[impl].map((m) => m.p99Ms)),
          errors: results[impl].reduce((n, m) => n + m.errors, 0),
          flushesPerOp:
            results[impl][0].flushesPerOp === null
              ? null
              : median(results[impl].map((m) => m.flushesPerOp ?? 0)),
          writesPerSecond:
            results[impl][0].writesPerSecond === null
              ? null
              : median(results[impl].map((m) => m.writesPerSecond ?? 0)),
        });
        const real = agg("real");
        const ours = agg("ours");
        const ratio = ours.opsPerSecond / real.opsPerSecond;
        console.log(
          `${workload.label.padEnd(28)} ${fmt(real.opsPerSecond).padStart(10)} ${fmt(ours.opsPerSecond).padStart(10)} ${`${fmt(ratio, 2)}x`.padStart(6)}  ${`${fmt(real.p50Ms, 2)}/${fmt(ours.p50Ms, 2)}`.padStart(17)}  ${`${fmt(real.p99Ms, 2)}/${fmt(ours.p99Ms, 2)}`.padStart(17)}  ${`${real.errors}/${ours.errors}`.padStart(12)}  ${`${fmt(real.flushesPerOp, 2)}/${fmt(ours.flushesPerOp, 2)}`.padEnd(14)}  ${real.writesPerSecond === null ? "" : `${fmt(real.writesPerSecond, 0)}/${fmt(ours.writesPerSecond, 0)}`}`,
        );
        rows.push({
          label: `${size}n ${workload.label}`,
          realOpsPerSecond: real.opsPerSecond,
          oursOpsPerSecond: ours.opsPerSecond,
          realP99Ms: real.p99Ms,
          oursP99Ms: ours.p99Ms,
        });
        report.push({ size, workload: workload.label, real, ours, ratio, runs: results });
      }
      const memory = {
        real: serverMemory(clusters.real.cluster),
        ours: serverMemory(clusters.ours.cluster),
      };
      console.log(
        `server memory (largest node): real RSS ${mb(memory.real.rssBytes)} (peak ${mb(memory.real.peakBytes)}), ours RSS ${mb(memory.ours.rssBytes)} (peak ${mb(memory.ours.peakBytes)})`,
      );
      report.push({ size, memory });
      if (memoryMb > 0) {
        const withDatabase: Record<Impl, Awaited<ReturnType<typeof memoryWithDatabase>>> = {
          real: await memoryWithDatabase("real", size, memoryMb),
          ours: await memoryWithDatabase("ours", size, memoryMb),
        };
        for (const impl of ["real", "ours"] as const) {
          const m = withDatabase[impl];
          console.log(
            `${impl} with a ${mb(m.databaseBytes)} database (loaded in ${m.loadSeconds.toFixed(1)} s): RSS ${mb(m.rssBytes)} = ${(m.rssBytes / m.databaseBytes).toFixed(2)}x the database (peak ${mb(m.peakBytes)})`,
          );
        }
        report.push({ size, memoryWithDatabase: withDatabase });
      }
      if (soakMinutes > 0) {
        report.push({ size, soak: await soak(clusters.ours, soakMinutes) });
      }
      if (size >= 3) {
        const failover: Record<Impl, number[]> = { real: [], ours: [] };
        for (let kill = 0; kill < failovers; kill++) {
          for (const impl of ["real", "ours"] as const) {
            failover[impl].push(await failoverSeconds(clusters[impl]));
          }
        }
        console.log(
          `failover (SIGKILL of the leader to the first acknowledged write): real ${failover.real.map((s) => s.toFixed(2)).join(", ")} s, ours ${failover.ours.map((s) => s.toFixed(2)).join(", ")} s`,
        );
        report.push({ size, failover });
      }
    } finally {
      for (const under of Object.values(clusters)) {
        await under.db.close().catch(() => {});
        await under.cluster.stop();
      }
    }
    await writeResults(size, rows, report, { fsyncPerSecond, roundTripUs });
  }
}

async function writeResults(
  size: number,
  rows: ChartRow[],
  report: Record<string, unknown>[],
  machine: { fsyncPerSecond: number; roundTripUs: number },
): Promise<void> {
  const dir = join(ROOT, "bench", "results");
  await mkdir(dir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, "-");
  const json = join(dir, `compare-${stamp}.json`);
  const svg = join(dir, `compare-${size}-nodes-${stamp}.svg`);
  await writeFile(json, `${JSON.stringify({ machine, report }, null, 2)}\n`);
  await writeFile(svg, chartSvg(`dqlite-ts vs real dqlite 1.11, ${size}-node clusters`, rows));
  console.log(`results: ${json}\nchart: ${svg}`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await run({ short: process.argv.includes("--short") });
}
