// dqlite-demo's HTTP API over the replicated `model` table, with current go-dqlite's replies:
// GET /<key> answers the value (no newline), PUT /<key> stores the body and answers "done";
// every failure is HTTP 500 with the error text and a newline (Go's http.Error), and other
// methods get 500 "unsupported method". Paths are cleaned as Go's ServeMux does: a path with
// "//", "." or ".." segments is redirected (301) to its clean form.
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { posix } from "node:path";
import { detectContentType } from "./content-type.js";

export const MODEL_SCHEMA = "CREATE TABLE IF NOT EXISTS model (key TEXT, value TEXT, UNIQUE(key))";
export const READ_SQL = "SELECT value FROM model WHERE key = ?";
export const WRITE_SQL = "INSERT OR REPLACE INTO model(key, value) VALUES(?, ?)";

/** Go's database/sql error for QueryRow on an empty result. */
export const NO_ROWS = "sql: no rows in result set";

/** A PUT body larger than this is refused (Go reads any size; we keep a bound). */
export const MAX_VALUE_BYTES = 16 * 1024 * 1024;

/** What the API needs of the database handle (the client's Database fits). */
export interface KeyValueDatabase {
  exec(sql: string, params: string[]): Promise<unknown>;
  get(sql: string, params: string[]): Promise<Record<string, unknown> | undefined>;
}

class BodyTooLargeError extends Error {
  constructor() {
    super("http: request body too large");
  }
}

/** Percent-decodes a URL path as Go's url.Parse does; undefined when an escape is malformed. */
function decodePath(raw: string): string | undefined {
  if (!/^(?:[^%]|%[0-9A-Fa-f]{2})*$/.test(raw)) return undefined;
  if (!raw.includes("%")) return raw;
  const bytes: number[] = [];
  for (let i = 0; i < raw.length; i++) {
    if (raw[i] === "%") {
      bytes.push(Number.parseInt(raw.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      for (const byte of Buffer.from(raw[i], "utf8")) bytes.push(byte);
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** Go's url.URL.EscapedPath for a path without a raw form. */
function escapePath(path: string): string {
  let out = "";
  for (const byte of Buffer.from(path, "utf8")) {
    const char = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~$&+,/:;=@]/.test(char)) out += char;
    else out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
  }
  return out;
}

function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&#34;")
    .replaceAll("'", "&#39;");
}

/** Go's http.Error: status, text/plain, nosniff, the message and a newline. */
function replyError(response: ServerResponse, message: string, status = 500): void {
  const body = Buffer.from(`${message}\n`, "utf8");
  response.writeHead(status, {
    "Content-Type": "text/plain; charset=utf-8",
    "X-Content-Type-Options": "nosniff",
    "Content-Length": body.length,
  });
  response.end(body);
}

function replyOk(response: ServerResponse, text: string | Uint8Array): void {
  const body = typeof text === "string" ? Buffer.from(text, "utf8") : Buffer.from(text);
  response.writeHead(200, {
    "Content-Type": detectContentType(body),
    "Content-Length": body.length,
  });
  response.end(body);
}

function redirect(request: IncomingMessage, response: ServerResponse, location: string): void {
  const headers: Record<string, string | number> = { Location: location };
  let body = "";
  if (request.method === "GET" || request.method === "HEAD") {
    headers["Content-Type"] = "text/html; charset=utf-8";
    body = `<a href="${escapeHtml(location)}">Moved Permanently</a>.\n\n`;
  }
  headers["Content-Length"] = Buffer.byteLength(body);
  response.writeHead(301, headers);
  response.end(body);
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let sizeBytes = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    sizeBytes += chunk.length;
    if (sizeBytes > MAX_VALUE_BYTES) throw new BodyTooLargeError();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, sizeBytes);
}

/** What database/sql's Scan into a string makes of the column's value. */
function scanString(value: unknown): string | Uint8Array {
  if (value === null || value === undefined) {
    throw new Error(
      'sql: Scan error on column index 0, name "value": converting NULL to string is unsupported',
    );
  }
  if (typeof value === "string" || value instanceof Uint8Array) return value;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

async function serve(
  db: KeyValueDatabase,
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
  const raw = request.url ?? "/";
  const queryAt = raw.indexOf("?");
  const rawPath = queryAt < 0 ? raw : raw.slice(0, queryAt);
  const path = decodePath(rawPath);
  if (path === undefined || !path.startsWith("/")) {
    // Go's server refuses a request line whose URL does not parse.
    response.writeHead(400, { "Content-Type": "text/plain; charset=utf-8", Connection: "close" });
    response.end("400 Bad Request");
    return;
  }
  const clean = posix.normalize(path);
  if (clean !== path) {
    const query = queryAt < 0 || queryAt === raw.length - 1 ? "" : raw.slice(queryAt);
    redirect(request, response, escapePath(clean) + query);
    return;
  }
  const key = path.replace(/^\/+/, "");
  try {
    switch (request.method) {
      case "GET": {
        const row = await db.get(READ_SQL, [key]);
        if (row === undefined) throw new Error(NO_ROWS);
        replyOk(response, scanString(Object.values(row)[0]));
        return;
      }
      case "PUT": {
        const value = (await readBody(request)).toString("utf8");
        await db.exec(WRITE_SQL, [key, value]);
        replyOk(response, "done");
        return;
      }
      default:
        replyError(response, "unsupported method");
    }
  } catch (error) {
    replyError(response, messageOf(error));
  }
}

/** The request listener of the demo's HTTP API over `db`. */
export function keyValueApi(db: KeyValueDatabase): RequestListener {
  return (request, response) => {
    serve(db, request, response).catch((error: unknown) => {
      // Only a broken socket gets here: the reply could not be written.
      response.destroy(error instanceof Error ? error : new Error(String(error)));
    });
  };
}
