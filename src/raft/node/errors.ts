// Why a request to a RaftNode failed, beyond the core's own refusals (RaftError).

/** This node stopped being the leader before the request's entry was committed and applied. */
export class LeadershipLostError extends Error {
  override name = "LeadershipLostError";
  constructor(message = "leadership lost before the entry was applied") {
    super(message);
  }
}

/** The node was closed (or had stopped on a fatal error) before the request completed. */
export class NodeClosedError extends Error {
  override name = "NodeClosedError";
  constructor(message = "raft node is closed") {
    super(message);
  }
}

/** Too many requests are waiting; the caller should back off. */
export class TooManyRequestsError extends Error {
  override name = "TooManyRequestsError";
}
