// What the App's background loop and its handover share: who this node is, how to reach the
// cluster's leader, how to probe members, and where to log.
import { setTimeout as sleepPromise } from "node:timers/promises";
import { Client, type DialFunction, type NodeInfo, type YamlNodeStore } from "../client/index.js";
import type { Logger } from "../server/index.js";
import { probeNodes } from "./probe.js";
import type { ProbedNode, RolesInput } from "./roles.js";

/** The longest one admin request of the App may take (a promotion waits for catch-up). */
export const ADMIN_TIMEOUT_MS = 30_000;

export class AppContext {
  readonly id: bigint;
  readonly address: string;
  readonly dir: string;
  readonly store: YamlNodeStore;
  readonly dial: DialFunction;
  readonly logger: Logger;
  readonly #concurrentLeaderConns: number;
  readonly #roles: { voters: number; standbys: number; random: () => number };

  constructor(fields: {
    id: bigint;
    address: string;
    dir: string;
    store: YamlNodeStore;
    dial: DialFunction;
    logger: Logger;
    concurrentLeaderConns: number;
    voters: number;
    standbys: number;
    random: () => number;
  }) {
    this.id = fields.id;
    this.address = fields.address;
    this.dir = fields.dir;
    this.store = fields.store;
    this.dial = fields.dial;
    this.logger = fields.logger;
    this.#concurrentLeaderConns = fields.concurrentLeaderConns;
    this.#roles = { voters: fields.voters, standbys: fields.standbys, random: fields.random };
  }

  /** An admin client on the leader of the nodes in cluster.yaml. */
  findLeader(signal: AbortSignal, timeoutMs = ADMIN_TIMEOUT_MS): Promise<Client> {
    return Client.findLeader(this.store, {
      dial: this.dial,
      concurrentLeaderConns: this.#concurrentLeaderConns,
      signal,
      timeoutMs,
    });
  }

  /** The members with their metadata, or null for those that do not answer. */
  probe(nodes: readonly NodeInfo[], signal: AbortSignal): Promise<ProbedNode[]> {
    return probeNodes(nodes, { dial: this.dial, signal });
  }

  /** The roles algorithm's input for probed members. */
  rolesInput(nodes: readonly ProbedNode[]): RolesInput {
    return { nodes, ...this.#roles };
  }
}

/** Waits `ms`, or less when `signal` aborts; true when the full time passed. */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  try {
    await sleepPromise(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** An error's message for a log line. */
export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
