// Before a run, go-dqlite's benchmark waits until every address of --cluster is a member of the
// cluster and accepts a connection (2 s per node), within --cluster-timeout.
import { setTimeout as sleep } from "node:timers/promises";
import { Client, type DialFunction } from "../../client/index.js";

const NODE_PROBE_TIMEOUT_MS = 2000;
const ROUND_PAUSE_MS = 100;

export interface WaitForClusterOptions {
  timeoutMs: number;
  dial?: DialFunction;
  signal?: AbortSignal;
}

async function online(address: string, dial: DialFunction | undefined): Promise<boolean> {
  try {
    const client = await Client.connect(address, { dial, timeoutMs: NODE_PROBE_TIMEOUT_MS });
    try {
      // The handshake goes out with the first request: ask something to know the node answers.
      await client.leader();
      return true;
    } finally {
      client.close();
    }
  } catch {
    return false;
  }
}

async function missingNodes(
  addresses: readonly string[],
  options: WaitForClusterOptions,
  signal: AbortSignal,
): Promise<string[]> {
  const leader = await Client.findLeader(addresses, { dial: options.dial, signal });
  let members: Set<string>;
  try {
    members = new Set((await leader.cluster({ signal })).map((node) => node.address));
  } finally {
    leader.close();
  }
  const missing: string[] = [];
  for (const address of addresses) {
    if (!members.has(address) || !(await online(address, options.dial))) missing.push(address);
  }
  return missing;
}

/** Resolves once every address is a reachable member; throws after `timeoutMs`. */
export async function waitForCluster(
  addresses: readonly string[],
  options: WaitForClusterOptions,
): Promise<void> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new Error("timeout")), options.timeoutMs);
  const stop = (): void => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", stop, { once: true });
  try {
    await waitRounds(addresses, options, controller.signal);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", stop);
  }
}

async function waitRounds(
  addresses: readonly string[],
  options: WaitForClusterOptions,
  signal: AbortSignal,
): Promise<void> {
  let missing: string[] = [...addresses];
  let lastError: unknown;
  while (!signal.aborted) {
    try {
      missing = await missingNodes(addresses, options, signal);
      if (missing.length === 0) return;
    } catch (error) {
      lastError = error;
    }
    await sleep(ROUND_PAUSE_MS, undefined, { signal }).catch(() => {});
  }
  if (options.signal?.aborted) throw new Error("stopped while waiting for the cluster");
  const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
  throw new Error(
    `timed out waiting for cluster: ${missing.join(", ")} not online after ${options.timeoutMs} ms${cause}`,
  );
}
