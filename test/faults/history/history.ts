// Histories of operations in Jepsen's shape: every operation is an :invoke followed (maybe much
// later) by its completion, :ok (it happened), :fail (it certainly did not) or :info (unknown).
import { EdnMap, type EdnValue, kw, toEdn } from "./edn.js";

export type OpType = "invoke" | "ok" | "fail" | "info";

/** One event of a history. `timeNs` counts from the start of the run, as Jepsen's :time. */
export interface Op<F extends string = string, V = unknown> {
  readonly index: number;
  readonly type: OpType;
  readonly f: F;
  readonly value: V;
  readonly process: number;
  readonly timeNs: number;
  /** The node the client sent the operation to (not part of Jepsen's core fields). */
  readonly node?: string;
  /** Why an operation failed or is unknown. */
  readonly error?: string;
}

/** An operation's invocation together with its completion (none when it never completed). */
export interface Completed<F extends string = string, V = unknown> {
  readonly invoke: Op<F, V>;
  readonly complete: Op<F, V> | undefined;
  /** ok / fail / info, with a missing completion counted as info. */
  readonly type: "ok" | "fail" | "info";
  /** The completion's value when ok (reads filled in), else the invocation's. */
  readonly value: V;
}

const MAX_OPS = 2_000_000;

/** Collects a history in order; safe to share among the concurrent clients of one run. */
export class HistoryRecorder<F extends string = string, V = unknown> {
  readonly #ops: Op<F, V>[] = [];
  readonly #pending = new Map<number, Op<F, V>>();
  readonly #startNs = process.hrtime.bigint();

  #now(): number {
    return Number(process.hrtime.bigint() - this.#startNs);
  }

  #push(op: Omit<Op<F, V>, "index" | "timeNs">): Op<F, V> {
    if (this.#ops.length >= MAX_OPS) throw new Error(`history longer than ${MAX_OPS} events`);
    const full: Op<F, V> = { ...op, index: this.#ops.length, timeNs: this.#now() };
    this.#ops.push(full);
    return full;
  }

  /** Records an invocation; a process has at most one operation in flight. */
  invoke(process: number, f: F, value: V, node?: string): Op<F, V> {
    if (this.#pending.has(process)) throw new Error(`process ${process} already has an operation`);
    const op = this.#push({ type: "invoke", f, value, process, node });
    this.#pending.set(process, op);
    return op;
  }

  /** Records the completion of `invoke`. */
  complete(invoke: Op<F, V>, type: "ok" | "fail" | "info", value: V, error?: string): Op<F, V> {
    if (this.#pending.get(invoke.process) !== invoke) {
      throw new Error(`process ${invoke.process} has no such operation in flight`);
    }
    this.#pending.delete(invoke.process);
    return this.#push({
      type,
      f: invoke.f,
      value,
      process: invoke.process,
      node: invoke.node,
      error,
    });
  }

  /** The events so far. */
  get ops(): readonly Op<F, V>[] {
    return this.#ops;
  }
}

/** Pairs every invocation with its completion, in invocation order. */
export function pairOps<F extends string, V>(ops: readonly Op<F, V>[]): Completed<F, V>[] {
  const open = new Map<number, number>();
  const result: { invoke: Op<F, V>; complete: Op<F, V> | undefined }[] = [];
  for (const op of ops) {
    if (op.type === "invoke") {
      if (open.has(op.process))
        throw new Error(`process ${op.process} invoked twice at ${op.index}`);
      open.set(op.process, result.length);
      result.push({ invoke: op, complete: undefined });
    } else {
      const at = open.get(op.process);
      if (at === undefined) throw new Error(`completion without invocation at ${op.index}`);
      open.delete(op.process);
      result[at]!.complete = op;
    }
  }
  return result.map(({ invoke, complete }) => {
    const type = complete?.type === "ok" || complete?.type === "fail" ? complete.type : "info";
    return { invoke, complete, type, value: type === "ok" ? complete!.value : invoke.value };
  });
}

/** Builds a history from [type, process, f, value] tuples (tests), with times = positions. */
export function historyOf<F extends string, V>(
  events: readonly (readonly [OpType, number, F, V])[],
): Op<F, V>[] {
  return events.map(([type, process, f, value], index) => ({
    index,
    type,
    f,
    value,
    process,
    timeNs: index,
  }));
}

/** One Jepsen EDN map per line; `value` turns a workload's value into EDN. */
export function historyToEdn<F extends string, V>(
  ops: readonly Op<F, V>[],
  value: (op: Op<F, V>) => EdnValue,
): string {
  const lines: string[] = [];
  for (const op of ops) {
    const entries: [EdnValue, EdnValue][] = [
      [kw("type"), kw(op.type)],
      [kw("f"), kw(op.f)],
      [kw("value"), value(op)],
      [kw("process"), op.process],
      [kw("time"), op.timeNs],
      [kw("index"), op.index],
    ];
    if (op.node !== undefined) entries.push([kw("node"), op.node]);
    if (op.error !== undefined) entries.push([kw("error"), op.error]);
    lines.push(toEdn(new EdnMap(entries)));
  }
  return lines.length === 0 ? "" : `${lines.join("\n")}\n`;
}

/** A short readable line for an operation pair, for anomaly reports. */
export function describeOp<F extends string, V>(pair: Completed<F, V>): string {
  const end = pair.complete ? `${pair.complete.index}` : "never";
  return `#${pair.invoke.index}..${end} p${pair.invoke.process} ${pair.type} ${pair.invoke.f} ${JSON.stringify(pair.value)}`;
}
