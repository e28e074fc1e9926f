// SQL tracing, go-dqlite's WithTracing: one log line per request that runs SQL, after its answer
// (or failure), with the time it took. The message is go-dqlite's (`0.002s request exec: "..."`);
// the fields carry the same facts for structured logs.
import type { Logger, LogLevel } from "../log/logger.js";

/** Which request ran: Prepare, ExecSQL/Exec, QuerySQL/Query (up to the first Rows message). */
export type TracedRequest = "prepared" | "exec" | "query";

/** Called by a session after each traced request. */
export type SqlTracer = (
  request: TracedRequest,
  sql: string,
  startedAtMs: number,
  error: unknown,
) => void;

/** A tracer writing to `logger` at `level`. */
export function sqlTracer(logger: Logger, level: LogLevel): SqlTracer {
  const log = logger[level].bind(logger);
  return (request, sql, startedAtMs, error) => {
    const durationMs = performance.now() - startedAtMs;
    const fields: Record<string, unknown> = { request, sql, durationMs };
    if (error !== undefined) fields.error = error instanceof Error ? error.message : String(error);
    log(fields, `${(durationMs / 1000).toFixed(3)}s request ${request}: ${JSON.stringify(sql)}`);
  };
}
