// Durability under SIGKILL: three RaftNode processes with DiskStorage take writes; all of them
// are killed at once at random moments, restarted, and every write that was acknowledged
// (apply() resolved) must still be there, once, in acknowledgement order.
import assert from "node:assert/strict";
import { type ChildProcess, fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { freePorts } from "../../harness/ports.js";

interface Reply {
  id: number;
  ok: boolean;
  result?: unknown;
  error?: string;
}

class Child {
  readonly process: ChildProcess;
  #next = 1;
  readonly #waiting = new Map<number, (reply: Reply) => void>();
  readonly started: Promise<void>;

  constructor(script: string, args: string[]) {
    this.process = fork(script, args, {
      execArgv: ["--import", "tsx"],
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.started = new Promise((resolve) => {
      this.#waiting.set(0, () => resolve());
    });
    this.process.on("message", (reply: Reply) => {
      const waiter = this.#waiting.get(reply.id);
      this.#waiting.delete(reply.id);
      waiter?.(reply);
    });
    this.process.on("exit", () => {
      for (const waiter of this.#waiting.values()) waiter({ id: -1, ok: false, error: "exited" });
      this.#waiting.clear();
    });
  }

  request(op: string, extra: object = {}): Promise<Reply> {
    const id = this.#next++;
    return new Promise((resolve) => {
      this.#waiting.set(id, resolve);
      try {
        this.process.send({ id, op, ...extra });
      } catch {
        this.#waiting.delete(id);
        resolve({ id, ok: false, error: "not connected" });
      }
    });
  }

  kill(): Promise<void> {
    if (this.process.exitCode !== null || this.process.signalCode !== null)
      return Promise.resolve();
    return new Promise((resolve) => {
      this.process.once("exit", () => resolve());
      this.process.kill("SIGKILL");
    });
  }
}

const SCRIPT = new URL("./node-process.ts", import.meta.url).pathname;

test("acknowledged writes survive repeated SIGKILL of the whole cluster", {
  timeout: 240_000,
}, async () => {
  const root = await mkdtemp(join(tmpdir(), "raft-crash-"));
  const ports = await freePorts(3);
  const addresses = ports.map((p) => `127.0.0.1:${p}`);
  const start = async () => {
    const children = [1, 2, 3].map(
      (i) => new Child(SCRIPT, [String(i), join(root, `node${i}`), ...addresses]),
    );
    await Promise.all(children.map((c) => c.started));
    return children;
  };
  const leaderOf = async (children: Child[]): Promise<Child> => {
    const deadline = Date.now() + 30_000;
    for (;;) {
      for (const child of children) {
        const status = await child.request("status");
        if (status.ok && (status.result as { state: string }).state === "leader") return child;
      }
      if (Date.now() > deadline) throw new Error("no leader");
      await sleep(50);
    }
  };
  const acknowledged: number[] = [];
  let value = 0;
  let children: Child[] = [];
  try {
    for (let round = 0; round < 4; round++) {
      children = await start();
      const leader = await leaderOf(children);
      // Everything acknowledged so far is still there, in order.
      const before = await leader.request("values");
      assert.ok(before.ok, before.error);
      const values = before.result as number[];
      const kept = values.filter((v) => acknowledged.includes(v));
      const firstDifference = kept.findIndex((v, i) => v !== acknowledged[i]);
      assert.deepEqual(
        kept,
        acknowledged,
        `round ${round}: acknowledged writes lost or reordered (${kept.length} of ${acknowledged.length} kept, ` +
          `first difference at ${firstDifference}: ${kept[firstDifference]} vs ${acknowledged[firstDifference]}, ` +
          `values ${values.length}, last value ${values.at(-1)})`,
      );
      assert.equal(new Set(values).size, values.length, "no write applied twice");
      // Write with 16 concurrent writers, then kill everything at a random moment.
      const stopAt = Date.now() + 300 + Math.floor(Math.random() * 700);
      const writer = async () => {
        while (Date.now() < stopAt + 1000) {
          const mine = ++value;
          const reply = await leader.request("apply", { value: mine });
          if (!reply.ok) return;
          acknowledged.push(mine);
        }
      };
      const writers = Array.from({ length: 16 }, writer);
      await sleep(Math.max(0, stopAt - Date.now()));
      await Promise.all(children.map((c) => c.kill()));
      await Promise.all(writers);
    }
    assert.ok(acknowledged.length > 100, `${acknowledged.length} writes acknowledged`);
    children = await start();
    const leader = await leaderOf(children);
    const final = await leader.request("values");
    const values = final.result as number[];
    assert.deepEqual(
      values.filter((v) => acknowledged.includes(v)),
      acknowledged,
    );
  } finally {
    await Promise.all(children.map((c) => c.kill()));
    await rm(root, { recursive: true, force: true });
  }
});
