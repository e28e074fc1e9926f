// What a leader knows about one follower's log, and how fast it may send to it.
//
// Probe: one AppendEntries at a time until a reply shows where the logs match (then Pipeline).
// Pipeline: entries are sent optimistically, `nextIndex` runs ahead of replies; a window bounds
// the messages and bytes in flight so a slow follower never grows the leader's memory.
// Snapshot: an InstallSnapshot is on its way; only heartbeats go out until it is acknowledged
// or `installSnapshotTimeoutMs` passes.
import { invariant } from "./errors.js";

export enum ProgressState {
  Probe = "probe",
  Pipeline = "pipeline",
  Snapshot = "snapshot",
}

export class Progress {
  state = ProgressState.Probe;
  nextIndex: number;
  matchIndex = 0;
  /** Snapshot index being installed (Snapshot state only). */
  snapshotIndex = 0;
  lastSendMs: number;
  snapshotLastSendMs = 0;
  /** Heard from since the last check-quorum round. */
  recentRecv = false;
  /** A probe is out and unanswered: wait for a reply or the next heartbeat. */
  probeSent = false;
  /** Highest index sent in this leadership: replies never confirm more than that. */
  sentIndex = 0;
  /** Pipeline window: last index and size of each message in flight, oldest first. */
  #inflightLast: number[] = [];
  #inflightBytes: number[] = [];
  #inflightHead = 0;
  inflightBytesTotal = 0;

  constructor(lastIndex: number, nowMs: number) {
    this.nextIndex = lastIndex + 1;
    // A fresh progress owes a message right away; back-date the send so the first tick sends.
    this.lastSendMs = nowMs - Number.MAX_SAFE_INTEGER / 2;
  }

  get inflightCount(): number {
    return this.#inflightLast.length - this.#inflightHead;
  }

  /** True when the pipeline window has room for one more message. */
  canSend(maxMessages: number, maxBytes: number): boolean {
    return this.inflightCount < maxMessages && this.inflightBytesTotal < maxBytes;
  }

  addInflight(lastIndex: number, sizeBytes: number): void {
    this.#inflightLast.push(lastIndex);
    this.#inflightBytes.push(sizeBytes);
    this.inflightBytesTotal += sizeBytes;
  }

  /** Frees the window slots of messages whose entries the follower now has. */
  freeInflightUpTo(index: number): void {
    while (this.#inflightHead < this.#inflightLast.length) {
      if (this.#inflightLast[this.#inflightHead] > index) break;
      this.inflightBytesTotal -= this.#inflightBytes[this.#inflightHead];
      this.#inflightHead++;
    }
    if (this.#inflightHead === this.#inflightLast.length) {
      this.#inflightLast = [];
      this.#inflightBytes = [];
      this.#inflightHead = 0;
      this.inflightBytesTotal = 0;
    } else if (this.#inflightHead > 64 && this.#inflightHead > this.#inflightLast.length / 2) {
      this.#inflightLast = this.#inflightLast.slice(this.#inflightHead);
      this.#inflightBytes = this.#inflightBytes.slice(this.#inflightHead);
      this.#inflightHead = 0;
    }
  }

  #clearInflight(): void {
    this.#inflightLast = [];
    this.#inflightBytes = [];
    this.#inflightHead = 0;
    this.inflightBytesTotal = 0;
  }

  toProbe(): void {
    if (this.state === ProgressState.Snapshot) {
      this.nextIndex = Math.max(this.matchIndex + 1, this.snapshotIndex);
      this.snapshotIndex = 0;
    } else {
      this.nextIndex = this.matchIndex + 1;
    }
    this.state = ProgressState.Probe;
    this.probeSent = false;
    this.#clearInflight();
  }

  toPipeline(): void {
    this.state = ProgressState.Pipeline;
    this.probeSent = false;
    this.#clearInflight();
  }

  toSnapshot(snapshotIndex: number, nowMs: number): void {
    this.state = ProgressState.Snapshot;
    this.snapshotIndex = snapshotIndex;
    this.snapshotLastSendMs = nowMs;
    this.probeSent = false;
    this.#clearInflight();
  }

  /** A successful reply up to `index`; false if it taught nothing new. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (index > this.matchIndex) {
      this.matchIndex = index;
      updated = true;
    }
    if (this.nextIndex < index + 1) this.nextIndex = index + 1;
    this.freeInflightUpTo(index);
    return updated;
  }

  /**
   * A rejection of the AppendEntries whose prevLogIndex was `rejected`, with the follower's last
   * index as a hint. Returns true if the progress moved back and a new probe should go out.
   */
  maybeDecrement(rejected: number, hintLastIndex: number): boolean {
    switch (this.state) {
      case ProgressState.Snapshot:
        // Only the snapshot's own failure counts; heartbeats are rejected while it installs.
        if (rejected !== this.snapshotIndex) return false;
        this.toProbe();
        return true;
      case ProgressState.Pipeline:
        if (rejected <= this.matchIndex) return false;
        this.toProbe();
        this.nextIndex = Math.max(this.matchIndex + 1, Math.min(rejected, hintLastIndex + 1));
        return true;
      case ProgressState.Probe:
        if (rejected !== this.nextIndex - 1) return false;
        this.nextIndex = Math.max(this.matchIndex + 1, Math.min(rejected, hintLastIndex + 1), 1);
        this.probeSent = false;
        return true;
    }
    invariant(false, "unknown progress state");
  }
}
