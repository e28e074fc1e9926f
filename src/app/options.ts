// The App's options (go-dqlite's app.With... options in TypeScript form), their defaults and checks.
import type { Socket } from "node:net";
import { networkInterfaces } from "node:os";
import type { ConnectionOptions, TlsOptions } from "node:tls";
import type { LogLevel, NodeInfo } from "../client/index.js";
import type { Logger } from "../server/index.js";
import { AppError } from "./errors.js";

/** TLS for every connection of the App: what it listens with and what it dials with. */
export interface AppTlsOptions {
  /** The listener's side: certificate and key; request and verify client certificates for mTLS. */
  server: TlsOptions;
  /** The dialling side (peers, leader search, admin clients): certificate, trusted CAs, name. */
  client: ConnectionOptions;
}

/**
 * go-dqlite's WithExternalConn: the App's traffic goes through the application's own server.
 * Give it the connections that server accepts (`App.handleUpgrade`, `App.handleConnection`).
 */
export interface ExternalConnections {
  /**
   * Opens a connection to another node (raft peers, leader search, admin clients), ready for
   * dqlite's bytes: e.g. `httpUpgradeDial()` for servers that answer `Upgrade: dqlite`.
   */
  dial: (address: string, signal: AbortSignal) => Promise<Socket>;
}

/** How an App runs. Every field is optional. */
export interface AppOptions {
  /**
   * The address other nodes and clients reach this node at, stable across restarts (it is kept
   * in info.yaml). Default: the host's first non-loopback address, port 9000.
   */
  address?: string;
  /** Addresses of existing members; needed on the first start of a node that joins a cluster. */
  cluster?: readonly string[];
  /** TLS for all traffic (see `simpleTlsConfig`). */
  tls?: AppTlsOptions;
  /** Connections through the application's own server instead of a listener on `address`. */
  externalConnections?: ExternalConnections;
  /**
   * With `externalConnections`: the abstract unix socket (`@name`) the node listens on for
   * local clients (go-dqlite's WithUnixSocket; default: a random `@dqlite-<id>-…` name).
   */
  unixSocket?: string;
  /** Wanted number of voters: odd and at least 3 (default 3). Same on every node. */
  voters?: number;
  /** Wanted number of stand-bys (default 3). Same on every node. */
  standbys?: number;
  /** Period of the leader's roles adjustment once ready (default 30000). */
  rolesAdjustmentFrequencyMs?: number;
  /** Called after each adjustment round with the leader and the cluster. */
  onRolesAdjustment?: (leader: NodeInfo, cluster: NodeInfo[]) => void | Promise<void>;
  /** This node's failure domain, reported by Describe (default 0). */
  failureDomain?: bigint | number;
  /** Typical round trip between nodes: heartbeat 1.5×, election timeout 15× (default: 500/3000 ms). */
  networkLatencyMs?: number;
  /** Raft snapshot every this many entries (default 1024). */
  snapshotThreshold?: number;
  /** Entries kept behind a snapshot (default 8192). */
  snapshotTrailing?: number;
  /**
   * Raft entry data kept in memory once applied (default 8 MiB); a follower that needs older
   * entries gets them read back from disk.
   */
  logDataInMemoryBytes?: number;
  /** Allow quarantining damaged raft files a snapshot covers at start-up (default true). */
  autoRecovery?: boolean;
  /** How long a writer waits for its database's lock on the node (default 5000). */
  busyTimeoutMs?: number;
  /** Databases in files under the directory, larger than memory (go-dqlite's WithDiskMode). */
  diskMode?: boolean;
  /** Disk mode's page cache (default 64 MiB). */
  diskCacheSizeBytes?: number;
  /** Logs every SQL request of `open`'s handles at this level (go-dqlite's WithTracing). */
  tracing?: LogLevel;
  /** Nodes probed at once when searching for the leader (default 10). */
  concurrentLeaderConns?: number;
  /** Structured logs, pino's shape (default: pino on stderr, errors only). */
  logger?: Logger;
  /** Breaks ties between equal candidates for a role (default Math.random; seed it in tests). */
  random?: () => number;
}

/** The options with every default filled in and checked. */
export interface ResolvedAppOptions {
  address: string | undefined;
  cluster: readonly string[];
  tls: AppTlsOptions | undefined;
  externalConnections: ExternalConnections | undefined;
  unixSocket: string | undefined;
  voters: number;
  standbys: number;
  rolesAdjustmentFrequencyMs: number;
  onRolesAdjustment: (leader: NodeInfo, cluster: NodeInfo[]) => void | Promise<void>;
  failureDomain: bigint;
  networkLatencyMs: number | undefined;
  snapshotThreshold: number | undefined;
  snapshotTrailing: number | undefined;
  logDataInMemoryBytes: number | undefined;
  autoRecovery: boolean;
  busyTimeoutMs: number | undefined;
  diskMode: boolean;
  diskCacheSizeBytes: number | undefined;
  tracing: LogLevel | undefined;
  concurrentLeaderConns: number;
  random: () => number;
}

const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

const MAX_U64 = 0xffff_ffff_ffff_ffffn;

/** Fills in defaults; throws AppError (go-dqlite's text) or RangeError for values that cannot work. */
export function resolveOptions(options: AppOptions): ResolvedAppOptions {
  const voters = options.voters ?? 3;
  if (!Number.isInteger(voters) || voters < 3 || voters % 2 === 0) {
    throw new AppError(`invalid voters ${voters}: must be an odd number greater than 1`);
  }
  const standbys = options.standbys ?? 3;
  checkInteger("standbys", standbys, 0);
  const frequencyMs = options.rolesAdjustmentFrequencyMs ?? 30_000;
  checkPositive("rolesAdjustmentFrequencyMs", frequencyMs);
  if (options.networkLatencyMs !== undefined) {
    checkPositive("networkLatencyMs", options.networkLatencyMs);
  }
  const concurrentLeaderConns = options.concurrentLeaderConns ?? 10;
  checkInteger("concurrentLeaderConns", concurrentLeaderConns, 1);
  const failureDomain = BigInt(options.failureDomain ?? 0);
  if (failureDomain < 0n || failureDomain > MAX_U64) {
    throw new RangeError(`failureDomain ${failureDomain} is not a u64`);
  }
  const cluster = options.cluster ?? [];
  for (const address of cluster) {
    if (typeof address !== "string" || address === "") {
      throw new TypeError("cluster must list node addresses (non-empty strings)");
    }
  }
  if (options.address !== undefined) {
    if (typeof options.address !== "string" || options.address === "") {
      throw new TypeError("address must be a non-empty string");
    }
    // The address is this node's identity in info.yaml and in the raft configuration.
    if (/:0$/.test(options.address)) {
      throw new RangeError(`address ${options.address} needs a fixed port (peers dial it)`);
    }
  }
  const external = options.externalConnections;
  if (external !== undefined && typeof external?.dial !== "function") {
    throw new TypeError("externalConnections needs a dial function");
  }
  if (external !== undefined && options.tls !== undefined) {
    throw new AppError(
      "tls and externalConnections cannot be combined: your server terminates TLS, your dial function opens it",
    );
  }
  if (options.unixSocket !== undefined) {
    if (external === undefined) {
      throw new AppError("unixSocket applies only with externalConnections");
    }
    if (!/^@[^\0]+$/.test(options.unixSocket)) {
      throw new RangeError(
        `unixSocket must be an abstract socket name "@name", got ${options.unixSocket}`,
      );
    }
  }
  if (options.tracing !== undefined && !LOG_LEVELS.includes(options.tracing)) {
    throw new RangeError(`tracing must be one of ${LOG_LEVELS.join(", ")}, got ${options.tracing}`);
  }
  if (options.diskCacheSizeBytes !== undefined) {
    checkInteger("diskCacheSizeBytes", options.diskCacheSizeBytes, 1);
  }
  return {
    address: options.address,
    cluster,
    tls: options.tls,
    externalConnections: external,
    unixSocket: options.unixSocket,
    voters,
    standbys,
    rolesAdjustmentFrequencyMs: frequencyMs,
    onRolesAdjustment: options.onRolesAdjustment ?? (() => {}),
    failureDomain,
    networkLatencyMs: options.networkLatencyMs,
    snapshotThreshold: options.snapshotThreshold,
    snapshotTrailing: options.snapshotTrailing,
    logDataInMemoryBytes: options.logDataInMemoryBytes,
    autoRecovery: options.autoRecovery ?? true,
    busyTimeoutMs: options.busyTimeoutMs,
    diskMode: options.diskMode ?? false,
    diskCacheSizeBytes: options.diskCacheSizeBytes,
    tracing: options.tracing,
    concurrentLeaderConns,
    random: options.random ?? Math.random,
  };
}

/**
 * go-dqlite's default address: the first non-loopback interface's address with port 9000 (its
 * IPv4 address when it has one, else its first IPv6 one in brackets).
 */
export function defaultAddress(): string {
  for (const addresses of Object.values(networkInterfaces())) {
    const external = (addresses ?? []).filter((address) => !address.internal);
    if (external.length === 0) continue;
    const v4 = external.find((address) => address.family === "IPv4");
    if (v4 !== undefined) return `${v4.address}:9000`;
    return `[${external[0].address}]:9000`;
  }
  throw new AppError("no suitable network interface found for the default address");
}

function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min) {
    throw new RangeError(`${name} must be an integer >= ${min}, got ${value}`);
  }
}

function checkPositive(name: string, value: number): void {
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${name} must be a positive number of milliseconds, got ${value}`);
  }
}
