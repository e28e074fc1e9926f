// The leader: appending its own entries, replicating them (probe / pipeline / snapshot with a
// bounded window), counting acknowledgements into a commit index, check-quorum, heartbeats.
//
// The leader counts itself toward a quorum only for entries durable on its own disk, and only
// commits an entry of its current term by counting (older ones commit with it).

import { voterCount } from "./configuration.js";
import { encodeConfiguration } from "./configuration-codec.js";
import { invariant } from "./errors.js";
import type { NodeState } from "./node-state.js";
import { Progress, ProgressState } from "./progress.js";
import { entrySizeBytes } from "./raft-log.js";
import {
  type AppendEntriesResult,
  type Configuration,
  type Entry,
  EntryType,
  type NodeId,
  RaftRole,
} from "./types.js";

/** The index and term a new entry got. */
export interface Appended {
  index: number;
  term: number;
}

/** Won an election: build a progress per follower and append a no-op so older entries commit. */
export function becomeLeader(node: NodeState): void {
  node.role = "leader";
  node.candidate = null;
  node.setLeader(node.id);
  node.electionStartMs = node.now();
  node.leader = {
    progress: new Map(),
    promotion: null,
    appendTimes: [],
    appendTimesFrom: node.log.lastIndex + 1,
  };
  node.uncommittedBytes = 0;
  for (let index = node.commitIndex + 1; index <= node.log.lastIndex; index++) {
    node.uncommittedBytes += node.log.get(index)?.data.length ?? 0;
  }
  syncProgress(node);
  // raft 0.15 appends nothing here and dqlite 1.11 runs a barrier before serving instead; the
  // no-op (a BARRIER entry, valid for 0.15 followers) commits older entries and configurations
  // at once, which keeps membership changes live after an election.
  if (node.options.barrierOnElection) appendLocal(node, EntryType.Barrier, new Uint8Array(8));
}

/** Keeps one progress per other server of the current configuration. */
export function syncProgress(node: NodeState): void {
  const leader = node.leader!;
  const ids = new Set<NodeId>();
  for (const server of node.configuration) {
    ids.add(server.id);
    if (server.id !== node.id && !leader.progress.has(server.id)) {
      leader.progress.set(server.id, new Progress(node.log.lastIndex, node.now()));
    }
  }
  for (const id of leader.progress.keys()) if (!ids.has(id)) leader.progress.delete(id);
  node.flushDue = true;
}

/** Appends an entry of the current term to the leader's log; it goes out at the next ready(). */
export function appendLocal(node: NodeState, type: EntryType, data: Uint8Array): Appended {
  invariant(node.role === "leader", "only a leader appends its own entries");
  invariant(data.length % 8 === 0, "entry data must be a multiple of 8 bytes");
  const entry: Entry = { term: node.term, index: node.log.lastIndex + 1, type, data };
  node.appendEntry(entry);
  const leader = node.leader!;
  leader.appendTimes[entry.index - leader.appendTimesFrom] = node.now();
  node.uncommittedBytes += data.length;
  if (type === EntryType.Change) syncProgress(node);
  node.flushDue = true;
  return { index: entry.index, term: entry.term };
}

export function appendConfiguration(node: NodeState, configuration: Configuration): Appended {
  return appendLocal(node, EntryType.Change, encodeConfiguration(configuration));
}

function replicates(node: NodeState, id: NodeId): boolean {
  return node.roleOf(id) !== RaftRole.Spare || node.leader!.promotion?.id === id;
}

/** Sends whatever each follower can take now (new entries, a retried probe). */
export function flushReplication(node: NodeState): void {
  for (const [id, progress] of node.leader!.progress) {
    if (replicates(node, id)) replicate(node, id, progress, false);
  }
}

/** On each tick: a message to every follower not sent anything for a heartbeat timeout. */
function heartbeat(node: NodeState): void {
  const now = node.now();
  for (const [id, progress] of node.leader!.progress) {
    if (!replicates(node, id)) continue;
    if (now - progress.lastSendMs >= node.options.heartbeatTimeoutMs) {
      replicate(node, id, progress, true);
    }
  }
}

function replicate(node: NodeState, id: NodeId, p: Progress, heartbeatDue: boolean): void {
  const log = node.log;
  const options = node.options;
  if (p.state === ProgressState.Snapshot) {
    if (node.now() - p.snapshotLastSendMs < options.installSnapshotTimeoutMs) {
      if (heartbeatDue) sendAppend(node, id, p, log.lastIndex, []);
      return;
    }
    p.toProbe();
  }
  const prevIndex = p.nextIndex - 1;
  if (p.nextIndex < log.firstIndex || (prevIndex > 0 && log.termAt(prevIndex) === 0)) {
    invariant(log.snapshotIndex > 0, "entries missing without a snapshot");
    // The entries this follower needs were compacted away: it needs the snapshot, but only
    // if it is alive (recently heard from); otherwise an empty AppendEntries asks it to speak.
    if (p.recentRecv) {
      p.toSnapshot(log.snapshotIndex, node.now());
      p.lastSendMs = node.now();
      p.sentIndex = Math.max(p.sentIndex, log.snapshotIndex);
      node.snapshotSends.push({ to: id, term: node.term });
    } else if (heartbeatDue || !p.probeSent) {
      p.probeSent = true;
      sendAppend(node, id, p, log.lastIndex, []);
    }
    return;
  }
  if (p.state === ProgressState.Probe) {
    if (p.probeSent && !heartbeatDue) return;
    const entries = log.slice(p.nextIndex, log.lastIndex, options.maxAppendBytes);
    p.probeSent = true;
    sendAppend(node, id, p, p.nextIndex - 1, entries);
    return;
  }
  let sent = false;
  while (
    p.nextIndex <= log.lastIndex &&
    p.canSend(options.maxInflightMessages, options.maxInflightBytes)
  ) {
    const entries = log.slice(p.nextIndex, log.lastIndex, options.maxAppendBytes);
    let bytes = 0;
    for (const entry of entries) bytes += entrySizeBytes(entry);
    sendAppend(node, id, p, p.nextIndex - 1, entries);
    p.nextIndex += entries.length;
    p.addInflight(p.nextIndex - 1, bytes);
    sent = true;
  }
  if (!sent && heartbeatDue) sendAppend(node, id, p, p.nextIndex - 1, []);
}

function sendAppend(
  node: NodeState,
  to: NodeId,
  p: Progress,
  prevLogIndex: number,
  entries: Entry[],
): void {
  node.send({
    type: "appendEntries",
    from: node.id,
    to,
    term: node.term,
    prevLogIndex,
    prevLogTerm: node.log.termAt(prevLogIndex),
    leaderCommit: node.commitIndex,
    entries,
  });
  p.lastSendMs = node.now();
  if (entries.length > 0) p.sentIndex = Math.max(p.sentIndex, entries[entries.length - 1].index);
}

/** Handles a follower's AppendEntriesResult (which also answers InstallSnapshot). */
export function handleAppendEntriesResult(
  node: NodeState,
  result: AppendEntriesResult,
  onMatch: (id: NodeId) => void,
): void {
  if (node.role !== "leader") return;
  if (result.term < node.term) return;
  if (result.term > node.term) {
    node.bumpTerm(result.term);
    return;
  }
  const p = node.leader!.progress.get(result.from);
  if (p === undefined) return;
  p.recentRecv = true;
  node.flushDue = true;
  if (result.rejected > 0) {
    p.maybeDecrement(result.rejected, result.lastLogIndex);
    return;
  }
  // Never believe more than was sent: a libraft follower reports its whole stored log, which
  // may hold stale entries past what it matched with us.
  const index = Math.min(result.lastLogIndex, node.log.lastIndex, p.sentIndex);
  const confirmsProbe = index >= p.nextIndex - 1;
  const updated = p.maybeUpdate(index);
  if (p.state === ProgressState.Snapshot) {
    if (p.matchIndex >= p.snapshotIndex) p.toProbe();
  } else if (p.state === ProgressState.Probe && (updated || confirmsProbe)) {
    // A stale success does not answer the probe out there: resending on it would let
    // duplicated replies multiply probes without bound.
    p.toPipeline();
  }
  if (updated) {
    onMatch(result.from);
    if (p.matchIndex > node.commitIndex) maybeCommit(node);
  }
  if (node.role === "leader") maybeSendTimeoutNow(node);
}

const scratchMatches: number[] = [];

/** Advances the commit index to what a majority of voters hold, if it is of the current term. */
export function maybeCommit(node: NodeState): void {
  if (node.role !== "leader") return;
  // Voters' matches sorted high to low by insertion (clusters are small); the one in the middle
  // is held by a majority.
  const matches = scratchMatches;
  let count = 0;
  for (const server of node.configuration) {
    if (server.role !== RaftRole.Voter) continue;
    const match =
      server.id === node.id
        ? node.durableIndex
        : (node.leader!.progress.get(server.id)?.matchIndex ?? 0);
    let i = count++;
    while (i > 0 && matches[i - 1] < match) {
      matches[i] = matches[i - 1];
      i--;
    }
    matches[i] = match;
  }
  if (count === 0) return;
  const quorumIndex = matches[Math.floor(count / 2)];
  if (quorumIndex <= node.commitIndex || node.log.termAt(quorumIndex) !== node.term) return;
  for (let index = node.commitIndex + 1; index <= quorumIndex; index++) {
    node.uncommittedBytes -= node.log.get(index)!.data.length;
  }
  node.commitIndex = quorumIndex;
  node.flushDue = true;
  pruneAppendTimes(node);
  // A leader removed or demoted by a configuration now committed hands over (libraft: on apply).
  if (node.configurations.current.index <= node.commitIndex && !node.isVoter()) {
    node.becomeFollower();
  }
}

// Append times below the commit index can never be the lease's quorum time (a majority holds
// at least the commit index), so they are dropped: the array stays as long as the uncommitted
// tail plus what lagging followers have not acknowledged since the last commit.
function pruneAppendTimes(node: NodeState): void {
  const leader = node.leader!;
  const drop = Math.min(node.commitIndex, node.log.lastIndex) - leader.appendTimesFrom;
  if (drop <= 0) return;
  leader.appendTimes.splice(0, drop);
  leader.appendTimesFrom += drop;
}

/**
 * Until when this leader may serve reads from its own state without asking a quorum (-Infinity:
 * not now). A voter that acknowledged an entry appended at time t heard from this leader at t or
 * later, and refuses votes for an election timeout after that; so no other leader can exist
 * before the quorum's oldest such t plus an election timeout. A margin of a tenth covers clock
 * rate differences. Never during a leadership transfer (its target ignores that promise).
 */
export function readLeaseUntilMs(node: NodeState): number {
  if (node.role !== "leader" || node.transfer !== null) return Number.NEGATIVE_INFINITY;
  const leader = node.leader!;
  const times = scratchMatches;
  let count = 0;
  for (const server of node.configuration) {
    if (server.role !== RaftRole.Voter) continue;
    let time = Number.NEGATIVE_INFINITY;
    if (server.id === node.id) time = Number.POSITIVE_INFINITY;
    else {
      const match = leader.progress.get(server.id)?.matchIndex ?? 0;
      if (match >= leader.appendTimesFrom) {
        time = leader.appendTimes[match - leader.appendTimesFrom] ?? Number.NEGATIVE_INFINITY;
      }
    }
    let i = count++;
    while (i > 0 && times[i - 1] < time) {
      times[i] = times[i - 1];
      i--;
    }
    times[i] = time;
  }
  if (count === 0) return Number.NEGATIVE_INFINITY;
  return times[Math.floor(count / 2)] + node.options.electionTimeoutMs * 0.9;
}

/** Sends TimeoutNow to the transfer target once it holds the whole log. */
export function maybeSendTimeoutNow(node: NodeState): void {
  const transfer = node.transfer;
  if (transfer === null || node.role !== "leader") return;
  const p = node.leader!.progress.get(transfer.target);
  if (p === undefined || p.matchIndex !== node.log.lastIndex) return;
  const now = node.now();
  if (now - transfer.lastSentMs < node.options.heartbeatTimeoutMs) return;
  transfer.lastSentMs = now;
  node.send({
    type: "timeoutNow",
    from: node.id,
    to: transfer.target,
    term: node.term,
    lastLogIndex: node.log.lastIndex,
    lastLogTerm: node.log.lastTerm,
  });
}

/** The leader's tick: check-quorum once per election timeout, then heartbeats. */
export function tickLeader(node: NodeState): void {
  const now = node.now();
  const leader = node.leader!;
  if (now - node.electionStartMs >= node.options.electionTimeoutMs) {
    let contacts = 0;
    for (const server of node.configuration) {
      const p = leader.progress.get(server.id);
      const recent = p?.recentRecv ?? false;
      if (p !== undefined) p.recentRecv = false;
      if (server.role === RaftRole.Voter && (recent || server.id === node.id)) contacts++;
    }
    if (contacts <= voterCount(node.configuration) / 2) {
      node.becomeFollower();
      return;
    }
    node.electionStartMs = now;
  }
  heartbeat(node);
  maybeSendTimeoutNow(node);
}
