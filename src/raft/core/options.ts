// Options of the raft core, their defaults (dqlite's where dqlite sets one) and their checks.
import type { Entry, HardState, NodeId, SnapshotMeta } from "./types.js";

/** What the driver loaded from disk before starting the core. */
export interface LoadedState {
  hardState: HardState;
  /** The newest snapshot on disk, if any (its data stays with the driver and the FSM). */
  snapshot?: SnapshotMeta;
  /** Entries on disk in index order; the first may be at or below the snapshot's index. */
  entries: readonly Entry[];
}

export interface RaftOptions {
  /** This server's id. */
  id: NodeId;
  /** Durable state as loaded from disk (empty for a fresh node). */
  loaded: LoadedState;
  /** Monotonic clock in milliseconds. The simulator passes a virtual one. */
  now: () => number;
  /** An integer in [minInclusive, maxExclusive): the only source of randomness. */
  random: (minInclusive: number, maxExclusive: number) => number;
  /** Election timeout; each follower waits a random time in [this, 2×this). Default 3000. */
  electionTimeoutMs?: number;
  /** Heartbeat timeout: also the period at which the driver should call `tick`. Default 500. */
  heartbeatTimeoutMs?: number;
  /** After this long without an answer an InstallSnapshot is retried. Default 30000. */
  installSnapshotTimeoutMs?: number;
  /** Run a pre-vote round before each election (dqlite turns it on). Default true. */
  preVote?: boolean;
  /**
   * A new leader appends a BARRIER entry so entries of earlier terms commit at once (libraft
   * 0.18+; 0.15 does not, dqlite 1.11 barriers before serving instead). Default true.
   */
  barrierOnElection?: boolean;
  /**
   * Refuse votes for one election timeout after start, as if a leader were known (default off,
   * as libraft). A leader's read lease relies on voters keeping that promise across restarts.
   */
  voteGuardOnStart?: boolean;
  /** Catch-up rounds allowed before a promotion to voter is abandoned. Default 100. */
  maxCatchUpRounds?: number;
  /** A catch-up round longer than this abandons the promotion. Default 50000. */
  maxCatchUpRoundDurationMs?: number;
  /** Entries kept in memory behind a snapshot (to feed slow followers). Default 8192. */
  snapshotTrailing?: number;
  /**
   * ...and at most this many bytes of their data (a follower further behind is sent the
   * snapshot). libraft bounds only the count, so 8192 entries of 20 KiB pin 160 MiB. Default
   * 32 MiB (the whole 8192 of one-page transactions).
   */
  snapshotTrailingBytes?: number;
  /**
   * Data of applied, durable commands kept in memory, newest first; older ones keep only index,
   * term and size, and the driver reads their data back from storage when a follower needs it
   * (a leader's message then carries stand-ins: see `isDataDropped`). Default: no limit, as
   * libraft, which keeps every entry since the snapshot, and its trailing ones, in memory.
   */
  logDataInMemoryBytes?: number;
  /** AppendEntries messages in flight per follower while pipelining. Default 128. */
  maxInflightMessages?: number;
  /** Entry bytes in flight per follower while pipelining. Default 32 MiB. */
  maxInflightBytes?: number;
  /**
   * Entry bytes (data + 16-byte headers) in one AppendEntries; one entry always fits. Default
   * 4 MiB, which also keeps the header under the 4 MiB that newer dqlite receivers accept.
   */
  maxAppendBytes?: number;
  /** Entry bytes of committed entries handed out by one `ready()`. Default 64 MiB. */
  maxCommittedBytesPerReady?: number;
  /**
   * A leader refuses proposals ("busy") while this many bytes of entries wait to commit (a
   * leader cut off from its followers would otherwise grow without bound). One proposal is always
   * accepted when nothing waits. Default 256 MiB.
   */
  maxUncommittedBytes?: number;
}

export type ResolvedOptions = Required<Omit<RaftOptions, "loaded">>;

export function resolveOptions(options: RaftOptions): ResolvedOptions {
  const resolved: ResolvedOptions = {
    id: options.id,
    now: options.now,
    random: options.random,
    electionTimeoutMs: options.electionTimeoutMs ?? 3000,
    heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 500,
    installSnapshotTimeoutMs: options.installSnapshotTimeoutMs ?? 30000,
    preVote: options.preVote ?? true,
    barrierOnElection: options.barrierOnElection ?? true,
    voteGuardOnStart: options.voteGuardOnStart ?? false,
    maxCatchUpRounds: options.maxCatchUpRounds ?? 100,
    maxCatchUpRoundDurationMs: options.maxCatchUpRoundDurationMs ?? 50000,
    snapshotTrailing: options.snapshotTrailing ?? 8192,
    snapshotTrailingBytes: options.snapshotTrailingBytes ?? 32 * 1024 * 1024,
    logDataInMemoryBytes: options.logDataInMemoryBytes ?? Number.POSITIVE_INFINITY,
    maxInflightMessages: options.maxInflightMessages ?? 128,
    maxInflightBytes: options.maxInflightBytes ?? 32 * 1024 * 1024,
    maxAppendBytes: options.maxAppendBytes ?? 4 * 1024 * 1024,
    maxCommittedBytesPerReady: options.maxCommittedBytesPerReady ?? 64 * 1024 * 1024,
    maxUncommittedBytes: options.maxUncommittedBytes ?? 256 * 1024 * 1024,
  };
  if (resolved.id <= 0n || resolved.id >= 1n << 64n) {
    throw new RangeError(`server id must be a non-zero u64, got ${resolved.id}`);
  }
  if (!(resolved.heartbeatTimeoutMs > 0)) throw new RangeError("heartbeatTimeoutMs must be > 0");
  if (!(resolved.electionTimeoutMs > resolved.heartbeatTimeoutMs)) {
    throw new RangeError("electionTimeoutMs must exceed heartbeatTimeoutMs");
  }
  for (const key of [
    "installSnapshotTimeoutMs",
    "maxCatchUpRounds",
    "maxCatchUpRoundDurationMs",
    "maxInflightMessages",
    "maxInflightBytes",
    "maxAppendBytes",
    "maxCommittedBytesPerReady",
    "maxUncommittedBytes",
  ] as const) {
    if (!(resolved[key] > 0)) throw new RangeError(`${key} must be > 0`);
  }
  if (!(resolved.snapshotTrailing >= 0)) throw new RangeError("snapshotTrailing must be >= 0");
  if (!(resolved.logDataInMemoryBytes >= 0)) {
    throw new RangeError("logDataInMemoryBytes must be >= 0");
  }
  if (!(resolved.snapshotTrailingBytes >= 0)) {
    throw new RangeError("snapshotTrailingBytes must be >= 0");
  }
  return resolved;
}
