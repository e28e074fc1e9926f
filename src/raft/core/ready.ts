// What the core hands to its driver: the work to do, in the order it must be done.
import type { Entry, HardState, Message, NodeId, Snapshot } from "./types.js";

export type RaftRoleState = "follower" | "candidate" | "leader";

/** Who this node is right now. A node leads at most once per term. */
export interface SoftState {
  state: RaftRoleState;
  term: number;
  /** The leader this node follows (itself when leading), 0n when unknown. */
  leaderId: NodeId;
}

/** Outcomes of requests that do not finish when called. */
export type RaftEvent =
  /** A promotion finished its catch-up rounds; its CHANGE entry is now at `index`. */
  | { type: "promotionAppended"; id: NodeId; index: number; term: number }
  /** A promotion was abandoned: the server was too slow or unreachable (libraft NOCONNECTION). */
  | { type: "promotionAborted"; id: NodeId }
  /** A leadership transfer ended: `succeeded` when the target is now this node's leader. */
  | { type: "transferEnded"; target: NodeId; succeeded: boolean };

/** The driver must send this node's newest snapshot to `to`, in an InstallSnapshot of `term`. */
export interface SnapshotSend {
  to: NodeId;
  term: number;
}

/**
 * One batch of work. The driver does it in this order:
 *   1. `hardState`: persist it durably (fsync) before anything else of this batch leaves the node.
 *   2. `snapshot`: persist it replacing the whole log, restore the FSM from it, then call
 *      `persisted(snapshot.meta.index, snapshot.meta.term)`.
 *   3. `truncateFromIndex` then `entries`: queue one disk write (delete entries from that index,
 *      append these). Writes complete in the order they were queued; when a write is durable call
 *      `persisted(lastEntry.index, lastEntry.term)`. Never wait for it before step 4.
 *   4. `messages` and `snapshotSends`: send now (the leader's AppendEntries overlap its own fsync;
 *      followers' acknowledgements only appear once their entries are durable).
 *   5. `committed`: apply to the FSM in order (COMMAND to the FSM; BARRIER and CHANGE complete
 *      the requests waiting on that index).
 * `soft` and `events` are notifications. Pending requests of a term end when `soft` shows this
 * node is no longer leader of that term ("leadership lost").
 */
export interface Ready {
  hardState?: HardState;
  snapshot?: Snapshot;
  truncateFromIndex?: number;
  entries: Entry[];
  messages: Message[];
  snapshotSends: SnapshotSend[];
  committed: Entry[];
  soft?: SoftState;
  events: RaftEvent[];
}
