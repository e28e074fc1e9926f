// Public API of dqlite-ts. Each layer exports what users need; internals stay in their folders.
export { EntryType, RaftRole } from "./raft/core/types.js";
export * from "./wire/index.js";
