// Public API of the dqlite client: the SQL API, the admin Client, node stores and errors.

export type { LogFn, Logger, LogLevel } from "../log/logger.js";
export { Client, type ClientOptions, type DumpedFile, type NodeMetadata } from "./client.js";
export type { ConnectorOptions } from "./connector.js";
export {
  type ConnectOptions,
  connect,
  Database,
  type TransactionOptions,
} from "./database.js";
export type { CallOptions } from "./deadline.js";
export { type DialFunction, dialTcp } from "./dial.js";
export {
  ConnectionError,
  DqliteError,
  LeadershipLostError,
  NoLeaderError,
  NotLeaderError,
  SqliteError,
  TimeoutError,
  TransactionLostError,
} from "./errors.js";
export { type HttpUpgradeDialOptions, httpUpgradeDial } from "./http-upgrade-dial.js";
export {
  MemoryNodeStore,
  type NodeInfo,
  type NodeStore,
  type RoleName,
  roleName,
  toRole,
} from "./node-store.js";
export { openNodeStore } from "./open-node-store.js";
export type { QueryResult, Row, RowMode, RunResult } from "./results.js";
export { SqliteNodeStore, type SqliteNodeStoreOptions } from "./sqlite-node-store.js";
export { Statement } from "./statement.js";
export type { QueryOptions } from "./statement-runner.js";
export { Transaction, type TransactionMode } from "./transaction.js";
export type { BindParameters, BindValue, SqlValue } from "./values.js";
export { YamlNodeStore } from "./yaml-node-store.js";
