// Requests waiting for their entry to be applied, keyed by index. An entry applied at that index
// with the request's term completes it; any other term means the entry was replaced (its leader
// lost the term), and a lost leadership fails every request of that term.
import { LeadershipLostError } from "./errors.js";

interface Pending {
  term: number;
  resolve: (index: number) => void;
  reject: (error: Error) => void;
}

export class PendingRequests {
  readonly #byIndex = new Map<number, Pending>();
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  get size(): number {
    return this.#byIndex.size;
  }

  get full(): boolean {
    return this.#byIndex.size >= this.#max;
  }

  /** Resolves with the index once the entry (index, term) is applied. */
  wait(index: number, term: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.#byIndex.get(index)?.reject(new LeadershipLostError("entry replaced at the same index"));
      this.#byIndex.set(index, { term, resolve, reject });
    });
  }

  /** An entry was applied: completes the request at its index, if any. */
  applied(index: number, term: number): void {
    const pending = this.#byIndex.get(index);
    if (pending === undefined) return;
    this.#byIndex.delete(index);
    if (pending.term === term) pending.resolve(index);
    else
      pending.reject(new LeadershipLostError(`entry ${index} was replaced by one of term ${term}`));
  }

  /** Fails the requests proposed in terms before `term`. */
  failOlderThan(term: number, error: Error): void {
    for (const [index, pending] of this.#byIndex) {
      if (pending.term >= term) continue;
      this.#byIndex.delete(index);
      pending.reject(error);
    }
  }

  /** This node no longer leads `term`: fails the requests proposed in it (or any, if undefined). */
  failTerm(term: number | undefined, error: Error): void {
    for (const [index, pending] of this.#byIndex) {
      if (term !== undefined && pending.term !== term) continue;
      this.#byIndex.delete(index);
      pending.reject(error);
    }
  }
}
