// dqlite-demo --verbose logs like go-dqlite's: Go's standard logger (local date and time, then the
// text) with a `<api>: <LEVEL>: ` prefix, one line per message on stderr. Without --verbose it is
// silent, as the Go demo's log function returns early.
import type { Writable } from "node:stream";
import type { Logger } from "../../server/index.js";

const two = (n: number): string => String(n).padStart(2, "0");

/** Go's log.LstdFlags prefix: `2006/01/02 15:04:05 ` in local time. */
export function goLogPrefix(at: Date): string {
  return (
    `${at.getFullYear()}/${two(at.getMonth() + 1)}/${two(at.getDate())} ` +
    `${two(at.getHours())}:${two(at.getMinutes())}:${two(at.getSeconds())} `
  );
}

function fieldText(value: unknown): string {
  if (typeof value === "string") return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  if (typeof value === "bigint") return value.toString();
  if (value instanceof Error) return JSON.stringify(value.message);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** One log line: prefix, `<api>: <LEVEL>: <message>` and the fields as `key=value`. */
export function formatLogLine(
  at: Date,
  api: string,
  level: string,
  message: string,
  fields: Record<string, unknown>,
): string {
  const extra = Object.entries(fields)
    .map(([key, value]) => ` ${key}=${fieldText(value)}`)
    .join("");
  return `${goLogPrefix(at)}${api}: ${level}: ${message}${extra}\n`;
}

/** The demo's logger: lines on `out` when verbose, nothing otherwise. */
export function demoLogger(api: string, verbose: boolean, out: Writable): Logger {
  const at =
    (level: string) =>
    (fields: Record<string, unknown>, message: string): void => {
      if (verbose) out.write(formatLogLine(new Date(), api, level, message, fields));
    };
  return { debug: at("DEBUG"), info: at("INFO"), warn: at("WARN"), error: at("ERROR") };
}
