// The logging interface of the client: pino's `(fields, message)` call shape, so a pino logger
// (or the Node's and App's logger, which has the same shape) can be passed as it is.

/** One log method: structured fields, then the message. */
export type LogFn = (fields: Record<string, unknown>, message: string) => void;

/** Where the client logs (leader search, SQL tracing). */
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
