// A simulated network: every message gets a random delay (so messages reorder), may be lost or
// duplicated, and is dropped if its link is cut when it would arrive. Links are cut one way at a
// time, so partitions of any shape (symmetric, one-way, overlapping) can be built.
import type { Message, NodeId } from "../core/types.js";
import type { Prng } from "./prng.js";

export interface NetworkConditions {
  lossRate: number;
  duplicateRate: number;
  minDelayMs: number;
  maxDelayMs: number;
}

export const calmNetwork: NetworkConditions = {
  lossRate: 0,
  duplicateRate: 0,
  minDelayMs: 1,
  maxDelayMs: 5,
};

export interface InFlight {
  message: Message;
  deliverAtMs: number;
}

export class SimNetwork {
  conditions: NetworkConditions = { ...calmNetwork };
  #cut = new Set<string>();
  /** Bound on messages in flight: beyond it the network drops (like a full socket buffer). */
  readonly maxInFlight: number;
  inFlightCount = 0;

  constructor(
    private readonly prng: Prng,
    maxInFlight = 100_000,
  ) {
    this.maxInFlight = maxInFlight;
  }

  static #key(from: NodeId, to: NodeId): string {
    return `${from}>${to}`;
  }

  cut(from: NodeId, to: NodeId): void {
    this.#cut.add(SimNetwork.#key(from, to));
  }

  /** Cuts both directions between every node of `a` and every node of `b`. */
  partition(a: readonly NodeId[], b: readonly NodeId[]): void {
    for (const x of a) {
      for (const y of b) {
        this.cut(x, y);
        this.cut(y, x);
      }
    }
  }

  isolate(id: NodeId, all: readonly NodeId[]): void {
    this.partition(
      [id],
      all.filter((other) => other !== id),
    );
  }

  heal(): void {
    this.#cut.clear();
  }

  get partitioned(): boolean {
    return this.#cut.size > 0;
  }

  connected(from: NodeId, to: NodeId): boolean {
    return !this.#cut.has(SimNetwork.#key(from, to));
  }

  /** Deliveries for one message sent now (zero, one or two of them). */
  send(message: Message, nowMs: number): InFlight[] {
    const c = this.conditions;
    if (!this.connected(message.from, message.to)) return [];
    if (this.inFlightCount >= this.maxInFlight || this.prng.chance(c.lossRate)) return [];
    const copies = this.prng.chance(c.duplicateRate) ? 2 : 1;
    const out: InFlight[] = [];
    for (let i = 0; i < copies; i++) {
      out.push({ message, deliverAtMs: nowMs + this.prng.int(c.minDelayMs, c.maxDelayMs + 1) });
    }
    this.inFlightCount += out.length;
    return out;
  }

  /** Called at delivery time: false if the link was cut meanwhile. */
  arrives(flight: InFlight): boolean {
    this.inFlightCount--;
    return this.connected(flight.message.from, flight.message.to);
  }
}
