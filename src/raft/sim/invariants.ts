// Safety properties checked after every simulated step. A violation throws; the simulator adds
// the seed and a trace so one command replays it.
import type { Raft } from "../core/raft.js";
import type { SoftState } from "../core/ready.js";
import type { Entry, NodeId } from "../core/types.js";
import { entryDigest } from "./sim-fsm.js";

export class InvariantViolation extends Error {
  override name = "InvariantViolation";
}

function fail(message: string): never {
  throw new InvariantViolation(message);
}

/** Terms of the entries one node's driver was handed, to check log matching as they arrive. */
export class LogMirror {
  #terms: number[] = [];
  #baseIndex = 0;
  #baseTerm = 0;

  reset(baseIndex: number, baseTerm: number): void {
    this.#terms = [];
    this.#baseIndex = baseIndex;
    this.#baseTerm = baseTerm;
  }

  termAt(index: number): number | undefined {
    if (index === this.#baseIndex) return this.#baseTerm;
    if (index < this.#baseIndex) return undefined;
    return this.#terms[index - this.#baseIndex - 1];
  }

  get lastIndex(): number {
    return this.#baseIndex + this.#terms.length;
  }

  truncate(fromIndex: number): void {
    if (fromIndex <= this.#baseIndex) fail(`truncation at ${fromIndex} below ${this.#baseIndex}`);
    const keep = fromIndex - this.#baseIndex - 1;
    if (keep < this.#terms.length) this.#terms.length = keep;
  }

  append(index: number, term: number): void {
    if (index !== this.lastIndex + 1) fail(`entry ${index} handed out after ${this.lastIndex}`);
    this.#terms.push(term);
  }
}

interface EntryRecord {
  prevTerm: number;
  digest: number;
}

export class InvariantChecker {
  /** term → the one node that led it. */
  readonly leaders = new Map<number, NodeId>();
  /** (index, term) → what that entry is and the term before it: log matching by induction. */
  readonly #entries = new Map<number, EntryRecord>();
  /** index → term of the committed entry there. */
  readonly committedTerms: number[] = [];
  maxCommitted = 0;
  /** index → digest of the entry applied there (by anyone). */
  readonly #applied: number[] = [];
  readonly #commitSeen = new Map<NodeId, number>();

  static #key(index: number, term: number): number {
    if (term >= 2 ** 20) fail(`term ${term} too large for the checker`);
    return index * 2 ** 20 + term;
  }

  /** Election safety, and leader completeness when a node becomes leader. */
  onSoftState(id: NodeId, soft: SoftState, raft: Raft): void {
    if (soft.state !== "leader") return;
    const known = this.leaders.get(soft.term);
    if (known !== undefined && known !== id) {
      fail(`two leaders in term ${soft.term}: ${known} and ${id}`);
    }
    this.leaders.set(soft.term, id);
    for (let index = raft.snapshotIndex + 1; index <= this.maxCommitted; index++) {
      const term = this.committedTerms[index];
      if (term !== undefined && raft.termAt(index) !== term) {
        fail(
          `leader ${id} of term ${soft.term} lacks committed entry ${index}/${term} (has term ${raft.termAt(index)})`,
        );
      }
    }
  }

  /** Log matching: an (index, term) names one entry, always preceded by the same term. */
  onAppend(id: NodeId, mirror: LogMirror, entry: Entry): void {
    const prevTerm = mirror.termAt(entry.index - 1);
    if (prevTerm === undefined) fail(`node ${id}: entry ${entry.index} has no predecessor`);
    mirror.append(entry.index, entry.term);
    const key = InvariantChecker.#key(entry.index, entry.term);
    const digest = entryDigest(entry);
    const known = this.#entries.get(key);
    if (known === undefined) {
      this.#entries.set(key, { prevTerm, digest });
    } else if (known.prevTerm !== prevTerm || known.digest !== digest) {
      fail(
        `log matching: node ${id} holds entry ${entry.index}/${entry.term} after term ${prevTerm}, ` +
          `another node after term ${known.prevTerm} (digests ${digest} vs ${known.digest})`,
      );
    }
  }

  /** Commit safety: nodes never commit different entries at one index; commits only grow. */
  onCommit(id: NodeId, raft: Raft): void {
    const seen = this.#commitSeen.get(id) ?? 0;
    const commit = raft.commitIndex;
    if (commit < seen) fail(`node ${id} commit index went back from ${seen} to ${commit}`);
    for (let index = seen + 1; index <= commit; index++) {
      const term = raft.termAt(index);
      if (term === 0) continue;
      const known = this.committedTerms[index];
      if (known === undefined) this.committedTerms[index] = term;
      else if (known !== term) {
        fail(`node ${id} committed ${index}/${term}, already committed with term ${known}`);
      }
    }
    if (commit > this.maxCommitted) this.maxCommitted = commit;
    this.#commitSeen.set(id, commit);
  }

  /** A restarted node starts counting its commits again from what it loaded. */
  onRestart(id: NodeId, raft: Raft): void {
    this.#commitSeen.set(id, raft.commitIndex);
  }

  /** State-machine safety: every node applies the same entry at each index. */
  onApply(id: NodeId, entry: Entry): void {
    const digest = entryDigest(entry);
    const known = this.#applied[entry.index];
    if (known === undefined) this.#applied[entry.index] = digest;
    else if (known !== digest) fail(`node ${id} applied a different entry at ${entry.index}`);
    const committed = this.committedTerms[entry.index];
    if (committed !== undefined && committed !== entry.term) {
      fail(`node ${id} applied ${entry.index}/${entry.term}, committed term is ${committed}`);
    }
  }

  readonly #fsmStates: number[] = [];

  /** FSM state equality: nodes that applied up to the same index hold the same state. */
  onFsmState(id: NodeId, index: number, hash: number): void {
    const known = this.#fsmStates[index];
    if (known === undefined) this.#fsmStates[index] = hash;
    else if (known !== hash) fail(`node ${id} FSM state at ${index} differs from another node's`);
  }
}
