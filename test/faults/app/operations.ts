// The workloads' SQL: each operation is one SQL transaction (a set add is one statement, as in
// jepsen.dqlite), and its outcome is classified ok / fail / info.
import type { Database, Transaction } from "../../../src/client/index.js";
import { type Outcome, Refusal, statementFailure, transactionFailure } from "./outcome.js";

export const SCHEMA = [
  "CREATE TABLE IF NOT EXISTS lists (id INTEGER PRIMARY KEY, k INTEGER NOT NULL, v INTEGER NOT NULL)",
  "CREATE INDEX IF NOT EXISTS lists_k ON lists (k, id)",
  "CREATE TABLE IF NOT EXISTS registers (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)",
  "CREATE TABLE IF NOT EXISTS accounts (id INTEGER PRIMARY KEY, balance INTEGER NOT NULL)",
  "CREATE TABLE IF NOT EXISTS elements (v INTEGER NOT NULL)",
];

/**
 * Deliberate bugs for checking the harness itself (FAULTS_INJECT=lost-write|fail-but-applied):
 * 2% of the writes are acknowledged without being made, or reported failed although made.
 */
function injected(bug: string): boolean {
  return process.env.FAULTS_INJECT === bug && Math.random() < 0.02;
}

type MicroOp = ["append", number, number] | ["r", number, number[] | null];

/** Runs `body` in one transaction and classifies its end. */
async function inTransaction(
  db: Database,
  readOnly: boolean,
  timeoutMs: number,
  body: (tx: Transaction, signal: AbortSignal) => Promise<unknown>,
): Promise<Outcome> {
  const signal = AbortSignal.timeout(timeoutMs);
  let committing = false;
  try {
    const value = await db.transaction(
      async (tx) => {
        const value = await body(tx, signal);
        committing = true;
        return value;
      },
      { mode: readOnly ? "deferred" : "immediate", signal },
    );
    return { type: "ok", value };
  } catch (error) {
    return transactionFailure(error, committing, readOnly);
  }
}

export function setup(db: Database, timeoutMs: number): Promise<Outcome> {
  return inTransaction(db, false, timeoutMs, async (tx, signal) => {
    for (const sql of SCHEMA) await tx.exec(sql, [], { signal });
    return null;
  });
}

/** A list-append transaction: appends insert rows, reads return a key's rows in order. */
export function txn(db: Database, ops: readonly MicroOp[], timeoutMs: number): Promise<Outcome> {
  const readOnly = ops.every((op) => op[0] === "r");
  return inTransaction(db, readOnly, timeoutMs, async (tx, signal) => {
    const result: MicroOp[] = [];
    for (const op of ops) {
      if (op[0] === "append") {
        if (!injected("lost-write")) {
          await tx.exec("INSERT INTO lists (k, v) VALUES (?, ?)", [op[1], op[2]], { signal });
        }
        result.push(op);
      } else {
        const { rows } = await tx.query("SELECT v FROM lists WHERE k = ? ORDER BY id", [op[1]], {
          signal,
          rowMode: "array",
        });
        result.push(["r", op[1], rows.map((row) => Number((row as unknown[])[0]))]);
      }
    }
    return result;
  });
}

export type RegisterRequest =
  | { f: "read"; key: number }
  | { f: "write"; key: number; value: number }
  | { f: "cas"; key: number; value: [number, number] };

export function register(
  db: Database,
  request: RegisterRequest,
  timeoutMs: number,
): Promise<Outcome> {
  return inTransaction(db, request.f === "read", timeoutMs, async (tx, signal) => {
    const key = request.key;
    switch (request.f) {
      case "read": {
        const row = await tx.get<{ v: number }>("SELECT v FROM registers WHERE k = ?", [key], {
          signal,
        });
        return row === undefined ? null : Number(row.v);
      }
      case "write":
        await tx.exec(
          "INSERT INTO registers (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
          [key, request.value],
          { signal },
        );
        return request.value;
      case "cas": {
        const [expected, next] = request.value;
        const { changes } = await tx.exec(
          "UPDATE registers SET v = ? WHERE k = ? AND v = ?",
          [next, key, expected],
          {
            signal,
          },
        );
        if (changes === 0) throw new Refusal(`register ${key} is not ${expected}`);
        return request.value;
      }
    }
  });
}

export function bankInit(
  db: Database,
  accounts: readonly number[],
  total: number,
  timeoutMs: number,
): Promise<Outcome> {
  if (accounts.length === 0 || total % accounts.length !== 0) {
    throw new RangeError("the total must divide evenly among at least one account");
  }
  return inTransaction(db, false, timeoutMs, async (tx, signal) => {
    const row = await tx.get<{ n: number }>(
      `SELECT count(*) AS n FROM accounts WHERE id IN (${accounts.map(() => "?").join(", ")})`,
      accounts,
      { signal },
    );
    if (Number(row?.n ?? 0) > 0) return null;
    for (const id of accounts) {
      await tx.exec(
        "INSERT INTO accounts (id, balance) VALUES (?, ?)",
        [id, total / accounts.length],
        { signal },
      );
    }
    return null;
  });
}

export function bankTransfer(
  db: Database,
  transfer: { from: number; to: number; amount: number },
  timeoutMs: number,
): Promise<Outcome> {
  return inTransaction(db, false, timeoutMs, async (tx, signal) => {
    const row = await tx.get<{ balance: number }>(
      "SELECT balance FROM accounts WHERE id = ?",
      [transfer.from],
      {
        signal,
      },
    );
    if (row === undefined) throw new Refusal(`no account ${transfer.from}`);
    if (Number(row.balance) < transfer.amount) throw new Refusal("insufficient funds");
    await tx.exec(
      "UPDATE accounts SET balance = balance - ? WHERE id = ?",
      [transfer.amount, transfer.from],
      {
        signal,
      },
    );
    await tx.exec(
      "UPDATE accounts SET balance = balance + ? WHERE id = ?",
      [transfer.amount, transfer.to],
      {
        signal,
      },
    );
    return transfer;
  });
}

export function bankRead(db: Database, timeoutMs: number): Promise<Outcome> {
  return inTransaction(db, true, timeoutMs, async (tx, signal) => {
    const { rows } = await tx.query("SELECT id, balance FROM accounts ORDER BY id", [], {
      signal,
      rowMode: "array",
    });
    return Object.fromEntries(
      rows.map((row) => [Number((row as unknown[])[0]), Number((row as unknown[])[1])]),
    );
  });
}

export async function setAdd(db: Database, element: number, timeoutMs: number): Promise<Outcome> {
  try {
    if (injected("lost-write")) return { type: "ok", value: element };
    await db.exec("INSERT INTO elements (v) VALUES (?)", [element], {
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (injected("fail-but-applied")) return { type: "fail", error: "injected" };
    return { type: "ok", value: element };
  } catch (error) {
    return statementFailure(error, false);
  }
}

export function setRead(db: Database, timeoutMs: number): Promise<Outcome> {
  return inTransaction(db, true, timeoutMs, async (tx, signal) => {
    const { rows } = await tx.query("SELECT v FROM elements", [], { signal, rowMode: "array" });
    return rows.map((row) => Number((row as unknown[])[0]));
  });
}
