// One dqlite-demo instance: an App in <dir>/<db address>, the "demo" database with its model
// table, and the key/value HTTP API. Stopping it follows go-dqlite's demo: close the listener and
// the database, hand the node's role and leadership over, close the App.
import { mkdir } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import type { Writable } from "node:stream";
import { App, type AppTlsOptions, simpleTlsConfig } from "../../app/index.js";
import type { Database } from "../../client/index.js";
import { loadTlsDialOptions } from "../shell/tls-config.js";
import type { DemoArguments } from "./arguments.js";
import { keyValueApi, MODEL_SCHEMA } from "./key-value-api.js";
import { demoLogger } from "./verbose-log.js";

/** The demo's database name, as go-dqlite's. */
export const DEMO_DATABASE = "demo";

export interface RunningDemo {
  /** The HTTP address actually bound (useful with port 0). */
  readonly apiAddress: string;
  /** Closes the API and the database, hands over, closes the App. */
  stop(): Promise<void>;
}

// Go prints the C library's text of a failed bind.
const SYSCALL_TEXTS: Readonly<Record<string, string>> = {
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "cannot assign requested address",
  EACCES: "permission denied",
};

/** host:port as Go's net.Listen takes it: an empty host listens on every interface. */
function splitListenAddress(address: string): { host: string | undefined; port: number } {
  const match = /^(?:\[([^\]]*)\]|([^:]*)):(\d+)$/.exec(address);
  if (match === null)
    throw new Error(`listen tcp ${address}: address ${address}: missing port in address`);
  const host = match[1] ?? match[2];
  return { host: host === "" ? undefined : host, port: Number(match[3]) };
}

function listen(server: Server, address: string): Promise<string> {
  const { host, port } = splitListenAddress(address);
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      const text = (error.code && SYSCALL_TEXTS[error.code]) ?? error.message;
      reject(new Error(`listen tcp ${address}: bind: ${text}`, { cause: error }));
    };
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      const bound = server.address();
      if (bound === null || typeof bound === "string") {
        resolve(address);
        return;
      }
      const boundHost = bound.family === "IPv6" ? `[${bound.address}]` : bound.address;
      resolve(`${boundHost}:${bound.port}`);
    });
  });
}

async function tlsOptions(args: DemoArguments): Promise<AppTlsOptions | undefined> {
  if ((args.cert !== "" && args.key === "") || (args.key !== "" && args.cert === "")) {
    throw new Error("both TLS certificate and key must be given");
  }
  if (args.cert === "") return undefined;
  // Go's messages for unreadable or mismatched files; the certificate is its own CA.
  const material = await loadTlsDialOptions(args.cert, args.key);
  const { server, client } = simpleTlsConfig({ cert: material.cert, key: material.key });
  return { server, client };
}

/** Starts a demo node and its HTTP API; resolves once the API listens. */
export async function startDemo(args: DemoArguments, log: Writable): Promise<RunningDemo> {
  const dir = join(args.dir, args.db);
  try {
    await mkdir(dir, { recursive: true, mode: 0o755 });
  } catch (error) {
    throw new Error(`can't create ${dir}: ${(error as Error).message}`, { cause: error });
  }
  const logger = demoLogger(args.api, args.verbose, log);
  const app = await App.create(dir, {
    address: args.db,
    cluster: args.join,
    logger,
    tls: await tlsOptions(args),
  });
  let db: Database | undefined;
  let server: Server | undefined;
  try {
    await app.ready();
    db = await app.open(DEMO_DATABASE);
    await db.exec(MODEL_SCHEMA);
    server = createServer(keyValueApi(db));
    const apiAddress = await listen(server, args.api);
    logger.info({ api: apiAddress }, "demo API listening");
    const running = { db, server, app };
    return { apiAddress, stop: () => stopDemo(running, logger) };
  } catch (error) {
    server?.close();
    await db?.close().catch(() => {});
    await app.close({ handover: false }).catch(() => {});
    throw error;
  }
}

async function stopDemo(
  running: { db: Database; server: Server; app: App },
  logger: ReturnType<typeof demoLogger>,
): Promise<void> {
  const { db, server, app } = running;
  // Go's listener.Close: no new connections; requests in flight may still finish.
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await db.close();
  try {
    await app.handover();
  } catch (error) {
    logger.warn({ error: (error as Error).message }, "handover failed");
  }
  await app.close({ handover: false });
  server.closeAllConnections();
  await closed;
}
