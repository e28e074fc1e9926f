// The roles algorithm of go-dqlite's app package as pure functions: given the cluster (each node
// with its metadata, or null when it did not answer a probe) and the wanted numbers of voters and
// stand-bys, decide which role to give and to whom, in order of preference. No I/O here; the App
// probes, asks, and carries the decision out.
import type { NodeInfo, NodeMetadata } from "../client/index.js";
import { Role } from "../wire/index.js";

/** How many voters and stand-bys the cluster should have. */
export interface RolesConfig {
  /** Wanted voters (odd, at least 3). */
  voters: number;
  /** Wanted stand-bys. */
  standbys: number;
}

/** A member of the cluster and what a probe learned: its metadata, or null when offline. */
export interface ProbedNode extends NodeInfo {
  metadata: NodeMetadata | null;
}

/** The cluster as the algorithm sees it. */
export interface RolesInput extends RolesConfig {
  nodes: readonly ProbedNode[];
  /** Breaks ties between equally good candidates (default Math.random; seed it in tests). */
  random?: () => number;
}

/** A decision: give `role` to the first of `candidates` that accepts it. */
export interface RoleChange {
  role: Role;
  candidates: NodeInfo[];
}

/** What a starting node should do: take `role`, then maybe make one of `alsoPromote` a voter. */
export interface AssumeDecision {
  role: Role;
  /** Non-voters to try to promote to voter too (first success wins); empty when none is needed. */
  alsoPromote: NodeInfo[];
}

/** Below this many nodes, a cluster keeps one voter (go-dqlite's minVoters). */
const MIN_VOTERS = 3;

/**
 * Run by a node at start-up: should it take the voter or stand-by role because the cluster lacks
 * online ones? Null when nothing is to change.
 */
export function assumeRole(input: RolesInput, selfId: bigint): AssumeDecision | null {
  const view = new ClusterView(input);
  if (input.nodes.length < MIN_VOTERS) return null;
  const self = input.nodes.find((node) => node.id === selfId);
  // Not a member: we were removed; nothing to assume.
  if (self === undefined) return null;
  if (self.role === Role.Voter || self.role === Role.StandBy) return null;
  const onlineVoters = view.list(Role.Voter, true);
  const onlineStandbys = view.list(Role.StandBy, true);
  if (onlineVoters.length >= input.voters && onlineStandbys.length >= input.standbys) return null;
  if (onlineVoters.length >= input.voters) return { role: Role.StandBy, alsoPromote: [] };
  // A node that becomes the second voter next to a lone one also promotes a third, which is how
  // a cluster that has just reached three nodes gets three voters at once. go-dqlite tries every
  // other non-voter, offline ones included; an offline node cannot catch up, so only online ones.
  let alsoPromote: NodeInfo[] = [];
  if (onlineVoters.length === 1) {
    const others = input.nodes.filter(
      (node) => node.id !== selfId && node.role !== Role.Voter && node.metadata !== null,
    );
    alsoPromote = view.sortCandidates(
      [others.filter((n) => n.role === Role.StandBy), others.filter((n) => n.role === Role.Spare)],
      view.domainsOf(onlineVoters),
    );
  }
  return { role: Role.Voter, alsoPromote };
}

/**
 * Run by a node that is about to go offline: which online node should take over its voter or
 * stand-by role? Null when it has neither role or nobody can take it.
 */
export function handoverRole(input: RolesInput, selfId: bigint): RoleChange | null {
  const view = new ClusterView(input);
  const self = input.nodes.find((node) => node.id === selfId);
  if (self === undefined) return null;
  if (self.role !== Role.Voter && self.role !== Role.StandBy) return null;
  const peers = view.list(self.role, true).filter((node) => node.id !== selfId);
  const groups =
    self.role === Role.Voter
      ? [view.list(Role.StandBy, true), view.list(Role.Spare, true)]
      : [view.list(Role.Spare, true)];
  if (groups.every((group) => group.length === 0)) return null;
  return { role: self.role, candidates: view.sortCandidates(groups, view.domainsOf(peers)) };
}

/**
 * Run by the leader each period: the first of go-dqlite's ten rules that applies, or null when
 * the roles are as wanted (or nothing can be done). Repeat until null, one change at a time.
 */
export function adjustRoles(input: RolesInput, leaderId: bigint): RoleChange | null {
  const view = new ClusterView(input);
  const size = input.nodes.length;
  // Rule 1: a lone node has nothing to adjust.
  if (size === 1) return null;
  // Rule 2: a cluster too small for a quorum of three keeps the leader as its only voter.
  if (size < MIN_VOTERS) {
    const extra = input.nodes.filter((n) => n.id !== leaderId && n.role === Role.Voter);
    return extra.length === 0 ? null : { role: Role.Spare, candidates: view.shuffledInfo(extra) };
  }
  const onlineVoters = view.list(Role.Voter, true);
  const onlineStandbys = view.list(Role.StandBy, true);
  const offlineVoters = view.list(Role.Voter, false);
  const offlineStandbys = view.list(Role.StandBy, false);

  // Rule 3: a failure domain with online nodes but no voter, while some domain holds two voters:
  // bring a voter into an empty domain (rule 6 then demotes one from the crowded domain).
  const domainsWithVoters = view.domainsOf(onlineVoters);
  const onlineDomains = view.domainsOf(input.nodes);
  if (domainsWithVoters.size < onlineDomains.size && domainsWithVoters.size < onlineVoters.length) {
    const empty = new Set([...onlineDomains].filter((domain) => !domainsWithVoters.has(domain)));
    const groups = [view.list(Role.StandBy, true, empty), view.list(Role.Spare, true, empty)];
    if (groups.some((group) => group.length > 0)) {
      return { role: Role.Voter, candidates: view.sortCandidates(groups, empty) };
    }
  }

  // Rule 4: exactly the wanted numbers, all online.
  if (
    offlineVoters.length === 0 &&
    onlineVoters.length === input.voters &&
    offlineStandbys.length === 0 &&
    onlineStandbys.length === input.standbys
  ) {
    return null;
  }

  // Rule 5: too few online voters: promote an online stand-by or spare (none: nothing to do).
  if (onlineVoters.length < input.voters) {
    const groups = [view.list(Role.StandBy, true), view.list(Role.Spare, true)];
    if (groups.every((group) => group.length === 0)) return null;
    return { role: Role.Voter, candidates: view.sortCandidates(groups, domainsWithVoters) };
  }

  // Rule 6: too many online voters: demote one, never the leader.
  if (onlineVoters.length > input.voters) {
    const demotable = onlineVoters.filter((node) => node.id !== leaderId);
    return { role: Role.Spare, candidates: view.sortVotersToDemote(demotable) };
  }

  // Rule 7: offline voters count against the quorum: demote them.
  if (offlineVoters.length > 0) {
    return { role: Role.Spare, candidates: view.shuffledInfo(offlineVoters) };
  }

  // Rule 8: too few online stand-bys: promote an online spare (none: nothing to do).
  if (onlineStandbys.length < input.standbys) {
    const spares = view.list(Role.Spare, true);
    if (spares.length === 0) return null;
    return {
      role: Role.StandBy,
      candidates: view.sortCandidates([spares], view.domainsOf(onlineStandbys)),
    };
  }

  // Rule 9: too many online stand-bys: demote one.
  if (onlineStandbys.length > input.standbys) {
    const demotable = onlineStandbys.filter((node) => node.id !== leaderId);
    return { role: Role.Spare, candidates: view.shuffledInfo(demotable) };
  }

  // Rule 10: offline stand-bys: demote them.
  if (offlineStandbys.length > 0) {
    return { role: Role.Spare, candidates: view.shuffledInfo(offlineStandbys) };
  }
  return null;
}

/**
 * Orders candidates for a promotion: nodes outside `domains` first, then lower weight first.
 * Groups are listed in order of preference (stand-bys before spares) and keep that order among
 * equals; inside a group, equals come in random order (go-dqlite's map order).
 */
export function sortCandidates(
  groups: readonly (readonly ProbedNode[])[],
  domains: ReadonlySet<bigint>,
  random: () => number = Math.random,
): NodeInfo[] {
  return new ClusterView({ nodes: [], voters: 0, standbys: 0, random }).sortCandidates(
    groups,
    domains,
  );
}

/**
 * Orders voters for a demotion: the domain with most voters first, inside a domain the highest
 * weight first; equal domains and weights in random order.
 */
export function sortVotersToDemote(
  voters: readonly ProbedNode[],
  random: () => number = Math.random,
): NodeInfo[] {
  return new ClusterView({ nodes: [], voters: 0, standbys: 0, random }).sortVotersToDemote(voters);
}

/** Queries over one snapshot of the cluster. */
class ClusterView {
  readonly #nodes: readonly ProbedNode[];
  readonly #random: () => number;

  constructor(input: RolesInput) {
    this.#nodes = input.nodes;
    this.#random = input.random ?? Math.random;
    const ids = new Set<bigint>();
    for (const node of input.nodes) {
      if (ids.has(node.id)) throw new RangeError(`node id ${node.id} appears twice in the cluster`);
      ids.add(node.id);
    }
  }

  /** Nodes with `role` that are online (or offline), optionally only those in `domains`. */
  list(role: Role, online: boolean, domains?: ReadonlySet<bigint>): ProbedNode[] {
    return this.#nodes.filter(
      (node) =>
        node.role === role &&
        (node.metadata !== null) === online &&
        (domains === undefined ||
          (node.metadata !== null && domains.has(node.metadata.failureDomain))),
    );
  }

  /** The failure domains of the online nodes among `nodes`. */
  domainsOf(nodes: readonly ProbedNode[]): Set<bigint> {
    const domains = new Set<bigint>();
    for (const node of nodes) if (node.metadata !== null) domains.add(node.metadata.failureDomain);
    return domains;
  }

  /** Nodes in random order, as plain NodeInfo. */
  shuffledInfo(nodes: readonly ProbedNode[]): NodeInfo[] {
    return this.shuffled(nodes).map(toNodeInfo);
  }

  shuffled<T>(items: readonly T[]): T[] {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      const j = Math.floor(this.#random() * (i + 1));
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy;
  }

  sortCandidates(
    groups: readonly (readonly ProbedNode[])[],
    domains: ReadonlySet<bigint>,
  ): NodeInfo[] {
    const ordered = groups.flatMap((group) => this.shuffled(group));
    // Array.prototype.sort is stable: equals keep the group order and the shuffle.
    ordered.sort((a, b) => {
      const aElsewhere = !domains.has(metadataOf(a).failureDomain);
      const bElsewhere = !domains.has(metadataOf(b).failureDomain);
      if (aElsewhere !== bElsewhere) return aElsewhere ? -1 : 1;
      return compareBigint(metadataOf(a).weight, metadataOf(b).weight);
    });
    return ordered.map(toNodeInfo);
  }

  sortVotersToDemote(voters: readonly ProbedNode[]): NodeInfo[] {
    const byDomain = new Map<bigint, ProbedNode[]>();
    for (const node of this.shuffled(voters)) {
      const domain = metadataOf(node).failureDomain;
      const members = byDomain.get(domain);
      if (members === undefined) byDomain.set(domain, [node]);
      else members.push(node);
    }
    const domains = this.shuffled([...byDomain.values()]);
    domains.sort((a, b) => b.length - a.length);
    for (const members of domains) {
      members.sort((a, b) => compareBigint(metadataOf(b).weight, metadataOf(a).weight));
    }
    return domains.flat().map(toNodeInfo);
  }
}

function metadataOf(node: ProbedNode): NodeMetadata {
  // Only online nodes are ever sorted; an offline one here is a bug in this file.
  if (node.metadata === null) throw new Error(`assertion: node ${node.id} sorted while offline`);
  return node.metadata;
}

function compareBigint(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toNodeInfo(node: ProbedNode): NodeInfo {
  return { id: node.id, address: node.address, role: node.role };
}
