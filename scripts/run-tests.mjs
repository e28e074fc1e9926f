#!/usr/bin/env node
// Runs one test suite with Node's built-in runner and tsx.
// Suites are chosen by file suffix so a test's cost is visible in its name:
//   quick   *.test.ts    pure code, in-process clusters (npm test, under 3 minutes)
//   slow    *.slow.ts    several processes, real sockets, minutes
//   compat  *.compat.ts  against Debian's real dqlite (needs go-dqlite installed)
// Extra arguments are passed to `node --test` (e.g. --test-name-pattern=...),
// or name files/folders to narrow the run.
import { spawnSync } from "node:child_process";
import { readdirSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const suffixes = { quick: ".test.ts", slow: ".slow.ts", compat: ".compat.ts" };
const [suite = "quick", ...rest] = process.argv.slice(2);
const suffix = suffixes[suite];
if (!suffix) {
  console.error(`unknown suite "${suite}"; expected one of ${Object.keys(suffixes).join(", ")}`);
  process.exit(2);
}

function collect(path, out) {
  if (statSync(path).isDirectory()) {
    for (const name of readdirSync(path).sort()) collect(join(path, name), out);
  } else if (path.endsWith(suffix)) {
    out.push(relative(process.cwd(), path));
  }
  return out;
}

const roots = rest.filter((a) => !a.startsWith("-"));
const flags = rest.filter((a) => a.startsWith("-"));
const files = (roots.length > 0 ? roots : ["test"]).flatMap((root) => collect(root, []));
if (files.length === 0) {
  console.log(`no ${suite} tests found`);
  process.exit(0);
}
// Compat files each start their own clusters on random ports, so two can share the machine.
const concurrency = suite === "slow" ? 1 : 2;
const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "--test", `--test-concurrency=${concurrency}`, ...flags, ...files],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
