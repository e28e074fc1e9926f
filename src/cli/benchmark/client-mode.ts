// `dqlite-benchmark --client`: go-dqlite's benchmark workload against an existing cluster (ours
// or real dqlite), without a node of its own.
import { connect, type Database } from "../../client/index.js";
import type { BenchmarkArguments } from "./arguments.js";
import { type BenchmarkIo, runAndReport } from "./report.js";
import { waitForCluster } from "./wait-for-cluster.js";
import { setUpKvSchema } from "./workload.js";

/** Waits for the cluster, runs the workload, reports into `<dir>/results`. */
export async function runClientMode(
  options: BenchmarkArguments,
  io: BenchmarkIo,
  signal: AbortSignal,
): Promise<void> {
  const databases: Database[] = [];
  try {
    await waitForCluster(options.cluster, { timeoutMs: options.clusterTimeoutMs, signal });
    // go-dqlite's pool gives each worker goroutine a connection of its own.
    for (let i = 0; i < options.workers; i++) {
      databases.push(
        await connect({ cluster: options.cluster, database: options.database, maxConnections: 1 }),
      );
    }
    await setUpKvSchema(databases[0]);
    await runAndReport(databases, options, options.dir, io, signal);
  } finally {
    await Promise.all(databases.map((db) => db.close()));
  }
}
