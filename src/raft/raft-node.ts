// A running raft server: the pure core (core/) joined to durable storage, the network transport
// and real timers, behind a promise-based API for the dqlite Node.
//
//   const node = new RaftNode({ id, address, storage, fsm, bootstrap });
//   await node.start();
//   const index = await node.apply(command);   // committed by a quorum and applied by the FSM
//
// The core is driven by one "pump": after every input (a message, a tick, a request, a durable
// write) it takes the core's Ready batches one at a time and does their work in the order the
// core requires: hard state durable first, then a received snapshot, then the log write is queued
// (not awaited), then messages go out, then committed entries are applied. Applying may take a
// snapshot every `snapshotThreshold` entries; writing it never blocks the log.
import type { Socket } from "node:net";
import { voterCount } from "./core/configuration.js";
import { bootstrapEntry } from "./core/configuration-entries.js";
import { RaftError } from "./core/errors.js";
import { Raft } from "./core/raft.js";
import type { RaftRoleState, Ready, SoftState } from "./core/ready.js";
import {
  type Configuration,
  type Entry,
  EntryType,
  type Message,
  type NodeId,
  type RaftRole,
  type Snapshot,
  type SnapshotData,
} from "./core/types.js";
import { type DialFunction, dialTcp } from "./io/dial.js";
import { listenerGone } from "./io/probe.js";
import { RaftTransport, type TransportStats } from "./io/raft-transport.js";
import { releaseSnapshot } from "./io/snapshot-data.js";
import type { LoadedState, RaftStorage } from "./io/storage.js";
import { LeadershipLostError, NodeClosedError, TooManyRequestsError } from "./node/errors.js";
import { PendingRequests } from "./node/pending-requests.js";
import { needsStoredData, withStoredData } from "./node/stored-data.js";

export { LeadershipLostError, NodeClosedError, TooManyRequestsError } from "./node/errors.js";

/** The replicated state machine. Calls never overlap and come in log order. */
export interface Fsm {
  /** Applies a committed COMMAND entry. Throwing stops the node (replicas would diverge). */
  apply(index: number, data: Uint8Array): void | Promise<void>;
  /**
   * Serializes the state after the last applied entry: bytes, or a stream that stays readable
   * (while writes go on) until the driver releases it once the snapshot is on disk.
   */
  snapshot(): SnapshotData | Promise<SnapshotData>;
  /** Replaces the state with a snapshot's (a stream for large ones; read it, do not keep it). */
  restore(data: SnapshotData): void | Promise<void>;
}

export interface RaftNodeOptions {
  id: NodeId;
  /** The address peers reach this node at (announced in CONNECT). */
  address: string;
  storage: RaftStorage;
  fsm: Fsm;
  /** First start of a brand-new node: found a cluster with this configuration. */
  bootstrap?: Configuration;
  /** Tick period (dqlite default 500 ms; `latency × 1.5` with dqlite's latency option). */
  heartbeatTimeoutMs?: number;
  /** dqlite default 3000 ms (`latency × 15`). */
  electionTimeoutMs?: number;
  /** Take a snapshot every this many applied entries (dqlite: 1024). */
  snapshotThreshold?: number;
  /**
   * Also take a snapshot once the entries applied since the last one hold this many bytes
   * (default 64 MiB): libraft counts only entries, and 1024 large ones would all stay in memory.
   */
  snapshotThresholdBytes?: number;
  /** Entries kept behind a snapshot, in memory and on disk (dqlite: 8192). */
  snapshotTrailing?: number;
  /** At most this many bytes of those stay in memory (default 32 MiB; see the core's option). */
  snapshotTrailingBytes?: number;
  /**
   * Data of applied entries kept in memory (default 8 MiB, newest first); a follower that needs
   * older entries gets them read back from storage (see the core's option).
   */
  logDataInMemoryBytes?: number;
  /** Connection opener for the transport (default TCP / abstract unix sockets). */
  dial?: DialFunction;
  /** Requests waiting for their entry at most (beyond it apply() fails at once). */
  maxPendingRequests?: number;
  /** Pre-vote (dqlite turns it on). */
  preVote?: boolean;
  /**
   * A directory where large snapshots from the leader are received (written as they arrive)
   * instead of memory; see RaftTransportOptions.snapshotSpoolDir.
   */
  snapshotSpoolDir?: string;
  /**
   * Opens the storage again after a write failed (a full disk): the node then restarts its raft
   * state from what is on disk, as after a crash, and retries with backoff until the disk takes
   * writes again. Without it a storage failure stops the node.
   */
  reopenStorage?: () => RaftStorage;
}

/** A write to storage failed: the disk's state is what the last successful write left. */
class StorageFailure extends Error {
  override name = "StorageFailure";
  readonly failure: Error;
  constructor(failure: Error) {
    super(`storage: ${failure.message}`);
    this.failure = failure;
  }
}

const REBOOT_DELAY_MIN_MS = 100;
const REBOOT_DELAY_MAX_MS = 5000;

/** Tags a storage operation's failure so the driver can tell it from an FSM failure. */
function written<T>(operation: Promise<T>): Promise<T> {
  return operation.catch((error: Error) => {
    throw new StorageFailure(error);
  });
}

/** Events a RaftNode emits. */
export interface RaftNodeEvents {
  /** Role, term or known leader changed. */
  state: (state: SoftState) => void;
  /** The node stopped on a fatal error (storage or FSM failure). */
  error: (error: Error) => void;
}

const MAX_READY_ROUNDS_PER_TURN = 64;
const MAX_LEARNED_ADDRESSES = 1024;

export class RaftNode {
  readonly #options: Required<
    Omit<RaftNodeOptions, "bootstrap" | "dial" | "reopenStorage" | "snapshotSpoolDir">
  > &
    Pick<RaftNodeOptions, "bootstrap" | "dial" | "reopenStorage" | "snapshotSpoolDir">;
  #storage: RaftStorage;
  /** Highest entry index the FSM has applied (or restored up to). */
  #fsmAppliedIndex = 0;
  #rebooting = false;
  #rebootDelayMs = REBOOT_DELAY_MIN_MS;
  readonly #transport: RaftTransport;
  readonly #pending: PendingRequests;
  readonly #listeners: { [K in keyof RaftNodeEvents]: Set<RaftNodeEvents[K]> } = {
    state: new Set(),
    error: new Set(),
  };
  /** Per peer, the last message whose entries are being read back from storage (see #send). */
  readonly #readingBack = new Map<NodeId, Promise<void>>();
  /** Addresses learned from peers' CONNECT requests (a joining node's configuration is empty). */
  readonly #learnedAddresses = new Map<NodeId, string>();
  #raft: Raft | null = null;
  #phase: "new" | "starting" | "running" | "closed" = "new";
  #failure: Error | null = null;
  #timer: NodeJS.Timeout | null = null;
  #pumping: Promise<void> | null = null;
  #snapshotIndex = 0;
  /** Bytes of entry data applied since the snapshot at #snapshotIndex. */
  #appliedBytesSinceSnapshot = 0;
  #snapshotting = false;
  /** Snapshots received from a leader and installed (see `snapshotsInstalled`). */
  #snapshotsInstalled = 0;
  /** AppendEntries sent with entries read back from storage (see `entriesReadBack`). */
  #readBacks = { messages: 0, dropped: 0 };
  #waiting: {
    promotions: Map<NodeId, (e: Error | null) => void>;
    transfers: Map<NodeId, (ok: boolean) => void>;
  } = {
    promotions: new Map(),
    transfers: new Map(),
  };

  constructor(options: RaftNodeOptions) {
    this.#options = {
      heartbeatTimeoutMs: 500,
      electionTimeoutMs: 3000,
      snapshotThreshold: 1024,
      snapshotThresholdBytes: 64 * 1024 * 1024,
      snapshotTrailing: 8192,
      snapshotTrailingBytes: 32 * 1024 * 1024,
      logDataInMemoryBytes: 8 * 1024 * 1024,
      maxPendingRequests: 100_000,
      preVote: true,
      // An explicit `undefined` must not hide a default.
      ...(Object.fromEntries(
        Object.entries(options).filter(([, v]) => v !== undefined),
      ) as RaftNodeOptions),
    };
    if (this.#options.snapshotTrailing < this.#options.snapshotThreshold) {
      throw new RangeError("snapshotTrailing must be at least snapshotThreshold (dqlite's rule)");
    }
    this.#storage = options.storage;
    this.#pending = new PendingRequests(this.#options.maxPendingRequests);
    this.#transport = new RaftTransport({
      id: options.id,
      address: options.address,
      dial: options.dial,
      snapshotSpoolDir: options.snapshotSpoolDir,
      onMessage: (message) => this.#onMessage(message),
      onInboundClosed: (peerId) => {
        this.#checkLeaderAlive(peerId).catch((error: Error) => this.#fatal(error));
      },
    });
  }

  /** This node's id. */
  get id(): NodeId {
    return this.#options.id;
  }

  /** Follower, candidate or leader ("follower" before start). */
  get state(): RaftRoleState {
    if (this.#failure) return "follower";
    return this.#raft?.state ?? "follower";
  }

  /** The current term (0 before start). */
  get term(): number {
    return this.#raft?.term ?? 0;
  }

  /** The configuration in force (empty before start or before a joining node learns it). */
  get configuration(): Configuration {
    return this.#raft?.configuration ?? [];
  }

  /** Highest index applied to the FSM. */
  get appliedIndex(): number {
    return this.#raft?.lastApplied ?? 0;
  }

  /**
   * AppendEntries whose entries' data was read back from storage (older than the in-memory
   * window), and those dropped because storage no longer had them.
   */
  get entriesReadBack(): { messages: number; dropped: number } {
    return { ...this.#readBacks };
  }

  /**
   * Snapshots this node received from a leader (InstallSnapshot) and installed since it started:
   * how a follower too far behind the leader's log caught up. Its own snapshots do not count.
   */
  get snapshotsInstalled(): number {
    return this.#snapshotsInstalled;
  }

  /** Transport counters (messages sent, dropped, connections). */
  get transportStats(): TransportStats {
    return this.#transport.stats;
  }

  /**
   * Until when (performance.now() clock) this leader may serve reads from its own state;
   * -Infinity when it may not. A barrier renews it.
   */
  readLeaseUntilMs(): number {
    return this.#raft?.readLeaseUntilMs() ?? Number.NEGATIVE_INFINITY;
  }

  /** The leader this node knows (itself when leading), or null. */
  leader(): { id: NodeId; address: string } | null {
    const id = this.#raft?.leaderId ?? 0n;
    if (id === 0n) return null;
    const address = this.#addressOf(id);
    return address === undefined ? null : { id, address };
  }

  on<K extends keyof RaftNodeEvents>(event: K, listener: RaftNodeEvents[K]): this {
    this.#listeners[event].add(listener);
    return this;
  }

  off<K extends keyof RaftNodeEvents>(event: K, listener: RaftNodeEvents[K]): this {
    this.#listeners[event].delete(listener);
    return this;
  }

  /** Loads storage (bootstrapping a brand-new node if asked), restores the FSM, starts ticking. */
  async start(): Promise<void> {
    if (this.#phase !== "new") throw new Error("start() may be called once");
    this.#phase = "starting";
    const { fsm } = this.#options;
    const storage = this.#storage;
    let loaded = await storage.load();
    const fresh =
      loaded.hardState.term === 0 && loaded.entries.length === 0 && loaded.snapshot === null;
    if (fresh && this.#options.bootstrap !== undefined) {
      const entry = bootstrapEntry(this.#options.bootstrap); // validates the configuration
      await storage.bootstrap(this.#options.bootstrap);
      loaded = { ...loaded, hardState: { term: 1, votedFor: 0n }, startIndex: 1, entries: [entry] };
    }
    if (loaded.snapshot !== null) {
      await fsm.restore(loaded.snapshot.data);
      this.#snapshotIndex = loaded.snapshot.meta.index;
      this.#appliedBytesSinceSnapshot = 0;
      this.#fsmAppliedIndex = loaded.snapshot.meta.index;
    }
    if (this.#phase !== "starting") throw new NodeClosedError();
    this.#raft = this.#newCore(loaded);
    this.#phase = "running";
    this.#timer = setInterval(() => {
      this.#raft?.tick();
      this.#drive();
    }, this.#options.heartbeatTimeoutMs);
    this.#drive();
  }

  #newCore(loaded: LoadedState): Raft {
    return new Raft({
      id: this.#options.id,
      loaded: {
        hardState: loaded.hardState,
        snapshot: loaded.snapshot?.meta,
        entries: loaded.entries,
      },
      now: () => performance.now(),
      random: (min, max) => min + Math.floor(Math.random() * (max - min)),
      electionTimeoutMs: this.#options.electionTimeoutMs,
      heartbeatTimeoutMs: this.#options.heartbeatTimeoutMs,
      snapshotTrailing: this.#options.snapshotTrailing,
      snapshotTrailingBytes: this.#options.snapshotTrailingBytes,
      logDataInMemoryBytes: this.#options.logDataInMemoryBytes,
      preVote: this.#options.preVote,
      // The Node serves reads under a lease (readLeaseUntilMs), which needs this promise kept.
      voteGuardOnStart: true,
    });
  }

  /** Replicates `data` (a multiple of 8 bytes); resolves with its index once applied here. */
  apply(data: Uint8Array): Promise<number> {
    try {
      return this.propose(data);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * As `apply`, but a refusal (not leader, too many requests, ...) throws at once: when this
   * returns, the entry is in the log, and entries proposed later come after it.
   */
  propose(data: Uint8Array): Promise<number> {
    if (data.length % 8 !== 0) throw new RangeError("command length must be a multiple of 8");
    const raft = this.#running();
    if (this.#pending.full) throw new TooManyRequestsError("too many requests waiting");
    const appended = raft.propose(data);
    const done = this.#pending.wait(appended.index, appended.term);
    this.#drive();
    return done;
  }

  /** Resolves once everything committed before the call is applied here (leader only). */
  barrier(): Promise<number> {
    return this.#request((raft) => raft.barrier());
  }

  /** Adds a server as a spare; resolves once the change is applied. */
  async add(id: NodeId, address: string): Promise<void> {
    await this.#request((raft) => raft.addServer(id, address));
  }

  /** Changes a server's role (libraft numbering); a promotion waits for catch-up rounds. */
  async assign(id: NodeId, role: RaftRole): Promise<void> {
    const raft = this.#running();
    let appended: { index: number; term: number } | undefined;
    try {
      appended = raft.assignRole(id, role);
    } catch (error) {
      this.#drive();
      throw error;
    }
    if (appended !== undefined) {
      const done = this.#pending.wait(appended.index, appended.term);
      this.#drive();
      await done;
      return;
    }
    const caughtUp = new Promise<Error | null>((resolve) =>
      this.#waiting.promotions.set(id, resolve),
    );
    this.#drive();
    const error = await caughtUp;
    if (error) throw error;
  }

  /** Removes a server; resolves once the change is applied. */
  async remove(id: NodeId): Promise<void> {
    await this.#request((raft) => raft.removeServer(id));
  }

  /** Hands leadership to `id` (0n: the most up-to-date voter); resolves with the new leader. */
  async transfer(id: NodeId = 0n): Promise<NodeId> {
    const raft = this.#running();
    const target = raft.transferLeadership(id);
    const ended = new Promise<boolean>((resolve) => this.#waiting.transfers.set(target, resolve));
    this.#drive();
    if (!(await ended))
      throw new RaftError("notLeader", `leadership transfer to ${target} did not complete`);
    return target;
  }

  /**
   * Takes over an inbound raft connection from the Node's listener (after its CONNECT request
   * from `peerId` at `peerAddress`; `leftover` = bytes read past it).
   */
  accept(socket: Socket, peerId: NodeId, peerAddress: string, leftover?: Uint8Array): void {
    if (this.#phase === "closed") {
      socket.destroy();
      return;
    }
    this.#learnedAddresses.delete(peerId);
    this.#learnedAddresses.set(peerId, peerAddress);
    // Bounded: only the most recently connected peers are remembered.
    if (this.#learnedAddresses.size > MAX_LEARNED_ADDRESSES) {
      this.#learnedAddresses.delete(this.#learnedAddresses.keys().next().value as NodeId);
    }
    this.#transport.accept(socket, peerId, peerAddress, leftover);
  }

  /** Stops timers and connections, fails waiting requests, closes storage. */
  async close(): Promise<void> {
    if (this.#phase === "closed") return;
    this.#phase = "closed";
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#transport.close();
    await this.#pumping?.catch(() => {});
    this.#failAll(new NodeClosedError());
    await this.#storage.close();
  }

  // ---------------------------------------------------------------------------------------------

  #running(): Raft {
    if (this.#failure) throw new NodeClosedError(`raft node stopped: ${this.#failure.message}`);
    if (this.#phase !== "running" || this.#raft === null) throw new NodeClosedError();
    return this.#raft;
  }

  #request(fn: (raft: Raft) => { index: number; term: number }): Promise<number> {
    let raft: Raft;
    try {
      raft = this.#running();
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.#pending.full)
      return Promise.reject(new TooManyRequestsError("too many requests waiting"));
    let appended: { index: number; term: number };
    try {
      appended = fn(raft);
    } catch (error) {
      return Promise.reject(error);
    }
    const done = this.#pending.wait(appended.index, appended.term);
    this.#drive();
    return done;
  }

  /**
   * The leader's connection to us closed: if its address now refuses connections, its process
   * is gone (a crash, SIGKILL) and waiting out the election timeout would only delay failover.
   * A short random delay keeps followers that noticed together from splitting the vote.
   */
  async #checkLeaderAlive(peerId: NodeId): Promise<void> {
    const raft = this.#raft;
    if (raft === null || raft.state !== "follower" || raft.leaderId !== peerId) return;
    const address = this.#addressOf(peerId);
    if (address === undefined) return;
    const dial = this.#options.dial ?? dialTcp;
    const timeoutMs = Math.min(1000, this.#options.electionTimeoutMs / 2);
    // Something listening there: let the election timeout decide.
    if (!(await listenerGone(dial, address, { timeoutMs }))) return;
    if (this.#raft !== raft || this.#phase !== "running") return;
    raft.leaderUnreachable(peerId);
    const delayMs = raft.failoverPauseMs(peerId, Math.random());
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    if (this.#raft !== raft || this.#phase !== "running") return;
    raft.campaignIfLeaderless();
    this.#drive();
  }

  #onMessage(message: Message): void {
    const raft = this.#raft;
    if (raft === null || this.#phase !== "running") return;
    raft.step(message);
    this.#drive();
  }

  #addressOf(id: NodeId): string | undefined {
    const server = this.#raft?.configuration.find((s) => s.id === id);
    return server?.address ?? this.#learnedAddresses.get(id);
  }

  #emit<K extends keyof RaftNodeEvents>(event: K, ...args: Parameters<RaftNodeEvents[K]>): void {
    for (const listener of this.#listeners[event])
      (listener as (...a: typeof args) => void)(...args);
  }

  /** Runs the pump unless it is already running (it re-checks the core before it stops). */
  #drive(): void {
    if (this.#pumping !== null || this.#phase !== "running" || this.#failure) return;
    if (this.#raft === null) return;
    this.#pumping = this.#pump().finally(() => {
      this.#pumping = null;
    });
  }

  async #pump(): Promise<void> {
    const raft = this.#raft!;
    try {
      for (;;) {
        for (let round = 0; round < MAX_READY_ROUNDS_PER_TURN; round++) {
          if (this.#phase !== "running" || !raft.hasReady()) return;
          await this.#process(raft, raft.ready());
        }
        // Let sockets and timers in before the next batch.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      this.#failed(error as Error);
    }
  }

  async #process(raft: Raft, ready: Ready): Promise<void> {
    const { fsm } = this.#options;
    const storage = this.#storage;
    if (ready.soft !== undefined) this.#onSoftState(ready.soft);
    if (ready.hardState !== undefined) await written(storage.setHardState(ready.hardState));
    if (ready.snapshot !== undefined) {
      const snapshot = ready.snapshot;
      try {
        await written(storage.installSnapshot(snapshot));
        await fsm.restore(snapshot.data);
      } finally {
        // A large received snapshot sits in a temporary file: stored and restored, it can go.
        releaseSnapshot(snapshot.data);
      }
      this.#snapshotIndex = snapshot.meta.index;
      this.#appliedBytesSinceSnapshot = 0;
      this.#fsmAppliedIndex = snapshot.meta.index;
      this.#snapshotsInstalled++;
      raft.persisted(snapshot.meta.index, snapshot.meta.term);
    }
    if (
      ready.truncateFromIndex !== undefined &&
      ready.entries[0]?.index !== ready.truncateFromIndex
    ) {
      written(storage.truncate(ready.truncateFromIndex)).catch((error: Error) =>
        this.#failed(error),
      );
    }
    if (ready.entries.length > 0) this.#persist(raft, ready.entries);
    for (const message of ready.messages) this.#send(message);
    for (const send of ready.snapshotSends) void this.#sendSnapshot(send.to, send.term);
    for (const entry of ready.committed) await this.#applyEntry(entry);
    for (const event of ready.events) this.#onEvent(event);
    if (
      (raft.lastApplied - this.#snapshotIndex >= this.#options.snapshotThreshold ||
        (this.#appliedBytesSinceSnapshot >= this.#options.snapshotThresholdBytes &&
          raft.lastApplied > this.#snapshotIndex)) &&
      // After a restart from disk the FSM may be ahead of what the core handed out again.
      raft.lastApplied >= this.#fsmAppliedIndex &&
      !this.#snapshotting
    ) {
      await this.#takeSnapshot(raft);
    }
  }

  #persist(raft: Raft, entries: Entry[]): void {
    const last = entries[entries.length - 1];
    this.#storage.setInlineAppends?.(
      raft.leaderId !== this.#options.id || voterCount(raft.configuration) <= 1,
    );
    written(this.#storage.append(entries)).then(
      () => {
        if (this.#phase !== "running" || this.#raft !== raft) return;
        this.#rebootDelayMs = REBOOT_DELAY_MIN_MS;
        raft.persisted(last.index, last.term);
        this.#drive();
      },
      (error: Error) => this.#failed(error),
    );
  }

  #send(message: Message): void {
    const address = this.#addressOf(message.to);
    if (address === undefined) return;
    const behind = this.#readingBack.get(message.to);
    const standIns = needsStoredData(message);
    if (behind === undefined && !standIns) {
      this.#transport.send(message, address);
      return;
    }
    // Entries read back from storage first; later messages to that peer wait their turn, so a
    // follower still gets its entries in order.
    const raft = this.#raft;
    const storage = this.#storage;
    const sent = (behind ?? Promise.resolve()).then(async () => {
      let ready: Message | null = message;
      if (standIns) {
        ready = await withStoredData(message, storage);
        if (ready === null) this.#readBacks.dropped++;
        else this.#readBacks.messages++;
      }
      if (ready !== null && this.#phase === "running" && this.#raft === raft) {
        this.#transport.send(ready, address);
      }
    });
    this.#readingBack.set(message.to, sent);
    void sent.finally(() => {
      if (this.#readingBack.get(message.to) === sent) this.#readingBack.delete(message.to);
    });
  }

  async #sendSnapshot(to: NodeId, term: number): Promise<void> {
    const snapshot: Snapshot | null = await this.#storage.loadSnapshot().catch(() => null);
    if (snapshot === null || this.#phase !== "running") return;
    this.#send({ type: "installSnapshot", from: this.#options.id, to, term, snapshot });
  }

  async #applyEntry(entry: Entry): Promise<void> {
    // After a restart from disk (see reopenStorage) the core hands out again what the FSM has.
    if (entry.type === EntryType.Command && entry.index > this.#fsmAppliedIndex) {
      const result = this.#options.fsm.apply(entry.index, entry.data);
      if (result instanceof Promise) await result;
    }
    if (entry.index > this.#fsmAppliedIndex) this.#fsmAppliedIndex = entry.index;
    if (entry.index > this.#snapshotIndex) this.#appliedBytesSinceSnapshot += entry.data.length;
    this.#pending.applied(entry.index, entry.term);
  }

  async #takeSnapshot(raft: Raft): Promise<void> {
    this.#snapshotting = true;
    try {
      const index = raft.lastApplied;
      // The metadata must be read before awaiting: an InstallSnapshot accepted meanwhile moves
      // the log past `index`, and then this snapshot is stale and dropped.
      const meta = raft.snapshotMeta(index);
      const data = await this.#options.fsm.snapshot();
      if (raft.snapshotIndex > index) {
        releaseSnapshot(data);
        this.#snapshotting = false;
        return;
      }
      this.#snapshotIndex = index;
      this.#appliedBytesSinceSnapshot = 0;
      // Written in the background: the log keeps going meanwhile (a streamed snapshot holds
      // its pages until it is on disk).
      written(this.#storage.putSnapshot({ meta, data }, this.#options.snapshotTrailing))
        .finally(() => releaseSnapshot(data))
        .then(
          () => {
            if (this.#phase !== "running" || this.#raft !== raft) return;
            raft.snapshotTaken(index);
            this.#drive();
          },
          (error: Error) => this.#failed(error),
        )
        .finally(() => {
          this.#snapshotting = false;
        });
    } catch (error) {
      this.#snapshotting = false;
      throw error;
    }
  }

  #onSoftState(soft: SoftState): void {
    if (soft.state !== "leader") {
      this.#pending.failTerm(undefined, new LeadershipLostError());
      for (const [id, resolve] of this.#waiting.promotions) {
        resolve(new LeadershipLostError(`leadership lost while promoting ${id}`));
      }
      this.#waiting.promotions.clear();
    } else {
      // Leading again in a newer term: what was proposed in older terms lost its leader.
      this.#pending.failOlderThan(soft.term, new LeadershipLostError());
    }
    this.#emit("state", soft);
  }

  #onEvent(event: Ready["events"][number]): void {
    switch (event.type) {
      case "promotionAppended": {
        const resolve = this.#waiting.promotions.get(event.id);
        if (resolve === undefined) return;
        this.#waiting.promotions.delete(event.id);
        this.#pending.wait(event.index, event.term).then(
          () => resolve(null),
          (error: Error) => resolve(error),
        );
        return;
      }
      case "promotionAborted": {
        const resolve = this.#waiting.promotions.get(event.id);
        this.#waiting.promotions.delete(event.id);
        resolve?.(
          new RaftError("cantChange", `promotion of ${event.id} abandoned: it did not catch up`),
        );
        return;
      }
      case "transferEnded": {
        const resolve = this.#waiting.transfers.get(event.target);
        this.#waiting.transfers.delete(event.target);
        resolve?.(event.succeeded);
        return;
      }
    }
  }

  #failAll(error: Error): void {
    this.#pending.failTerm(undefined, error);
    for (const resolve of this.#waiting.promotions.values()) resolve(error);
    this.#waiting.promotions.clear();
    for (const resolve of this.#waiting.transfers.values()) resolve(false);
    this.#waiting.transfers.clear();
  }

  /** A storage write failed: restart from disk if the storage can be reopened, else stop. */
  #failed(error: Error): void {
    if (error instanceof StorageFailure && this.#options.reopenStorage !== undefined) {
      void this.#reboot(error.failure);
      return;
    }
    this.#fatal(error instanceof StorageFailure ? error.failure : error);
  }

  /**
   * Restarts the raft state from disk, as after a crash: what was not written is forgotten (raft
   * tolerates that like any crash), requests waiting on this node fail with their outcome
   * unknown, and this node is a follower again. Retries with backoff while the disk refuses.
   */
  async #reboot(cause: Error): Promise<void> {
    if (this.#rebooting || this.#phase !== "running" || this.#failure) return;
    this.#rebooting = true;
    const old = this.#raft;
    this.#raft = null;
    this.#failAll(new LeadershipLostError(`storage failed: ${cause.message}`));
    if (old !== null) this.#emit("state", { state: "follower", term: old.term, leaderId: 0n });
    await this.#pumping?.catch(() => {});
    while (this.#phase === "running") {
      await new Promise((resolve) => setTimeout(resolve, this.#rebootDelayMs));
      this.#rebootDelayMs = Math.min(this.#rebootDelayMs * 2, REBOOT_DELAY_MAX_MS);
      if (this.#phase !== "running") break;
      await this.#storage.close().catch(() => {});
      this.#storage = this.#options.reopenStorage!();
      try {
        const loaded = await this.#storage.load();
        if (loaded.snapshot !== null && loaded.snapshot.meta.index > this.#fsmAppliedIndex) {
          await this.#options.fsm.restore(loaded.snapshot.data);
          this.#fsmAppliedIndex = loaded.snapshot.meta.index;
        }
        this.#snapshotIndex = loaded.snapshot?.meta.index ?? 0;
        this.#appliedBytesSinceSnapshot = 0;
        if (this.#phase !== "running") break;
        this.#raft = this.#newCore(loaded);
        break;
      } catch {
        // The disk still refuses (or the directory cannot be read yet): try again later.
      }
    }
    this.#rebooting = false;
    this.#drive();
  }

  #fatal(error: Error): void {
    if (this.#failure) return;
    this.#failure = error;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    this.#transport.close();
    this.#failAll(new NodeClosedError(`raft node stopped: ${error.message}`));
    this.#emit("error", error);
  }
}
