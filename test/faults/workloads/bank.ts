// Jepsen's bank: transfers between a few accounts and reads of every balance; the total never
// changes and no balance goes negative (a transfer that would overdraw is refused).
import { type BankF, type BankValue, checkBank, type Transfer } from "../checkers/bank.js";
import { EdnMap, kw } from "../history/edn.js";
import type { Workload } from "./workload.js";

export interface BankOptions {
  /** Account ids of this run: accountBase .. accountBase + accounts - 1. */
  accountBase: number;
  accounts?: number;
  total?: number;
}

export function bankWorkload(options: BankOptions): Workload<BankF, BankValue> {
  const accounts = Array.from({ length: options.accounts ?? 5 }, (_, i) => options.accountBase + i);
  const total = options.total ?? 100;
  const mine = (balances: Record<number, number>) =>
    Object.fromEntries(Object.entries(balances).filter(([id]) => accounts.includes(Number(id))));
  return {
    name: "bank",
    async setup(cluster) {
      for (const step of [{ path: "/setup" }, { path: "/bank/init", body: { accounts, total } }]) {
        const outcome = await cluster.request(1, "POST", step.path, step.body);
        if (outcome.type !== "ok") throw new Error(`${step.path}: ${outcome.error}`);
      }
    },
    next(random) {
      if (random() < 0.5) return { f: "read", value: null };
      const from = accounts[Math.floor(random() * accounts.length)]!;
      let to = accounts[Math.floor(random() * (accounts.length - 1))]!;
      if (to === from) to = accounts[accounts.length - 1]!;
      return { f: "transfer", value: { from, to, amount: 1 + Math.floor(random() * 5) } };
    },
    async invoke(cluster, index, op) {
      const outcome =
        op.f === "read"
          ? await cluster.request(index, "GET", "/bank/read")
          : await cluster.request(index, "POST", "/bank/transfer", op.value);
      if (outcome.type !== "ok" || op.f === "transfer") {
        return { type: outcome.type, value: op.value, error: outcome.error };
      }
      return { type: "ok", value: mine(outcome.value as Record<number, number>) };
    },
    finalReads: () => [{ f: "read", value: null }],
    check: (ops) => checkBank(ops, { accounts, total }),
    edn: (op) => {
      if (op.value === null) return null;
      if (op.f === "transfer") {
        const t = op.value as Transfer;
        return new EdnMap([
          [kw("from"), t.from],
          [kw("to"), t.to],
          [kw("amount"), t.amount],
        ]);
      }
      return new EdnMap(Object.entries(op.value).map(([k, v]) => [Number(k), v as number]));
    },
  };
}
