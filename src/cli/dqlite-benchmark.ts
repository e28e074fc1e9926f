// `dqlite-benchmark`: go-dqlite's benchmark. Every instance embeds a node through the App and the
// one started with --driver runs the workload (embedded mode); --client runs it against an
// existing cluster instead.
import {
  BENCHMARK_HELP,
  BENCHMARK_USAGE,
  BenchmarkUsageError,
  parseBenchmarkArguments,
} from "./benchmark/arguments.js";
import { runClientMode } from "./benchmark/client-mode.js";
import { runEmbeddedMode } from "./benchmark/embedded-mode.js";
import type { BenchmarkIo } from "./benchmark/report.js";

export type { BenchmarkIo } from "./benchmark/report.js";

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
  try {
    if (options.client) await runClientMode(options, io, stop.signal);
    else await runEmbeddedMode(options, io, stop.signal);
    return 0;
  } catch (error) {
    io.stderr.write(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    for (const name of STOP_SIGNALS) process.off(name, onSignal);
  }
}
