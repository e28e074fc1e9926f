// Reads the captured raft streams under test/fixtures/raft-captures (one message per "C" line).
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

export const CAPTURES_DIR = new URL("../../fixtures/raft-captures/", import.meta.url).pathname;

export interface CapturedStream {
  name: string;
  /** Every client-to-server message of the connection, in order. */
  messages: Uint8Array[];
}

export function raftCaptures(): CapturedStream[] {
  return readdirSync(CAPTURES_DIR)
    .filter((name) => name.startsWith("raft-") && name.endsWith(".hex"))
    .map((name) => ({ name, messages: readCapture(join(CAPTURES_DIR, name)) }));
}

function readCapture(path: string): Uint8Array[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((line) => line.startsWith("C "))
    .map((line) => Uint8Array.from(Buffer.from(line.slice(2).trim(), "hex")));
}
