// Node stores: `get` and `set` of the SQLite node store (`get` stats the file and reads it
// through a wasm SQLite image only when it changed; `set` rewrites it atomically) against
// references measured in the same run: native SQLite (better-sqlite3, a dev dependency) doing
// what go-dqlite's store does with go-sqlite3 (a connection kept open), the same opened per call,
// and the YAML store (same atomic write, no SQLite). Wall-clock per operation, file I/O included,
// in the OS temp directory; `set` is dominated by fsync, so its figures swing with the disk.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { type NodeInfo, SqliteNodeStore, YamlNodeStore } from "../src/client/index.js";
import { Role } from "../src/wire/index.js";

async function measure(
  durationMs: number,
  op: () => Promise<unknown> | unknown,
): Promise<{ opsPerSecond: number; microsPerOp: number }> {
  const warmUntil = performance.now() + Math.min(200, durationMs / 4);
  while (performance.now() < warmUntil) await op();
  let ops = 0;
  const started = performance.now();
  do {
    await op();
    ops++;
  } while (performance.now() - started < durationMs);
  const elapsedMs = performance.now() - started;
  return { opsPerSecond: (ops * 1000) / elapsedMs, microsPerOp: (elapsedMs * 1000) / ops };
}

function nodes(count: number): NodeInfo[] {
  return Array.from({ length: count }, (_, i) => ({
    id: BigInt(i + 1),
    address: `10.0.${i >> 8}.${i & 255}:9001`,
    role: Role.Voter,
  }));
}

function line(name: string, result: { opsPerSecond: number; microsPerOp: number }, ratio = "") {
  console.log(
    `${name.padEnd(58)} ${result.opsPerSecond.toFixed(0).padStart(8)} ops/s ${result.microsPerOp.toFixed(0).padStart(7)} µs/op ${ratio}`,
  );
}

export async function run(options: { short: boolean }): Promise<void> {
  const durationMs = options.short ? 300 : 1500;
  const dir = await mkdtemp(join(tmpdir(), "bench-node-store-"));
  try {
    for (const count of [3, 100]) {
      const list = nodes(count);
      const path = join(dir, `servers-${count}.db`);
      const store = await SqliteNodeStore.open(path);
      await store.set(list);
      const yaml = await YamlNodeStore.open(join(dir, `cluster-${count}.yaml`));
      console.log(`\n${count} nodes`);

      const ours = await measure(durationMs, () => store.get());
      const open = new Database(path, { readonly: true });
      const select = open.prepare("SELECT address FROM servers").pluck();
      const kept = await measure(durationMs, () => select.all());
      open.close();
      const perCall = await measure(durationMs, () => {
        const db = new Database(path, { readonly: true });
        try {
          return db.prepare("SELECT address FROM servers").pluck().all();
        } finally {
          db.close();
        }
      });
      line("get: SqliteNodeStore (2 stats; read only when changed)", ours);
      line(
        "get: native SQLite, connection kept (go-dqlite's way)",
        kept,
        `ours ${(ours.opsPerSecond / kept.opsPerSecond).toFixed(3)}x`,
      );
      line(
        "get: native SQLite, opened per call",
        perCall,
        `ours ${(ours.opsPerSecond / perCall.opsPerSecond).toFixed(2)}x`,
      );

      const oursSet = await measure(durationMs, () => store.set(list));
      const native = new Database(join(dir, `native-${count}.db`));
      native.exec("CREATE TABLE IF NOT EXISTS servers (address TEXT, UNIQUE(address))");
      native.pragma("synchronous = FULL");
      const remove = native.prepare("DELETE FROM servers");
      const insert = native.prepare("INSERT INTO servers(address) VALUES (?)");
      const replace = native.transaction((addresses: string[]) => {
        remove.run();
        for (const address of addresses) insert.run(address);
      });
      const addresses = list.map((node) => node.address);
      const nativeSet = await measure(durationMs, () => replace(addresses));
      native.close();
      const yamlSet = await measure(durationMs, () => yaml.set(list));
      line("set: SqliteNodeStore (image, temp file, fsync, rename)", oursSet);
      line(
        "set: native SQLite transaction (rollback journal, fsync)",
        nativeSet,
        `ours ${(oursSet.opsPerSecond / nativeSet.opsPerSecond).toFixed(2)}x`,
      );
      line(
        "set: YamlNodeStore (temp file, fsync, rename)",
        yamlSet,
        `ours ${(oursSet.opsPerSecond / yamlSet.opsPerSecond).toFixed(2)}x`,
      );
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await run({ short: process.argv.includes("--short") });
}
