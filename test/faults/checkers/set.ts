// Set: unique elements are added one per operation, then read back at the end. Every
// acknowledged add must be in the final read; unknown adds may or may not be; failed adds and
// elements nobody added must not be; nothing may be there twice.
import { describeOp, type Op, pairOps } from "../history/history.js";
import type { Anomaly, CheckResult } from "./result.js";

export type SetF = "add" | "read";
/** An added element, or a read's elements (null until it completes). */
export type SetValue = number | readonly number[] | null;
export type SetOp = Op<SetF, SetValue>;

/** Checks a set history against its last acknowledged read. */
export function checkSet(ops: readonly SetOp[]): CheckResult {
  const pairs = pairOps(ops);
  const adds = pairs.filter((p) => p.invoke.f === "add");
  const reads = pairs.filter((p) => p.invoke.f === "read" && p.type === "ok");
  const count = (type: string) => adds.filter((p) => p.type === type).length;
  const stats = { ok: count("ok"), fail: count("fail"), info: count("info"), reads: reads.length };
  const final = reads.reduce<(typeof reads)[number] | undefined>(
    (latest, read) =>
      latest === undefined || read.complete!.index > latest.complete!.index ? read : latest,
    undefined,
  );
  if (final === undefined) {
    return {
      valid: "unknown",
      anomalies: [{ kind: "no-final-read", explanation: "no read succeeded", ops: [] }],
      stats,
    };
  }
  const lastAdd = Math.max(-1, ...adds.map((p) => p.complete?.index ?? Number.POSITIVE_INFINITY));
  if (final.invoke.index < lastAdd && lastAdd !== Number.POSITIVE_INFINITY) {
    throw new Error("the final read must begin after every add completed");
  }
  const anomalies: Anomaly[] = [];
  const elements = final.value as readonly number[];
  const present = new Set(elements);
  if (present.size !== elements.length) {
    const seen = new Set<number>();
    const twice = elements.filter((e) => seen.has(e) || !seen.add(e));
    anomalies.push({
      kind: "duplicated",
      explanation: `elements read more than once: ${JSON.stringify(twice.slice(0, 20))}`,
      ops: [describeOp(final)],
    });
  }
  const added = new Map(adds.map((p) => [p.invoke.value as number, p]));
  for (const pair of adds) {
    if (pair.type === "ok" && !present.has(pair.invoke.value as number)) {
      anomalies.push({
        kind: "lost",
        explanation: `acknowledged add of ${pair.invoke.value} is missing from the final read`,
        ops: [describeOp(pair), `final read #${final.invoke.index} of ${elements.length} elements`],
      });
    }
  }
  for (const element of present) {
    const pair = added.get(element);
    if (pair === undefined) {
      anomalies.push({
        kind: "unexpected",
        explanation: `element ${element} was never added`,
        ops: [`final read #${final.invoke.index}`],
      });
    } else if (pair.type === "fail") {
      anomalies.push({
        kind: "failed-but-present",
        explanation: `add of ${element} failed yet the element is there`,
        ops: [describeOp(pair), `final read #${final.invoke.index}`],
      });
    }
  }
  return { valid: anomalies.length === 0, anomalies, stats };
}
