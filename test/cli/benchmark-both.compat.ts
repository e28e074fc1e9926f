// The benchmark measures both implementations the same way: `bin/dqlite-benchmark --client`, run
// as a user runs it (from a build of these sources), 5 s of kvwrite against a 3-node cluster of
// our dqlite-demo and then against a 3-node cluster of Debian's real dqlite-demo, in one test.
// Both runs must leave go-dqlite's result files and end with the summary line.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { promisify } from "node:util";
import { startOurDemoCluster } from "../harness/our-cluster.js";
import { type DemoCluster, requireRealDqlite, startDemoCluster } from "../harness/real-dqlite.js";
import { checkResultsDirectory, parseSummaryLine } from "./benchmark-embedded-files.js";
import { builtPackage } from "./demo-build.js";

const run = promisify(execFile);
const WORKERS = 2;
const SECONDS = 5;
let work: string;

before(async () => {
  requireRealDqlite();
  work = await mkdtemp(join(tmpdir(), "benchmark-both-"));
});

after(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

interface Run {
  summary: ReturnType<typeof parseSummaryLine>;
  successes: number;
}

/** One `bin/dqlite-benchmark --client` run against `cluster`; checks its output and files. */
async function benchmark(bin: string, cluster: DemoCluster, dir: string): Promise<Run> {
  const runStartNs = BigInt(Date.now()) * 1_000_000n;
  const args = [
    bin,
    "--client",
    "--cluster",
    cluster.servers,
    "--workload",
    "kvwrite",
    "--workers",
    String(WORKERS),
    "--duration",
    `${SECONDS}s`,
    "--dir",
    dir,
  ];
  const { stdout, stderr } = await run(process.execPath, args, {
    timeout: 120_000,
    killSignal: "SIGKILL",
    maxBuffer: 16 * 1024 * 1024,
  }).catch((error: { stdout?: string; stderr?: string; code?: unknown }) => {
    assert.fail(`dqlite-benchmark failed (${String(error.code)}): ${error.stderr}`);
  });
  const runEndNs = BigInt(Date.now()) * 1_000_000n;
  const out = stdout.split("\n").filter((line) => line !== "");
  assert.equal(out[0], "Benchmark done. Results available here:", stdout);
  assert.equal(out[1], join(dir, "results"));
  const summary = parseSummaryLine(out.at(-1) ?? "");
  assert.ok(summary.p50Ms <= summary.p99Ms, out.at(-1));
  // A progress line each second while it ran.
  const progress = stderr.split("\n").filter((line) => / s: \d+ ops /.test(line));
  assert.ok(progress.length >= SECONDS - 1, stderr);
  const successes = await checkResultsDirectory(
    join(dir, "results"),
    WORKERS,
    runStartNs,
    runEndNs,
  );
  assert.ok(successes > 0, "no successful write");
  // The summary's throughput counts the successes the files hold, over the run's duration.
  assert.ok(
    Math.abs(summary.opsPerSecond * SECONDS - successes) <= successes * 0.1 + 1,
    `${summary.opsPerSecond} ops/s vs ${successes} successes in the files`,
  );
  return { summary, successes };
}

test("bin/dqlite-benchmark --client: 5 s against our 3-node cluster and 5 s against a real one", async () => {
  const bin = join(await builtPackage(), "bin", "dqlite-benchmark");
  const runs: Record<string, Run> = {};
  // One cluster at a time, so the two runs do not share the machine.
  for (const kind of ["ours", "real"] as const) {
    const cluster = kind === "ours" ? await startOurDemoCluster(3) : await startDemoCluster(3);
    try {
      runs[kind] = await benchmark(bin, cluster, join(work, kind));
    } finally {
      await cluster.stop();
    }
  }
  for (const [kind, { summary, successes }] of Object.entries(runs)) {
    console.log(
      `${kind}: ${summary.opsPerSecond} ops/s, p50 ${summary.p50Ms} ms, p99 ${summary.p99Ms} ms, ${successes} writes, ${summary.errors} errors`,
    );
  }
});
