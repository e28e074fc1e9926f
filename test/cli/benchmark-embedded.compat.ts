// dqlite-benchmark's embedded mode for 5 s: three of our processes (two nodes that only serve,
// one --driver that runs the workload) leave go-dqlite's result files in <dir>/<db>/results.
// The --client mode against our cluster and a real one is in benchmark-both.compat.ts.
import assert from "node:assert/strict";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ourProgram } from "../harness/our-cluster.js";
import { freePorts } from "../harness/ports.js";
import { startProcess, type TestProcess, waitFor } from "../harness/processes.js";
import { checkResultsDirectory, parseSummaryLine } from "./benchmark-embedded-files.js";

const READY_LINE = "Benchmark client ready. Send signal to abort or when done.";
let work: string;
const started: TestProcess[] = [];

before(async () => {
  work = await mkdtemp(join(tmpdir(), "benchmark-embedded-"));
});

after(async () => {
  for (const proc of started) await proc.stop(10_000);
  if (work) await rm(work, { recursive: true, force: true });
});

function lines(text: string): string[] {
  return text.split("\n").filter((line) => line !== "");
}

test("embedded: a 3-node run of ours with one --driver writes valid result files", async () => {
  const program = ourProgram("dqlite-benchmark");
  const dir = join(work, "embedded");
  const addresses = (await freePorts(3)).map((port) => `127.0.0.1:${port}`);
  const logs = { out: [] as string[], err: [] as string[] };
  const launch = (i: number, extra: string[]) => {
    const args = [...program.args, "--db", addresses[i], "--dir", dir, ...extra];
    const proc = startProcess(
      `bench${i + 1}`,
      program.command,
      args,
      join(work, `bench${i + 1}.log`),
    );
    started.push(proc);
    let out = "";
    let err = "";
    proc.child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      logs.out[i] = out;
    });
    proc.child.stderr?.on("data", (chunk: Buffer) => {
      err += chunk.toString();
      logs.err[i] = err;
    });
    return proc;
  };
  const runStartNs = BigInt(Date.now()) * 1_000_000n;
  // go-dqlite's help example: the first node drives and waits for the two that join it.
  const driver = launch(0, [
    "--driver",
    "--cluster",
    addresses.join(","),
    "--duration",
    "5",
    "--workers",
    "3",
    "--workload",
    "kvreadwrite",
  ]);
  const followers = [1, 2].map((i) => launch(i, ["--join", addresses[0]]));
  const code = await waitFor(
    "the driver to finish",
    () => (driver.alive() ? undefined : driver.exited),
    150_000,
    100,
  );
  const runEndNs = BigInt(Date.now()) * 1_000_000n;
  assert.equal(code, 0, `driver: ${logs.err[0]}`);
  for (const [k, follower] of followers.entries()) {
    await waitFor(`bench${k + 2} ready line`, () =>
      logs.out[k + 1]?.includes(READY_LINE) ? true : undefined,
    );
    assert.deepEqual(lines(logs.out[k + 1]), [READY_LINE]);
    follower.kill("SIGTERM");
    assert.equal(await follower.exited, 0, `bench${k + 2}: ${logs.err[k + 1]}`);
  }

  const out = lines(logs.out[0]);
  const resultsDir = join(dir, addresses[0], "results");
  assert.equal(out[0], "Benchmark done. Results available here:");
  assert.equal(out[1], resultsDir);
  const summary = parseSummaryLine(out.at(-1) ?? "");
  assert.ok(summary.p50Ms <= summary.p99Ms);
  // A progress line each second while it ran.
  assert.ok(lines(logs.err[0]).filter((l) => / s: \d+ ops /.test(l)).length >= 4, logs.err[0]);
  const successes = await checkResultsDirectory(resultsDir, 3, runStartNs, runEndNs);
  assert.ok(successes > 0);
  assert.ok(
    Math.abs(summary.opsPerSecond * 5 - successes) <= successes * 0.1 + 1,
    `${summary.opsPerSecond} ops/s vs ${successes} successes in the files`,
  );
  // Every instance kept its node in <dir>/<db>.
  for (const address of addresses) {
    assert.ok((await stat(join(dir, address, "info.yaml"))).isFile(), address);
  }
});
