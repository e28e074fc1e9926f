// The App: go-dqlite's high-level embedding helper. It keeps this node's identity and the member
// list in its directory, starts the Node, joins or founds the cluster, keeps roles balanced in
// the background, and hands its role and leadership over before it stops.
import type { Socket } from "node:net";
import type { Duplex } from "node:stream";
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
import { asSocket, defaultUnixSocket, switchProtocols } from "./external-connections.js";
import { openAppDirectory } from "./files.js";
import { HANDOVER_TIMEOUT_MS, handover } from "./handover.js";
import { type AppOptions, defaultAddress, resolveOptions } from "./options.js";
import { tlsDial } from "./tls.js";

/**
 * Options of `App.open`: those of `connect`, less what the App provides (its logger and tracing
 * level are the defaults).
 */
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
  readonly #external: boolean;
  readonly #tracing: AppOptions["tracing"];
  readonly #stop = new AbortController();
  readonly #loop: Promise<void>;
  readonly #ready: Promise<void>;
  #markReady: () => void = () => {};
  #markClosed: (error: Error) => void = () => {};
  #closing: Promise<void> | null = null;

  private constructor(
    node: Node,
    context: AppContext,
    loop: Omit<LoopOptions, "onReady">,
    settings: { external: boolean; tracing: AppOptions["tracing"] },
  ) {
    this.#external = settings.external;
    this.#tracing = settings.tracing;
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
    const external = resolved.externalConnections;
    const dial: DialFunction =
      external?.dial ?? (resolved.tls ? tlsDial(resolved.tls.client) : dialTcp);
    const node = new Node({
      id: identity.id,
      address: identity.address,
      // With external connections the public address is the application's server.
      bindAddress: external ? (resolved.unixSocket ?? defaultUnixSocket(identity.id)) : undefined,
      dataDir: dir,
      dial: external?.dial ?? (resolved.tls ? tlsDial(resolved.tls.client) : undefined),
      tls: resolved.tls,
      networkLatencyMs: resolved.networkLatencyMs,
      failureDomain: resolved.failureDomain,
      snapshotThreshold: resolved.snapshotThreshold,
      snapshotTrailing: resolved.snapshotTrailing,
      logDataInMemoryBytes: resolved.logDataInMemoryBytes,
      autoRecovery: resolved.autoRecovery,
      busyTimeoutMs: resolved.busyTimeoutMs,
      diskMode: resolved.diskMode,
      diskCacheSizeBytes: resolved.diskCacheSizeBytes,
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
    return new App(
      node,
      context,
      {
        joining: directory.joining,
        rolesAdjustmentFrequencyMs: resolved.rolesAdjustmentFrequencyMs,
        onRolesAdjustment: resolved.onRolesAdjustment,
      },
      { external: external !== undefined, tracing: resolved.tracing },
    );
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

  /**
   * An admin client connected to this node (no leader check); with external connections, over
   * the node's own unix socket, as go-dqlite does.
   */
  client(options: ClientOptions = {}): Promise<Client> {
    if (this.#external) {
      return Client.connect(this.#node.bindAddress, { dial: dialTcp, ...options });
    }
    return Client.connect(this.address, { dial: this.dial, ...options });
  }

  /** The address the node listens on: `address`, or its unix socket with external connections. */
  get bindAddress(): string {
    return this.#node.bindAddress;
  }

  /**
   * Serves a connection your server accepted for dqlite with `Upgrade: dqlite` (e.g. from an
   * HTTP server's "upgrade" event): answers go-dqlite's `101 Switching Protocols`, then the
   * node speaks dqlite on it. Needs the `externalConnections` option.
   */
  handleUpgrade(socket: Duplex, head?: Uint8Array): void {
    const accepted = this.#accepted(socket);
    switchProtocols(accepted, head);
    this.#node.handleConnection(accepted);
  }

  /**
   * Serves a connection that already carries dqlite's bytes (no HTTP on it), accepted by your
   * own transport. Needs the `externalConnections` option.
   */
  handleConnection(socket: Duplex): void {
    this.#node.handleConnection(this.#accepted(socket));
  }

  #accepted(stream: Duplex): Socket {
    if (!this.#external) {
      stream.destroy();
      throw new AppError("connections can be handed to an App only with externalConnections");
    }
    return asSocket(stream);
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
          logger: this.#context.logger,
          tracing: this.#tracing,
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
