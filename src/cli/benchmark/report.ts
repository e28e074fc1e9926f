// The part of a benchmark run both modes share: run the workload with a progress line on stderr
// every second, then write go-dqlite's result files and print where they are and the summary.
import type { Writable } from "node:stream";
import type { BenchmarkArguments } from "./arguments.js";
import { formatSummary, summarize, writeResultFiles } from "./results.js";
import { runWorkload, type WorkloadDatabase } from "./workload.js";

/** Where a benchmark writes: stdout for the outcome, stderr for progress and errors. */
export interface BenchmarkIo {
  stdout: Writable;
  stderr: Writable;
}

function progressLine(elapsedMs: number, successes: number, errors: number): string {
  const rate = elapsedMs > 0 ? successes / (elapsedMs / 1000) : 0;
  return `${(elapsedMs / 1000).toFixed(0).padStart(4)} s: ${successes} ops (${rate.toFixed(0)} ops/s), ${errors} errors\n`;
}

/** Runs the workload on `db` and reports into `<baseDir>/results`; resolves with that directory. */
export async function runAndReport(
  db: WorkloadDatabase | readonly WorkloadDatabase[],
  options: BenchmarkArguments,
  baseDir: string,
  io: BenchmarkIo,
  signal: AbortSignal,
): Promise<string> {
  const result = await runWorkload({
    db,
    workload: options.workload,
    workers: options.workers,
    durationMs: options.durationMs,
    keySizeBytes: options.keySizeBytes,
    valueSizeBytes: options.valueSizeBytes,
    signal,
    onProgress: ({ elapsedMs, successes, errors }) =>
      io.stderr.write(progressLine(elapsedMs, successes, errors)),
  });
  const resultsDir = await writeResultFiles(baseDir, result);
  const summary = formatSummary(summarize(result));
  io.stdout.write(`Benchmark done. Results available here:\n${resultsDir}\n`);
  io.stdout.write(`${summary.join("\n")}\n`);
  return resultsDir;
}
