// A hand-driven cluster of raft cores for scripted tests: one shared clock, messages queued until
// a test delivers them, disks that persist when told to (or at once), per-node election timeouts.
import { bootstrapEntry } from "../../../src/raft/core/configuration-entries.js";
import type { RaftOptions } from "../../../src/raft/core/options.js";
import { Raft } from "../../../src/raft/core/raft.js";
import type { Ready, SoftState } from "../../../src/raft/core/ready.js";
import {
  type Entry,
  type Message,
  type NodeId,
  RaftRole,
  type ServerInfo,
  type Snapshot,
} from "../../../src/raft/core/types.js";

export const ELECTION_MS = 1000;
export const HEARTBEAT_MS = 100;

export interface HarnessNode {
  id: NodeId;
  raft: Raft;
  /** Entries handed out and not yet reported durable, by write. */
  pendingWrites: { index: number; term: number }[];
  /** What the node's disk holds (durable or not). */
  log: Entry[];
  snapshot: Snapshot | undefined;
  applied: Entry[];
  softStates: SoftState[];
  hardStates: { term: number; votedFor: NodeId }[];
  readies: Ready[];
  /** Persist writes as soon as they are handed out. */
  autoPersist: boolean;
}

export interface HarnessOptions {
  /** Servers of the bootstrap configuration (voters unless listed in `roles`). */
  members: number[];
  /** Servers that exist with an empty disk. */
  extra?: number[];
  roles?: Record<number, RaftRole>;
  /** Election timeout drawn by each node (default: node i gets ELECTION_MS + 100·i). */
  timeouts?: Record<number, number>;
  options?: Partial<RaftOptions>;
  autoPersist?: boolean;
}

export class Harness {
  now = 0;
  readonly nodes = new Map<NodeId, HarnessNode>();
  queue: Message[] = [];
  readonly #cut = new Set<string>();
  readonly #options: HarnessOptions;

  constructor(options: HarnessOptions) {
    this.#options = options;
    const configuration: ServerInfo[] = options.members.map((i) => ({
      id: BigInt(i),
      address: `n${i}`,
      role: options.roles?.[i] ?? RaftRole.Voter,
    }));
    const bootstrap = bootstrapEntry(configuration);
    for (const i of options.members) this.#add(i, [bootstrap]);
    for (const i of options.extra ?? []) this.#add(i, []);
  }

  #add(i: number, entries: Entry[]): void {
    const id = BigInt(i);
    const node: HarnessNode = {
      id,
      raft: undefined as unknown as Raft,
      pendingWrites: [],
      log: [...entries],
      snapshot: undefined,
      applied: [],
      softStates: [],
      hardStates: [],
      readies: [],
      autoPersist: this.#options.autoPersist ?? true,
    };
    this.nodes.set(id, node);
    node.raft = this.#makeRaft(node, { term: entries.length > 0 ? 1 : 0, votedFor: 0n });
  }

  #makeRaft(node: HarnessNode, hardState: { term: number; votedFor: NodeId }): Raft {
    const i = Number(node.id);
    const timeout = this.#options.timeouts?.[i] ?? ELECTION_MS + 100 * i;
    return new Raft({
      id: node.id,
      loaded: { hardState, entries: [...node.log], snapshot: node.snapshot?.meta },
      now: () => this.now,
      random: (min, max) => Math.min(Math.max(timeout, min), max - 1),
      electionTimeoutMs: ELECTION_MS,
      heartbeatTimeoutMs: HEARTBEAT_MS,
      ...this.#options.options,
    });
  }

  node(i: number | NodeId): HarnessNode {
    const node = this.nodes.get(BigInt(i));
    if (node === undefined) throw new Error(`no node ${i}`);
    return node;
  }

  raft(i: number | NodeId): Raft {
    return this.node(i).raft;
  }

  /** Restarts a node from its disk (what was persisted; unpersisted writes are lost). */
  restart(i: number): void {
    const node = this.node(i);
    const durable = node.pendingWrites[0];
    if (durable !== undefined) node.log = node.log.filter((e) => e.index < durable.index);
    node.pendingWrites = [];
    node.applied = [];
    const hard = node.hardStates[node.hardStates.length - 1] ?? { term: 1, votedFor: 0n };
    node.raft = this.#makeRaft(node, hard);
  }

  /** Takes every Ready of node `i` and does its work (sends go to the queue). */
  process(i: number | NodeId): void {
    const node = this.node(i);
    for (let round = 0; node.raft.hasReady(); round++) {
      if (round > 100) throw new Error(`node ${i} never settles`);
      const ready = node.raft.ready();
      node.readies.push(ready);
      if (ready.soft) node.softStates.push(ready.soft);
      if (ready.hardState) node.hardStates.push(ready.hardState);
      if (ready.snapshot) {
        node.snapshot = ready.snapshot;
        node.log = [];
        node.pendingWrites.push({
          index: ready.snapshot.meta.index,
          term: ready.snapshot.meta.term,
        });
      }
      if (ready.truncateFromIndex !== undefined) {
        node.log = node.log.filter((e) => e.index < ready.truncateFromIndex!);
      }
      if (ready.entries.length > 0) {
        node.log.push(...ready.entries);
        const last = ready.entries[ready.entries.length - 1];
        node.pendingWrites.push({ index: last.index, term: last.term });
      }
      for (const message of ready.messages) this.send(message);
      for (const send of ready.snapshotSends) {
        if (node.snapshot === undefined) throw new Error(`node ${i} has no snapshot to send`);
        this.send({
          type: "installSnapshot",
          from: node.id,
          to: send.to,
          term: send.term,
          snapshot: node.snapshot,
        });
      }
      node.applied.push(...ready.committed);
      if (node.autoPersist) this.persist(i);
    }
  }

  /** Reports node `i`'s pending writes durable (all, or the first `count`). */
  persist(i: number | NodeId, count = Number.POSITIVE_INFINITY): void {
    const node = this.node(i);
    const done = node.pendingWrites.splice(0, count);
    for (const write of done) node.raft.persisted(write.index, write.term);
  }

  send(message: Message): void {
    if (!this.#cut.has(`${message.from}>${message.to}`)) this.queue.push(message);
  }

  processAll(): void {
    for (const id of this.nodes.keys()) this.process(id);
  }

  /** Delivers queued messages (and those they cause) until quiet; returns how many. */
  deliver(filter: (m: Message) => boolean = () => true, maxRounds = 1000): number {
    let delivered = 0;
    this.processAll();
    for (let round = 0; round < maxRounds; round++) {
      const batch = this.queue.filter(filter);
      if (batch.length === 0) return delivered;
      this.queue = this.queue.filter((m) => !filter(m));
      for (const message of batch) {
        if (this.#cut.has(`${message.from}>${message.to}`)) continue;
        const target = this.nodes.get(message.to);
        if (target === undefined) continue;
        target.raft.step(message);
        delivered++;
        this.process(message.to);
      }
      this.processAll();
    }
    throw new Error("messages never stopped flowing");
  }

  /** Drops queued messages matching `filter` (all by default). */
  drop(filter: (m: Message) => boolean = () => true): Message[] {
    const dropped = this.queue.filter(filter);
    this.queue = this.queue.filter((m) => !filter(m));
    return dropped;
  }

  /** Cuts both directions between the groups. */
  partition(a: number[], b: number[]): void {
    for (const x of a) {
      for (const y of b) {
        this.#cut.add(`${x}>${y}`);
        this.#cut.add(`${y}>${x}`);
      }
    }
  }

  isolate(i: number): void {
    this.partition(
      [i],
      [...this.nodes.keys()].map(Number).filter((j) => j !== i),
    );
  }

  heal(): void {
    this.#cut.clear();
  }

  /** Advances the clock and ticks every node (or those listed), delivering nothing. */
  tick(ms = HEARTBEAT_MS, only?: number[]): void {
    this.now += ms;
    for (const [id, node] of this.nodes) {
      if (only === undefined || only.includes(Number(id))) node.raft.tick();
    }
    this.processAll();
  }

  /** Ticks and delivers for `ms` in heartbeat steps. */
  run(ms: number, only?: number[]): void {
    for (let t = 0; t < ms; t += HEARTBEAT_MS) {
      this.tick(HEARTBEAT_MS, only);
      this.deliver();
    }
  }

  /** Makes node `i`'s election timer fire (others stay quiet) and delivers until quiet. */
  campaign(i: number): void {
    const raft = this.raft(i);
    for (let guard = 0; raft.state !== "candidate" && raft.state !== "leader"; guard++) {
      if (guard > 100) throw new Error(`node ${i} does not campaign`);
      this.tick(HEARTBEAT_MS, [i]);
    }
    this.deliver();
  }

  leaders(): number[] {
    return [...this.nodes.values()]
      .filter((n) => n.raft.state === "leader")
      .map((n) => Number(n.id));
  }

  /** Proposes 8 bytes holding `value` at node `i`. */
  propose(i: number, value: number): { index: number; term: number } {
    const data = new Uint8Array(8);
    new DataView(data.buffer).setFloat64(0, value, true);
    const appended = this.raft(i).propose(data);
    this.process(i);
    return appended;
  }
}

/** The command values node `i` applied, in order. */
export function appliedValues(node: HarnessNode): number[] {
  return node.applied
    .filter((e) => e.type === 1)
    .map((e) => new DataView(e.data.buffer, e.data.byteOffset).getFloat64(0, true));
}
