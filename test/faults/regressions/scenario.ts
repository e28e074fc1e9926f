// Helpers for the scripted reproductions: a small cluster in namespaces, steps that print what
// they see, and an exit status (0 = the behaviour is right, 1 = the bug is there).
import { setTimeout as sleep } from "node:timers/promises";
import { Client } from "../../../src/client/index.js";
import { type ClusterOptions, FaultCluster } from "../cluster.js";
import { cleanupAll } from "../net/cleanup.js";

export function step(text: string): void {
  console.log(`${new Date().toISOString().slice(11, 23)} ${text}`);
}

/** Runs `body` on a fresh cluster, tears everything down, and exits 0 (pass) or 1 (bug seen). */
export async function scenario(
  name: string,
  options: Omit<ClusterOptions, "logDir"> & { logDir?: string },
  body: (cluster: FaultCluster) => Promise<boolean>,
): Promise<void> {
  let passed = false;
  try {
    const logDir = options.logDir ?? `/tmp/dqlite-faults-regressions/${name}-${Date.now()}`;
    const cluster = await FaultCluster.start({ ...options, logDir });
    step(`cluster up on ${cluster.network.subnet}; logs in ${logDir}`);
    passed = await body(cluster);
    await cluster.close();
  } catch (error) {
    console.error(error);
  } finally {
    cleanupAll();
  }
  console.log(`${name}: ${passed ? "PASS (behaves correctly)" : "FAIL (bug reproduced)"}`);
  process.exit(passed ? 0 : 1);
}

/** What node `address` itself says about the leader, or the error it gives. */
export async function leaderSeenBy(address: string): Promise<string> {
  try {
    const client = await Client.connect(address, { timeoutMs: 2000 });
    try {
      const leader = await client.leader({ timeoutMs: 2000 });
      return leader ? leader.address : "none";
    } finally {
      client.close();
    }
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}

/** Polls until `check` is true or `timeoutMs` passes; returns whether it became true. */
export async function eventually(
  timeoutMs: number,
  check: () => Promise<boolean>,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return true;
    await sleep(500);
  }
  return false;
}
