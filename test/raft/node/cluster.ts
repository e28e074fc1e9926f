// An in-process cluster of RaftNodes over loopback TCP, each with a raft-only listener, for the
// driver's tests and the benchmark.

import { mkdtemp, rm } from "node:fs/promises";
import type { Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type Configuration,
  type NodeId,
  RaftRole,
  type SnapshotData,
} from "../../../src/raft/core/types.js";
import { listenForPeers } from "../../../src/raft/io/connect-listener.js";
import { DiskStorage } from "../../../src/raft/io/disk-storage.js";
import {
  emptyMemoryState,
  MemoryStorage,
  type MemoryStorageState,
} from "../../../src/raft/io/memory-storage.js";
import { snapshotBytes } from "../../../src/raft/io/snapshot-data.js";
import type { RaftStorage } from "../../../src/raft/io/storage.js";
import { type Fsm, RaftNode, type RaftNodeOptions } from "../../../src/raft/raft-node.js";

/** A state machine that records what it applied; its snapshot is that record. */
export class RecordingFsm implements Fsm {
  applied: { index: number; data: Uint8Array }[] = [];
  restores = 0;

  apply(index: number, data: Uint8Array): void {
    this.applied.push({ index, data: data.slice() });
  }

  snapshot(): Uint8Array {
    const size = this.applied.reduce((n, a) => n + 16 + a.data.length, 8);
    const out = new Uint8Array(size);
    const view = new DataView(out.buffer);
    view.setUint32(0, this.applied.length, true);
    let offset = 8;
    for (const { index, data } of this.applied) {
      view.setUint32(offset, index, true);
      view.setUint32(offset + 8, data.length, true);
      out.set(data, offset + 16);
      offset += 16 + data.length;
    }
    return out;
  }

  async restore(data: SnapshotData): Promise<void> {
    this.restores++;
    // Snapshots loaded from disk or received into a file arrive as streams.
    const bytes = await snapshotBytes(data);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const count = view.getUint32(0, true);
    this.applied = [];
    let offset = 8;
    for (let i = 0; i < count; i++) {
      const index = view.getUint32(offset, true);
      const length = view.getUint32(offset + 8, true);
      this.applied.push({ index, data: bytes.slice(offset + 16, offset + 16 + length) });
      offset += 16 + length;
    }
  }

  /** The applied commands as numbers (tests propose 8-byte numbers). */
  values(): number[] {
    return this.applied.map((a) =>
      Number(new DataView(a.data.buffer, a.data.byteOffset).getFloat64(0, true)),
    );
  }
}

export function command(value: number): Uint8Array {
  const data = new Uint8Array(8);
  new DataView(data.buffer).setFloat64(0, value, true);
  return data;
}

/** Storage whose writes fail with ENOSPC while its member's disk is "full". */
class FlakyStorage implements RaftStorage {
  constructor(
    readonly inner: RaftStorage,
    readonly member: ClusterMember,
  ) {}
  get stats() {
    return this.inner.stats;
  }
  #write<T>(operation: () => Promise<T>): Promise<T> {
    if (this.member.diskFull) {
      const error = Object.assign(new Error("ENOSPC: no space left on device"), { code: "ENOSPC" });
      return Promise.reject(error);
    }
    return operation();
  }
  load() {
    return this.inner.load();
  }
  loadSnapshot() {
    return this.inner.loadSnapshot();
  }
  readEntries(fromIndex: number, toIndex: number, maxBytes?: number) {
    return this.inner.readEntries(fromIndex, toIndex, maxBytes);
  }
  close() {
    return this.inner.close();
  }
  bootstrap(c: Configuration) {
    return this.#write(() => this.inner.bootstrap(c));
  }
  recover(c: Configuration) {
    return this.#write(() => this.inner.recover(c));
  }
  setHardState(h: Parameters<RaftStorage["setHardState"]>[0]) {
    return this.#write(() => this.inner.setHardState(h));
  }
  append(e: Parameters<RaftStorage["append"]>[0]) {
    return this.#write(() => this.inner.append(e));
  }
  truncate(i: number) {
    return this.#write(() => this.inner.truncate(i));
  }
  putSnapshot(s: Parameters<RaftStorage["putSnapshot"]>[0], t: number) {
    return this.#write(() => this.inner.putSnapshot(s, t));
  }
  installSnapshot(s: Parameters<RaftStorage["installSnapshot"]>[0]) {
    return this.#write(() => this.inner.installSnapshot(s));
  }
}

export class ClusterMember {
  /** Set when the node is started; replaced on restart. */
  node!: RaftNode;
  /** With `flakyDisks`: writes fail with ENOSPC while set. */
  diskFull = false;
  fsm = new RecordingFsm();
  /** Persistent state that survives restart() (memory storage). */
  readonly memory: MemoryStorageState = emptyMemoryState();

  constructor(
    readonly id: NodeId,
    readonly address: string,
    readonly server: Server,
    /** Data directory (disk storage), or null. */
    readonly dir: string | null,
  ) {}
}

export interface ClusterOptions
  extends Partial<Omit<RaftNodeOptions, "id" | "address" | "storage" | "fsm">> {
  disk?: boolean;
  segmentSizeBytes?: number;
  /** Storage whose writes fail while `member.diskFull`; nodes reopen it after a failure. */
  flakyDisks?: boolean;
}

export class TestCluster {
  readonly members = new Map<NodeId, ClusterMember>();
  readonly #options: ClusterOptions;
  readonly #root: string;

  private constructor(root: string, options: ClusterOptions) {
    this.#root = root;
    this.#options = options;
  }

  /** Starts `voters` nodes bootstrapped with one configuration (ids 1..voters). */
  static async start(voters: number, options: ClusterOptions = {}): Promise<TestCluster> {
    const cluster = new TestCluster(await mkdtemp(join(tmpdir(), "raft-node-test-")), {
      heartbeatTimeoutMs: 50,
      electionTimeoutMs: 300,
      ...options,
    });
    const members: ClusterMember[] = [];
    for (let i = 1; i <= voters; i++) members.push(await cluster.#listen(BigInt(i)));
    const configuration: Configuration = members.map((m) => ({
      id: m.id,
      address: m.address,
      role: RaftRole.Voter,
    }));
    for (const member of members) await cluster.#startNode(member, configuration);
    return cluster;
  }

  /** A new, empty node listening and running (to be added to the cluster). */
  async addIdle(id: NodeId): Promise<ClusterMember> {
    const member = await this.#listen(id);
    await this.#startNode(member, undefined);
    return member;
  }

  async #listen(id: NodeId): Promise<ClusterMember> {
    const server = await listenForPeers("127.0.0.1:0", {
      accept: (socket, peerId, peerAddress, leftover) => {
        const node = this.members.get(id)?.node;
        if (node === undefined) socket.destroy();
        else node.accept(socket, peerId, peerAddress, leftover);
      },
    });
    const port = (server.address() as { port: number }).port;
    const dir = this.#options.disk ? join(this.#root, `node${id}`) : null;
    const member = new ClusterMember(id, `127.0.0.1:${port}`, server, dir);
    this.members.set(id, member);
    return member;
  }

  #storage(member: ClusterMember): RaftStorage {
    const storage =
      member.dir !== null
        ? new DiskStorage(member.dir, {
            segmentSizeBytes: this.#options.segmentSizeBytes ?? 1024 * 1024,
          })
        : new MemoryStorage(member.memory);
    return this.#options.flakyDisks ? new FlakyStorage(storage, member) : storage;
  }

  async #startNode(member: ClusterMember, bootstrap: Configuration | undefined): Promise<void> {
    member.fsm = new RecordingFsm();
    const { disk: _disk, segmentSizeBytes: _segment, flakyDisks, ...nodeOptions } = this.#options;
    member.node = new RaftNode({
      ...nodeOptions,
      id: member.id,
      address: member.address,
      storage: this.#storage(member),
      fsm: member.fsm,
      bootstrap,
      reopenStorage: flakyDisks ? () => this.#storage(member) : undefined,
    });
    await member.node.start();
  }

  /** Stops a node (its storage state is kept) and starts it again from that state. */
  async restart(id: NodeId): Promise<void> {
    const member = this.member(id);
    await member.node.close();
    await this.#startNode(member, undefined);
  }

  member(id: NodeId): ClusterMember {
    const member = this.members.get(id);
    if (member === undefined) throw new Error(`no node ${id}`);
    return member;
  }

  running(): ClusterMember[] {
    return [...this.members.values()];
  }

  /** Waits for one leader that all given running nodes agree on. */
  async leader(
    among: ClusterMember[] = this.running(),
    timeoutMs = 10_000,
  ): Promise<ClusterMember> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const leaders = among.filter((m) => m.node.state === "leader");
      if (leaders.length === 1) {
        const leader = leaders[0];
        if (among.every((m) => m.node.leader()?.id === leader.id)) return leader;
      }
      if (Date.now() > deadline) throw new Error("no agreed leader in time");
      await sleep(10);
    }
  }

  async close(): Promise<void> {
    for (const member of this.members.values()) {
      await member.node?.close();
      await new Promise<void>((resolve) => member.server.close(() => resolve()));
    }
    await rm(this.#root, { recursive: true, force: true });
  }
}

export async function eventually(
  condition: () => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}
