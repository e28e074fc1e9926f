// Linearizability of a register per key (Jepsen's independent keys): the Wing & Gong search with
// Lowe's memoization, as Porcupine does it. Calls and returns form a linked list; the search
// linearizes a call whose effect the model accepts, lifts it out, and backtracks on reaching a
// return it has not linearized; a cache of (linearized set, state) pairs prunes repeats.
import { type Completed, describeOp, type Op, pairOps } from "../history/history.js";
import type { Anomaly, CheckResult } from "./result.js";

export type RegisterF = "read" | "write" | "cas";
/** [key, read value | written value | [expected, new]]; a read's invoke carries null. */
export type RegisterValue = readonly [number, number | null | readonly [number, number]];
export type RegisterOp = Op<RegisterF, RegisterValue>;

export interface RegisterOptions {
  /** Search steps per key before giving up with "unknown". */
  maxSteps?: number;
  /** Operations printed for a non-linearizable prefix. */
  maxPrintedOps?: number;
}

type State = number | null;

interface Call {
  readonly id: number;
  readonly pair: Completed<RegisterF, RegisterValue>;
  /** Acknowledged: must be linearized. Unknown ones may or may not have happened. */
  readonly ok: boolean;
  readonly callAt: number;
  readonly returnAt: number;
}

interface Entry {
  readonly call: Call;
  readonly isCall: boolean;
  prev: Entry | null;
  next: Entry | null;
  match: Entry | null;
}

/** What happens to `state` when `call` takes effect, or undefined if it cannot have. */
function step(state: State, call: Call): State | undefined {
  const [, payload] = call.pair.value;
  switch (call.pair.invoke.f) {
    case "read":
      return payload === state ? state : undefined;
    case "write":
      return payload as number;
    case "cas": {
      const [expected, next] = payload as readonly [number, number];
      return state === expected ? next : undefined;
    }
  }
}

type Outcome = "linearizable" | "not-linearizable" | "unknown";

/** Porcupine's search over one key's calls; true when some order explains them all. */
function search(calls: readonly Call[], maxSteps: number): Outcome {
  const events: Entry[] = [];
  for (const call of calls) {
    const start: Entry = { call, isCall: true, prev: null, next: null, match: null };
    const end: Entry = { call, isCall: false, prev: null, next: null, match: null };
    start.match = end;
    events.push(start, end);
  }
  events.sort((a, b) => time(a) - time(b) || Number(a.isCall) - Number(b.isCall));
  const head: Entry = { call: calls[0]!, isCall: false, prev: null, next: null, match: null };
  let last = head;
  for (const event of events) {
    last.next = event;
    event.prev = last;
    last = event;
  }
  const words = new Uint32Array(Math.ceil(calls.length / 32) + 1);
  const cache = new Set<string>();
  const stack: { entry: Entry; state: State }[] = [];
  let state: State = null;
  let remaining = calls.filter((c) => c.ok).length;
  let entry = head.next;
  for (let steps = 0; remaining > 0; steps++) {
    if (steps >= maxSteps) return "unknown";
    if (entry === null) throw new Error("register search ran off the end of the history");
    if (entry.isCall) {
      const next = step(state, entry.call);
      if (next !== undefined) {
        const id = entry.call.id;
        words[id >>> 5]! |= 1 << (id & 31);
        const key = `${words.join(",")}|${next}`;
        if (!cache.has(key)) {
          cache.add(key);
          stack.push({ entry, state });
          state = next;
          if (entry.call.ok) remaining--;
          lift(entry);
          entry = head.next;
          continue;
        }
        words[id >>> 5]! &= ~(1 << (id & 31));
      }
      entry = entry.next;
      continue;
    }
    const top = stack.pop();
    if (top === undefined) return "not-linearizable";
    const id = top.entry.call.id;
    words[id >>> 5]! &= ~(1 << (id & 31));
    state = top.state;
    if (top.entry.call.ok) remaining++;
    unlift(top.entry);
    entry = top.entry.next;
  }
  return "linearizable";
}

function time(entry: Entry): number {
  return entry.isCall ? entry.call.callAt : entry.call.returnAt;
}

function lift(entry: Entry): void {
  entry.prev!.next = entry.next;
  entry.next!.prev = entry.prev;
  const match = entry.match!;
  match.prev!.next = match.next;
  if (match.next) match.next.prev = match.prev;
}

function unlift(entry: Entry): void {
  const match = entry.match!;
  match.prev!.next = match;
  if (match.next) match.next.prev = match;
  entry.prev!.next = entry;
  entry.next!.prev = entry;
}

/**
 * The calls of one key as the search sees them: failed operations and unknown reads dropped
 * (they changed nothing), unknown writes pending forever. Only operations invoked before
 * `cutoff` count; those not completed by then are pending too.
 */
function callsOf(pairs: readonly Completed<RegisterF, RegisterValue>[], cutoff: number): Call[] {
  const calls: Call[] = [];
  for (const pair of pairs) {
    if (pair.invoke.index >= cutoff || pair.type === "fail") continue;
    const done = pair.type === "ok" && pair.complete!.index < cutoff;
    if (!done && pair.invoke.f === "read") continue;
    calls.push({
      id: calls.length,
      pair,
      ok: done,
      callAt: pair.invoke.index,
      returnAt: done ? pair.complete!.index : Number.POSITIVE_INFINITY,
    });
  }
  return calls;
}

/** Checks every key of a register history for linearizability. */
export function checkRegister(
  ops: readonly RegisterOp[],
  options: RegisterOptions = {},
): CheckResult {
  const maxSteps = options.maxSteps ?? 5_000_000;
  const maxPrinted = options.maxPrintedOps ?? 20;
  const byKey = new Map<number, Completed<RegisterF, RegisterValue>[]>();
  for (const pair of pairOps(ops)) {
    const key = pair.invoke.value[0];
    const list = byKey.get(key) ?? [];
    list.push(pair);
    byKey.set(key, list);
  }
  const anomalies: Anomaly[] = [];
  let unknown = 0;
  for (const [key, pairs] of byKey) {
    const all = callsOf(pairs, Number.POSITIVE_INFINITY);
    if (all.length === 0) continue;
    const outcome = search(all, maxSteps);
    if (outcome === "unknown") {
      unknown++;
      continue;
    }
    if (outcome === "linearizable") continue;
    // Non-linearizable prefixes stay so when extended: find the shortest by binary search.
    const cutoffs = [...new Set(pairs.flatMap((p) => [p.invoke.index, p.complete?.index ?? -1]))]
      .filter((i) => i >= 0)
      .sort((a, b) => a - b)
      .map((i) => i + 1);
    let low = 0;
    let high = cutoffs.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      const calls = callsOf(pairs, cutoffs[middle]!);
      if (calls.length > 0 && search(calls, maxSteps) === "not-linearizable") high = middle;
      else low = middle + 1;
    }
    const prefix = pairs.filter((p) => p.invoke.index < cutoffs[low]!);
    const shown = prefix.slice(-maxPrinted).map((p) => describeOp(p));
    if (prefix.length > maxPrinted)
      shown.unshift(`... ${prefix.length - maxPrinted} earlier operations`);
    anomalies.push({
      kind: "non-linearizable",
      explanation: `key ${key}: no order of the ${prefix.length} operations up to event ${cutoffs[low]! - 1} explains their results`,
      ops: shown,
    });
  }
  const count = (type: string) => [...byKey.values()].flat().filter((p) => p.type === type).length;
  return {
    valid: anomalies.length > 0 ? false : unknown > 0 ? "unknown" : true,
    anomalies,
    stats: {
      keys: byKey.size,
      ok: count("ok"),
      fail: count("fail"),
      info: count("info"),
      unknownKeys: unknown,
    },
  };
}
