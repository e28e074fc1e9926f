// The App: go-dqlite's high-level embedding helper. It keeps this node's identity and the member
// list in its directory, starts the Node, joins or founds the cluster, keeps roles balanced in
// the background, and hands its role and leadership over before it stops.
import { pino } from "pino";
import {
  Client,
  type ClientOptions,
  type ConnectOptions,
  connect,
  type Database,
  type DialFunction,
  dialTcp,
  NoLeaderError,
} from "../client/index.js";
import { type Logger, Node } from "../server/index.js";
import { AppContext, describeError, pause } from "./app-context.js";
import { type LoopOptions, runBackgroundLoop } from "./background-loop.js";
import { AppError } from "./errors.js";
import { openAppDirectory } from "./files.js";
import { HANDOVER_TIMEOUT_MS, handover } from "./handover.js";
import { type AppOptions, defaultAddress, resolveOptions } from "./options.js";
import { tlsDial } from "./tls.js";

/** Options of `App.open`: those of `connect`, less what the App provides. */
export type AppOpenOptions = Omit<ConnectOptions, "cluster" | "database" | "dial">;

/** Options of `App.handover`. */
export interface HandoverOptions {
  signal?: AbortSignal;
  /** Limit of the whole handover (default 60000). */
  timeoutMs?: number;
}

/** Options of `App.close`. */
export interface CloseOptions extends HandoverOptions {
  /** Hand role and leadership over before stopping (default true). */
  handover?: boolean;
}

/** go-dqlite's Open: pings while no leader is found, 1 s apart, at most this many times. */
const OPEN_ATTEMPTS = 60;
const OPEN_RETRY_DELAY_MS = 1000;

/** A dqlite node embedded in this process, with go-dqlite's app behaviour. */
export class App {
  /** This node's raft id (BOOTSTRAP_ID for the node that founded the cluster). */
  readonly id: bigint;
  /** The address this node is known by, as kept in info.yaml. */
  readonly address: string;
  /** The App's directory (info.yaml, cluster.yaml, raft's files). */
  readonly dir: string;
  /** How the App dials nodes (TLS when configured); pass it to `connect`/`Client` as `dial`. */
  readonly dial: DialFunction;
  readonly #node: Node;
  readonly #context: AppContext;
  readonly #stop = new AbortController();
  readonly #loop: Promise<void>;
  readonly #ready: Promise<void>;
  #markReady: () => void = () => {};
  #markClosed: (error: Error) => void = () => {};
  #closing: Promise<void> | null = null;

  private constructor(node: Node, context: AppContext, loop: Omit<LoopOptions, "onReady">) {
    this.id = context.id;
    this.address = context.address;
    this.dir = context.dir;
    this.dial = context.dial;
    this.#node = node;
    this.#context = context;
    this.#ready = new Promise<void>((resolve, reject) => {
      this.#markReady = resolve;
      this.#markClosed = reject;
    });
    // Nobody may be waiting for ready(); its rejection at close is not an unhandled one.
    this.#ready.catch(() => {});
    this.#loop = runBackgroundLoop(
      context,
      { ...loop, onReady: () => this.#markReady() },
      this.#stop.signal,
    );
  }

  /**
   * Creates or reopens the App in `dir` and starts its node: a new node without `cluster`
   * founds a cluster, one with `cluster` joins it (as a spare, promoted as needed); a restarted
   * node finds its cluster from its files. Throws AppError for inconsistent files or options.
   */
  static async create(dir: string, options: AppOptions = {}): Promise<App> {
    const resolved = resolveOptions(options);
    const logger = options.logger ?? defaultLogger();
    const directory = await openAppDirectory(dir, {
      address: resolved.address,
      cluster: resolved.cluster,
      defaultAddress,
    });
    const { identity } = directory;
    const dial: DialFunction = resolved.tls ? tlsDial(resolved.tls.client) : dialTcp;
    const node = new Node({
      id: identity.id,
      address: identity.address,
      dataDir: dir,
      dial: resolved.tls ? tlsDial(resolved.tls.client) : undefined,
      tls: resolved.tls,
      networkLatencyMs: resolved.networkLatencyMs,
      failureDomain: resolved.failureDomain,
      snapshotThreshold: resolved.snapshotThreshold,
      snapshotTrailing: resolved.snapshotTrailing,
      autoRecovery: resolved.autoRecovery,
      busyTimeoutMs: resolved.busyTimeoutMs,
      logger,
    });
    try {
      await node.start();
    } catch (error) {
      await node.close().catch(() => {});
      await directory.undo();
      throw new AppError(`start node: ${describeError(error)}`, { cause: error });
    }
    const context = new AppContext({
      id: identity.id,
      address: identity.address,
      dir,
      store: directory.store,
      dial,
      logger,
      concurrentLeaderConns: resolved.concurrentLeaderConns,
      voters: resolved.voters,
      standbys: resolved.standbys,
      random: resolved.random,
    });
    logger.info(
      { id: String(identity.id), address: identity.address, joining: directory.joining },
      "app started",
    );
    return new App(node, context, {
      joining: directory.joining,
      rolesAdjustmentFrequencyMs: resolved.rolesAdjustmentFrequencyMs,
      onRolesAdjustment: resolved.onRolesAdjustment,
    });
  }

  /**
   * Resolves once the first background round is done: the node has joined (if new) and taken
   * any role the cluster lacked. Rejects when `signal` aborts or the App closes first.
   */
  async ready(options: { signal?: AbortSignal } = {}): Promise<void> {
    const signal = options.signal;
    if (signal === undefined) return this.#ready;
    signal.throwIfAborted();
    let onAbort: (() => void) | undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    try {
      return await Promise.race([this.#ready, aborted]);
    } finally {
      if (onAbort) signal.removeEventListener("abort", onAbort);
    }
  }

  /** An admin client connected to the cluster's leader. */
  leader(options: ClientOptions = {}): Promise<Client> {
    return Client.findLeader(this.#context.store, { dial: this.dial, ...options });
  }

  /** An admin client connected to this node (no leader check). */
  client(options: ClientOptions = {}): Promise<Client> {
    return Client.connect(this.address, { dial: this.dial, ...options });
  }

  /**
   * Opens a SQL handle on database `name` through the cluster's leader, trying again (1 s apart,
   * up to 60 times, like go-dqlite) while no leader can be found.
   */
  async open(name: string, options: AppOpenOptions = {}): Promise<Database> {
    let lastError: unknown;
    for (let attempt = 0; attempt < OPEN_ATTEMPTS; attempt++) {
      try {
        return await connect({
          ...options,
          cluster: this.#context.store,
          database: name,
          dial: this.dial,
        });
      } catch (error) {
        if (!(error instanceof NoLeaderError)) throw error;
        lastError = error;
      }
      const signal = options.signal
        ? AbortSignal.any([options.signal, this.#stop.signal])
        : this.#stop.signal;
      if (!(await pause(OPEN_RETRY_DELAY_MS, signal))) {
        // The caller's abort reason wins, as everywhere in the client.
        if (options.signal?.aborted) throw options.signal.reason;
        break;
      }
    }
    throw lastError;
  }

  /**
   * Hands this node's voter or stand-by role to an online node, transfers leadership if this
   * node leads, then demotes it to spare. Call before `close` for a graceful stop (close does).
   */
  async handover(options: HandoverOptions = {}): Promise<void> {
    const signal = limitSignal(options);
    await handover(this.#context, signal);
  }

  /**
   * Stops the App: its background loop, a handover (unless `handover: false`; a failed one is
   * logged), then the node. Safe to call more than once.
   */
  close(options: CloseOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options);
    return this.#closing;
  }

  async #close(options: CloseOptions): Promise<void> {
    // The loop stops first so that it cannot undo the handover (e.g. assume a role again).
    this.#stop.abort(new AppError("app closed"));
    await this.#loop;
    this.#markClosed(new AppError("app closed before it was ready"));
    if (options.handover ?? true) {
      try {
        await handover(this.#context, limitSignal(options));
      } catch (error) {
        this.#context.logger.warn({ error: describeError(error) }, "handover before close failed");
      }
    }
    await this.#node.close();
    this.#context.logger.info({ id: String(this.id) }, "app closed");
  }
}

function limitSignal(options: HandoverOptions): AbortSignal {
  const timeout = AbortSignal.timeout(options.timeoutMs ?? HANDOVER_TIMEOUT_MS);
  return options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
}

/** go-dqlite logs only errors by default; ours go to stderr as pino JSON lines. */
function defaultLogger(): Logger {
  return pino({ level: "error", base: { name: "dqlite" } }, pino.destination(2));
}
