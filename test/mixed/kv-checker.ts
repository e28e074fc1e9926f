// A key/value write load whose outcome can be checked at the end: each worker owns its keys and
// writes them in turn, so a key's final value must be its last acknowledged write, or a later
// write whose outcome was unknown (its leader died with it in flight).
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Sqlite from "better-sqlite3";
import { Client, connect, type Database, SqliteError } from "../../src/client/index.js";

interface KeyHistory {
  acked: string | null;
  /** Writes after the last acknowledged one whose outcome is unknown. */
  unknown: string[];
}

export class KvLoad {
  readonly #history = new Map<string, KeyHistory>();
  #running = true;
  #done: Promise<void> = Promise.resolve();
  acked = 0;
  failed = 0;
  unknown = 0;

  start(db: Database, workers: number, keysPerWorker: number): void {
    this.#done = Promise.all(
      Array.from({ length: workers }, (_, w) => this.#worker(db, w, keysPerWorker)),
    ).then(() => {});
  }

  async #worker(db: Database, worker: number, keys: number): Promise<void> {
    for (let seq = 0; this.#running; seq++) {
      const key = `w${worker}-k${seq % keys}`;
      const value = `w${worker}-s${seq}`;
      const history = this.#history.get(key) ?? { acked: null, unknown: [] };
      this.#history.set(key, history);
      try {
        await db.exec("INSERT OR REPLACE INTO model(key, value) VALUES(?, ?)", [key, value], {
          timeoutMs: 10_000,
        });
        history.acked = value;
        history.unknown = [];
        this.acked++;
      } catch (error) {
        if (definitelyFailed(error)) this.failed++;
        else {
          history.unknown.push(value);
          this.unknown++;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }

  /** Problems with `rows` (key → value) as the final state, or [] when it is consistent. */
  check(rows: Map<string, string>): string[] {
    const problems: string[] = [];
    for (const [key, history] of this.#history) {
      const value = rows.get(key) ?? null;
      const allowed = [history.acked, ...history.unknown];
      if (history.acked === null && value === null) continue;
      if (!allowed.includes(value)) {
        problems.push(`${key}: found ${value}, acknowledged ${history.acked}`);
      }
    }
    return problems;
  }
}

/** Errors that say the write was not applied (a refusal before anything was done). */
function definitelyFailed(error: unknown): boolean {
  if (error instanceof SqliteError) {
    // Busy and not-leader refusals happen before the statement runs.
    return error.primaryCode === 5 || error.code === 10250;
  }
  return false;
}

/**
 * The model table as node `address` holds it, from a Dump of its database files (the main file
 * and its WAL, which real nodes return) opened with native SQLite.
 */
export async function modelOf(address: string): Promise<Map<string, string>> {
  const client = await Client.connect(address, { timeoutMs: 10_000 });
  const dir = await mkdtemp(join(tmpdir(), "dump-"));
  try {
    const files = await client.dump("demo", { timeoutMs: 10_000 });
    await writeFile(join(dir, "demo.db"), files[0].data);
    await writeFile(join(dir, "demo.db-wal"), files[1]?.data ?? new Uint8Array());
    // Open a copy so the WAL is folded in without touching what was dumped.
    await copyFile(join(dir, "demo.db"), join(dir, "copy.db"));
    await copyFile(join(dir, "demo.db-wal"), join(dir, "copy.db-wal"));
    const sqlite = new Sqlite(join(dir, "copy.db"));
    try {
      const rows = sqlite.prepare("SELECT key, value FROM model").all() as {
        key: string;
        value: string;
      }[];
      return new Map(rows.map((r) => [r.key, r.value]));
    } finally {
      sqlite.close();
    }
  } finally {
    client.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export function sameModel(a: Map<string, string>, b: Map<string, string>): boolean {
  if (a.size !== b.size) return false;
  for (const [key, value] of a) if (b.get(key) !== value) return false;
  return true;
}

export async function openDemo(addresses: string[]): Promise<Database> {
  return connect({ cluster: addresses, database: "demo", timeoutMs: 30_000, maxConnections: 8 });
}
