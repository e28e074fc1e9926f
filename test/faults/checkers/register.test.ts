import assert from "node:assert/strict";
import { test } from "node:test";
import { historyOf, type OpType } from "../history/history.js";
import { checkRegister, type RegisterF, type RegisterValue } from "./register.js";

type Event = readonly [OpType, number, RegisterF, RegisterValue];
const read = (p: number, key: number, value: number | null): Event[] => [
  ["invoke", p, "read", [key, null]],
  ["ok", p, "read", [key, value]],
];
const write = (p: number, key: number, value: number): Event[] => [
  ["invoke", p, "write", [key, value]],
  ["ok", p, "write", [key, value]],
];

test("a sequential register history is linearizable", () => {
  const result = checkRegister(
    historyOf([
      ...read(0, 1, null),
      ...write(0, 1, 3),
      ...read(1, 1, 3),
      ["invoke", 1, "cas", [1, [3, 4]]],
      ["ok", 1, "cas", [1, [3, 4]]],
      ...read(0, 1, 4),
    ]),
  );
  assert.equal(result.valid, true);
  assert.deepEqual(result.anomalies, []);
});

test("a read concurrent with a write may see the old or the new value", () => {
  for (const seen of [1, 2]) {
    const result = checkRegister(
      historyOf<RegisterF, RegisterValue>([
        ...write(0, 1, 1),
        ["invoke", 0, "write", [1, 2]],
        ["invoke", 1, "read", [1, null]],
        ["ok", 1, "read", [1, seen]],
        ["ok", 0, "write", [1, 2]],
      ]),
    );
    assert.equal(result.valid, true, `reading ${seen}`);
  }
});

test("a stale read after an acknowledged write is not linearizable", () => {
  const result = checkRegister(
    historyOf([...write(0, 1, 1), ...write(0, 1, 2), ...read(1, 1, 1), ...read(1, 1, 2)]),
  );
  assert.equal(result.valid, false);
  const [anomaly] = result.anomalies;
  assert.equal(anomaly!.kind, "non-linearizable");
  // The shortest bad prefix ends with the stale read: the last read is not part of it.
  assert.equal(anomaly!.ops.length, 3);
  assert.match(anomaly!.ops[2]!, /ok read \[1,1\]/);
});

test("an unknown write may have happened or not, even much later", () => {
  const unknown: Event[] = [
    ["invoke", 0, "write", [1, 7]],
    ["info", 0, "write", [1, 7]],
  ];
  for (const later of [null, 7]) {
    const result = checkRegister(
      historyOf([...unknown, ...read(1, 1, null), ...read(1, 1, later)]),
    );
    assert.equal(result.valid, true, `then reading ${later}`);
  }
  // But once it is seen it cannot be unseen.
  assert.equal(
    checkRegister(historyOf([...unknown, ...read(1, 1, 7), ...read(1, 1, null)])).valid,
    false,
  );
});

test("a failed compare-and-set changed nothing; a successful one needs the expected value", () => {
  const failedCas: Event[] = [
    ["invoke", 0, "cas", [1, [5, 6]]],
    ["fail", 0, "cas", [1, [5, 6]]],
  ];
  assert.equal(
    checkRegister(historyOf([...write(0, 1, 5), ...failedCas, ...read(1, 1, 5)])).valid,
    true,
  );
  const okCas: Event[] = [
    ["invoke", 0, "cas", [1, [4, 6]]],
    ["ok", 0, "cas", [1, [4, 6]]],
  ];
  assert.equal(checkRegister(historyOf([...write(0, 1, 5), ...okCas])).valid, false);
});

test("keys are checked independently and only the bad key is reported", () => {
  const result = checkRegister(
    historyOf([...write(0, 1, 1), ...write(0, 2, 1), ...read(1, 2, 1), ...read(1, 1, 9)]),
  );
  assert.equal(result.valid, false);
  assert.equal(result.anomalies.length, 1);
  assert.match(result.anomalies[0]!.explanation, /^key 1:/);
  assert.equal(result.stats.keys, 2);
});

test("a search that exceeds its budget is unknown, not valid", () => {
  const events: Event[] = [];
  // Many concurrent writes, then reads: a lot of orders to try with a tiny budget.
  for (let p = 0; p < 8; p++) events.push(["invoke", p, "write", [1, p]]);
  for (let p = 0; p < 8; p++) events.push(["ok", p, "write", [1, p]]);
  events.push(...read(9, 1, 0));
  assert.equal(checkRegister(historyOf(events), { maxSteps: 3 }).valid, "unknown");
  assert.equal(checkRegister(historyOf(events)).valid, true);
});
