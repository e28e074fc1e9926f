// Rules over a configuration: who votes, who gets replicated, and what a valid one looks like.
import { RaftError } from "./errors.js";
import { type Configuration, type NodeId, RaftRole, type ServerInfo } from "./types.js";

export function findServer(configuration: Configuration, id: NodeId): ServerInfo | undefined {
  for (const server of configuration) if (server.id === id) return server;
  return undefined;
}

export function isVoter(configuration: Configuration, id: NodeId): boolean {
  return findServer(configuration, id)?.role === RaftRole.Voter;
}

export function voterCount(configuration: Configuration): number {
  let n = 0;
  for (const server of configuration) if (server.role === RaftRole.Voter) n++;
  return n;
}

/** Throws a `badConfiguration` RaftError unless ids and addresses are unique and roles known. */
export function checkConfiguration(configuration: Configuration): void {
  const ids = new Set<NodeId>();
  const addresses = new Set<string>();
  for (const server of configuration) {
    if (server.id === 0n) throw new RaftError("badConfiguration", "server id 0");
    if (ids.has(server.id)) {
      throw new RaftError("badConfiguration", `duplicate server id ${server.id}`);
    }
    if (addresses.has(server.address)) {
      throw new RaftError("badConfiguration", `duplicate address ${server.address}`);
    }
    if (![RaftRole.Voter, RaftRole.Standby, RaftRole.Spare].includes(server.role)) {
      throw new RaftError("badConfiguration", `unknown role ${server.role} for ${server.id}`);
    }
    ids.add(server.id);
    addresses.add(server.address);
  }
}
