// The benchmark engine for dqlite-benchmark's modes and for `npm run bench`.
export { OperationLog } from "./operation-log.js";
export {
  formatResultFile,
  formatSummary,
  type LatencySummary,
  type OperationKind,
  type RunSummary,
  summarize,
  writeResultFiles,
} from "./results.js";
export { waitForCluster } from "./wait-for-cluster.js";
export {
  runWorkload,
  setUpKvSchema,
  type WorkerMeasurements,
  type WorkloadDatabase,
  type WorkloadName,
  type WorkloadOptions,
  type WorkloadProgress,
  type WorkloadResult,
} from "./workload.js";
