// Checks of go-dqlite's benchmark result files, shared by the benchmark tests of this folder.
import assert from "node:assert/strict";
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";

const MS = /^\d+\.\d{6}$/;

/** Checks one file against go-dqlite's layout; returns its success count. */
export function checkResultFile(text: string, runStartNs: bigint, runEndNs: bigint): number {
  const lines = text.split("\n");
  const n = Number(/^n (\d+)$/.exec(lines[0])?.[1]);
  const errors = Number(/^n_err (\d+)$/.exec(lines[1])?.[1]);
  assert.ok(n >= 1 && errors >= 0, lines.slice(0, 2).join(" / "));
  const [avg, max, min] = ["avg [ms] ", "max [ms] ", "min [ms] "].map((label, k) => {
    const line = lines[2 + k];
    assert.equal(line.slice(0, label.length), label);
    const value = line.slice(label.length);
    assert.match(value, MS);
    return Number(value);
  });
  assert.ok(min <= avg && avg <= max, `min ${min} avg ${avg} max ${max}`);
  assert.equal(lines[5], "measurements [timestamp in ns] [ms]");
  for (const line of lines.slice(6, 6 + n)) {
    const [start, duration] = line.split(" ");
    assert.ok(BigInt(start) >= runStartNs && BigInt(start) <= runEndNs, line);
    assert.match(duration, MS);
    assert.ok(Number(duration) >= min && Number(duration) <= max, line);
  }
  assert.equal(lines[6 + n], "");
  assert.equal(lines[7 + n], "errors");
  for (const line of lines.slice(8 + n, 8 + n + errors)) assert.match(line, /^\d+ .+$/);
  assert.deepEqual(lines.slice(8 + n + errors), ["", ""]);
  return n;
}

/**
 * Checks every file of a results directory: names `<worker>-<exec|query>-<unix s>`, one exec
 * file per worker, each in go-dqlite's layout. Returns the successes they hold.
 */
export async function checkResultsDirectory(
  dir: string,
  workers: number,
  runStartNs: bigint,
  runEndNs: bigint,
): Promise<number> {
  const files = (await readdir(dir)).sort();
  for (const name of files) assert.match(name, /^\d+-(exec|query)-\d{10}$/);
  const execWorkers = files
    .filter((f) => f.includes("-exec-"))
    .map((f) => Number(f.split("-")[0]))
    .sort((a, b) => a - b);
  assert.deepEqual(
    execWorkers,
    Array.from({ length: workers }, (_, i) => i),
    files.join(" "),
  );
  let successes = 0;
  for (const name of files) {
    successes += checkResultFile(await readFile(join(dir, name), "utf8"), runStartNs, runEndNs);
  }
  return successes;
}

/** The summary's last line: `ops/s: X p50: Y ms p99: Z ms errors: E`. */
export function parseSummaryLine(line: string): {
  opsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
} {
  const match = /^ops\/s: (\d+\.\d) p50: (\d+\.\d{3}) ms p99: (\d+\.\d{3}) ms errors: (\d+)$/.exec(
    line,
  );
  assert.ok(match, line);
  return {
    opsPerSecond: Number(match[1]),
    p50Ms: Number(match[2]),
    p99Ms: Number(match[3]),
    errors: Number(match[4]),
  };
}
