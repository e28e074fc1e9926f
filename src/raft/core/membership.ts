// Single-server membership changes and leadership transfer, with libraft's rules: one change at
// a time, servers join as spares, a promotion to voter waits for catch-up rounds (a round ends
// when the server reaches the leader's last index of the round's start; it is promoted when
// fully up to date or when the round took less than an election timeout).
import { findServer } from "./configuration.js";
import { RaftError } from "./errors.js";
import { type Appended, appendConfiguration, maybeSendTimeoutNow } from "./leader.js";
import type { NodeState } from "./node-state.js";
import { type NodeId, RaftRole, type ServerInfo } from "./types.js";

/** Throws unless this node is a leader with room for `sizeBytes` more uncommitted data. */
export function checkRoomFor(node: NodeState, sizeBytes: number): void {
  checkAcceptsEntries(node);
  const waiting = node.uncommittedBytes;
  if (waiting > 0 && waiting + sizeBytes > node.options.maxUncommittedBytes) {
    throw new RaftError("busy", `${waiting} bytes of entries wait to commit`);
  }
}

/** Throws unless this node is a leader free to accept new entries. */
export function checkAcceptsEntries(node: NodeState): void {
  if (node.role !== "leader") throw new RaftError("notLeader", "this node is not the leader");
  if (node.transfer !== null) {
    throw new RaftError(
      "leadershipTransferInProgress",
      `leadership is being transferred to ${node.transfer.target}`,
    );
  }
}

function checkCanChange(node: NodeState): void {
  checkAcceptsEntries(node);
  if (node.uncommittedConfigurationIndex !== 0) {
    throw new RaftError(
      "cantChange",
      `configuration at index ${node.uncommittedConfigurationIndex} is not committed yet`,
    );
  }
  if (node.leader!.promotion !== null) {
    throw new RaftError("cantChange", `server ${node.leader!.promotion.id} is being promoted`);
  }
}

export function addServer(node: NodeState, id: NodeId, address: string): Appended {
  checkCanChange(node);
  if (id <= 0n || id >= 1n << 64n) throw new RaftError("badId", `server id ${id} is not a u64 > 0`);
  if (findServer(node.configuration, id) !== undefined) {
    throw new RaftError("duplicateId", `server ${id} is already in the configuration`);
  }
  if (address.length === 0 || address.includes("\0")) {
    throw new RaftError("badConfiguration", `bad address ${JSON.stringify(address)}`);
  }
  if (node.configuration.some((server) => server.address === address)) {
    throw new RaftError("duplicateAddress", `address ${address} is already in the configuration`);
  }
  return appendConfiguration(node, [...node.configuration, { id, address, role: RaftRole.Spare }]);
}

/**
 * Gives a server a role. Returns where the CHANGE entry went, or undefined when a promotion to
 * voter must first catch up (a `promotionAppended` or `promotionAborted` event follows).
 */
export function assignRole(node: NodeState, id: NodeId, role: RaftRole): Appended | undefined {
  if (role !== RaftRole.Voter && role !== RaftRole.Standby && role !== RaftRole.Spare) {
    throw new RaftError("badRole", `unknown role ${role}`);
  }
  checkCanChange(node);
  const server = findServer(node.configuration, id);
  if (server === undefined) throw new RaftError("notFound", `no server has id ${id}`);
  if (server.role === role) {
    throw new RaftError("badRole", `server ${id} is already ${RaftRole[role].toLowerCase()}`);
  }
  const match = id === node.id ? node.durableIndex : node.leader!.progress.get(id)!.matchIndex;
  if (role !== RaftRole.Voter || match === node.log.lastIndex) {
    return appendConfiguration(node, withRole(node, id, role));
  }
  node.leader!.promotion = {
    id,
    round: 1,
    roundIndex: node.log.lastIndex,
    roundStartMs: node.now(),
  };
  node.flushDue = true;
  return undefined;
}

export function removeServer(node: NodeState, id: NodeId): Appended {
  checkCanChange(node);
  if (findServer(node.configuration, id) === undefined) {
    throw new RaftError("badId", `no server has id ${id}`);
  }
  return appendConfiguration(
    node,
    node.configuration.filter((server) => server.id !== id),
  );
}

function withRole(node: NodeState, id: NodeId, role: RaftRole): ServerInfo[] {
  return node.configuration.map((server) => (server.id === id ? { ...server, role } : server));
}

/** The promotee's match index grew: end the round, and promote it if it is fast enough. */
export function updateCatchUp(node: NodeState, id: NodeId): void {
  const promotion = node.leader?.promotion;
  if (promotion === undefined || promotion === null || promotion.id !== id) return;
  const match = node.leader!.progress.get(id)!.matchIndex;
  if (match < promotion.roundIndex) return;
  const now = node.now();
  const lastIndex = node.log.lastIndex;
  const upToDate = match === lastIndex;
  const fastEnough = now - promotion.roundStartMs < node.options.electionTimeoutMs;
  if (upToDate || fastEnough) {
    node.leader!.promotion = null;
    const appended = appendConfiguration(node, withRole(node, id, RaftRole.Voter));
    node.events.push({ type: "promotionAppended", id, ...appended });
    return;
  }
  promotion.round += 1;
  promotion.roundIndex = lastIndex;
  promotion.roundStartMs = now;
}

/** On each leader tick: abandon a promotion whose server is too slow or unresponsive. */
export function tickPromotion(node: NodeState): void {
  const promotion = node.leader?.promotion;
  if (promotion === undefined || promotion === null) return;
  const duration = node.now() - promotion.roundStartMs;
  const tooSlow =
    promotion.round >= node.options.maxCatchUpRounds && duration > node.options.electionTimeoutMs;
  const unresponsive = duration > node.options.maxCatchUpRoundDurationMs;
  if (tooSlow || unresponsive) {
    node.leader!.promotion = null;
    node.events.push({ type: "promotionAborted", id: promotion.id });
  }
}

/** Starts a leadership transfer to `id` (0n: the most up-to-date voter). Returns the target. */
export function transferLeadership(node: NodeState, id: NodeId): NodeId {
  checkAcceptsEntries(node);
  if (id === 0n) {
    let chosen = 0n;
    for (const server of node.configuration) {
      if (server.id === node.id || server.role !== RaftRole.Voter) continue;
      chosen = server.id;
      if (node.leader!.progress.get(server.id)!.matchIndex === node.log.lastIndex) break;
    }
    if (chosen === 0n) throw new RaftError("notFound", "there is no other voter");
    id = chosen;
  }
  const server = findServer(node.configuration, id);
  if (server === undefined || server.id === node.id || server.role !== RaftRole.Voter) {
    throw new RaftError("badId", `server ${id} cannot take leadership`);
  }
  const now = node.now();
  node.transfer = { target: id, startMs: now, lastSentMs: now - node.options.heartbeatTimeoutMs };
  maybeSendTimeoutNow(node);
  return id;
}

/** On every tick: a transfer not done within an election timeout is abandoned. */
export function tickTransfer(node: NodeState): void {
  const transfer = node.transfer;
  if (transfer === null) return;
  if (node.now() - transfer.startMs >= node.options.electionTimeoutMs) {
    node.transfer = null;
    node.events.push({ type: "transferEnded", target: transfer.target, succeeded: false });
  }
}

/** After every message: the transfer succeeded once this node follows its target. */
export function checkTransferDone(node: NodeState): void {
  const transfer = node.transfer;
  if (transfer === null || node.role !== "follower" || node.leaderId !== transfer.target) return;
  node.transfer = null;
  node.events.push({ type: "transferEnded", target: transfer.target, succeeded: true });
}
