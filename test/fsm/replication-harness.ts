// A leader Fsm and follower Fsms joined by an in-memory log: every transaction the leader's
// SQL commits is encoded as a FRAMES command, applied on the leader (which recognises its own
// entry) and on every follower, or aborted as raft would abort it.
import assert from "node:assert/strict";
import { Fsm } from "../../src/fsm/index.js";
import type { Connection, Sqlite, SqlValue, VfsOptions } from "../../src/sqlite/index.js";

export class ReplicationHarness {
  readonly leader: Fsm;
  readonly followers: Fsm[];
  readonly entries: Uint8Array[] = [];
  readonly #connections = new Map<string, Connection>();

  /** `options` give the leader's and each follower's VFS options (disk mode, for instance). */
  constructor(
    sqlite: Sqlite,
    followerCount: number,
    options: { leader?: VfsOptions; followers?: VfsOptions[] } = {},
  ) {
    const onError = (error: unknown) => {
      throw error;
    };
    this.leader = new Fsm(sqlite, { ...options.leader, onError });
    this.followers = Array.from(
      { length: followerCount },
      (_, i) => new Fsm(sqlite, { ...options.followers?.[i], onError }),
    );
  }

  /** The leader connection for database `name` (one per database, opened on first use). */
  connection(name: string): Connection {
    let connection = this.#connections.get(name);
    if (connection === undefined) {
      connection = this.leader.connect(name);
      this.#connections.set(name, connection);
    }
    return connection;
  }

  /**
   * Runs `sql` on the leader statement by statement (as dqlite does: pitfall 4). After each
   * step that committed, the transaction is replicated, or aborted when `abort` says so.
   * Returns the rows of the last statement.
   */
  run(
    name: string,
    sql: string,
    parameters: readonly SqlValue[] = [],
    abort = false,
  ): SqlValue[][] {
    const connection = this.connection(name);
    const text = new TextEncoder().encode(sql);
    let offset = 0;
    let rows: SqlValue[][] = [];
    while (offset < text.length) {
      const { statement, tailOffsetBytes } = connection.prepareAt(text, offset);
      offset = tailOffsetBytes;
      if (statement === null) break;
      try {
        if (statement.parameterCount() > 0) statement.bindAll(parameters);
        rows = [];
        for (;;) {
          let more: boolean;
          try {
            more = statement.step();
          } finally {
            this.#settle(connection, abort);
          }
          if (!more) break;
          rows.push(statement.row());
        }
      } finally {
        statement.finalize();
      }
    }
    return rows;
  }

  #settle(connection: Connection, abort: boolean): void {
    const transaction = this.leader.takeCommitted(connection);
    if (transaction === null) return;
    if (abort) {
      this.leader.abort(transaction);
      return;
    }
    const command = this.leader.encode(transaction);
    this.entries.push(command);
    const index = this.entries.length;
    assert.equal(this.leader.apply(index, command), "applied-pending");
    for (const follower of this.followers) follower.apply(index, command.slice());
  }

  close(): void {
    for (const connection of this.#connections.values()) connection.close();
    this.leader.close();
    for (const follower of this.followers) follower.close();
  }
}

/** Rows of every table of database `name` through a fresh connection on `fsm`, by table name. */
export function tableContents(fsm: Fsm, name: string): Record<string, SqlValue[][]> {
  const connection = fsm.connect(name);
  try {
    const result: Record<string, SqlValue[][]> = {};
    const tables = connection.query(
      "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name",
    );
    for (const [table] of tables) {
      result[String(table)] = connection.query(`SELECT * FROM "${String(table)}" ORDER BY 1`);
    }
    result["<schema>"] = connection.query(
      "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name",
    );
    result["<integrity>"] = connection.query("PRAGMA integrity_check");
    return result;
  } finally {
    connection.close();
  }
}
