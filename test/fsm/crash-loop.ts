// Kills a disk-mode writer process (disk-mode-writer.ts) at random points, again and again, on
// one data directory, and checks after every restart that the node rebuilt a consistent
// database from its snapshot and log: every acknowledged transaction is there, nothing else is
// but the one that may have been in flight, rows are intact, integrity_check passes.
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../harness/ports.js";
import { startProcess } from "../harness/processes.js";

const WRITER = join(import.meta.dirname, "disk-mode-writer.ts");

export interface CrashLoopOptions {
  iterations: number;
  seed: number;
  /** Snapshot every this many entries (default 32). */
  snapshotThreshold?: number;
}

/** What one restart found: ids 1..maxId, their sum, the counter, bad rows, integrity. */
interface FoundState {
  rows: number;
  maxId: number;
  sum: number;
  total: number;
  bad: number;
  integrity: string;
}

function randomGenerator(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Runs the loop; throws (naming the seed and the iteration) when a check fails. */
export async function crashLoop(options: CrashLoopOptions): Promise<{ acked: number }> {
  const random = randomGenerator(options.seed);
  const dir = await mkdtemp(join(tmpdir(), "disk-mode-crash-"));
  const address = `127.0.0.1:${await freePort()}`;
  const dataDir = join(dir, "data");
  let acked = 0;
  for (let iteration = 0; iteration <= options.iterations; iteration++) {
    const last = iteration === options.iterations;
    const where = `seed ${options.seed}, iteration ${iteration} (logs in ${dir})`;
    const child = startProcess(
      `writer${iteration}`,
      process.execPath,
      ["--import", "tsx", WRITER, address, dataDir],
      join(dir, `writer-${iteration}.log`),
      { ...process.env, SNAPSHOT_THRESHOLD: String(options.snapshotThreshold ?? 32) },
    );
    let state: FoundState | null = null;
    let firstAck: () => void = () => {};
    const acking = new Promise<void>((resolve) => {
      firstAck = resolve;
    });
    const lines = createInterface({ input: child.child.stdout! });
    lines.on("line", (line) => {
      const [kind, ...fields] = line.split(" ");
      if (kind === "ack") {
        acked = Math.max(acked, Number(fields[0]));
        firstAck();
      } else if (kind === "state") {
        const [rows, maxId, sum, total, bad] = fields.slice(0, 5).map(Number);
        state = { rows, maxId, sum, total, bad, integrity: fields.slice(5).join(" ") };
      }
    });
    const ackedBefore = acked;
    const startedMs = Date.now();
    if (last) {
      // The final start: only its state is wanted.
      const deadline = Date.now() + 60_000;
      while (state === null && child.alive() && Date.now() < deadline) await sleep(20);
    } else if (random() < 1 / 3) {
      // Anywhere in start-up (snapshot restore, log replay) or the first writes.
      await sleep(random() * 3000);
    } else {
      const noAck = await Promise.race([acking, child.exited, sleep(60_000).then(() => true)]);
      assert.ok(noAck !== true, `${where}: no write acknowledged within a minute`);
      await sleep(random() * 800);
    }
    assert.ok(child.alive(), `${where}: the writer exited on its own`);
    if (last) await child.stop();
    else child.kill("SIGKILL");
    await child.exited;
    lines.close();
    if (process.env.CRASH_TRACE) {
      console.log(
        `${where}: ${Date.now() - startedMs} ms, ${JSON.stringify(state)}, acked ${acked}`,
      );
    }
    const found = state as FoundState | null;
    if (found === null) {
      assert.ok(!last, `${where}: the last start reported no state`);
      continue;
    }
    assert.equal(found.integrity, "ok", `${where}: integrity_check`);
    assert.equal(found.bad, 0, `${where}: rows with wrong content`);
    assert.equal(found.rows, found.maxId, `${where}: ids are not 1..${found.maxId}`);
    assert.equal(found.sum, (found.maxId * (found.maxId + 1)) / 2, `${where}: ids`);
    assert.equal(found.total, found.sum, `${where}: the counter disagrees with the rows`);
    assert.ok(
      found.maxId >= ackedBefore,
      `${where}: acknowledged ${ackedBefore}, found ${found.maxId}`,
    );
    // One transaction may have committed without its acknowledgement reaching us.
    assert.ok(
      found.maxId <= ackedBefore + 1,
      `${where}: found ${found.maxId} after ${ackedBefore}`,
    );
    acked = Math.max(acked, found.maxId);
  }
  // Only a run that passed removes its directory: a failure's logs stay for diagnosis.
  await rm(dir, { recursive: true, force: true });
  return { acked };
}
