import assert from "node:assert/strict";
import { test } from "node:test";
import { historyOf, type OpType } from "../history/history.js";
import { type BankF, type BankValue, checkBank } from "./bank.js";

const model = { accounts: [0, 1, 2], total: 30 };
type Event = readonly [OpType, number, BankF, BankValue];
const read = (p: number, balances: Record<number, number>): Event[] => [
  ["invoke", p, "read", null],
  ["ok", p, "read", balances],
];
const transfer: Event[] = [
  ["invoke", 0, "transfer", { from: 0, to: 1, amount: 5 }],
  ["ok", 0, "transfer", { from: 0, to: 1, amount: 5 }],
];

test("reads that keep the total are valid", () => {
  const result = checkBank(
    historyOf([
      ...read(1, { 0: 10, 1: 10, 2: 10 }),
      ...transfer,
      ...read(1, { 0: 5, 1: 15, 2: 10 }),
    ]),
    model,
  );
  assert.equal(result.valid, true);
  assert.equal(result.stats.reads, 2);
  assert.equal(result.stats.transfersOk, 1);
});

test("a read with a wrong total is an anomaly", () => {
  const result = checkBank(historyOf([...transfer, ...read(1, { 0: 5, 1: 10, 2: 10 })]), model);
  assert.deepEqual(
    result.anomalies.map((a) => a.kind),
    ["wrong-total"],
  );
});

test("negative balances and missing accounts are anomalies", () => {
  const kinds = checkBank(
    historyOf([...read(1, { 0: -5, 1: 25, 2: 10 }), ...read(1, { 0: 15, 1: 15 })]),
    model,
  ).anomalies.map((a) => a.kind);
  assert.deepEqual(kinds, ["negative-value", "wrong-accounts"]);
});

test("unacknowledged reads are not checked", () => {
  const result = checkBank(
    historyOf<BankF, BankValue>([
      ["invoke", 1, "read", null],
      ["fail", 1, "read", null],
    ]),
    model,
  );
  assert.equal(result.valid, true);
  assert.equal(result.stats.reads, 0);
});
