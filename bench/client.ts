// Client speed against real dqlite (libdqlite 1.11.1 nodes started by Debian's dqlite-benchmark).
// References measured in the same run, each on a fresh node:
//   go-dqlite: Debian's dqlite-benchmark driver, kvwrite workload (its client and node share a
//     process, talking over loopback TCP), 1 worker;
//   raw wire: the wire codec over a plain socket, no pool, retries or deadlines: the floor for
//     any client written in Node on this machine.
// Ours: `db.exec` (ExecSQL, like go-dqlite's Exec), prepared `statement.exec`, `db.get` point reads
// and `db.iterate` over 10,000 rows. Client CPU per operation is reported next to wall-clock rates.
import { execFile } from "node:child_process";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { Client } from "../src/client/client.js";
import { connect, type Database } from "../src/client/database.js";
import {
  decodeResponse,
  encodeHandshake,
  encodeRequest,
  type Param,
  type Request,
  type Response,
  StreamDecoder,
  ValueType,
} from "../src/wire/index.js";
import { freePort } from "../test/harness/ports.js";
import { startProcess, type TestProcess } from "../test/harness/processes.js";
import { haveRealDqlite } from "../test/harness/real-dqlite.js";

const execFileAsync = promisify(execFile);
const KEY_BYTES = 32;
const VALUE_BYTES = 1024;
const ITERATE_ROWS = 10_000;
const LETTERS = "abcdefghijklmnopqrstuvwxyz";

function randomKey(): string {
  let key = "";
  for (let i = 0; i < KEY_BYTES; i++) key += LETTERS[(Math.random() * 26) | 0];
  return key;
}

// Half random, half repeated, like dqlite-benchmark's values.
function makeValue(): string {
  let value = "";
  for (let i = 0; i < VALUE_BYTES / 2; i++) value += LETTERS[(Math.random() * 26) | 0];
  return value + "x".repeat(VALUE_BYTES - value.length);
}

interface Rate {
  opsPerSecond: number;
  cpuMicrosPerOp: number;
}

async function measure(durationMs: number, op: () => Promise<unknown>): Promise<Rate> {
  const warmUntil = performance.now() + Math.min(300, durationMs / 4);
  while (performance.now() < warmUntil) await op();
  let ops = 0;
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  while (performance.now() - started < durationMs) {
    await op();
    ops++;
  }
  const elapsedMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuStart);
  return {
    opsPerSecond: (ops * 1000) / elapsedMs,
    cpuMicrosPerOp: (cpu.user + cpu.system) / ops,
  };
}

interface Node {
  address: string;
  dir: string;
  process: TestProcess;
  stop(): Promise<void>;
}

// A libdqlite node as dqlite-benchmark runs it, without a driver: it waits for clients.
async function startNode(): Promise<Node> {
  const dir = await mkdtemp(join(tmpdir(), "bench-client-"));
  const address = `127.0.0.1:${await freePort()}`;
  const proc = startProcess(
    "node",
    "/usr/bin/dqlite-benchmark",
    ["-d", address, "-D", dir],
    join(dir, "node.log"),
  );
  const client = await Client.findLeader([address], { timeoutMs: 30_000 });
  client.close();
  return {
    address,
    dir,
    process: proc,
    stop: async () => {
      await proc.stop(5000);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function goKvwrite(seconds: number): Promise<{ opsPerSecond: number; avgMs: number }> {
  const dir = await mkdtemp(join(tmpdir(), "bench-go-"));
  try {
    const address = `127.0.0.1:${await freePort()}`;
    await execFileAsync(
      "/usr/bin/dqlite-benchmark",
      ["-d", address, "--driver", "--cluster", address, "-D", dir, "--duration", String(seconds)],
      { timeout: (seconds + 60) * 1000 },
    );
    const results = join(dir, address, "results");
    const file = (await readdir(results)).find((name) => name.includes("-exec-"));
    if (file === undefined) throw new Error(`no exec results in ${results}`);
    const text = await readFile(join(results, file), "utf8");
    const n = Number(/^n (\d+)$/m.exec(text)?.[1]);
    const avgMs = Number(/^avg \[ms\] ([\d.]+)$/m.exec(text)?.[1]);
    return { opsPerSecond: n / seconds, avgMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The wire codec over a plain socket: one request, one response, nothing else. */
class RawConnection {
  readonly #socket: Socket;
  readonly #decoder = new StreamDecoder();
  #waiting: ((response: Response) => void) | undefined;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("data", (chunk) => {
      this.#decoder.push(chunk);
      const waiting = this.#waiting;
      if (waiting === undefined) return;
      const frame = this.#decoder.next();
      if (frame === undefined) return;
      this.#waiting = undefined;
      waiting(decodeResponse(frame));
    });
  }

  static async open(address: string, database: string): Promise<RawConnection> {
    const [host, port] = address.split(":");
    const socket = new Socket();
    await new Promise<void>((resolve, reject) => {
      socket.once("error", reject);
      socket.connect(Number(port), host, resolve);
    });
    socket.setNoDelay(true);
    socket.write(encodeHandshake());
    const raw = new RawConnection(socket);
    await raw.call({ type: "open", name: database, flags: 0, vfs: "volatile" });
    return raw;
  }

  call(request: Request): Promise<Response> {
    const response = new Promise<Response>((resolve) => {
      this.#waiting = resolve;
    });
    this.#socket.write(encodeRequest(request));
    return response;
  }

  // Reads Rows messages until DONE.
  async rows(request: Request): Promise<number> {
    let response = await this.call(request);
    let count = 0;
    for (;;) {
      if (response.type !== "rows") throw new Error(`unexpected ${response.type}`);
      count += response.rowCount;
      if (!response.more) return count;
      response = await new Promise<Response>((resolve) => {
        const frame = this.#decoder.next();
        if (frame !== undefined) resolve(decodeResponse(frame));
        else this.#waiting = resolve;
      });
    }
  }

  close(): void {
    this.#socket.destroy();
  }
}

function text(value: string): Param {
  return { type: ValueType.Text, value };
}

const INSERT = "INSERT OR REPLACE INTO model(key, value) VALUES(?, ?)";
const SELECT = "SELECT value FROM model WHERE key = ?";

function line(name: string, rate: Rate, reference?: Rate, referenceName?: string): void {
  const ratio =
    reference === undefined
      ? ""
      : `  ${(rate.opsPerSecond / reference.opsPerSecond).toFixed(2)}x ${referenceName}`;
  // Below a few thousand wake-ups a second the kernel's tick-based accounting charges whole
  // ticks to short wake-ups: CPU per operation means nothing for the fsync-bound writes.
  const cpu = Number.isNaN(rate.cpuMicrosPerOp)
    ? "".padStart(16)
    : `${rate.cpuMicrosPerOp.toFixed(1).padStart(7)} µs CPU/op`;
  console.log(
    `${name.padEnd(34)} ${rate.opsPerSecond.toFixed(0).padStart(8)} ops/s  ${cpu}${ratio}`,
  );
}

async function withNode<T>(fn: (node: Node) => Promise<T>): Promise<T> {
  const node = await startNode();
  try {
    return await fn(node);
  } finally {
    await node.stop();
  }
}

// Measures every candidate in turn, `rounds` times, and keeps each one's median: the machine is
// shared, so interleaving spreads the neighbours' noise over all candidates alike.
async function interleaved(
  rounds: number,
  sliceMs: number,
  candidates: Record<string, () => Promise<unknown>>,
): Promise<Record<string, Rate>> {
  const samples: Record<string, Rate[]> = {};
  for (let round = 0; round < rounds; round++) {
    for (const [name, op] of Object.entries(candidates)) {
      (samples[name] ??= []).push(await measure(sliceMs, op));
    }
  }
  const median = (values: number[]): number => values.sort((a, b) => a - b)[values.length >> 1];
  return Object.fromEntries(
    Object.entries(samples).map(([name, rates]) => [
      name,
      {
        opsPerSecond: median(rates.map((r) => r.opsPerSecond)),
        cpuMicrosPerOp: median(rates.map((r) => r.cpuMicrosPerOp)),
      },
    ]),
  );
}

export async function run(options: { short: boolean }): Promise<void> {
  if (!haveRealDqlite()) {
    console.log("skipped: real dqlite is not installed (apt-get install go-dqlite)");
    return;
  }
  const seconds = options.short ? 3 : 10;
  const rounds = options.short ? 3 : 5;
  const sliceMs = (seconds * 1000) / rounds;
  const value = makeValue();
  console.log(
    `kvwrite: 1 worker, ${KEY_BYTES}-byte keys, ${VALUE_BYTES}-byte values, ${seconds} s per client, 1 node; medians of ${rounds} interleaved rounds`,
  );

  const go = await goKvwrite(seconds);
  const goRate: Rate = { opsPerSecond: go.opsPerSecond, cpuMicrosPerOp: Number.NaN };
  console.log(
    `${"go-dqlite (dqlite-benchmark)".padEnd(34)} ${go.opsPerSecond.toFixed(0).padStart(8)} ops/s  (avg ${go.avgMs.toFixed(3)} ms; client and node in one process)`,
  );

  await withNode(async (node) => {
    const db = await connect({ cluster: [node.address], database: "benchmark" });
    const raw = await RawConnection.open(node.address, "benchmark");
    try {
      await db.exec("CREATE TABLE IF NOT EXISTS model (key TEXT, value TEXT, UNIQUE(key))");
      const insert = db.prepare(INSERT);
      const writes = await interleaved(rounds, sliceMs, {
        raw: () =>
          raw.call({
            type: "execSql",
            schema: 0,
            dbId: 0,
            sql: INSERT,
            params: [text(randomKey()), text(value)],
          }),
        exec: () => db.exec(INSERT, [randomKey(), value]),
        prepared: () => insert.exec([randomKey(), value]),
      });
      const noCpu = (rate: Rate): Rate => ({ ...rate, cpuMicrosPerOp: Number.NaN });
      line("raw wire ExecSQL", noCpu(writes.raw), goRate, "go-dqlite");
      line("ours db.exec", noCpu(writes.exec), writes.raw, "raw wire");
      line("ours prepared statement.exec", noCpu(writes.prepared), writes.raw, "raw wire");
      console.log(
        `${"ours db.exec vs go-dqlite".padEnd(34)} ${(writes.exec.opsPerSecond / go.opsPerSecond).toFixed(2)}x`,
      );
    } finally {
      raw.close();
      await db.close();
    }
  });

  console.log(`\npoint reads (${SELECT}) on 1,000 keys, and scans of ${ITERATE_ROWS} rows`);
  await withNode(async (node) => {
    const db = await connect({ cluster: [node.address], database: "benchmark" });
    const raw = await RawConnection.open(node.address, "benchmark");
    try {
      await db.exec("CREATE TABLE model (key TEXT, value TEXT, UNIQUE(key))");
      const keys = Array.from({ length: 1000 }, randomKey);
      await loadRows(db, keys, value);
      let i = 0;
      const select = db.prepare(SELECT);
      const reads = await interleaved(rounds, sliceMs / 2, {
        raw: () =>
          raw.call({
            type: "querySql",
            schema: 0,
            dbId: 0,
            sql: SELECT,
            params: [text(keys[i++ % keys.length])],
          }),
        get: () => db.get(SELECT, [keys[i++ % keys.length]]),
        prepared: () => select.get([keys[i++ % keys.length]]),
      });
      line("raw wire QuerySQL", reads.raw);
      line("ours db.get", reads.get, reads.raw, "raw wire");
      line("ours prepared statement.get", reads.prepared, reads.raw, "raw wire");

      await db.exec("CREATE TABLE big (n INTEGER, s TEXT)");
      await db.transaction(async (tx) => {
        const statement = tx.prepare("INSERT INTO big VALUES (?, ?)");
        for (let n = 0; n < ITERATE_ROWS; n++) await statement.exec([n, `value number ${n}`]);
      });
      const scan = "SELECT n, s FROM big";
      const scans = await interleaved(rounds, sliceMs / 2, {
        raw: () => raw.rows({ type: "querySql", schema: 0, dbId: 0, sql: scan, params: [] }),
        iterate: async () => {
          let count = 0;
          for await (const _row of db.iterate(scan)) count++;
          if (count !== ITERATE_ROWS) throw new Error(`iterated ${count} rows`);
        },
        query: () => db.query(scan, [], { rowMode: "array" }),
      });
      const perRow = (rate: Rate): Rate => ({
        opsPerSecond: rate.opsPerSecond * ITERATE_ROWS,
        cpuMicrosPerOp: rate.cpuMicrosPerOp / ITERATE_ROWS,
      });
      line("raw wire rows (decode only)", perRow(scans.raw));
      line(
        "ours db.iterate (rows as objects)",
        perRow(scans.iterate),
        perRow(scans.raw),
        "raw wire",
      );
      line("ours db.query (rows as arrays)", perRow(scans.query), perRow(scans.raw), "raw wire");
    } finally {
      raw.close();
      await db.close();
    }
  });
}

async function loadRows(db: Database, keys: string[], value: string): Promise<void> {
  await db.transaction(async (tx) => {
    const insert = tx.prepare(INSERT);
    for (const key of keys) await insert.exec([key, value]);
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await run({ short: process.argv.includes("--short") });
}
