// Leader discovery, the way go-dqlite's connector does it: try the last known leader alone; else
// ask every node of the store in parallel (voters first, bounded concurrency) who the leader is,
// following one redirect; the first node that names itself, under exactly the address we dialled,
// gets Client(0) and becomes the leader connection. Attempts repeat with capped exponential
// backoff until the caller's deadline or the retry limit.

import { type Logger, silentLogger } from "../log/logger.js";
import { Connection, type ConnectionOptions, expectResponse } from "./connection.js";
import { checkTimeoutMs, Deadline, sleep } from "./deadline.js";
import { type DialFunction, dialTcp } from "./dial.js";
import { NoLeaderError, TimeoutError } from "./errors.js";
import { MemoryNodeStore, type NodeInfo, type NodeStore } from "./node-store.js";

/** How leader discovery dials, waits and retries (defaults are go-dqlite's). */
export interface ConnectorOptions extends ConnectionOptions {
  /** Opens the byte stream to a node (default: TCP, or abstract unix socket for `@name`). */
  dial?: DialFunction;
  /** Limit for one dial (default 5000). */
  dialTimeoutMs?: number;
  /** Limit for probing one node: handshake, Leader, Client (default 15000). */
  attemptTimeoutMs?: number;
  /** Backoff before retry k is factor · 2^k, capped (defaults 100 and 1000). */
  backoffFactorMs?: number;
  backoffCapMs?: number;
  /** Retries after the first round; undefined = until the deadline (go-dqlite's 0). */
  retryLimit?: number;
  /** Nodes probed at once (default 10). */
  concurrentLeaderConns?: number;
  /** Where the leader search logs, at go-dqlite's levels (default: nowhere). */
  logger?: Logger;
}

/** Remembers the last leader address so the next search can try it first. */
export class LeaderTracker {
  address: string | undefined;
}

interface ResolvedOptions {
  dial: DialFunction;
  dialTimeoutMs: number;
  attemptTimeoutMs: number;
  backoffFactorMs: number;
  backoffCapMs: number;
  retryLimit: number;
  concurrentLeaderConns: number;
  logger: Logger;
  connection: ConnectionOptions;
}

/** Checks options once, when a handle is created. */
function resolveOptions(options: ConnectorOptions): ResolvedOptions {
  const retryLimit = options.retryLimit ?? Number.POSITIVE_INFINITY;
  if (!(retryLimit >= 0)) throw new RangeError(`retryLimit must be >= 0, got ${retryLimit}`);
  const concurrency = options.concurrentLeaderConns ?? 10;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrentLeaderConns must be a positive integer, got ${concurrency}`);
  }
  return {
    dial: options.dial ?? dialTcp,
    dialTimeoutMs: checkTimeoutMs(options.dialTimeoutMs ?? 5000, "dialTimeoutMs"),
    attemptTimeoutMs: checkTimeoutMs(options.attemptTimeoutMs ?? 15_000, "attemptTimeoutMs"),
    backoffFactorMs: checkTimeoutMs(options.backoffFactorMs ?? 100, "backoffFactorMs"),
    backoffCapMs: checkTimeoutMs(options.backoffCapMs ?? 1000, "backoffCapMs"),
    retryLimit,
    concurrentLeaderConns: concurrency,
    logger: options.logger ?? silentLogger,
    connection: { maxMessageSizeBytes: options.maxMessageSizeBytes },
  };
}

/** Finds the leader of the nodes in a store and opens a registered connection to it. */
export class Connector {
  readonly store: NodeStore;
  readonly tracker: LeaderTracker;
  readonly #options: ResolvedOptions;

  constructor(store: NodeStore, options: ConnectorOptions = {}, tracker = new LeaderTracker()) {
    this.store = store;
    this.tracker = tracker;
    this.#options = resolveOptions(options);
  }

  /** Dials one node and does the handshake, with no leader check (go-dqlite's client.New). */
  async connectDirect(address: string, deadline: Deadline): Promise<Connection> {
    const dialDeadline = deadline.child(this.#options.dialTimeoutMs);
    try {
      return await Connection.open(
        address,
        this.#options.dial,
        dialDeadline,
        this.#options.connection,
      );
    } finally {
      dialDeadline.dispose();
    }
  }

  /**
   * A connection to the leader, registered with Client(0). Gives up with NoLeaderError when the
   * deadline passes or the retries run out; a caller's own abort rejects with its reason.
   */
  async connect(deadline: Deadline): Promise<Connection> {
    let lastError: unknown;
    for (let attempt = 0; attempt <= this.#options.retryLimit; attempt++) {
      try {
        if (attempt > 0) await sleep(this.#backoffMs(attempt), deadline);
        const connection = await this.#attemptAll(deadline, attempt + 1);
        if (connection !== undefined) {
          this.tracker.address = connection.address;
          return connection;
        }
      } catch (error) {
        lastError = error;
      }
      if (deadline.aborted) break;
    }
    const reason = deadline.reason;
    if (reason !== undefined && !(reason instanceof TimeoutError)) throw reason;
    throw new NoLeaderError({ cause: reason ?? lastError });
  }

  // go-dqlite's binary exponential backoff: factor · 2^attempt, capped.
  #backoffMs(attempt: number): number {
    const ms = this.#options.backoffFactorMs * 2 ** Math.min(attempt, 30);
    return Math.min(ms, this.#options.backoffCapMs);
  }

  async #attemptAll(deadline: Deadline, attempt: number): Promise<Connection | undefined> {
    const logger = this.#options.logger;
    const cached = this.tracker.address;
    if (cached !== undefined) {
      const probe = await this.#attemptOne(cached, deadline.signal).catch(() => undefined);
      if (probe?.connection !== undefined) {
        logger.debug({ attempt, address: cached }, "connected to the leader on the fast path");
        return probe.connection;
      }
      if (this.tracker.address === cached) this.tracker.address = undefined;
    }
    const nodes = await this.store.get();
    // Only voters can lead; stand-bys are likelier than spares to know who does.
    const ordered = [...nodes].sort((a, b) => a.role - b.role);
    const connection = await this.#probeInParallel(ordered, deadline.signal, attempt);
    if (connection !== undefined) {
      logger.debug({ attempt, address: connection.address }, "connected to the leader");
    }
    return connection;
  }

  #probeInParallel(
    nodes: NodeInfo[],
    parent: AbortSignal,
    attempt: number,
  ): Promise<Connection | undefined> {
    // Aborted once a leader is found, so that the probes still running stop early.
    const round = new AbortController();
    const onParentAbort = (): void => round.abort(parent.reason);
    parent.addEventListener("abort", onParentAbort, { once: true });
    let next = 0;
    let winner: Connection | undefined;
    const probeNext = async (): Promise<void> => {
      while (next < nodes.length && !round.signal.aborted) {
        const node = nodes[next++];
        const connection = await this.#probeWithRedirect(node.address, round.signal, attempt).catch(
          () => undefined,
        );
        if (connection === undefined) continue;
        if (winner === undefined && !round.signal.aborted) {
          winner = connection;
          round.abort();
        } else {
          connection.close();
        }
      }
    };
    const workers = Array.from(
      { length: Math.min(this.#options.concurrentLeaderConns, nodes.length) },
      probeNext,
    );
    return Promise.all(workers).then(
      () => {
        parent.removeEventListener("abort", onParentAbort);
        return winner;
      },
      (error) => {
        parent.removeEventListener("abort", onParentAbort);
        winner?.close();
        throw error;
      },
    );
  }

  // Logs like go-dqlite's connector: failures and dead ends at warn, the redirect at debug. A
  // probe cut short because another found the leader is not worth a line.
  async #probeWithRedirect(
    address: string,
    signal: AbortSignal,
    attempt: number,
  ): Promise<Connection | undefined> {
    const logger = this.#options.logger;
    const warn = (node: string, message: string): void => {
      if (!signal.aborted) logger.warn({ attempt, address: node }, message);
    };
    const first = await this.#attemptOne(address, signal).catch((error: unknown) => {
      warn(address, `leader search: ${describe(error)}`);
      return undefined;
    });
    if (first === undefined) return undefined;
    if (first.connection !== undefined) return first.connection;
    if (first.leader === "") {
      warn(address, "leader search: no known leader");
      return undefined;
    }
    // One hop only: the reported leader must confirm itself.
    logger.debug(
      { attempt, address, leader: first.leader },
      "leader search: try the reported leader",
    );
    const second = await this.#attemptOne(first.leader, signal).catch((error: unknown) => {
      warn(first.leader, `leader search: ${describe(error)}`);
      return undefined;
    });
    if (second !== undefined && second.connection === undefined) {
      warn(first.leader, "leader search: the reported leader is not the leader");
    }
    return second?.connection;
  }

  /**
   * Dials `address` and asks it for the leader. Returns the registered connection when the node
   * names itself under the dialled address, else the address it named ("" if none).
   */
  async #attemptOne(
    address: string,
    signal: AbortSignal,
  ): Promise<{ connection?: Connection; leader: string }> {
    const attempt = new Deadline(signal, this.#options.attemptTimeoutMs);
    let connection: Connection | undefined;
    try {
      connection = await this.connectDirect(address, attempt);
      const node = expectResponse(
        connection,
        await connection.call({ type: "leader" }, attempt),
        "node",
      );
      if (node.address !== address) {
        connection.close();
        return { leader: node.address };
      }
      expectResponse(
        connection,
        await connection.call({ type: "client", clientId: 0n }, attempt),
        "welcome",
      );
      return { connection, leader: address };
    } catch (error) {
      connection?.close();
      throw error;
    } finally {
      attempt.dispose();
    }
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Builds a store from a list of addresses, or returns the store given. */
export function toNodeStore(cluster: readonly string[] | NodeStore): NodeStore {
  if (!Array.isArray(cluster)) return cluster as NodeStore;
  if (cluster.length === 0) throw new RangeError("the cluster needs at least one address");
  for (const address of cluster) {
    if (typeof address !== "string") throw new TypeError("cluster addresses must be strings");
  }
  return new MemoryNodeStore(cluster as readonly string[]);
}
