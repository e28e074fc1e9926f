// dqlite-benchmark --client against a real 3-node dqlite cluster (Debian's dqlite-demo): a 3 s
// kvreadwrite run that leaves valid go-dqlite result files and ends with the summary line.
import assert from "node:assert/strict";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { main } from "../../src/cli/dqlite-benchmark.js";
import { type DemoCluster, requireRealDqlite, startDemoCluster } from "../harness/real-dqlite.js";

let cluster: DemoCluster;
let work: string;

before(async () => {
  requireRealDqlite();
  cluster = await startDemoCluster(3);
  work = await mkdtemp(join(tmpdir(), "benchmark-compat-"));
});

after(async () => {
  await cluster?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

class Collector extends Writable {
  text = "";
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

const MS = /^\d+\.\d{6}$/;

/** Checks one file against go-dqlite's layout; returns its success count. */
function checkResultFile(text: string, runStartNs: bigint, runEndNs: bigint): number {
  const lines = text.split("\n");
  const n = Number(/^n (\d+)$/.exec(lines[0])?.[1]);
  const errors = Number(/^n_err (\d+)$/.exec(lines[1])?.[1]);
  assert.ok(n >= 1 && errors >= 0, lines.slice(0, 2).join(" / "));
  const [avg, max, min] = [2, 3, 4].map((i, k) => {
    const [label, value] = [lines[i].slice(0, 9), lines[i].slice(9)];
    assert.equal(label, ["avg [ms] ", "max [ms] ", "min [ms] "][k]);
    assert.match(value, MS);
    return Number(value);
  });
  assert.ok(min <= avg && avg <= max);
  assert.equal(lines[5], "measurements [timestamp in ns] [ms]");
  const measurements = lines.slice(6, 6 + n);
  for (const line of measurements) {
    const [start, duration] = line.split(" ");
    assert.ok(BigInt(start) >= runStartNs && BigInt(start) <= runEndNs, line);
    assert.match(duration, MS);
    assert.ok(Number(duration) >= min && Number(duration) <= max);
  }
  assert.equal(lines[6 + n], "");
  assert.equal(lines[7 + n], "errors");
  const errorLines = lines.slice(8 + n, 8 + n + errors);
  for (const line of errorLines) assert.match(line, /^\d+ .+$/);
  assert.deepEqual(lines.slice(8 + n + errors), ["", ""]);
  return n;
}

test("a 3 s kvreadwrite run leaves go-dqlite's result files and the summary line", async () => {
  const stdout = new Collector();
  const stderr = new Collector();
  const runStartNs = BigInt(Date.now()) * 1_000_000n;
  const code = await main(
    [
      "--client",
      "--cluster",
      cluster.servers,
      "--workload",
      "kvreadwrite",
      "--workers",
      "3",
      "--duration",
      "3s",
      "--dir",
      work,
    ],
    { stdout, stderr },
  );
  const runEndNs = BigInt(Date.now()) * 1_000_000n;
  assert.equal(code, 0, stderr.text);
  // A progress line each second on stderr.
  assert.ok(stderr.text.split("\n").filter((l) => / s: \d+ ops /.test(l)).length >= 2, stderr.text);
  const lines = stdout.text.trimEnd().split("\n");
  assert.equal(lines[0], "Benchmark done. Results available here:");
  assert.equal(lines[1], join(work, "results"));
  const last = /^ops\/s: (\d+\.\d) p50: (\d+\.\d{3}) ms p99: (\d+\.\d{3}) ms errors: (\d+)$/.exec(
    lines.at(-1)!,
  );
  assert.ok(last, lines.at(-1));
  const files = (await readdir(join(work, "results"))).sort();
  for (const name of files) assert.match(name, /^[0-2]-(exec|query)-\d{10}$/);
  assert.ok(files.filter((f) => f.includes("-exec-")).length === 3, files.join(" "));
  let successes = 0;
  for (const name of files) {
    successes += checkResultFile(
      await readFile(join(work, "results", name), "utf8"),
      runStartNs,
      runEndNs,
    );
  }
  // The summary's throughput counts exactly the successes the files hold, over about 3 s.
  const opsPerSecond = Number(last[1]);
  assert.ok(
    Math.abs(opsPerSecond * 3 - successes) <= successes * 0.1 + 1,
    `${opsPerSecond} vs ${successes}`,
  );
  assert.ok(Number(last[2]) <= Number(last[3]));
});
