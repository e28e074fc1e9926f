// Where a client finds the cluster's nodes: go-dqlite's NodeStore, and its in-memory version.
import { Role } from "../wire/index.js";

/** One node of a cluster, as stores and the Cluster request describe it. */
export interface NodeInfo {
  /** Raft node id (u64); 0n when unknown (e.g. a bare address from a config). */
  id: bigint;
  /** The address clients dial and the node reports as leader, compared as an exact string. */
  address: string;
  /** Role in dqlite's wire numbering: 0 voter, 1 stand-by, 2 spare. */
  role: Role;
}

/** Role names as go-dqlite prints them. */
export type RoleName = "voter" | "stand-by" | "spare";

const ROLE_NAMES: readonly RoleName[] = ["voter", "stand-by", "spare"];

/** The name of a role ("voter", "stand-by", "spare"). */
export function roleName(role: Role): RoleName {
  const name = ROLE_NAMES[role];
  if (name === undefined) throw new RangeError(`unknown role ${role}`);
  return name;
}

/** A role given by number or by name, checked. */
export function toRole(role: Role | RoleName): Role {
  if (typeof role === "string") {
    const index = ROLE_NAMES.indexOf(role);
    if (index < 0) throw new RangeError(`unknown role "${role}" (voter, stand-by or spare)`);
    return index as Role;
  }
  if (!Number.isInteger(role) || role < Role.Voter || role > Role.Spare) {
    throw new RangeError(`unknown role ${role} (0 voter, 1 stand-by, 2 spare)`);
  }
  return role;
}

/** The list of nodes a client asks when it looks for the leader. */
export interface NodeStore {
  /** The known nodes (a copy the caller may keep). */
  get(): Promise<NodeInfo[]>;
  /** Replaces the known nodes. */
  set(nodes: readonly NodeInfo[]): Promise<void>;
}

/** A NodeStore in memory. */
export class MemoryNodeStore implements NodeStore {
  #nodes: NodeInfo[];

  /** Starts with `nodes`, or with bare addresses (id 0, voter) like go-dqlite's app does. */
  constructor(nodes: readonly (NodeInfo | string)[] = []) {
    this.#nodes = nodes.map(toNodeInfo);
  }

  async get(): Promise<NodeInfo[]> {
    return this.#nodes.map((node) => ({ ...node }));
  }

  async set(nodes: readonly NodeInfo[]): Promise<void> {
    this.#nodes = nodes.map(toNodeInfo);
  }
}

function toNodeInfo(node: NodeInfo | string): NodeInfo {
  if (typeof node === "string") return { id: 0n, address: node, role: Role.Voter };
  if (typeof node.id !== "bigint" || typeof node.address !== "string") {
    throw new TypeError("a node needs a bigint id and a string address");
  }
  return { id: node.id, address: node.address, role: toRole(node.role) };
}
