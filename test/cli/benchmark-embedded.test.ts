// dqlite-benchmark's embedded mode: its flags beside --client's, and a one-node driver run in
// this process that leaves go-dqlite's result files in <dir>/<db>/results.
import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { test } from "node:test";
import { parseBenchmarkArguments } from "../../src/cli/benchmark/arguments.js";
import { main } from "../../src/cli/dqlite-benchmark.js";
import { freePort } from "../harness/ports.js";
import { checkResultsDirectory, parseSummaryLine } from "./benchmark-embedded-files.js";

class Collector extends Writable {
  text = "";
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

test("embedded flags: --db is the node's address, --join and --driver as go-dqlite's", () => {
  const driver = parseBenchmarkArguments([
    "--db",
    "127.0.0.1:9001",
    "--driver",
    "--cluster",
    "127.0.0.1:9001,127.0.0.1:9002",
    "-c",
    "127.0.0.1:9003",
    "--duration",
    "30",
    "--workers",
    "4",
  ]);
  assert.ok(!driver.help);
  assert.equal(driver.args.client, false);
  assert.equal(driver.args.address, "127.0.0.1:9001");
  assert.equal(driver.args.driver, true);
  assert.deepEqual(driver.args.cluster, ["127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003"]);
  assert.equal(driver.args.database, "benchmark");
  assert.equal(driver.args.durationMs, 30_000);
  assert.equal(driver.args.dir, "/tmp/dqlite-benchmark");
  assert.equal(driver.args.clusterTimeoutMs, 120_000);
  const joiner = parseBenchmarkArguments(["-d", "127.0.0.1:9002", "-j", "127.0.0.1:9001"]);
  assert.ok(!joiner.help);
  assert.deepEqual(joiner.args.join, ["127.0.0.1:9001"]);
  assert.equal(joiner.args.driver, false);
  // With --client, --db names the database and there is no node.
  const client = parseBenchmarkArguments(["--client", "-c", "a:1", "--db", "other"]);
  assert.ok(!client.help);
  assert.equal(client.args.database, "other");
  assert.equal(client.args.address, "");

  assert.throws(() => parseBenchmarkArguments([]), /required flag\(s\) "db" not set/);
  assert.throws(
    () => parseBenchmarkArguments(["--db", "a:1", "--driver"]),
    /driver node, `--cluster` flag must be provided/,
  );
  assert.throws(
    () => parseBenchmarkArguments(["--client", "-c", "a:1", "--driver"]),
    /embedded mode/,
  );
  assert.throws(() => parseBenchmarkArguments(["--client", "-c", "a:1", "-j", "b:2"]), /embedded/);
});

test("--help explains both modes and where the results go", async () => {
  const stdout = new Collector();
  assert.equal(await main(["--help"], { stdout, stderr: new Collector() }), 0);
  assert.match(stdout.text, /dqlite-benchmark --db 127\.0\.0\.1:9002 --join 127\.0\.0\.1:9001 &/);
  assert.match(stdout.text, /dqlite-benchmark --client --cluster /);
  assert.match(stdout.text, /<dir>\/<db>\/results/);
  assert.match(stdout.text, /Benchmark client ready\. Send signal to abort or when done\./);
});

test("a one-node driver runs the workload on its own node and reports in <dir>/<db>/results", async () => {
  const dir = await mkdtemp(join(tmpdir(), "benchmark-embedded-"));
  try {
    const address = `127.0.0.1:${await freePort()}`;
    const stdout = new Collector();
    const stderr = new Collector();
    const runStartNs = BigInt(Date.now()) * 1_000_000n;
    const code = await main(
      [
        "--db",
        address,
        "--driver",
        "--cluster",
        address,
        "--duration",
        "1500ms",
        "--workers",
        "2",
        "-w",
        "kvreadwrite",
        "--dir",
        dir,
      ],
      { stdout, stderr },
    );
    const runEndNs = BigInt(Date.now()) * 1_000_000n;
    assert.equal(code, 0, stderr.text);
    const lines = stdout.text.trimEnd().split("\n");
    const results = join(dir, address, "results");
    assert.deepEqual(lines.slice(0, 2), ["Benchmark done. Results available here:", results]);
    const summary = parseSummaryLine(lines.at(-1) ?? "");
    assert.equal(summary.errors, 0);
    const successes = await checkResultsDirectory(results, 2, runStartNs, runEndNs);
    assert.ok(successes > 0);
    assert.ok((await stat(join(dir, address, "info.yaml"))).isFile());
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
