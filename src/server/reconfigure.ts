// Quorum-loss recovery from a data directory alone (go-dqlite's ReconfigureMembership): with every
// node stopped, force a new configuration into the log of the node with the most recent data, then
// copy its directory to the other members and start them.
import { type Configuration, RaftRole } from "../raft/core/types.js";
import { DiskStorage } from "../raft/io/disk-storage.js";
import { Role } from "../wire/index.js";

export interface MemberSpec {
  id: bigint;
  address: string;
  /** dqlite's numbering (Voter 0, StandBy 1, Spare 2); omitted means Voter. */
  role?: Role;
}

/** Translates dqlite's role numbering to libraft's (they differ). */
export function toRaftRole(role: Role): RaftRole {
  switch (role) {
    case Role.Voter:
      return RaftRole.Voter;
    case Role.StandBy:
      return RaftRole.Standby;
    case Role.Spare:
      return RaftRole.Spare;
    default:
      throw new RangeError(`unknown role ${role}`);
  }
}

export function toWireRole(role: RaftRole): Role {
  switch (role) {
    case RaftRole.Voter:
      return Role.Voter;
    case RaftRole.Standby:
      return Role.StandBy;
    case RaftRole.Spare:
      return Role.Spare;
    default:
      throw new RangeError(`unknown raft role ${role}`);
  }
}

/**
 * Forces `members` (all voters, like go-dqlite's ReconfigureMembership) as the configuration of
 * the stopped node whose data directory is `dir`.
 */
export async function reconfigureMembership(dir: string, members: MemberSpec[]): Promise<void> {
  await reconfigureMembershipExt(
    dir,
    members.map((member) => ({ ...member, role: Role.Voter })),
  );
}

/** As reconfigureMembership, keeping each member's role (go-dqlite's ReconfigureMembershipExt). */
export async function reconfigureMembershipExt(dir: string, members: MemberSpec[]): Promise<void> {
  if (members.length === 0) throw new Error("the new configuration has no members");
  const ids = new Set<bigint>();
  const configuration: Configuration = members.map((member) => {
    if (member.id === 0n) throw new Error(`member ${member.address} has id 0`);
    if (ids.has(member.id)) throw new Error(`id ${member.id} appears twice`);
    ids.add(member.id);
    return { id: member.id, address: member.address, role: toRaftRole(member.role ?? Role.Voter) };
  });
  if (!configuration.some((server) => server.role === RaftRole.Voter)) {
    throw new Error("the new configuration has no voter");
  }
  const storage = new DiskStorage(dir);
  try {
    await storage.load();
    await storage.recover(configuration);
  } finally {
    await storage.close();
  }
}
