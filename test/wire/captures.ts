// Reads the captured dqlite conversations under test/fixtures (format: wire-captures/README.md).
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";

export const WIRE_CAPTURES_DIR = "test/fixtures/wire-captures";
export const RAFT_CAPTURES_DIR = "test/fixtures/raft-captures";

export interface CaptureLine {
  direction: "C" | "S";
  bytes: Uint8Array;
}

export interface Capture {
  name: string;
  path: string;
  /** Every message line, in wire order. */
  lines: CaptureLine[];
  /**
   * How many leading lines are dqlite client protocol (all of them for client conversations;
   * the handshake and CONNECT of a raft stream; 0 for HTTP).
   */
  clientProtocolLines: number;
  /** The message descriptions of the .txt decoding, aligned with `lines` (text after `len=N `). */
  descriptions: string[];
}

const HANDSHAKE_HEX = new Set(["0100000000000000", "e53f4360d74d1086"]);

export function hexToBytes(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, "hex"));
}

export function bytesToHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");
}

/** Every capture file of both fixture folders, dqlite or not. */
export function listCaptures(): Capture[] {
  const files = [
    ...readdirSync(WIRE_CAPTURES_DIR).map((name) => join(WIRE_CAPTURES_DIR, name)),
    ...readdirSync(RAFT_CAPTURES_DIR).map((name) => join(RAFT_CAPTURES_DIR, name)),
  ];
  return files
    .filter((path) => path.endsWith(".hex"))
    .sort()
    .map(loadCapture);
}

/** The captures that hold client-protocol messages. */
export function dqliteCaptures(): Capture[] {
  return listCaptures().filter((capture) => capture.clientProtocolLines > 0);
}

export function loadCapture(path: string): Capture {
  const lines: CaptureLine[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const match = /^([CS]) ([0-9a-f]*)$/.exec(line);
    if (match === null) throw new Error(`${path}: unexpected line ${line.slice(0, 40)}`);
    lines.push({ direction: match[1] as "C" | "S", bytes: hexToBytes(match[2]) });
  }
  return {
    name: basename(path, ".hex"),
    path,
    lines,
    clientProtocolLines: countClientProtocolLines(lines),
    descriptions: readDescriptions(path.replace(/\.hex$/, ".txt")),
  };
}

// Decided by content: a dqlite stream opens with the handshake word as its own client line; a
// raft stream continues with a CONNECT request (type 11), after which raft owns the bytes.
function countClientProtocolLines(lines: CaptureLine[]): number {
  const first = lines[0];
  if (first?.direction !== "C" || !HANDSHAKE_HEX.has(bytesToHex(first.bytes))) return 0;
  const connectAt = lines.findIndex(
    (line) => line.direction === "C" && line.bytes.length >= 8 && line.bytes[4] === 11,
  );
  return connectAt < 0 ? lines.length : connectAt + 1;
}

function readDescriptions(path: string): string[] {
  const descriptions: string[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line.startsWith("      ")) {
      descriptions[descriptions.length - 1] += `\n${line}`;
      continue;
    }
    const match = /^[CS] t=\S+ len=\d+ (.*)$/.exec(line);
    if (match !== null) descriptions.push(match[1]);
  }
  return descriptions;
}
