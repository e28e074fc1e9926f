// The gateway's view of raft, over the RaftNode driver: leadership, replication of FSM commands,
// membership, with raft's refusals turned into the errors dqlite clients know.
import { RaftError } from "../raft/core/errors.js";
import { RaftRole } from "../raft/core/types.js";
import { LeadershipLostError, NodeClosedError, type RaftNode } from "../raft/raft-node.js";
import type { Role } from "../wire/index.js";
import { toRaftRole, toWireRole } from "./reconfigure.js";
import { type Member, type Replication, ReplicationError } from "./replication.js";

export class RaftReplication implements Replication {
  readonly #raft: RaftNode;
  readonly #listeners = new Set<(isLeader: boolean) => void>();
  #leading = false;

  constructor(raft: RaftNode) {
    this.#raft = raft;
    raft.on("state", (soft) => {
      const leading = soft.state === "leader";
      if (leading === this.#leading) return;
      this.#leading = leading;
      for (const listener of this.#listeners) listener(leading);
    });
  }

  isLeader(): boolean {
    return this.#raft.state === "leader";
  }

  isVoter(): boolean {
    const self = this.#raft.configuration.find((server) => server.id === this.#raft.id);
    return self?.role === RaftRole.Voter;
  }

  leader(): { id: bigint; address: string } | null {
    return this.#raft.leader();
  }

  propose(command: Uint8Array): Promise<void> {
    let applied: Promise<number>;
    try {
      applied = this.#raft.propose(command);
    } catch (error) {
      throw translate(error);
    }
    return applied.then(
      () => {},
      (error) => {
        throw translate(error);
      },
    );
  }

  async barrier(): Promise<void> {
    await translated(() => this.#raft.barrier());
  }

  readLeaseUntilMs(): number {
    return this.#raft.readLeaseUntilMs();
  }

  members(): Member[] {
    return this.#raft.configuration.map((server) => ({
      id: server.id,
      address: server.address,
      role: toWireRole(server.role),
    }));
  }

  async add(id: bigint, address: string): Promise<void> {
    await translated(() => this.#raft.add(id, address));
  }

  async assign(id: bigint, role: Role): Promise<void> {
    await translated(() => this.#raft.assign(id, toRaftRole(role)));
  }

  async remove(id: bigint): Promise<void> {
    await translated(() => this.#raft.remove(id));
  }

  async transfer(id: bigint): Promise<void> {
    try {
      await translated(() => this.#raft.transfer(id));
    } catch (error) {
      // Refused up front (not leader, a change in progress) keeps its own error; a transfer that
      // was started and did not complete is reported the way dqlite does.
      if (error instanceof ReplicationError && error.kind === "not-leader" && this.isLeader()) {
        throw new ReplicationError("other", "leadership transfer failed");
      }
      throw error;
    }
  }

  onLeadershipChange(listener: (isLeader: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}

/** Runs a raft call, translating its errors to ReplicationError (libraft's texts where known). */
async function translated<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw translate(error);
  }
}

function translate(error: unknown): unknown {
  if (error instanceof LeadershipLostError) {
    return new ReplicationError("leadership-lost", "leadership lost");
  }
  if (error instanceof NodeClosedError) return new ReplicationError("shutdown", "node is closed");
  if (!(error instanceof RaftError)) return error;
  switch (error.code) {
    case "notLeader":
    case "leadershipTransferInProgress":
      return new ReplicationError("not-leader", "not leader");
    case "cantChange":
      return new ReplicationError("cant-change", "a configuration change is already in progress");
    case "duplicateId":
      return new ReplicationError("other", "server ID already in use");
    case "duplicateAddress":
      return new ReplicationError("other", "server address already in use");
    case "badRole":
      return new ReplicationError("other", "server role is not valid");
    case "badId":
    case "notFound":
      return new ReplicationError("other", "server ID is not valid");
    default:
      return new ReplicationError("other", error.message);
  }
}
