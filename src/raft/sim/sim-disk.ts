// A simulated disk for one node. Hard state writes are synchronous (libraft fsyncs metadata
// before acting on a term or a vote). Entry writes and snapshot installs queue in order and
// complete after a latency; a crash keeps every completed write, a random prefix of the queued
// ones, and possibly a torn part (truncation plus a prefix of entries) of the next one.
import type { LoadedState } from "../core/options.js";
import type { Entry, HardState, Message, Snapshot } from "../core/types.js";
import { fillFromStoredLog, needsStoredData } from "../node/stored-data.js";
import type { Prng } from "./prng.js";

type DiskOp =
  | { kind: "write"; truncateFromIndex: number | undefined; entries: Entry[]; doneAtMs: number }
  | { kind: "install"; snapshot: Snapshot; doneAtMs: number };

export type CompletedOp =
  | { kind: "write"; lastIndex: number; lastTerm: number }
  | { kind: "install"; snapshot: Snapshot };

export class SimDisk {
  hardState: HardState = { term: 0, votedFor: 0n };
  snapshot: Snapshot | undefined;
  /** Durable entries, contiguous. */
  entries: Entry[] = [];
  #queue: DiskOp[] = [];
  /** How many writes reached the disk (the simulator's fsync count). */
  syncCount = 0;

  get pendingCount(): number {
    return this.#queue.length;
  }

  setHardState(hardState: HardState): void {
    this.hardState = { ...hardState };
  }

  /** Queues a write; returns when it will be durable. */
  queueWrite(truncateFromIndex: number | undefined, entries: Entry[], doneAtMs: number): number {
    const at = this.#after(doneAtMs);
    this.#queue.push({ kind: "write", truncateFromIndex, entries, doneAtMs: at });
    return at;
  }

  /** Queues a snapshot install (it replaces the log); returns when it will be durable. */
  queueInstall(snapshot: Snapshot, doneAtMs: number): number {
    const at = this.#after(doneAtMs);
    this.#queue.push({ kind: "install", snapshot, doneAtMs: at });
    return at;
  }

  /** Writes complete in order: never before the one queued ahead of them. */
  #after(doneAtMs: number): number {
    const last = this.#queue[this.#queue.length - 1];
    return last === undefined ? doneAtMs : Math.max(doneAtMs, last.doneAtMs);
  }

  /** Time the next queued write completes, if any. */
  get nextDoneAtMs(): number | undefined {
    return this.#queue[0]?.doneAtMs;
  }

  /** Completes every write due by `nowMs` (at most `maxOps` of them), in order. */
  completeDue(nowMs: number, maxOps = Number.POSITIVE_INFINITY): CompletedOp[] {
    const done: CompletedOp[] = [];
    for (
      let ops = 0;
      ops < maxOps && this.#queue.length > 0 && this.#queue[0].doneAtMs <= nowMs;
      ops++
    ) {
      const op = this.#queue.shift()!;
      this.#apply(op, op.kind === "write" ? op.entries.length : 0);
      if (op.kind === "write") {
        if (op.entries.length > 0) {
          const last = op.entries[op.entries.length - 1];
          done.push({ kind: "write", lastIndex: last.index, lastTerm: last.term });
        }
      } else {
        done.push({ kind: "install", snapshot: op.snapshot });
      }
    }
    return done;
  }

  #apply(op: DiskOp, entryCount: number): void {
    this.syncCount++;
    if (op.kind === "install") {
      this.snapshot = op.snapshot;
      this.entries = [];
      return;
    }
    if (op.truncateFromIndex !== undefined) {
      const keep = this.entries.findIndex((e) => e.index >= op.truncateFromIndex!);
      if (keep >= 0) this.entries.length = keep;
    }
    for (const entry of op.entries.slice(0, entryCount)) {
      const last = this.entries[this.entries.length - 1];
      const expected = last === undefined ? entry.index : last.index + 1;
      if (entry.index < expected) {
        this.entries.length = this.entries.findIndex((e) => e.index >= entry.index);
      } else if (entry.index > expected) {
        throw new Error(`disk gap: ${entry.index} after ${last?.index}`);
      }
      this.entries.push(entry);
    }
  }

  /**
   * `message` with its stand-ins' data read from this disk's durable entries (as the driver reads
   * its storage), or null when they are gone (compacted behind a snapshot): the message is lost.
   */
  withStoredData(message: Message): Message | null {
    return needsStoredData(message) ? fillFromStoredLog(message, this.entries) : message;
  }

  /** A local snapshot, written synchronously; entries older than `trailing` behind it go. */
  putSnapshot(snapshot: Snapshot, trailing: number): void {
    this.syncCount++;
    this.snapshot = snapshot;
    const keepFrom = snapshot.meta.index - trailing + 1;
    const first = this.entries.findIndex((e) => e.index >= keepFrom);
    this.entries = first < 0 ? [] : this.entries.slice(first);
  }

  /** Power loss: queued writes are lost except a random prefix, the next one maybe torn. */
  crash(prng: Prng): void {
    const survivors = prng.int(0, this.#queue.length + 1);
    for (let i = 0; i < survivors; i++) {
      const op = this.#queue[i];
      this.#apply(op, op.kind === "write" ? op.entries.length : 0);
    }
    const torn = this.#queue[survivors];
    if (torn !== undefined && torn.kind === "write" && prng.chance(0.5)) {
      this.#apply(torn, prng.int(0, torn.entries.length + 1));
    }
    this.#queue = [];
  }

  /** What a restarting node loads. */
  load(): LoadedState {
    const snapshotIndex = this.snapshot?.meta.index ?? 0;
    const last = this.entries[this.entries.length - 1];
    // Entries that end before the snapshot add nothing to it (they were applied, not synced).
    const entries = last !== undefined && last.index >= snapshotIndex ? [...this.entries] : [];
    return { hardState: { ...this.hardState }, snapshot: this.snapshot?.meta, entries };
  }
}
