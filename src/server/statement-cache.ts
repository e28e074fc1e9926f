// Statements compiled for ExecSQL/QuerySQL kept per session, keyed by their SQL text: clients
// send the same few statements over and over, and compiling one costs more than running a point
// query. SQLite recompiles a cached statement by itself when the schema changes.
import type { Statement } from "../sqlite/index.js";
import type { ColumnPlan } from "./row-encoding.js";

export interface CachedStatement {
  readonly statement: Statement;
  /** Declared-type plan of the result columns, computed on first query. */
  plan: ColumnPlan | null;
}

export class StatementCache {
  readonly #capacity: number;
  // A Map iterates in insertion order: re-inserting on use keeps the least recent first.
  readonly #entries = new Map<string, CachedStatement>();

  constructor(capacity = 64) {
    this.#capacity = capacity;
  }

  get(sql: string): CachedStatement | undefined {
    const entry = this.#entries.get(sql);
    if (entry !== undefined) {
      this.#entries.delete(sql);
      this.#entries.set(sql, entry);
    }
    return entry;
  }

  /** Keeps `statement` for `sql`; the least recently used one is finalized beyond capacity. */
  put(sql: string, statement: Statement): CachedStatement {
    const entry: CachedStatement = { statement, plan: null };
    this.#entries.set(sql, entry);
    if (this.#entries.size > this.#capacity) {
      const [oldestSql, oldest] = this.#entries.entries().next().value as [string, CachedStatement];
      this.#entries.delete(oldestSql);
      oldest.statement.finalize();
    }
    return entry;
  }
}
