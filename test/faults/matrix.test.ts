// The short matrix covers every workload × kind of fault, and combines them sensibly.
import assert from "node:assert/strict";
import { test } from "node:test";
import { LONG_NEMESES, missingPairs, SHORT_MATRIX } from "./matrix.js";
import { NEMESIS_KINDS, NEMESIS_NAMES, nemesisKind } from "./nemeses/index.js";
import { WORKLOAD_NAMES } from "./workloads/index.js";

test("the short matrix pairs every workload with every kind of fault", () => {
  assert.deepEqual(missingPairs(SHORT_MATRIX), []);
  assert.equal(NEMESIS_KINDS.length, 8);
  for (const name of NEMESIS_NAMES) {
    if (name !== "none") assert.ok(NEMESIS_KINDS.includes(nemesisKind(name)), name);
  }
});

test("missingPairs names what a matrix lacks", () => {
  assert.deepEqual(missingPairs([["append", ["partition-ring", "kill"]]]).slice(0, 7), [
    "append:pause",
    "append:stop",
    "append:disk-full",
    "append:member",
    "append:clock",
    "append:packet",
    "register:partition",
  ]);
  assert.equal(missingPairs([]).length, WORKLOAD_NAMES.length * NEMESIS_KINDS.length);
});

test("runs of the short matrix combine faults sensibly", () => {
  for (const [workload, nemeses] of SHORT_MATRIX) {
    const name = `${workload}:${nemeses.join("+")}`;
    assert.equal(new Set(nemeses.map(nemesisKind)).size, nemeses.length, `${name}: a kind twice`);
    // One set of nftables drops per run: a second partition nemesis would heal the first's.
    assert.ok(nemeses.filter((n) => nemesisKind(n) === "partition").length <= 1, name);
    assert.ok(nemeses.length <= 3, `${name}: more than three faults at once`);
    if (nemeses.includes("member")) {
      assert.ok(!nemeses.includes("kill") && !nemeses.includes("pause"), name);
    }
  }
  // Consecutive runs on the shared cluster use different workloads.
  for (let i = 1; i < SHORT_MATRIX.length; i++) {
    assert.notEqual(SHORT_MATRIX[i]![0], SHORT_MATRIX[i - 1]![0]);
  }
});

test("the long matrix runs every kind alone", () => {
  for (const kind of NEMESIS_KINDS) {
    assert.ok(
      LONG_NEMESES.some((n) => n.length === 1 && nemesisKind(n[0]!) === kind),
      kind,
    );
  }
});
