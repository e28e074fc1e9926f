import assert from "node:assert/strict";
import { test } from "node:test";
import { historyOf, type OpType } from "../history/history.js";
import { checkSet, type SetF, type SetValue } from "./set.js";

type Event = readonly [OpType, number, SetF, SetValue];
const add = (p: number, element: number, outcome: "ok" | "fail" | "info"): Event[] => [
  ["invoke", p, "add", element],
  [outcome, p, "add", element],
];
const finalRead = (elements: number[]): Event[] => [
  ["invoke", 9, "read", null],
  ["ok", 9, "read", elements],
];

test("every acknowledged add present, unknown ones either way: valid", () => {
  for (const elements of [
    [1, 2],
    [1, 2, 3],
  ]) {
    const result = checkSet(
      historyOf([
        ...add(0, 1, "ok"),
        ...add(0, 2, "ok"),
        ...add(1, 3, "info"),
        ...finalRead(elements),
      ]),
    );
    assert.equal(result.valid, true);
  }
});

test("an acknowledged add missing from the final read is lost", () => {
  const result = checkSet(historyOf([...add(0, 1, "ok"), ...add(0, 2, "ok"), ...finalRead([1])]));
  assert.deepEqual(
    result.anomalies.map((a) => a.kind),
    ["lost"],
  );
  assert.match(result.anomalies[0]!.explanation, /add of 2/);
});

test("failed adds, strangers and duplicates in the final read are anomalies", () => {
  const result = checkSet(
    historyOf([...add(0, 1, "fail"), ...add(0, 2, "ok"), ...finalRead([1, 2, 2, 7])]),
  );
  assert.deepEqual(result.anomalies.map((a) => a.kind).sort(), [
    "duplicated",
    "failed-but-present",
    "unexpected",
  ]);
});

test("without a successful final read the result is unknown", () => {
  assert.equal(checkSet(historyOf(add(0, 1, "ok"))).valid, "unknown");
});
