// The test app, one per node, like jepsen.dqlite's Go app: it embeds a dqlite App and serves
// the workloads over HTTP inside the node's network namespace. Every reply is JSON
// { type: "ok" | "fail" | "info", value?, error? }.
//
//   main.ts --dir D --address IP:PORT --http IP:PORT [--cluster A,B] [--latency-ms N]
//           [--timeout-ms N]
//
// Prints "ready" on stdout once the database is open; SIGTERM hands over and stops.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { parseArgs } from "node:util";
import { pino } from "pino";
import { App } from "../../../src/app/index.js";
import type { Database } from "../../../src/client/index.js";
import {
  bankInit,
  bankRead,
  bankTransfer,
  type RegisterRequest,
  register,
  setAdd,
  setRead,
  setup,
  txn,
} from "./operations.js";
import { describe, type Outcome } from "./outcome.js";

const { values: args } = parseArgs({
  options: {
    dir: { type: "string" },
    address: { type: "string" },
    http: { type: "string" },
    cluster: { type: "string", default: "" },
    "latency-ms": { type: "string", default: "20" },
    "timeout-ms": { type: "string", default: "3000" },
    "disk-mode": { type: "boolean", default: false },
  },
});
if (!args.dir || !args.address || !args.http) {
  throw new Error("usage: main.ts --dir D --address IP:PORT --http IP:PORT [--cluster A,B]");
}
const timeoutMs = Number(args["timeout-ms"]);
const MAX_BODY_BYTES = 64 * 1024;
const OPEN_ATTEMPTS = 300;
const logger = pino(
  { level: process.env.FAULTS_LOG_LEVEL ?? "info", base: { node: args.address } },
  pino.destination(2),
);

const app = await App.create(args.dir, {
  address: args.address,
  cluster: args.cluster ? args.cluster.split(",") : undefined,
  networkLatencyMs: Number(args["latency-ms"]),
  rolesAdjustmentFrequencyMs: 1000,
  snapshotThreshold: 128,
  snapshotTrailing: 1024,
  // No entry data kept once applied: every follower that falls behind is fed from the leader's
  // disk, so the fault runs exercise that path (the default keeps 8 MiB).
  logDataInMemoryBytes: 0,
  diskMode: args["disk-mode"],
  logger,
});
let db: Database | null = null;

const routes: Record<string, (db: Database, body: Record<string, unknown>) => Promise<Outcome>> = {
  "POST /setup": (db) => setup(db, timeoutMs),
  "POST /txn": (db, body) => txn(db, body.txn as Parameters<typeof txn>[1], timeoutMs),
  "POST /register": (db, body) => register(db, body as unknown as RegisterRequest, timeoutMs),
  "POST /bank/init": (db, body) =>
    bankInit(db, body.accounts as number[], Number(body.total), timeoutMs),
  "POST /bank/transfer": (db, body) =>
    bankTransfer(db, body as { from: number; to: number; amount: number }, timeoutMs),
  "GET /bank/read": (db) => bankRead(db, timeoutMs),
  "POST /set/add": (db, body) => setAdd(db, Number(body.element), timeoutMs),
  "GET /set/read": (db) => setRead(db, timeoutMs),
};

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  let outcome: Outcome;
  try {
    const route = routes[`${request.method} ${request.url}`];
    const body = await readBody(request);
    if (request.url === "/health") outcome = { type: db ? "ok" : "fail", value: app.address };
    else if (!route) outcome = { type: "fail", error: `no route ${request.method} ${request.url}` };
    else if (!db) outcome = { type: "fail", error: "database not open yet" };
    else outcome = await route(db, body);
  } catch (error) {
    // A bug in the app or a malformed request: nothing was sent to the database.
    outcome = { type: "fail", error: `app: ${describe(error)}` };
  }
  response.writeHead(200, { "content-type": "application/json" });
  response.end(JSON.stringify(outcome));
}

async function readBody(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RangeError("request body too large");
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  return JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
}

const server = createServer((request, response) => {
  handle(request, response).catch((error) => {
    logger.error({ error: describe(error) }, "http handler");
    response.destroy();
  });
});
server.keepAliveTimeout = 60_000;
const [httpHost, httpPort] = [
  args.http.slice(0, args.http.lastIndexOf(":")),
  Number(args.http.slice(args.http.lastIndexOf(":") + 1)),
];
await new Promise<void>((resolve) => server.listen(httpPort, httpHost, resolve));

let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  void (async () => {
    logger.info({}, "SIGTERM: handing over and stopping");
    server.close();
    server.closeAllConnections();
    await db?.close().catch(() => {});
    await app.close({ timeoutMs: 10_000 });
    process.exit(0);
  })();
});

await app.ready();
// App.open retries only while no leader is found (go-dqlite's rule); under faults the open can
// also time out after the leader was found, so keep trying (bounded) instead of dying.
for (let attempt = 1; db === null; attempt++) {
  try {
    db = await app.open("faults", { timeoutMs, busyTimeoutMs: Math.min(timeoutMs, 2000) });
  } catch (error) {
    if (attempt >= OPEN_ATTEMPTS) throw error;
    logger.warn({ error: describe(error), attempt }, "open failed, trying again");
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
logger.info({ id: String(app.id), diskMode: args["disk-mode"] }, "app ready");
process.stdout.write(`ready ${app.id} ${app.address}\n`);
