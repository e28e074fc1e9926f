// A gateway-only server for tests: one node, no raft. Commands are "replicated" by applying them
// to the FSM at once (or after a delay, or failing, as a test asks), so the gateway's semantics
// can be checked without a cluster.
import type { Socket } from "node:net";
import { Fsm } from "../../src/fsm/index.js";
import { silentLogger } from "../../src/log/logger.js";
import { Gateway, type NodeMetadata } from "../../src/server/gateway.js";
import { Listener } from "../../src/server/listener.js";
import { type Member, type Replication, ReplicationError } from "../../src/server/replication.js";
import { WriterLock } from "../../src/server/writer-lock.js";
import { loadSqlite } from "../../src/sqlite/index.js";
import { Role, StreamDecoder } from "../../src/wire/index.js";

export class LocalReplication implements Replication {
  leading = true;
  voter = true;
  id = 1n;
  address = "";
  index = 0;
  /** Set by a test to make the next apply fail this way (after the delay). */
  failNext: ReplicationError | null = null;
  applyDelayMs = 0;
  /** While set, nothing applies (entries stay proposed and pending). */
  gate: Promise<void> | null = null;
  /** Entries proposed and not yet applied or failed. */
  inFlight = 0;
  maxInFlight = 0;
  readonly members_: Member[] = [];
  readonly #listeners = new Set<(isLeader: boolean) => void>();
  readonly fsm: Fsm;

  constructor(fsm: Fsm) {
    this.fsm = fsm;
  }

  isLeader() {
    return this.leading;
  }
  isVoter() {
    return this.voter;
  }
  leader() {
    return this.leading ? { id: this.id, address: this.address } : null;
  }
  propose(command: Uint8Array): Promise<void> {
    if (!this.leading) throw new ReplicationError("not-leader", "not leader");
    const failure = this.failNext;
    this.failNext = null;
    const index = ++this.index;
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    // Entries apply in proposal order, each after the delay, like a log; a failure fails the
    // entries proposed after it too, as a lost leadership does.
    const applied = this.#last.then(async (earlier) => {
      if (earlier) throw earlier;
      if (this.applyDelayMs > 0) await new Promise((r) => setTimeout(r, this.applyDelayMs));
      await this.gate;
      if (failure) throw failure;
      this.fsm.apply(index, command);
    });
    this.#last = applied.then(
      () => null,
      (error: Error) => (this.index === index ? null : error),
    );
    return applied.finally(() => {
      this.inFlight--;
    });
  }
  #last: Promise<Error | null> = Promise.resolve(null);
  /** Behind every entry proposed so far: done once they applied, failed if one failed. */
  barrier(): Promise<void> {
    if (!this.leading) return Promise.reject(new ReplicationError("not-leader", "not leader"));
    return this.#last.then(async (earlier) => {
      if (earlier) throw earlier;
      await this.gate;
    });
  }
  readLeaseUntilMs() {
    return this.leading ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
  }
  members() {
    return this.members_.length > 0
      ? this.members_
      : [{ id: this.id, address: this.address, role: Role.Voter }];
  }
  async add(id: bigint, address: string) {
    this.members_.push({ id, address, role: Role.Spare });
  }
  async assign(id: bigint, role: Role) {
    const member = this.members_.find((m) => m.id === id);
    if (!member) throw new ReplicationError("other", "server ID is not valid");
    member.role = role;
  }
  async remove(id: bigint) {
    const at = this.members_.findIndex((m) => m.id === id);
    if (at < 0) throw new ReplicationError("other", "server ID is not valid");
    this.members_.splice(at, 1);
  }
  async transfer() {
    this.setLeader(false);
  }
  setLeader(leading: boolean) {
    this.leading = leading;
    for (const listener of this.#listeners) listener(leading);
  }
  onLeadershipChange(listener: (isLeader: boolean) => void) {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

export interface LocalServer {
  address: string;
  fsm: Fsm;
  replication: LocalReplication;
  metadata: NodeMetadata;
  gateways: Set<Gateway>;
  close(): Promise<void>;
}

export async function startLocalServer(busyTimeoutMs = 1000): Promise<LocalServer> {
  const fsm = new Fsm(await loadSqlite());
  const replication = new LocalReplication(fsm);
  const metadata: NodeMetadata = { failureDomain: 0n, weight: 0n };
  const locks = new Map<string, WriterLock>();
  const gateways = new Set<Gateway>();
  const services = {
    fsm,
    replication,
    metadata,
    busyTimeoutMs,
    logger: silentLogger,
    lockFor(name: string) {
      let lock = locks.get(name);
      if (!lock) locks.set(name, (lock = new WriterLock()));
      return lock;
    },
    leaderReady: async () => {},
    readReady: async () => {},
    acceptPeer(socket: Socket) {
      socket.destroy();
    },
  };
  replication.onLeadershipChange((leading) => {
    if (!leading) for (const gateway of gateways) gateway.leadershipLost();
  });
  const listener = new Listener((socket) => {
    const gateway = new Gateway(socket, new StreamDecoder({ handshake: true }), services, (g) =>
      gateways.delete(g),
    );
    gateways.add(gateway);
    gateway.start();
  });
  const { bound } = await listener.listen("127.0.0.1:0");
  replication.address = bound;
  return {
    address: bound,
    fsm,
    replication,
    metadata,
    gateways,
    async close() {
      for (const gateway of [...gateways]) gateway.close();
      await listener.close();
      fsm.close();
    },
  };
}
