// Small dqlite servers for the client's tests, built on the wire codec. A FakeNode answers each
// request with what its handler returns; a FakeCluster is a set of nodes that agree on a leader
// and answer SQL only there (not-leader elsewhere), like real dqlite.
import { createServer, type Server, type Socket } from "node:net";
import {
  decodeRequest,
  ErrorCode,
  encodeResponse,
  type Request,
  type Response,
  Role,
  StreamDecoder,
} from "../../src/wire/index.js";

export interface FakeConnection {
  readonly id: number;
  readonly node: FakeNode;
  /** Writes a response (or raw bytes) now. */
  send(response: Response | Uint8Array): void;
  /** Drops the connection (the client sees it close). */
  destroy(): void;
}

/** Responses to send in order, or nothing (the handler answers by itself, or never). */
export type Handler = (
  request: Request,
  connection: FakeConnection,
) => Response | Response[] | undefined | Promise<Response | Response[] | undefined>;

export interface LoggedRequest {
  connection: number;
  request: Request;
}

export class FakeNode {
  readonly address: string;
  readonly requests: LoggedRequest[] = [];
  handler: Handler;
  connectionCount = 0;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();

  private constructor(server: Server, address: string, handler: Handler) {
    this.#server = server;
    this.address = address;
    this.handler = handler;
  }

  static async start(handler: Handler = () => undefined): Promise<FakeNode> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const info = server.address();
    if (info === null || typeof info === "string") throw new Error("no port");
    const node = new FakeNode(server, `127.0.0.1:${info.port}`, handler);
    server.on("connection", (socket) => node.#accept(socket));
    return node;
  }

  /** Requests of one type, in arrival order. */
  requestsOf<T extends Request["type"]>(type: T): Extract<Request, { type: T }>[] {
    return this.requests
      .map((logged) => logged.request)
      .filter((request): request is Extract<Request, { type: T }> => request.type === type);
  }

  /** Connections open right now. */
  get openConnections(): number {
    return this.#sockets.size;
  }

  /** Stops listening and drops every connection. */
  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(socket: Socket): void {
    const id = ++this.connectionCount;
    this.#sockets.add(socket);
    socket.on("close", () => this.#sockets.delete(socket));
    socket.on("error", () => {});
    const decoder = new StreamDecoder({ handshake: true });
    const connection: FakeConnection = {
      id,
      node: this,
      send: (response) => {
        if (socket.destroyed) return;
        socket.write(response instanceof Uint8Array ? response : encodeResponse(response));
      },
      destroy: () => socket.destroy(),
    };
    socket.on("data", (chunk) => {
      decoder.push(chunk);
      for (;;) {
        let request: Request;
        try {
          const frame = decoder.next();
          if (frame === undefined) return;
          request = decodeRequest(frame);
        } catch {
          socket.destroy();
          return;
        }
        this.requests.push({ connection: id, request });
        // Handlers run as requests arrive (not one after the other), so that an Interrupt can
        // reach a handler still streaming a result.
        void Promise.resolve(this.handler(request, connection)).then(
          (reply) => {
            if (reply === undefined) return;
            for (const response of Array.isArray(reply) ? reply : [reply])
              connection.send(response);
          },
          () => socket.destroy(),
        );
      }
    });
  }
}

/** SQL requests (and anything else not handled by the cluster) on the leader. */
export type SqlHandler = Handler;

/** Nodes that agree on a leader: Leader answers name it; SQL elsewhere gets not-leader. */
export class FakeCluster {
  readonly nodes: FakeNode[];
  /** Index of the leader every node reports, or undefined for "no leader". */
  leader: number | undefined;
  sql: SqlHandler;

  private constructor(nodes: FakeNode[], leader: number | undefined, sql: SqlHandler) {
    this.nodes = nodes;
    this.leader = leader;
    this.sql = sql;
  }

  static async start(
    count: number,
    options: { leader?: number; sql?: SqlHandler } = {},
  ): Promise<FakeCluster> {
    const nodes: FakeNode[] = [];
    for (let i = 0; i < count; i++) nodes.push(await FakeNode.start());
    const cluster = new FakeCluster(
      nodes,
      "leader" in options ? options.leader : 0,
      options.sql ?? defaultSql,
    );
    nodes.forEach((node, index) => {
      node.handler = (request, connection) => cluster.answer(index, request, connection);
    });
    return cluster;
  }

  get addresses(): string[] {
    return this.nodes.map((node) => node.address);
  }

  /** What node `index` answers by default; tests may call it from their own handlers. */
  answer(index: number, request: Request, connection: FakeConnection): ReturnType<Handler> {
    switch (request.type) {
      case "leader": {
        const leader = this.leader;
        if (leader === undefined) return { type: "node", id: 0n, address: "" };
        return { type: "node", id: BigInt(leader + 1), address: this.nodes[leader].address };
      }
      case "client":
        return { type: "welcome", heartbeatTimeoutMs: 15_000 };
      case "open":
        return { type: "db", dbId: 0 };
      case "interrupt":
        return { type: "empty" };
      case "cluster":
        return {
          type: "servers",
          servers: this.nodes.map((node, i) => ({
            id: BigInt(i + 1),
            address: node.address,
            role: Role.Voter,
          })),
        };
      default:
        if (index !== this.leader) return notLeader();
        return this.sql(request, connection);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.nodes.map((node) => node.close()));
  }
}

export function notLeader(): Response {
  return { type: "failure", code: ErrorCode.NotLeader, message: "not leader" };
}

export function leadershipLost(): Response {
  return { type: "failure", code: ErrorCode.LeadershipLost, message: "leadership lost" };
}

/** Answers writes with (0, 0), queries with no rows, prepares with statement 0. */
export const defaultSql: SqlHandler = (request) => {
  switch (request.type) {
    case "execSql":
    case "exec":
      return { type: "result", lastInsertId: 0n, rowsAffected: 0 };
    case "querySql":
    case "query":
      return rowsMessage(["x"], [], false);
    case "prepare":
      return { type: "stmt", dbId: 0, stmtId: 0, paramCount: 0 };
    default:
      return { type: "empty" };
  }
};

/** A Rows message of INTEGER/TEXT/NULL... values typed by their JS type. */
export function rowsMessage(
  columns: string[],
  rows: (number | bigint | string | null | boolean | Uint8Array)[][],
  more: boolean,
): Response {
  const types: number[] = [];
  const values: (number | bigint | string | null | boolean | Uint8Array)[] = [];
  for (const row of rows) {
    for (const value of row) {
      types.push(typeCodeOf(value));
      values.push(value);
    }
  }
  return {
    type: "rows",
    columns,
    rowCount: rows.length,
    types: Uint8Array.from(types),
    values,
    more,
  };
}

function typeCodeOf(value: number | bigint | string | null | boolean | Uint8Array): number {
  if (value === null) return 5;
  if (typeof value === "bigint") return 1;
  if (typeof value === "number") return Number.isInteger(value) ? 1 : 2;
  if (typeof value === "string") return 3;
  if (typeof value === "boolean") return 11;
  return 4;
}

/** A promise with its resolve function, for tests that release a server step by step. */
export function gate<T = void>(): { promise: Promise<T>; open(value: T): void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}
