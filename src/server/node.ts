// The dqlite Node: one replicated server. It owns the listener shared by clients and raft peers,
// the state machine (every database of the node), raft, and a gateway per client connection.
import { createHash, randomBytes } from "node:crypto";
import { mkdir } from "node:fs/promises";
import type { Socket } from "node:net";
import { join } from "node:path";
import type { ConnectionOptions, TlsOptions } from "node:tls";
import { Fsm } from "../fsm/index.js";
import { type Logger, silentLogger } from "../log/logger.js";
import { RaftRole } from "../raft/core/types.js";
import type { DialFunction } from "../raft/io/dial.js";
import { DiskStorage } from "../raft/io/disk-storage.js";
import { RaftNode } from "../raft/raft-node.js";
import { loadSqlite } from "../sqlite/index.js";
import { BOOTSTRAP_ID, StreamDecoder } from "../wire/index.js";
import { Gateway, type GatewayServices, type NodeMetadata } from "./gateway.js";
import { Listener } from "./listener.js";
import { RaftReplication } from "./raft-replication.js";
import { reconfigureMembership } from "./reconfigure.js";
import { ReplicationError } from "./replication.js";
import { tlsDialer } from "./tls-dial.js";
import { WriterLock } from "./writer-lock.js";

export interface NodeOptions {
  /** This node's raft id: non-zero; BOOTSTRAP_ID (or 1) founds a new cluster on first start. */
  id: bigint;
  /** The address peers and clients reach this node at ("host:port", or "@name" for unix). */
  address: string;
  /** Where raft keeps its log, metadata and snapshots (libraft's format). */
  dataDir: string;
  /** Listen here instead of `address` (e.g. "0.0.0.0:9001"). */
  bindAddress?: string;
  /** How to open connections to peers (default: TCP, or abstract unix sockets for "@name"). */
  dial?: DialFunction;
  /**
   * Typical round trip between nodes: heartbeats every 1.5×, elections after 15× (dqlite's
   * rule). Default: heartbeat 500 ms, election 3000 ms.
   */
  networkLatencyMs?: number;
  /** Reported by Describe; used by role management to spread voters. */
  failureDomain?: bigint;
  /** Take a raft snapshot every this many entries (default 1024). */
  snapshotThreshold?: number;
  /** Entries kept behind a snapshot (default 8192, at least the threshold). */
  snapshotTrailing?: number;
  /**
   * Raft entry data kept in memory once applied (default 8 MiB, newest first); a follower that
   * needs older entries gets them read back from the data directory.
   */
  logDataInMemoryBytes?: number;
  /** Quarantine damaged raft segments that a snapshot covers, instead of refusing to start. */
  autoRecovery?: boolean;
  /**
   * TLS for every connection, clients and peers alike: `server` for the listener (require client
   * certificates for mutual TLS), `client` for dialing peers. Ignored for dialing when `dial`
   * is given.
   */
  tls?: { server: TlsOptions; client: ConnectionOptions };
  /** How long a writer waits for its database's write lock before SQLITE_BUSY (default 5000). */
  busyTimeoutMs?: number;
  /**
   * Disk mode (go-dqlite's WithDiskMode): databases live in files under `<dataDir>/database`
   * (rebuilt from the raft snapshot and log at every start) with a bounded cache of hot pages,
   * so they can be larger than memory; snapshots stream from and to files.
   */
  diskMode?: boolean;
  /** Disk mode's page cache, shared by the node's databases (default 64 MiB). */
  diskCacheSizeBytes?: number;
  logger?: Logger;
}

/** A replicated dqlite server. */
export class Node {
  readonly id: bigint;
  readonly #options: NodeOptions;
  readonly #logger: Logger;
  readonly #metadata: NodeMetadata;
  readonly #gateways = new Set<Gateway>();
  readonly #locks = new Map<string, WriterLock>();
  readonly #listener: Listener;
  /** Sockets handed over by `handleConnection` (the listener tracks its own). */
  readonly #external = new Set<Socket>();
  #address: string;
  #fsm: Fsm | null = null;
  #raft: RaftNode | null = null;
  #replication: RaftReplication | null = null;
  #barrierNeeded = true;
  #barrier: Promise<void> | null = null;
  #leaseRenewal: Promise<void> | null = null;
  #state: "new" | "started" | "closed" = "new";
  #electionTimeoutMs = 3000;

  constructor(options: NodeOptions) {
    if (options.id === 0n) throw new RangeError("node id must not be 0");
    this.id = options.id;
    this.#options = options;
    this.#address = options.address;
    this.#logger = options.logger ?? silentLogger;
    this.#metadata = { failureDomain: options.failureDomain ?? 0n, weight: 0n };
    this.#listener = new Listener(
      (socket) => this.#onSocket(socket),
      options.tls?.server,
      (error) => {
        // A peer that hangs up mid-handshake (e.g. the losers of a client's parallel leader
        // search) is not a refusal.
        const hungUp = /before secure TLS connection/.test(error.message);
        if (hungUp) this.#logger.debug({ error: error.message }, "TLS handshake abandoned");
        else this.#logger.warn({ error: error.message }, "TLS handshake refused");
      },
    );
  }

  /**
   * The address this node is known by. With port 0 in the configured address it becomes the
   * real one once `start()` has bound it.
   */
  get address(): string {
    return this.#address;
  }

  /** The address the listener is bound to ("" before `start`; go-dqlite's BindAddress). */
  get bindAddress(): string {
    return this.#listener.address;
  }

  /**
   * Serves a connection accepted outside the node, e.g. by the application's HTTP server after
   * an `Upgrade: dqlite` (go-dqlite's external connections). From here on the socket carries
   * dqlite's bytes, handshake first: clients and raft peers alike. Closed with the node.
   */
  handleConnection(socket: Socket): void {
    if (this.#state !== "started") {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    this.#external.add(socket);
    socket.once("close", () => this.#external.delete(socket));
    this.#onSocket(socket);
  }

  /**
   * Forces `cluster` (every member a voter) as the configuration of this node's data directory;
   * call it before `start`. Deprecated as in go-dqlite: use `reconfigureMembershipExt`, which
   * keeps roles and needs no Node.
   */
  async recover(cluster: readonly { id: bigint; address: string }[]): Promise<void> {
    if (this.#state !== "new") throw new Error("recover must be called before the node starts");
    await reconfigureMembership(this.#options.dataDir, [...cluster]);
  }

  /** Binds the listener, loads or bootstraps raft, and starts serving. */
  async start(): Promise<void> {
    if (this.#state !== "new") throw new Error("a Node starts once");
    const options = this.#options;
    await mkdir(options.dataDir, { recursive: true });
    const { bound } = await this.#listener.listen(options.bindAddress ?? options.address);
    if (options.bindAddress === undefined && /:0$/.test(options.address)) this.#address = bound;
    const sqlite = await loadSqlite();
    const fsm = new Fsm(
      sqlite,
      options.diskMode
        ? {
            disk: {
              directory: join(options.dataDir, "database"),
              cacheSizeBytes: options.diskCacheSizeBytes,
            },
          }
        : {},
    );
    const latency = options.networkLatencyMs;
    this.#electionTimeoutMs = latency === undefined ? 3000 : latency * 15;
    const raft = new RaftNode({
      id: this.id,
      address: this.#address,
      storage: new DiskStorage(options.dataDir, { autoRecovery: options.autoRecovery ?? true }),
      // A full disk is survived: raft restarts from the directory once it takes writes again.
      reopenStorage: () =>
        new DiskStorage(options.dataDir, { autoRecovery: options.autoRecovery ?? true }),
      fsm: {
        apply: (index, data) => {
          fsm.apply(index, data);
        },
        snapshot: () => fsm.openSnapshot(),
        restore: (data) => fsm.restoreFrom(data),
      },
      bootstrap: isBootstrapId(this.id)
        ? [{ id: this.id, address: this.#address, role: RaftRole.Voter }]
        : undefined,
      heartbeatTimeoutMs: latency === undefined ? undefined : Math.max(1, (latency * 15) / 10),
      electionTimeoutMs: latency === undefined ? undefined : latency * 15,
      snapshotThreshold: options.snapshotThreshold,
      snapshotTrailing: options.snapshotTrailing,
      logDataInMemoryBytes: options.logDataInMemoryBytes,
      // Disk mode receives large snapshots into files, not memory.
      snapshotSpoolDir: options.diskMode ? join(options.dataDir, "spool") : undefined,
      dial: options.dial ?? (options.tls ? tlsDialer(options.tls.client) : undefined),
    });
    const replication = new RaftReplication(raft);
    replication.onLeadershipChange((leading) => this.#leadershipChanged(leading));
    raft.on("error", (error) => {
      this.#logger.error({ error: error.message }, "raft stopped on a fatal error");
      for (const gateway of this.#gateways) gateway.leadershipLost();
    });
    this.#fsm = fsm;
    this.#raft = raft;
    this.#replication = replication;
    try {
      await raft.start();
    } catch (error) {
      await this.#listener.close();
      fsm.close();
      throw error;
    }
    this.#state = "started";
    this.#logger.info({ id: String(this.id), address: this.#address }, "node started");
  }

  /** Stops serving: closes client connections, raft, and the databases. */
  async close(): Promise<void> {
    if (this.#state === "closed") return;
    const wasStarted = this.#state === "started";
    this.#state = "closed";
    await this.#listener.close();
    for (const socket of this.#external) socket.destroy();
    for (const gateway of [...this.#gateways]) gateway.close();
    if (wasStarted) {
      await this.#raft?.close();
      this.#fsm?.close();
    }
  }

  /** The leader this node knows of, or null. */
  leader(): { id: bigint; address: string } | null {
    return this.#raft?.leader() ?? null;
  }

  /** Client connections being served right now (raft peers not included). */
  get clientConnections(): number {
    return this.#gateways.size;
  }

  /**
   * Read-only raft counters: the index applied to the databases, the snapshots received from a
   * leader and installed since `start` (a node that fell behind the leader's log catches up so),
   * and the AppendEntries this node, leading, filled with entries read back from its data
   * directory (older than `logDataInMemoryBytes`) for followers that fell behind.
   */
  get raftStats(): { appliedIndex: number; snapshotsInstalled: number; entriesReadBack: number } {
    return {
      appliedIndex: this.#raft?.appliedIndex ?? 0,
      snapshotsInstalled: this.#raft?.snapshotsInstalled ?? 0,
      entriesReadBack: this.#raft?.entriesReadBack.messages ?? 0,
    };
  }

  /** Raft role of this node right now. */
  get state(): "follower" | "candidate" | "leader" {
    return this.#raft?.state ?? "follower";
  }

  #onSocket(socket: Socket): void {
    if (this.#state !== "started") {
      socket.destroy();
      return;
    }
    const gateway = new Gateway(
      socket,
      new StreamDecoder({ handshake: true }),
      this.#services(),
      (closed) => this.#gateways.delete(closed),
    );
    this.#gateways.add(gateway);
    gateway.start();
  }

  #servicesCache: GatewayServices | null = null;
  #services(): GatewayServices {
    if (this.#servicesCache) return this.#servicesCache;
    const fsm = this.#fsm!;
    const raft = this.#raft!;
    const replication = this.#replication!;
    this.#servicesCache = {
      fsm,
      replication,
      metadata: this.#metadata,
      busyTimeoutMs: this.#options.busyTimeoutMs ?? 5000,
      logger: this.#logger,
      lockFor: (name) => {
        let lock = this.#locks.get(name);
        if (lock === undefined) this.#locks.set(name, (lock = new WriterLock()));
        return lock;
      },
      leaderReady: () => this.#leaderReady(),
      readReady: () => this.#readReady(),
      acceptPeer: (socket, id, address, leftover) => raft.accept(socket, id, address, leftover),
    };
    return this.#servicesCache;
  }

  #leadershipChanged(leading: boolean): void {
    this.#logger.info({ leading }, leading ? "became leader" : "lost leadership");
    if (leading) {
      this.#barrierNeeded = true;
      return;
    }
    for (const gateway of this.#gateways) gateway.leadershipLost();
  }

  /**
   * Reads are served under the raft leader's lease; an expired lease is renewed by a barrier
   * (shared by the reads waiting for it), and one close to expiry is renewed in the background.
   */
  async #readReady(): Promise<void> {
    const replication = this.#replication!;
    for (let attempt = 0; attempt < 5; attempt++) {
      const leftMs = replication.readLeaseUntilMs() - performance.now();
      if (leftMs > 0) {
        if (leftMs < this.#electionTimeoutMs / 3) this.#renewLease().catch(() => {});
        return;
      }
      await this.#renewLease();
    }
    throw new ReplicationError("not-leader", "not leader");
  }

  #renewLease(): Promise<void> {
    this.#leaseRenewal ??= this.#replication!.barrier().finally(() => {
      this.#leaseRenewal = null;
    });
    return this.#leaseRenewal;
  }

  /** A new leader applies everything its predecessors committed before it serves (one barrier). */
  #leaderReady(): Promise<void> {
    if (!this.#barrierNeeded) return Promise.resolve();
    this.#barrier ??= this.#replication!.barrier()
      .then(() => {
        this.#barrierNeeded = false;
      })
      .finally(() => {
        this.#barrier = null;
      });
    return this.#barrier;
  }
}

function isBootstrapId(id: bigint): boolean {
  return id === BOOTSTRAP_ID || id === 1n;
}

/** The id go-dqlite gives the node that founds a cluster. */
export { BOOTSTRAP_ID };

/**
 * A new node id derived from its address, the time and randomness: non-zero, below 2^63 (so
 * tools that read ids as signed 64-bit integers agree).
 */
export function generateId(address: string): bigint {
  const digest = createHash("sha256")
    .update(address)
    .update(String(process.hrtime.bigint()))
    .update(randomBytes(8))
    .digest();
  const id = digest.readBigUInt64LE(0) & 0x7fffffffffffffffn;
  return id === 0n ? 1n : id;
}
