// go-dqlite's dqlite-benchmark: every instance embeds a node through the App in <dir>/<db>.
// Instances without --driver only keep their node running until a signal; the driver opens the
// "benchmark" database, creates the table, waits for every --cluster node to be an online member,
// runs the workload and writes the results into <dir>/<db>/results.
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { App } from "../../app/index.js";
import type { Database } from "../../client/index.js";
import { type BenchmarkArguments, EMBEDDED_DATABASE } from "./arguments.js";
import { type BenchmarkIo, runAndReport } from "./report.js";
import { waitForCluster } from "./wait-for-cluster.js";
import { setUpKvSchema } from "./workload.js";

export const CLIENT_READY_LINE = "Benchmark client ready. Send signal to abort or when done.";

/** go-dqlite's pool of the driver's database handle. */
const MAX_DRIVER_CONNECTIONS = 500;

function untilAborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

async function ready(app: App, timeoutMs: number, stop: AbortSignal): Promise<void> {
  try {
    await app.ready({ signal: AbortSignal.any([stop, AbortSignal.timeout(timeoutMs)]) });
  } catch (error) {
    if (stop.aborted) throw new Error("benchmark stopped, signal received while starting");
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`App not ready in time: ${reason}`);
  }
}

async function drive(
  app: App,
  options: BenchmarkArguments,
  baseDir: string,
  io: BenchmarkIo,
  stop: AbortSignal,
): Promise<void> {
  let db: Database | undefined;
  try {
    db = await app.open(EMBEDDED_DATABASE, {
      maxConnections: Math.min(MAX_DRIVER_CONNECTIONS, Math.max(options.workers, 1)),
      signal: stop,
    });
    await setUpKvSchema(db);
    try {
      await waitForCluster(options.cluster, {
        timeoutMs: options.clusterTimeoutMs,
        dial: app.dial,
        signal: stop,
      });
    } catch (error) {
      if (stop.aborted) {
        throw new Error("benchmark stopped, signal received while waiting for cluster");
      }
      throw error;
    }
    await runAndReport(db, options, baseDir, io, stop);
  } finally {
    await db?.close();
  }
}

/** Runs this instance's node; the driver also runs the workload and reports. */
export async function runEmbeddedMode(
  options: BenchmarkArguments,
  io: BenchmarkIo,
  stop: AbortSignal,
): Promise<void> {
  const baseDir = join(options.dir, options.address);
  try {
    await mkdir(baseDir, { recursive: true, mode: 0o755 });
  } catch (error) {
    throw new Error(`can't create ${baseDir}: ${(error as Error).message}`);
  }
  const app = await App.create(baseDir, {
    address: options.address,
    cluster: options.join,
  });
  try {
    await ready(app, options.clusterTimeoutMs, stop);
    if (!options.driver) {
      io.stdout.write(`${CLIENT_READY_LINE}\n`);
      await untilAborted(stop);
      return;
    }
    await drive(app, options, baseDir, io, stop);
  } finally {
    // go-dqlite's benchmark closes its App without a handover.
    await app.close({ handover: false });
  }
}
