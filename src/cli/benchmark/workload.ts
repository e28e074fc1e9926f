// The workload engine of dqlite-benchmark, as go-dqlite's benchmark package runs it (§17 of the
// client reference): workers loop until the time is up, each on its own connection, writing
// random-letter keys with half-repetitive values (kvwrite) or, half of the time, reading back a
// key the worker wrote (kvreadwrite). Every operation is timed; the CLI, the embedded mode and
// `npm run bench` share this engine.
import { DEFAULT_MAX_SAMPLES, OperationLog } from "./operation-log.js";

export const KV_SCHEMA = "CREATE TABLE IF NOT EXISTS model (key TEXT, value TEXT, UNIQUE(key))";
export const KV_WRITE_SQL = "INSERT OR REPLACE INTO model(key, value) VALUES(?, ?)";
export const KV_READ_SQL = "SELECT value FROM model WHERE key = ?";

/** The workloads go-dqlite's benchmark knows. */
export type WorkloadName = "kvwrite" | "kvreadwrite";
export const WORKLOADS: readonly WorkloadName[] = ["kvwrite", "kvreadwrite"];

/** What a worker needs of a database handle (the client's Database fits). */
export interface WorkloadDatabase {
  /** ExecSQL: runs a write. */
  exec(sql: string, params: string[]): Promise<unknown>;
  /** QuerySQL: the first row, or undefined. */
  get(sql: string, params: string[]): Promise<unknown>;
}

/** A snapshot of a running workload, for progress lines. */
export interface WorkloadProgress {
  elapsedMs: number;
  successes: number;
  errors: number;
}

export interface WorkloadOptions {
  /** One handle shared by every worker, or one per worker (worker i uses db[i]). */
  db: WorkloadDatabase | readonly WorkloadDatabase[];
  workload: WorkloadName;
  workers: number;
  durationMs: number;
  /** Default 32 (go-dqlite's --key-size). */
  keySizeBytes?: number;
  /** Default 1024 (go-dqlite's --value-size). */
  valueSizeBytes?: number;
  /** Stops the run early (no new operations start; those running finish). */
  signal?: AbortSignal;
  /** Called every `progressIntervalMs` (default 1000) while the run lasts. */
  onProgress?: (progress: WorkloadProgress) => void;
  progressIntervalMs?: number;
  /** Random numbers in [0, 1); default Math.random. */
  random?: () => number;
  /** Bound on the samples kept per worker and kind. */
  maxSamples?: number;
}

/** What one worker measured: writes ("exec") and reads ("query"). */
export interface WorkerMeasurements {
  exec: OperationLog;
  query: OperationLog;
}

export interface WorkloadResult {
  workload: WorkloadName;
  /** Wall clock at the start, nanoseconds since the Unix epoch. */
  startedAtNs: bigint;
  /** From the start until the last operation finished. */
  elapsedMs: number;
  workers: WorkerMeasurements[];
}

/** Keys a worker remembers for reads; past it a new key replaces a random old one. */
const MAX_REMEMBERED_KEYS = 100_000;
const LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/** A string of `length` random ASCII letters (go-dqlite's randSeq). */
export function randomLetters(length: number, random: () => number = Math.random): string {
  let out = "";
  for (let i = 0; i < length; i++) out += LETTERS[Math.floor(random() * LETTERS.length)];
  return out;
}

/** go-dqlite's randValue: one random letter repeated over half the size, then random letters. */
export function randomValue(sizeBytes: number, random: () => number = Math.random): string {
  const half = Math.floor(sizeBytes / 2);
  return randomLetters(1, random).repeat(half) + randomLetters(half, random);
}

/** Creates the table the kv workloads use. */
export async function setUpKvSchema(db: WorkloadDatabase): Promise<void> {
  await db.exec(KV_SCHEMA, []);
}

// Wall-clock nanoseconds from the monotonic clock, anchored once.
const ORIGIN_WALL_NS = BigInt(Date.now()) * 1_000_000n;
const ORIGIN_MONOTONIC_NS = process.hrtime.bigint();

function wallClockNs(monotonicNs: bigint): bigint {
  return ORIGIN_WALL_NS + (monotonicNs - ORIGIN_MONOTONIC_NS);
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  // One line per error in the result files.
  return text.replace(/\s*\n\s*/g, " ");
}

interface WorkerSettings {
  workload: WorkloadName;
  random: () => number;
  keySizeBytes: number;
  valueSizeBytes: number;
}

class Worker {
  readonly measurements: WorkerMeasurements;
  readonly #db: WorkloadDatabase;
  readonly #options: WorkerSettings;
  readonly #keys: string[] = [];

  constructor(db: WorkloadDatabase, options: WorkerSettings, maxSamples: number) {
    this.#db = db;
    this.#options = options;
    this.measurements = { exec: new OperationLog(maxSamples), query: new OperationLog(maxSamples) };
  }

  async run(deadlineNs: bigint, signal: AbortSignal | undefined): Promise<void> {
    while (process.hrtime.bigint() < deadlineNs && !signal?.aborted) await this.#step();
  }

  async #step(): Promise<void> {
    const { workload, random, keySizeBytes, valueSizeBytes } = this.#options;
    const read = workload === "kvreadwrite" && random() < 0.5 && this.#keys.length > 0;
    if (read) {
      const key = this.#keys[Math.floor(random() * this.#keys.length)];
      await this.#timed(this.measurements.query, async () => {
        const row = await this.#db.get(KV_READ_SQL, [key]);
        // database/sql's QueryRow(...).Scan fails on an empty result.
        if (row === undefined) throw new Error("sql: no rows in result set");
      });
      return;
    }
    const key = randomLetters(keySizeBytes, random);
    const value = randomValue(valueSizeBytes, random);
    const ok = await this.#timed(this.measurements.exec, () =>
      this.#db.exec(KV_WRITE_SQL, [key, value]),
    );
    if (ok) this.#remember(key);
  }

  #remember(key: string): void {
    if (this.#keys.length < MAX_REMEMBERED_KEYS) this.#keys.push(key);
    else this.#keys[Math.floor(this.#options.random() * MAX_REMEMBERED_KEYS)] = key;
  }

  async #timed(log: OperationLog, operation: () => Promise<unknown>): Promise<boolean> {
    const start = process.hrtime.bigint();
    try {
      await operation();
      log.success(wallClockNs(start), Number(process.hrtime.bigint() - start));
      return true;
    } catch (error) {
      log.failure(wallClockNs(start), errorText(error));
      return false;
    }
  }
}

function checkCount(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer ≥ ${min}, got ${value}`);
  }
}

/** Runs the workload for `durationMs` (or until `signal` aborts) and returns what was measured. */
export async function runWorkload(options: WorkloadOptions): Promise<WorkloadResult> {
  const { workload, workers: count, durationMs, signal } = options;
  if (!WORKLOADS.includes(workload)) throw new RangeError(`unknown workload "${workload}"`);
  checkCount("workers", count, 1);
  if (!(durationMs >= 0) || !Number.isFinite(durationMs)) {
    throw new RangeError(`durationMs must be a finite number ≥ 0, got ${durationMs}`);
  }
  const keySizeBytes = options.keySizeBytes ?? 32;
  const valueSizeBytes = options.valueSizeBytes ?? 1024;
  checkCount("keySizeBytes", keySizeBytes, 1);
  checkCount("valueSizeBytes", valueSizeBytes, 0);
  const databases = options.db;
  if (Array.isArray(databases) && databases.length < count) {
    throw new RangeError(
      `${count} workers need ${count} database handles, got ${databases.length}`,
    );
  }
  const dbFor = (i: number): WorkloadDatabase =>
    Array.isArray(databases) ? databases[i] : (databases as WorkloadDatabase);
  const workerOptions: WorkerSettings = {
    workload,
    random: options.random ?? Math.random,
    keySizeBytes,
    valueSizeBytes,
  };
  const maxSamples = options.maxSamples ?? DEFAULT_MAX_SAMPLES;
  const workers = Array.from(
    { length: count },
    (_, i) => new Worker(dbFor(i), workerOptions, maxSamples),
  );
  const startNs = process.hrtime.bigint();
  const deadlineNs = startNs + BigInt(Math.round(durationMs * 1e6));
  const elapsedMs = (): number => Number(process.hrtime.bigint() - startNs) / 1e6;
  let progressTimer: NodeJS.Timeout | undefined;
  if (options.onProgress !== undefined) {
    const onProgress = options.onProgress;
    progressTimer = setInterval(() => {
      let successes = 0;
      let errors = 0;
      for (const worker of workers) {
        for (const log of [worker.measurements.exec, worker.measurements.query]) {
          successes += log.successes;
          errors += log.errorCount;
        }
      }
      onProgress({ elapsedMs: elapsedMs(), successes, errors });
    }, options.progressIntervalMs ?? 1000);
  }
  try {
    await Promise.all(workers.map((worker) => worker.run(deadlineNs, signal)));
  } finally {
    if (progressTimer !== undefined) clearInterval(progressTimer);
  }
  return {
    workload,
    startedAtNs: wallClockNs(startNs),
    elapsedMs: elapsedMs(),
    workers: workers.map((worker) => worker.measurements),
  };
}
