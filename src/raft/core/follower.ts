// A follower receiving the leader's log: AppendEntries (match, truncate a conflicting tail,
// append) and InstallSnapshot; and its acknowledgements, sent only for durable entries.
//
// Replies follow libraft: a rejection carries `rejected = prevLogIndex` and this node's last
// index as a hint; a success carries the last index both durable here and known to match the
// leader's log (libraft sends its whole stored log, which can overstate the match).
import { invariant } from "./errors.js";
import { maybeCommit } from "./leader.js";
import type { NodeState } from "./node-state.js";
import type { AppendEntries, InstallSnapshot, NodeId } from "./types.js";

function reply(node: NodeState, to: NodeId, rejected: number, lastLogIndex: number): void {
  node.send({
    type: "appendEntriesResult",
    from: node.id,
    to,
    term: node.term,
    rejected,
    lastLogIndex,
  });
}

/** Common to AppendEntries and InstallSnapshot of a term at least ours: follow the sender. */
function followSender(node: NodeState, from: NodeId, term: number): void {
  if (term > node.term) node.bumpTerm(term);
  if (node.role === "candidate") node.becomeFollower();
  invariant(node.role === "follower", `two leaders in term ${term}`);
  node.setLeader(from);
  node.electionStartMs = node.now();
}

export function handleAppendEntries(node: NodeState, message: AppendEntries): void {
  const log = node.log;
  if (message.term < node.term) {
    reply(node, message.from, message.prevLogIndex, log.lastIndex);
    return;
  }
  followSender(node, message.from, message.term);
  const entries = message.entries;
  // While a snapshot is being installed the log is only its point: entries wait for a retry.
  if (node.installing !== null && entries.length > 0) return;

  const prev = message.prevLogIndex;
  if (prev > log.lastIndex) {
    reply(node, message.from, prev, log.lastIndex);
    return;
  }
  const localPrevTerm = log.termAt(prev);
  if (prev > node.commitIndex) {
    if (localPrevTerm !== message.prevLogTerm) {
      reply(node, message.from, prev, log.lastIndex);
      return;
    }
  } else {
    // Committed entries match every later leader's log; a conflict there means raft is broken.
    invariant(
      localPrevTerm === 0 || localPrevTerm === message.prevLogTerm,
      `committed entry ${prev} has term ${localPrevTerm}, leader says ${message.prevLogTerm}`,
    );
  }

  let i = 0;
  for (; i < entries.length; i++) {
    const entry = entries[i];
    const index = prev + 1 + i;
    invariant(entry.index === index, `entry ${entry.index} sent at position of ${index}`);
    if (index <= node.commitIndex) continue;
    const localTerm = log.termAt(index);
    if (localTerm === entry.term) continue;
    if (localTerm !== 0) node.truncateLog(index);
    break;
  }
  for (; i < entries.length; i++) node.appendEntry(entries[i]);

  const matched = prev + entries.length;
  if (matched > node.leaderMatchIndex) node.leaderMatchIndex = matched;
  if (node.installing === null) {
    const commit = Math.min(message.leaderCommit, matched);
    if (commit > node.commitIndex) node.commitIndex = commit;
  }
  if (matched <= node.durableIndex) {
    const ack = Math.min(node.durableIndex, node.leaderMatchIndex);
    node.lastAckIndex = Math.max(node.lastAckIndex, ack);
    reply(node, message.from, 0, ack);
  }
  // Otherwise the acknowledgement goes out once the driver reports the entries durable.
}

export function handleInstallSnapshot(node: NodeState, message: InstallSnapshot): void {
  const meta = message.snapshot.meta;
  if (message.term < node.term) {
    reply(node, message.from, meta.index, node.log.lastIndex);
    return;
  }
  followSender(node, message.from, message.term);
  if (node.installing !== null) return;
  if (meta.index <= node.commitIndex || node.log.termAt(meta.index) === meta.term) {
    // Nothing to install: this node already holds everything up to the snapshot.
    if (meta.index > node.commitIndex) node.commitIndex = meta.index;
    if (meta.index > node.leaderMatchIndex) node.leaderMatchIndex = meta.index;
    reply(node, message.from, 0, meta.index);
    return;
  }
  node.log.restore(meta.index, meta.term);
  node.configurations.reset({
    index: meta.configurationIndex,
    configuration: meta.configuration,
  });
  node.installing = { index: meta.index, term: meta.term };
  node.pendingSnapshot = message.snapshot;
  node.durableIndex = 0;
  node.commitIndex = meta.index;
  node.lastApplied = meta.index;
  node.unstableFrom = meta.index + 1;
  node.truncateFrom = undefined;
  if (meta.index > node.leaderMatchIndex) node.leaderMatchIndex = meta.index;
}

/** The driver made entries (or a snapshot) durable up to `index` of `term`. */
export function handlePersisted(node: NodeState, index: number, term: number): void {
  if (node.installing !== null) {
    // Acknowledgements of writes queued before the snapshot are stale: only its own counts.
    if (index !== node.installing.index || term !== node.installing.term) return;
    node.installing = null;
  } else if (index <= node.durableIndex || node.log.termAt(index) !== term) {
    return;
  }
  node.durableIndex = index;
  if (node.role === "leader") {
    if (index > node.commitIndex) maybeCommit(node);
  } else if (node.role === "follower") node.ackDue = true;
}

/** Acknowledges newly durable entries to the leader (once per ready, however many writes). */
export function flushAcknowledgement(node: NodeState): void {
  if (!node.ackDue) return;
  node.ackDue = false;
  if (node.role !== "follower" || node.leaderId === 0n) return;
  const ack = Math.min(node.durableIndex, node.leaderMatchIndex);
  if (ack <= node.lastAckIndex) return;
  node.lastAckIndex = ack;
  reply(node, node.leaderId, 0, ack);
}
