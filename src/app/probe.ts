// Which members are online: a node is online when a fresh connection and a Describe request to
// its address succeed within the probe timeout (go-dqlite: 2 s, NumCPU probes at a time).
import { availableParallelism } from "node:os";
import { Client, type DialFunction, type NodeInfo } from "../client/index.js";
import type { ProbedNode } from "./roles.js";

export const PROBE_TIMEOUT_MS = 2000;

export interface ProbeOptions {
  dial: DialFunction;
  timeoutMs?: number;
  /** Stops the probes early; unfinished nodes count as offline. */
  signal?: AbortSignal;
}

/** Probes every node (bounded concurrency) and returns them with their metadata or null. */
export async function probeNodes(
  nodes: readonly NodeInfo[],
  options: ProbeOptions,
): Promise<ProbedNode[]> {
  const probed: ProbedNode[] = nodes.map((node) => ({ ...node, metadata: null }));
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < probed.length) {
      const node = probed[next++];
      node.metadata = await describe(node.address, options.dial, timeoutMs, options.signal);
    }
  };
  const workers = Math.max(1, Math.min(availableParallelism(), probed.length));
  await Promise.all(Array.from({ length: workers }, worker));
  return probed;
}

async function describe(
  address: string,
  dial: DialFunction,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<ProbedNode["metadata"]> {
  if (signal?.aborted) return null;
  const probeSignal =
    signal === undefined
      ? AbortSignal.timeout(timeoutMs)
      : AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
  let client: Client | undefined;
  try {
    client = await Client.connect(address, {
      dial,
      signal: probeSignal,
      timeoutMs,
      dialTimeoutMs: timeoutMs,
    });
    return await client.describe({ signal: probeSignal, timeoutMs });
  } catch {
    return null;
  } finally {
    client?.close();
  }
}
