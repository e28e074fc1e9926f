// Elections as libraft 0.15 runs them: pre-vote (term + 1, nothing persisted, replies echo the
// request's term), "has leader" stickiness (a node that knows a leader refuses any RequestVote
// without disruptLeader, before looking at its term), TimeoutNow for leadership transfer.
import { voterCount } from "./configuration.js";
import { becomeLeader } from "./leader.js";
import type { NodeState } from "./node-state.js";
import type { RequestVote, RequestVoteResult, TimeoutNow } from "./types.js";

/** A follower whose timer fired (or a TimeoutNow target) starts campaigning. */
export function becomeCandidate(node: NodeState, disruptLeader: boolean): void {
  node.role = "candidate";
  node.leader = null;
  node.setLeader(0n);
  node.candidate = {
    preVote: disruptLeader ? false : node.options.preVote,
    disruptLeader,
    granted: new Set(),
  };
  startElection(node);
}

/** Starts (or restarts, on timeout) the current round: pre-vote, or a real vote at term + 1. */
export function startElection(node: NodeState): void {
  const candidate = node.candidate!;
  if (!candidate.preVote) {
    node.term += 1;
    node.votedFor = node.id;
  }
  node.resetElectionTimer();
  candidate.granted = new Set([node.id]);
  if (node.isVoter() && voterCount(node.configuration) === 1) {
    // The only voter: no one to ask. Unlike libraft 0.15 the term is bumped first, so no two
    // leaders ever share a term even when a cluster shrinks to one voter.
    if (candidate.preVote) {
      candidate.preVote = false;
      startElection(node);
      return;
    }
    becomeLeader(node);
    return;
  }
  const term = candidate.preVote ? node.term + 1 : node.term;
  for (const server of node.configuration) {
    if (server.id === node.id || !node.isVoter(server.id)) continue;
    node.send({
      type: "requestVote",
      from: node.id,
      to: server.id,
      term,
      candidateId: node.id,
      lastLogIndex: node.log.lastIndex,
      lastLogTerm: node.log.lastTerm,
      disruptLeader: candidate.disruptLeader,
      preVote: candidate.preVote,
    });
  }
}

export function handleRequestVote(node: NodeState, request: RequestVote): void {
  let granted = false;
  const hasLeader =
    node.role === "leader" ||
    (node.role === "follower" && node.leaderId !== 0n) ||
    node.now() < node.voteGuardUntilMs;
  if (!hasLeader || request.disruptLeader) {
    if (!request.preVote && request.term > node.term) node.bumpTerm(request.term);
    if (request.term >= node.term) granted = grantVote(node, request);
  }
  // A pre-vote answer carries the request's term so a candidate ahead of this node still counts
  // it (libraft). But a refusal because this node's term is higher carries that term, as etcd
  // does: otherwise a node with a higher term and a stale log blocks every election for good
  // (libraft 0.15 candidates adopt such a term too).
  const outdated =
    request.preVote && request.term < node.term && (!hasLeader || request.disruptLeader);
  node.send({
    type: "requestVoteResult",
    from: node.id,
    to: request.from,
    term: request.preVote && !outdated ? request.term : node.term,
    voteGranted: granted,
    preVote: request.preVote,
  });
}

// Unlike libraft 0.15 a server votes whatever its own role: the candidate counts only the votes
// of its own configuration's voters, and a server demoted by an entry the candidate lacks may
// still be a voter there (refusing would deadlock the cluster, as etcd also found).
//
// libraft 0.15 also lets a node with a pending transfer vote for the transfer's target although it
// voted for another candidate in that term: two votes in one term, two leaders (found by the
// random walks). Here one vote per term holds without exception.
function grantVote(node: NodeState, request: RequestVote): boolean {
  if (!request.preVote && node.votedFor !== 0n && node.votedFor !== request.candidateId) {
    return false;
  }
  if (!candidateLogIsUpToDate(node, request)) return false;
  if (!request.preVote) {
    node.votedFor = request.candidateId;
    node.electionStartMs = node.now();
  }
  return true;
}

function candidateLogIsUpToDate(node: NodeState, request: RequestVote): boolean {
  const lastIndex = node.log.lastIndex;
  if (lastIndex === 0) return true;
  const lastTerm = node.log.lastTerm;
  if (request.lastLogTerm !== lastTerm) return request.lastLogTerm > lastTerm;
  return request.lastLogIndex >= lastIndex;
}

export function handleRequestVoteResult(node: NodeState, result: RequestVoteResult): void {
  if (!node.isVoter(result.from) || node.role !== "candidate") return;
  const candidate = node.candidate!;
  if (!candidate.preVote && result.term > node.term) {
    node.bumpTerm(result.term);
    return;
  }
  if (result.term < node.term) return;
  // A reply from the other phase is stale (sent before a restart or before the round changed).
  if (candidate.preVote !== result.preVote) return;
  if (candidate.preVote && result.term > node.term + 1) {
    node.bumpTerm(result.term);
    return;
  }
  if (!result.voteGranted) return;
  candidate.granted.add(result.from);
  let votes = 0;
  for (const id of candidate.granted) if (node.isVoter(id)) votes++;
  if (votes <= voterCount(node.configuration) / 2) return;
  if (candidate.preVote) {
    candidate.preVote = false;
    startElection(node);
  } else {
    becomeLeader(node);
  }
}

export function handleTimeoutNow(node: NodeState, message: TimeoutNow): void {
  if (!node.isVoter() || node.role !== "follower" || node.leaderId !== message.from) return;
  if (message.term < node.term) return;
  if (message.term > node.term) node.bumpTerm(message.term);
  if (message.lastLogIndex !== node.log.lastIndex || message.lastLogTerm !== node.log.lastTerm) {
    return;
  }
  becomeCandidate(node, true);
}
