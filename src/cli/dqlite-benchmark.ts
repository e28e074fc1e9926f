// `dqlite-benchmark --client`: go-dqlite's benchmark workload against an existing cluster.
import type { Writable } from "node:stream";
import { connect, type Database } from "../client/index.js";
import {
  BENCHMARK_HELP,
  BENCHMARK_USAGE,
  BenchmarkUsageError,
  parseBenchmarkArguments,
} from "./benchmark/arguments.js";
import { formatSummary, summarize, writeResultFiles } from "./benchmark/results.js";
import { waitForCluster } from "./benchmark/wait-for-cluster.js";
import { runWorkload, setUpKvSchema } from "./benchmark/workload.js";

export interface BenchmarkIo {
  stdout: Writable;
  stderr: Writable;
}

const STOP_SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGQUIT", "SIGPWR"];

/** Entry point of `dqlite-benchmark`; returns the process exit code. */
export async function main(args: string[], io: BenchmarkIo = process): Promise<number> {
  let parsed: ReturnType<typeof parseBenchmarkArguments>;
  try {
    parsed = parseBenchmarkArguments(args);
  } catch (error) {
    if (!(error instanceof BenchmarkUsageError)) throw error;
    io.stderr.write(`Error: ${error.message}\n${BENCHMARK_USAGE}\n`);
    return 1;
  }
  if (parsed.help) {
    io.stdout.write(BENCHMARK_HELP);
    return 0;
  }
  const options = parsed.args;
  // A signal ends the run early; what was measured is still reported (as go-dqlite does).
  const stop = new AbortController();
  const onSignal = (): void => stop.abort(new Error("signal received"));
  for (const name of STOP_SIGNALS) process.on(name, onSignal);
  const databases: Database[] = [];
  try {
    await waitForCluster(options.cluster, {
      timeoutMs: options.clusterTimeoutMs,
      signal: stop.signal,
    });
    // go-dqlite's pool gives each worker goroutine a connection of its own.
    for (let i = 0; i < options.workers; i++) {
      databases.push(
        await connect({ cluster: options.cluster, database: options.database, maxConnections: 1 }),
      );
    }
    await setUpKvSchema(databases[0]);
    const result = await runWorkload({
      db: databases,
      workload: options.workload,
      workers: options.workers,
      durationMs: options.durationMs,
      keySizeBytes: options.keySizeBytes,
      valueSizeBytes: options.valueSizeBytes,
      signal: stop.signal,
      onProgress: ({ elapsedMs, successes, errors }) => {
        const rate = elapsedMs > 0 ? successes / (elapsedMs / 1000) : 0;
        io.stderr.write(
          `${(elapsedMs / 1000).toFixed(0).padStart(4)} s: ${successes} ops (${rate.toFixed(0)} ops/s), ${errors} errors\n`,
        );
      },
    });
    const resultsDir = await writeResultFiles(options.dir, result);
    const summary = formatSummary(summarize(result));
    io.stdout.write(`Benchmark done. Results available here:\n${resultsDir}\n`);
    io.stdout.write(`${summary.join("\n")}\n`);
    return 0;
  } catch (error) {
    io.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    for (const name of STOP_SIGNALS) process.off(name, onSignal);
    await Promise.all(databases.map((db) => db.close()));
  }
}
