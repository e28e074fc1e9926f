import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { test } from "node:test";

// The executables load the compiled code in dist/, which `npm ci` builds through `prepare`.
for (const name of ["dqlite", "dqlite-demo", "dqlite-benchmark"]) {
  test(`bin/${name} starts and answers --help`, () => {
    const run = spawnSync(process.execPath, [`bin/${name}`, "--help"], { encoding: "utf8" });
    assert.equal(run.error, undefined);
    assert.match(run.stdout + run.stderr, new RegExp(name));
  });
}
