import assert from "node:assert/strict";
import { test } from "node:test";
import { historyOf, type OpType } from "../history/history.js";
import { checkListAppend, type Txn } from "./list-append.js";

type Event = readonly [OpType, number, "txn", Txn];
const inv = (p: number, txn: Txn): Event => [
  "invoke",
  p,
  "txn",
  txn.map((m) => (m[0] === "r" ? (["r", m[1], null] as const) : m)),
];
const ok = (p: number, txn: Txn): Event => ["ok", p, "txn", txn];
const fail = (p: number, txn: Txn): Event => ["fail", p, "txn", txn];
const info = (p: number, txn: Txn): Event => ["info", p, "txn", txn];
/** A transaction alone: invoked and completed before the next one starts. */
const serial = (p: number, txn: Txn): Event[] => [inv(p, txn), ok(p, txn)];

function kinds(events: readonly Event[], realtime = true): string[] {
  return checkListAppend(historyOf(events), { realtime }).anomalies.map((a) => a.kind);
}

test("a serial history of appends and reads is serializable", () => {
  const result = checkListAppend(
    historyOf([
      ...serial(0, [
        ["append", 1, 1],
        ["r", 2, []],
      ]),
      ...serial(1, [
        ["r", 1, [1]],
        ["append", 1, 2],
        ["append", 2, 1],
      ]),
      ...serial(0, [
        ["r", 1, [1, 2]],
        ["r", 2, [1]],
      ]),
    ]),
  );
  assert.deepEqual(result.anomalies, []);
  assert.equal(result.valid, true);
  assert.equal(result.stats.ok, 3);
});

test("concurrent transactions may commit in either order", () => {
  assert.deepEqual(
    kinds([
      inv(0, [["append", 1, 1]]),
      inv(1, [["r", 1, []]]),
      ok(0, [["append", 1, 1]]),
      ok(1, [["r", 1, []]]),
      ...serial(2, [["r", 1, [1]]]),
    ]),
    [],
  );
});

test("a stale read after an acknowledged append is a realtime cycle", () => {
  const events = [
    ...serial(0, [["append", 1, 1]]),
    ...serial(0, [["append", 1, 2]]),
    ...serial(1, [["r", 1, [1, 2]]]),
    ...serial(2, [["r", 1, [1]]]),
  ];
  assert.deepEqual(kinds(events), ["G-single-realtime"]);
  // Without real time the same reads are serializable (the reader goes first).
  assert.deepEqual(kinds(events, false), []);
});

test("an acknowledged append that a later read misses is lost", () => {
  assert.deepEqual(kinds([...serial(0, [["append", 1, 5]]), ...serial(1, [["r", 1, []]])]), [
    "lost-append",
  ]);
});

test("a lost update (two read-modify-writes of the same version) is G-single", () => {
  const result = checkListAppend(
    historyOf([
      ...serial(0, [["append", 1, 1]]),
      inv(1, [
        ["r", 1, [1]],
        ["append", 1, 2],
      ]),
      inv(2, [
        ["r", 1, [1]],
        ["append", 1, 3],
      ]),
      ok(1, [
        ["r", 1, [1]],
        ["append", 1, 2],
      ]),
      ok(2, [
        ["r", 1, [1]],
        ["append", 1, 3],
      ]),
      ...serial(3, [["r", 1, [1, 2, 3]]]),
    ]),
  );
  assert.deepEqual(
    result.anomalies.map((a) => a.kind),
    ["G-single"],
  );
  // The report names both transactions of the cycle.
  assert.equal(result.anomalies[0]!.ops.length, 2);
  assert.match(result.anomalies[0]!.ops.join("\n"), /"append",1,2/);
  assert.match(result.anomalies[0]!.ops.join("\n"), /"append",1,3/);
});

test("write skew is a G2 cycle of two anti-dependencies", () => {
  const t1: Txn = [
    ["r", 1, []],
    ["r", 2, []],
    ["append", 1, 1],
  ];
  const t2: Txn = [
    ["r", 1, []],
    ["r", 2, []],
    ["append", 2, 1],
  ];
  assert.deepEqual(
    kinds([
      inv(0, t1),
      inv(1, t2),
      ok(0, t1),
      ok(1, t2),
      ...serial(2, [
        ["r", 1, [1]],
        ["r", 2, [1]],
      ]),
    ]),
    ["G2"],
  );
});

test("reading a failed transaction's append is G1a", () => {
  assert.deepEqual(
    kinds([inv(0, [["append", 1, 1]]), fail(0, [["append", 1, 1]]), ...serial(1, [["r", 1, [1]]])]),
    ["G1a"],
  );
});

test("reading another transaction's intermediate state is G1b", () => {
  assert.deepEqual(
    kinds([
      ...serial(0, [
        ["append", 1, 1],
        ["append", 1, 2],
      ]),
      ...serial(1, [["r", 1, [1]]]),
      ...serial(1, [["r", 1, [1, 2]]]),
    ]).filter((k) => k === "G1b"),
    ["G1b"],
  );
});

test("write orders that disagree between keys are G0", () => {
  const t1: Txn = [
    ["append", 1, 1],
    ["append", 2, 1],
  ];
  const t2: Txn = [
    ["append", 1, 2],
    ["append", 2, 2],
  ];
  assert.deepEqual(
    kinds([
      inv(0, t1),
      inv(1, t2),
      ok(0, t1),
      ok(1, t2),
      ...serial(2, [
        ["r", 1, [1, 2]],
        ["r", 2, [2, 1]],
      ]),
    ]),
    ["G0"],
  );
});

test("each transaction reading the other's write is G1c", () => {
  const t1: Txn = [
    ["append", 1, 1],
    ["r", 2, [1]],
  ];
  const t2: Txn = [
    ["append", 2, 1],
    ["r", 1, [1]],
  ];
  assert.deepEqual(kinds([inv(0, t1), inv(1, t2), ok(0, t1), ok(1, t2)]), ["G1c"]);
});

test("a transaction that misses its own append is internally inconsistent", () => {
  assert.deepEqual(
    kinds(
      serial(0, [
        ["append", 1, 1],
        ["r", 1, []],
      ]),
    ),
    ["internal"],
  );
});

test("an element read twice is a duplicate", () => {
  assert.deepEqual(kinds([...serial(0, [["append", 1, 1]]), ...serial(1, [["r", 1, [1, 1]]])]), [
    "duplicate-elements",
  ]);
});

test("reads that do not extend each other are an incompatible order", () => {
  assert.ok(
    kinds([
      inv(0, [["append", 1, 2]]),
      inv(1, [["append", 1, 3]]),
      ok(0, [["append", 1, 2]]),
      ok(1, [["append", 1, 3]]),
      ...serial(2, [["r", 1, [2]]]),
      ...serial(3, [["r", 1, [3]]]),
    ]).includes("incompatible-order"),
  );
});

test("an unknown transaction whose append was seen takes part in cycles", () => {
  // Process 0's outcome is unknown but its append of 1 was read, so it committed; it read key 2
  // empty although process 1's append there was acknowledged before it began.
  const t1: Txn = [
    ["r", 2, []],
    ["append", 1, 1],
  ];
  assert.deepEqual(
    kinds([
      ...serial(1, [["append", 2, 1]]),
      inv(0, t1),
      info(0, t1),
      ...serial(2, [
        ["r", 1, [1]],
        ["r", 2, [1]],
      ]),
    ]),
    [],
    "an unknown transaction's reads are not known, so nothing is wrong yet",
  );
  const t2: Txn = [
    ["append", 1, 1],
    ["append", 2, 2],
  ];
  assert.deepEqual(
    kinds([
      inv(0, t2),
      info(0, t2),
      ...serial(1, [
        ["append", 1, 2],
        ["append", 2, 1],
      ]),
      ...serial(2, [
        ["r", 1, [1, 2]],
        ["r", 2, [1, 2]],
      ]),
    ]),
    ["G0"],
  );
});
