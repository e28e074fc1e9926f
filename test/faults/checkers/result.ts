// What every checker returns: valid or not, and each anomaly with the operations that show it.

/** One anomaly: its kind (Jepsen's names where they exist), why, and the operations involved. */
export interface Anomaly {
  readonly kind: string;
  readonly explanation: string;
  /** The minimal sub-history that shows it, one readable line per operation. */
  readonly ops: readonly string[];
}

export interface CheckResult {
  /** true: no anomaly; false: at least one; "unknown": the search gave up (never a pass). */
  readonly valid: boolean | "unknown";
  readonly anomalies: readonly Anomaly[];
  /** Counts worth printing (operations by type, keys, ...). */
  readonly stats: Readonly<Record<string, number>>;
}

/** A printable report of a check, anomalies first. */
export function formatResult(name: string, result: CheckResult, maxAnomalies = 10): string {
  const stats = Object.entries(result.stats)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const lines = [
    `${name}: ${result.valid === true ? "valid" : result.valid === false ? "INVALID" : "UNKNOWN"} (${stats})`,
  ];
  for (const anomaly of result.anomalies.slice(0, maxAnomalies)) {
    lines.push(`  ${anomaly.kind}: ${anomaly.explanation}`);
    for (const op of anomaly.ops) lines.push(`    ${op}`);
  }
  if (result.anomalies.length > maxAnomalies) {
    lines.push(`  ... and ${result.anomalies.length - maxAnomalies} more anomalies`);
  }
  return lines.join("\n");
}
