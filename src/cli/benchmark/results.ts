// What a run leaves behind: go-dqlite's result files (one per worker and kind of operation with at
// least one success, named `<worker>-<exec|query>-<unix seconds>`), and the summary printed at the
// end, whose last line is `ops/s: X p50: Y ms p99: Z ms errors: E`.
import { mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import type { OperationLog } from "./operation-log.js";
import type { WorkloadName, WorkloadResult } from "./workload.js";

export type OperationKind = "exec" | "query";
const KINDS: readonly OperationKind[] = ["exec", "query"];

/** go-dqlite's durToMs: whole milliseconds, a dot, the nanoseconds left over in six digits. */
export function formatDurationMs(ns: number): string {
  const whole = Math.trunc(ns / 1e6);
  const rest = Math.trunc(ns - whole * 1e6);
  return `${whole}.${String(rest).padStart(6, "0")}`;
}

/** The text of one result file, in go-dqlite's layout. */
export function formatResultFile(log: OperationLog): string {
  const n = log.successes;
  const avg = n > 0 ? Math.floor(log.totalNs / n) : 0;
  const lines: string[] = [
    `n ${n}`,
    `n_err ${log.errorCount}`,
    `avg [ms] ${formatDurationMs(avg)}`,
    `max [ms] ${formatDurationMs(log.maxNs)}`,
    `min [ms] ${formatDurationMs(n > 0 ? log.minNs : 0)}`,
    "measurements [timestamp in ns] [ms]",
  ];
  for (let i = 0; i < log.sampleCount; i++) {
    lines.push(`${log.startNs(i)} ${formatDurationMs(log.durationNs(i))}`);
  }
  lines.push("", "errors");
  for (const error of log.errors) lines.push(`${error.startNs} ${error.message}`);
  return `${lines.join("\n")}\n\n`;
}

/** Writes the result files into `<dir>/results` and returns that directory. */
export async function writeResultFiles(
  dir: string,
  result: WorkloadResult,
  nowSeconds = Math.floor(Date.now() / 1000),
): Promise<string> {
  const resultsDir = join(dir, "results");
  await mkdir(resultsDir, { recursive: true, mode: 0o755 });
  for (const [index, worker] of result.workers.entries()) {
    for (const kind of KINDS) {
      const log = worker[kind];
      if (log.successes === 0) continue;
      const file = await open(join(resultsDir, `${index}-${kind}-${nowSeconds}`), "w", 0o644);
      try {
        await file.writeFile(formatResultFile(log));
        await file.sync();
      } finally {
        await file.close();
      }
    }
  }
  return resultsDir;
}

/** Throughput and latency of one kind of operation (or of all of them). */
export interface LatencySummary {
  successes: number;
  errors: number;
  opsPerSecond: number;
  avgMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface RunSummary {
  workload: WorkloadName;
  workers: number;
  elapsedMs: number;
  byKind: Partial<Record<OperationKind, LatencySummary>>;
  total: LatencySummary;
}

/** The value at percentile `p` of sorted values (nearest rank on n - 1, as the reference tools). */
export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.round((p / 100) * (sorted.length - 1)))];
}

function summarizeLogs(logs: OperationLog[], elapsedMs: number): LatencySummary {
  let successes = 0;
  let errors = 0;
  let totalNs = 0;
  let maxNs = 0;
  let samples = 0;
  for (const log of logs) {
    successes += log.successes;
    errors += log.errorCount;
    totalNs += log.totalNs;
    maxNs = Math.max(maxNs, log.maxNs);
    samples += log.sampleCount;
  }
  const sorted = new Float64Array(samples);
  let at = 0;
  for (const log of logs) {
    sorted.set(log.durations(), at);
    at += log.sampleCount;
  }
  sorted.sort();
  return {
    successes,
    errors,
    opsPerSecond: elapsedMs > 0 ? successes / (elapsedMs / 1000) : 0,
    avgMs: successes > 0 ? totalNs / successes / 1e6 : 0,
    p50Ms: percentile(sorted, 50) / 1e6,
    p90Ms: percentile(sorted, 90) / 1e6,
    p99Ms: percentile(sorted, 99) / 1e6,
    maxMs: maxNs / 1e6,
  };
}

/** Throughput and latency percentiles of a run, per kind and overall. */
export function summarize(result: WorkloadResult): RunSummary {
  const byKind: Partial<Record<OperationKind, LatencySummary>> = {};
  for (const kind of KINDS) {
    const logs = result.workers.map((worker) => worker[kind]);
    if (logs.some((log) => log.successes > 0 || log.errorCount > 0)) {
      byKind[kind] = summarizeLogs(logs, result.elapsedMs);
    }
  }
  const all = result.workers.flatMap((worker) => [worker.exec, worker.query]);
  return {
    workload: result.workload,
    workers: result.workers.length,
    elapsedMs: result.elapsedMs,
    byKind,
    total: summarizeLogs(all, result.elapsedMs),
  };
}

const ms = (value: number): string => value.toFixed(3);

/** The summary as lines of text; the last one is `ops/s: X p50: Y ms p99: Z ms errors: E`. */
export function formatSummary(summary: RunSummary): string[] {
  const lines = [
    `workload ${summary.workload}, ${summary.workers} worker${summary.workers === 1 ? "" : "s"}, ` +
      `${(summary.elapsedMs / 1000).toFixed(1)} s`,
  ];
  for (const kind of KINDS) {
    const s = summary.byKind[kind];
    if (s === undefined) continue;
    lines.push(
      `${kind}: n=${s.successes} ops/s=${s.opsPerSecond.toFixed(1)} errors=${s.errors} ` +
        `latency ms avg=${ms(s.avgMs)} p50=${ms(s.p50Ms)} p90=${ms(s.p90Ms)} ` +
        `p99=${ms(s.p99Ms)} max=${ms(s.maxMs)}`,
    );
  }
  const t = summary.total;
  lines.push(
    `ops/s: ${t.opsPerSecond.toFixed(1)} p50: ${ms(t.p50Ms)} ms p99: ${ms(t.p99Ms)} ms errors: ${t.errors}`,
  );
  return lines;
}
