// The logging interface every layer above raft takes, client and server alike: pino's
// `(fields, message)` call shape, so a pino logger can be passed as it is. Quiet unless asked.

/** One log method: structured fields, then the message. */
export type LogFn = (fields: Record<string, unknown>, message: string) => void;

export interface Logger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
}

/** A level of the Logger, e.g. for SQL tracing. */
export type LogLevel = keyof Logger;

const nothing: LogFn = () => {};

/** The default: logs nothing, like go-dqlite's DefaultLogFunc. */
export const silentLogger: Logger = {
  debug: nothing,
  info: nothing,
  warn: nothing,
  error: nothing,
};

const LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

/** Checks a level given from outside. */
export function checkLogLevel(level: unknown, what: string): LogLevel {
  if (!LEVELS.includes(level as LogLevel)) {
    throw new RangeError(`${what} must be one of ${LEVELS.join(", ")}, got ${String(level)}`);
  }
  return level as LogLevel;
}
