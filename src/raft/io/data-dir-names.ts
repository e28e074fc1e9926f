// File names of libraft's uv data directory (engine-internals §5.1). Anything else in the
// directory is left alone.

export const TMP_PREFIX = "tmp-";
export const METADATA_NAMES = ["metadata1", "metadata2"] as const;

const CLOSED = /^(\d{1,20})-(\d{1,20})$/;
const OPEN = /^open-(\d{1,20})$/;
const SNAPSHOT = /^snapshot-(\d{1,20})-(\d{1,20})-(\d{1,20})$/;
const SNAPSHOT_META = /^snapshot-(\d{1,20})-(\d{1,20})-(\d{1,20})\.meta$/;

export type SegmentName =
  | { kind: "closed"; name: string; firstIndex: number; lastIndex: number }
  | { kind: "open"; name: string; counter: number };

export interface SnapshotName {
  term: number;
  index: number;
  timestampMs: number;
  /** The data file; the metadata file is this plus ".meta". */
  name: string;
}

/** `%016llu-%016llu`, as libraft 0.15 names closed segments. */
export function closedSegmentName(firstIndex: number, lastIndex: number): string {
  return `${String(firstIndex).padStart(16, "0")}-${String(lastIndex).padStart(16, "0")}`;
}

export function openSegmentName(counter: number): string {
  return `open-${counter}`;
}

export function snapshotName(term: number, index: number, timestampMs: number): string {
  return `snapshot-${term}-${index}-${timestampMs}`;
}

export function metaNameOf(snapshotFile: string): string {
  return `${snapshotFile}.meta`;
}

/** libraft's quarantine name for a corrupt segment. */
export function corruptName(name: string, unixNs: bigint): string {
  return `corrupt-${unixNs}-${name}`;
}

export function parseSegmentName(name: string): SegmentName | null {
  let match = CLOSED.exec(name);
  if (match) {
    const firstIndex = Number(match[1]);
    const lastIndex = Number(match[2]);
    if (!Number.isSafeInteger(lastIndex) || firstIndex < 1 || lastIndex < firstIndex) return null;
    return { kind: "closed", name, firstIndex, lastIndex };
  }
  match = OPEN.exec(name);
  if (match) {
    const counter = Number(match[1]);
    return Number.isSafeInteger(counter) ? { kind: "open", name, counter } : null;
  }
  return null;
}

/** Parses a snapshot data file name, or with `meta` its ".meta" companion. */
export function parseSnapshotName(name: string, meta: boolean): SnapshotName | null {
  const match = (meta ? SNAPSHOT_META : SNAPSHOT).exec(name);
  if (!match) return null;
  const [term, index, timestampMs] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (![term, index, timestampMs].every(Number.isSafeInteger)) return null;
  return { term, index, timestampMs, name: meta ? name.slice(0, -".meta".length) : name };
}

/** Oldest first: closed segments by index, then open segments by counter (libraft's order). */
export function compareSegments(a: SegmentName, b: SegmentName): number {
  if (a.kind !== b.kind) return a.kind === "closed" ? -1 : 1;
  if (a.kind === "open" && b.kind === "open") return a.counter - b.counter;
  if (a.kind === "closed" && b.kind === "closed") {
    return a.firstIndex - b.firstIndex || a.lastIndex - b.lastIndex;
  }
  return 0;
}

/** Oldest first by (term, index, timestamp), libraft's notion of "most recent". */
export function compareSnapshots(a: SnapshotName, b: SnapshotName): number {
  return a.term - b.term || a.index - b.index || a.timestampMs - b.timestampMs;
}
