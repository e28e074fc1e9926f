// The admin client, like go-dqlite's client.Client: one connection to one node, for the cluster
// requests (leader, membership, metadata, dump). It runs no SQL; use `connect` for that.
import { Role } from "../wire/index.js";
import { type Connection, expectResponse } from "./connection.js";
import { Connector, type ConnectorOptions, toNodeStore } from "./connector.js";
import { type CallOptions, checkTimeoutMs, Deadline } from "./deadline.js";
import { type NodeInfo, type NodeStore, type RoleName, toRole } from "./node-store.js";

/** Options of an admin client. */
export interface ClientOptions extends ConnectorOptions, CallOptions {}

/** A node's failure domain and weight, as Describe reports them. */
export interface NodeMetadata {
  failureDomain: bigint;
  weight: bigint;
}

/** One file of a database dump: the database itself, then `<name>-wal`. */
export interface DumpedFile {
  name: string;
  data: Uint8Array;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const MAX_U64 = 0xffff_ffff_ffff_ffffn;

/** Admin requests over a connection to one node. */
export class Client {
  readonly #connection: Connection;
  readonly #timeoutMs: number;

  private constructor(connection: Connection, timeoutMs: number) {
    this.#connection = connection;
    this.#timeoutMs = timeoutMs;
  }

  /** Connects to the node at `address` (dial and handshake only, no leader check). */
  static async connect(address: string, options: ClientOptions = {}): Promise<Client> {
    const timeoutMs = checkTimeoutMs(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const connector = new Connector(toNodeStore([address]), options);
    const deadline = new Deadline(options.signal, timeoutMs);
    try {
      return new Client(await connector.connectDirect(address, deadline), timeoutMs);
    } finally {
      deadline.dispose();
    }
  }

  /** Connects to the current leader of a cluster (addresses or a store), retrying until found. */
  static async findLeader(
    cluster: readonly string[] | NodeStore,
    options: ClientOptions = {},
  ): Promise<Client> {
    const timeoutMs = checkTimeoutMs(options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    const connector = new Connector(toNodeStore(cluster), options);
    const deadline = new Deadline(options.signal, timeoutMs);
    try {
      return new Client(await connector.connect(deadline), timeoutMs);
    } finally {
      deadline.dispose();
    }
  }

  /** The address this client is connected to. */
  get address(): string {
    return this.#connection.address;
  }

  /** The leader this node knows of, or undefined when it knows none. */
  async leader(options?: CallOptions): Promise<{ id: bigint; address: string } | undefined> {
    const node = await this.#call({ type: "leader" }, "node", options);
    return node.id === 0n && node.address === ""
      ? undefined
      : { id: node.id, address: node.address };
  }

  /** Every node of the raft configuration, with its role. */
  async cluster(options?: CallOptions): Promise<NodeInfo[]> {
    const servers = await this.#call({ type: "cluster", format: 1 }, "servers", options);
    return servers.servers.map((s) => ({
      id: s.id,
      address: s.address,
      role: s.role ?? Role.Voter,
    }));
  }

  /** Adds a node (as spare), then assigns its role unless it is spare (default role: voter). */
  async add(
    node: { id: bigint; address: string; role?: Role | RoleName },
    options?: CallOptions,
  ): Promise<void> {
    const role = toRole(node.role ?? Role.Voter);
    await this.#call(
      { type: "add", nodeId: checkId(node.id), address: node.address },
      "empty",
      options,
    );
    if (role !== Role.Spare) await this.assign(node.id, role, options);
  }

  /** Changes a node's role (promotion to voter waits for the node to catch up). */
  async assign(id: bigint, role: Role | RoleName, options?: CallOptions): Promise<void> {
    await this.#call({ type: "assign", nodeId: checkId(id), role: toRole(role) }, "empty", options);
  }

  /** Removes a node from the cluster. */
  async remove(id: bigint, options?: CallOptions): Promise<void> {
    await this.#call({ type: "remove", nodeId: checkId(id) }, "empty", options);
  }

  /** Hands leadership to node `id` (0n lets raft choose); must be sent to the leader. */
  async transfer(id: bigint, options?: CallOptions): Promise<void> {
    await this.#call({ type: "transfer", nodeId: checkId(id, true) }, "empty", options);
  }

  /** This node's failure domain and weight. */
  async describe(options?: CallOptions): Promise<NodeMetadata> {
    const metadata = await this.#call({ type: "describe", format: 0 }, "metadata", options);
    return { failureDomain: metadata.failureDomain, weight: metadata.weight };
  }

  /** Sets this node's weight (kept in memory by the node, not replicated). */
  async weight(weight: bigint | number, options?: CallOptions): Promise<void> {
    const value = typeof weight === "number" ? toU64(weight) : weight;
    if (value < 0n || value > MAX_U64) throw new RangeError(`weight ${weight} is not a u64`);
    await this.#call({ type: "weight", weight: value }, "empty", options);
  }

  /** The files of database `name` on this node: the database file, then the WAL. */
  async dump(name: string, options?: CallOptions): Promise<DumpedFile[]> {
    const files = await this.#call({ type: "dump", name }, "files", options);
    // The decoded data are views into the received message: copy them out.
    return files.files.map((file) => ({ name: file.name, data: new Uint8Array(file.data) }));
  }

  /** Closes the connection. */
  close(): void {
    this.#connection.close();
  }

  async #call<T extends "node" | "servers" | "empty" | "metadata" | "files">(
    request: Parameters<Connection["call"]>[0],
    type: T,
    options: CallOptions | undefined,
  ) {
    const deadline = Deadline.start(options, this.#timeoutMs);
    try {
      const response = await this.#connection.call(request, deadline);
      return expectResponse(this.#connection, response, type);
    } finally {
      deadline.dispose();
    }
  }
}

function checkId(id: bigint, zeroAllowed = false): bigint {
  if (typeof id !== "bigint" || id < (zeroAllowed ? 0n : 1n) || id > MAX_U64) {
    throw new RangeError(`node id ${String(id)} is not a ${zeroAllowed ? "" : "non-zero "}u64`);
  }
  return id;
}

function toU64(value: number): bigint {
  if (!Number.isSafeInteger(value)) throw new RangeError(`${value} is not a safe integer`);
  return BigInt(value);
}
