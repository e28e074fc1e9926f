// The configurations a node knows, newest last: the one in force at its snapshot (or the
// bootstrap one) followed by every CHANGE entry after it. A configuration takes effect when its
// entry is appended; a truncation that removes the entry reverts to the one before.
import { invariant } from "./errors.js";
import type { Configuration } from "./types.js";

export interface IndexedConfiguration {
  /** Index of the CHANGE entry that carried it (0: none yet). */
  index: number;
  configuration: Configuration;
}

export class ConfigurationHistory {
  #items: IndexedConfiguration[];

  constructor(initial: IndexedConfiguration = { index: 0, configuration: [] }) {
    this.#items = [initial];
  }

  /** The configuration in force: the newest one appended. */
  get current(): IndexedConfiguration {
    return this.#items[this.#items.length - 1];
  }

  append(index: number, configuration: Configuration): void {
    invariant(index > this.current.index, `configuration ${index} not after ${this.current.index}`);
    this.#items.push({ index, configuration });
  }

  /** Forgets configurations carried by entries at `fromIndex` or after; true if `current` changed. */
  truncate(fromIndex: number): boolean {
    let changed = false;
    while (this.#items.length > 1 && this.current.index >= fromIndex) {
      this.#items.pop();
      changed = true;
    }
    invariant(
      this.current.index < fromIndex || fromIndex === 0,
      "truncated the base configuration",
    );
    return changed;
  }

  /** The configuration in force at `index`. */
  at(index: number): IndexedConfiguration {
    for (let i = this.#items.length - 1; i >= 0; i--) {
      if (this.#items[i].index <= index) return this.#items[i];
    }
    invariant(false, `no configuration known at index ${index}`);
  }

  /** Drops what no snapshot at `index` or later can need. */
  forgetBefore(index: number): void {
    let keep = 0;
    while (keep + 1 < this.#items.length && this.#items[keep + 1].index <= index) keep++;
    if (keep > 0) this.#items = this.#items.slice(keep);
  }

  /** Starts over from a snapshot's configuration. */
  reset(initial: IndexedConfiguration): void {
    this.#items = [initial];
  }
}
