// dqlite-benchmark's workload engine, result files and summary, and the --client program on fake
// nodes.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { parseBenchmarkArguments, parseDurationMs } from "../../src/cli/benchmark/arguments.js";
import { OperationLog } from "../../src/cli/benchmark/operation-log.js";
import {
  formatDurationMs,
  formatResultFile,
  formatSummary,
  percentile,
  summarize,
  writeResultFiles,
} from "../../src/cli/benchmark/results.js";
import {
  KV_READ_SQL,
  KV_SCHEMA,
  KV_WRITE_SQL,
  randomValue,
  runWorkload,
  type WorkloadDatabase,
} from "../../src/cli/benchmark/workload.js";
import { main } from "../../src/cli/dqlite-benchmark.js";
import { FakeCluster, rowsMessage } from "../client/fake-server.js";

let directory: string;

before(async () => {
  directory = await mkdtemp(join(tmpdir(), "benchmark-test-"));
});

after(async () => {
  await rm(directory, { recursive: true, force: true });
});

/** A key-value store in memory that records what each handle ran. */
class MemoryKv implements WorkloadDatabase {
  readonly writes: string[][] = [];
  readonly reads: string[] = [];
  failWrites = false;
  constructor(readonly store: Map<string, string>) {}

  async exec(sql: string, params: string[]): Promise<unknown> {
    assert.equal(sql, KV_WRITE_SQL);
    await new Promise((resolve) => setImmediate(resolve));
    if (this.failWrites) throw new Error("disk I/O error");
    this.writes.push(params);
    this.store.set(params[0], params[1]);
    return { changes: 1 };
  }

  async get(sql: string, params: string[]): Promise<unknown> {
    assert.equal(sql, KV_READ_SQL);
    await new Promise((resolve) => setImmediate(resolve));
    this.reads.push(params[0]);
    const value = this.store.get(params[0]);
    return value === undefined ? undefined : { value };
  }
}

test("kvwrite: each worker writes random-letter keys and half-repetitive values on its own handle", async () => {
  const store = new Map<string, string>();
  const handles = [new MemoryKv(store), new MemoryKv(store)];
  const result = await runWorkload({
    db: handles,
    workload: "kvwrite",
    workers: 2,
    durationMs: 50,
    keySizeBytes: 8,
    valueSizeBytes: 10,
  });
  assert.equal(result.workers.length, 2);
  for (const [i, handle] of handles.entries()) {
    assert.ok(handle.writes.length > 0);
    assert.equal(handle.reads.length, 0);
    assert.equal(result.workers[i].exec.successes, handle.writes.length);
    assert.equal(result.workers[i].query.successes, 0);
    for (const [key, value] of handle.writes) {
      assert.match(key, /^[a-zA-Z]{8}$/);
      assert.match(value, /^([a-zA-Z])\1{4}[a-zA-Z]{5}$/);
    }
  }
});

test("kvreadwrite: about half the operations read back keys the same worker wrote", async () => {
  const store = new Map<string, string>();
  const handles = [new MemoryKv(store), new MemoryKv(store), new MemoryKv(store)];
  const result = await runWorkload({
    db: handles,
    workload: "kvreadwrite",
    workers: 3,
    durationMs: 80,
  });
  for (const [i, handle] of handles.entries()) {
    const written = new Set(handle.writes.map(([key]) => key));
    assert.ok(handle.reads.length > 0);
    for (const key of handle.reads) assert.ok(written.has(key), "a worker reads only its own keys");
    const { exec, query } = result.workers[i];
    assert.equal(query.successes, handle.reads.length);
    const share = query.successes / (query.successes + exec.successes);
    assert.ok(share > 0.3 && share < 0.7, `read share ${share}`);
  }
});

test("failed operations are errors, with their message, and failed writes are never read", async () => {
  const handle = new MemoryKv(new Map());
  handle.failWrites = true;
  const result = await runWorkload({
    db: handle,
    workload: "kvreadwrite",
    workers: 1,
    durationMs: 30,
  });
  const { exec, query } = result.workers[0];
  assert.equal(exec.successes, 0);
  assert.ok(exec.errorCount > 0);
  assert.equal(exec.errors[0].message, "disk I/O error");
  assert.equal(query.successes + query.errorCount, 0);
});

test("a run stops early when its signal aborts", async () => {
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 30);
  const started = Date.now();
  await runWorkload({
    db: new MemoryKv(new Map()),
    workload: "kvwrite",
    workers: 1,
    durationMs: 60_000,
    signal: stop.signal,
  });
  assert.ok(Date.now() - started < 5000);
});

test("random values keep go-dqlite's shape for odd sizes too", () => {
  assert.equal(randomValue(0), "");
  assert.match(randomValue(7), /^([a-zA-Z])\1{2}[a-zA-Z]{3}$/);
});

test("durations print as go-dqlite's durToMs: milliseconds and six digits of nanoseconds", () => {
  assert.equal(formatDurationMs(1_234_567), "1.234567");
  assert.equal(formatDurationMs(5), "0.000005");
  assert.equal(formatDurationMs(2_000_000_000), "2000.000000");
});

test("a result file has go-dqlite's layout", () => {
  const log = new OperationLog();
  log.success(1700000000000000000n, 2_000_000);
  log.success(1700000000100000000n, 4_500_001);
  log.failure(1700000000200000000n, "database is locked");
  assert.equal(
    formatResultFile(log),
    "n 2\nn_err 1\navg [ms] 3.250000\nmax [ms] 4.500001\nmin [ms] 2.000000\n" +
      "measurements [timestamp in ns] [ms]\n" +
      "1700000000000000000 2.000000\n1700000000100000000 4.500001\n\n" +
      "errors\n1700000000200000000 database is locked\n\n",
  );
  const empty = new OperationLog();
  empty.success(1n, 1);
  assert.equal(
    formatResultFile(empty),
    "n 1\nn_err 0\navg [ms] 0.000001\nmax [ms] 0.000001\nmin [ms] 0.000001\n" +
      "measurements [timestamp in ns] [ms]\n1 0.000001\n\nerrors\n\n",
  );
});

test("samples stop at their bound while the counts go on", () => {
  const log = new OperationLog(3);
  for (let i = 0; i < 10; i++) log.success(BigInt(i), 1000 * (i + 1));
  assert.equal(log.successes, 10);
  assert.equal(log.sampleCount, 3);
  assert.equal(log.maxNs, 10_000);
  assert.match(formatResultFile(log), /^n 10\n/);
});

test("result files: one per worker and kind with a success, named worker-kind-seconds", async () => {
  const busy = { exec: new OperationLog(), query: new OperationLog() };
  busy.exec.success(1n, 10);
  busy.query.success(2n, 20);
  const failing = { exec: new OperationLog(), query: new OperationLog() };
  failing.exec.failure(3n, "boom");
  const dir = join(directory, "files");
  const resultsDir = await writeResultFiles(
    dir,
    { workload: "kvreadwrite", startedAtNs: 0n, elapsedMs: 1000, workers: [busy, failing] },
    1700000000,
  );
  assert.equal(resultsDir, join(dir, "results"));
  assert.deepEqual((await readdir(resultsDir)).sort(), ["0-exec-1700000000", "0-query-1700000000"]);
  assert.match(await readFile(join(resultsDir, "0-query-1700000000"), "utf8"), /^n 1\n/);
});

test("the summary ends with the ops/s line; percentiles use the nearest rank", () => {
  const sorted = Float64Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  assert.equal(percentile(sorted, 50), 6);
  assert.equal(percentile(sorted, 99), 10);
  assert.equal(percentile(new Float64Array(), 50), 0);
  const exec = new OperationLog();
  for (let i = 1; i <= 100; i++) exec.success(BigInt(i), i * 1e6);
  const query = new OperationLog();
  query.failure(1n, "x");
  const lines = formatSummary(
    summarize({
      workload: "kvwrite",
      startedAtNs: 0n,
      elapsedMs: 2000,
      workers: [{ exec, query }],
    }),
  );
  assert.equal(lines.at(-1), "ops/s: 50.0 p50: 51.000 ms p99: 99.000 ms errors: 1");
  assert.equal(
    lines[1],
    "exec: n=100 ops/s=50.0 errors=0 latency ms avg=50.500 p50=51.000 p90=90.000 p99=99.000 max=100.000",
  );
});

test("benchmark flags: durations in seconds or Go's syntax, workloads checked", () => {
  assert.equal(parseDurationMs("10"), 10_000);
  assert.equal(parseDurationMs("10s"), 10_000);
  assert.equal(parseDurationMs("1m30s"), 90_000);
  assert.equal(parseDurationMs("250ms"), 250);
  assert.equal(parseDurationMs("1.5s"), 1500);
  assert.throws(() => parseDurationMs("ten"));
  const parsed = parseBenchmarkArguments([
    "--client",
    "-c",
    "a:1,b:2",
    "--cluster",
    "c:3",
    "-w",
    "KVReadWrite",
  ]);
  assert.ok(!parsed.help);
  assert.deepEqual(parsed.args.cluster, ["a:1", "b:2", "c:3"]);
  assert.equal(parsed.args.workload, "kvreadwrite");
  assert.equal(parsed.args.durationMs, 60_000);
  assert.equal(parsed.args.database, "benchmark");
  assert.throws(
    () => parseBenchmarkArguments(["--client", "-c", "a:1", "-w", "nope"]),
    /unknown workload/,
  );
  assert.throws(() => parseBenchmarkArguments(["--client"]), /--cluster/);
  assert.throws(() => parseBenchmarkArguments(["-c", "a:1"]), /--client/);
  assert.throws(
    () => parseBenchmarkArguments(["--client", "-c", "a:1", "--workers", "0"]),
    /workers/,
  );
});

class Collector extends Writable {
  text = "";
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

test("dqlite-benchmark --client runs against a cluster and writes its files and summary", async () => {
  const store = new Map<string, string>();
  const cluster = await FakeCluster.start(2, {
    leader: 0,
    sql: (request) => {
      if (request.type === "execSql") {
        if (request.sql !== KV_SCHEMA)
          store.set(String(request.params[0].value), String(request.params[1].value));
        return { type: "result", lastInsertId: 1n, rowsAffected: 1 };
      }
      if (request.type === "querySql") {
        const value = store.get(String(request.params[0].value));
        return rowsMessage(["value"], value === undefined ? [] : [[value]], false);
      }
      return { type: "empty" };
    },
  });
  try {
    const stdout = new Collector();
    const stderr = new Collector();
    const dir = join(directory, "cli");
    const code = await main(
      [
        "--client",
        "--cluster",
        cluster.addresses.join(","),
        "-w",
        "kvreadwrite",
        "--workers",
        "2",
        "--duration",
        "1200ms",
        "--dir",
        dir,
      ],
      { stdout, stderr },
    );
    assert.equal(code, 0, stderr.text);
    assert.match(stderr.text, /^ {3}1 s: \d+ ops \(\d+ ops\/s\), 0 errors\n/);
    const lines = stdout.text.trimEnd().split("\n");
    assert.equal(lines[0], "Benchmark done. Results available here:");
    assert.equal(lines[1], join(dir, "results"));
    assert.match(
      lines.at(-1)!,
      /^ops\/s: \d+\.\d p50: \d+\.\d{3} ms p99: \d+\.\d{3} ms errors: 0$/,
    );
    const files = (await readdir(join(dir, "results"))).sort();
    assert.deepEqual(
      files.map((f) => f.replace(/-\d+$/, "")),
      ["0-exec", "0-query", "1-exec", "1-query"],
    );
    assert.equal(
      cluster.nodes[0].requestsOf("execSql").filter((r) => r.sql === KV_SCHEMA).length,
      1,
    );
  } finally {
    await cluster.close();
  }
});
