// Bank: transfers move money between accounts inside one transaction, so every read of all
// balances (a single snapshot) must show every account, no negative balance, and the same total.
import { describeOp, type Op, pairOps } from "../history/history.js";
import type { Anomaly, CheckResult } from "./result.js";

export type BankF = "transfer" | "read";
export interface Transfer {
  readonly from: number;
  readonly to: number;
  readonly amount: number;
}
/** A transfer's description, or a read's balances by account (null until it completes). */
export type BankValue = Transfer | Readonly<Record<number, number>> | null;
export type BankOp = Op<BankF, BankValue>;

export interface BankModel {
  readonly accounts: readonly number[];
  readonly total: number;
}

/** Checks every acknowledged read of a bank history against the model. */
export function checkBank(ops: readonly BankOp[], model: BankModel): CheckResult {
  const anomalies: Anomaly[] = [];
  let reads = 0;
  const pairs = pairOps(ops);
  for (const pair of pairs) {
    if (pair.invoke.f !== "read" || pair.type !== "ok") continue;
    reads++;
    const balances = pair.value as Readonly<Record<number, number>>;
    const ids = Object.keys(balances)
      .map(Number)
      .sort((a, b) => a - b);
    const expected = [...model.accounts].sort((a, b) => a - b);
    if (ids.length !== expected.length || ids.some((id, i) => id !== expected[i])) {
      anomalies.push({
        kind: "wrong-accounts",
        explanation: `read accounts ${JSON.stringify(ids)}, expected ${JSON.stringify(expected)}`,
        ops: [describeOp(pair)],
      });
    }
    const total = Object.values(balances).reduce((sum, b) => sum + b, 0);
    if (total !== model.total) {
      anomalies.push({
        kind: "wrong-total",
        explanation: `balances add up to ${total}, expected ${model.total}`,
        ops: [describeOp(pair)],
      });
    }
    const negative = Object.entries(balances).filter(([, b]) => b < 0);
    if (negative.length > 0) {
      anomalies.push({
        kind: "negative-value",
        explanation: `negative balances ${JSON.stringify(Object.fromEntries(negative))}`,
        ops: [describeOp(pair)],
      });
    }
  }
  const count = (f: BankF, type: string) =>
    pairs.filter((p) => p.invoke.f === f && p.type === type).length;
  return {
    valid: anomalies.length === 0,
    anomalies,
    stats: {
      reads,
      transfersOk: count("transfer", "ok"),
      transfersFail: count("transfer", "fail"),
      transfersInfo: count("transfer", "info"),
    },
  };
}
