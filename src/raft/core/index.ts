// The raft core's public surface: the state machine, its options and outputs, shared types.
export { decodeConfiguration, encodeConfiguration } from "./configuration-codec.js";
export { bootstrapEntry, recoveryEntry } from "./configuration-entries.js";
export { RaftError, type RaftErrorCode, RaftLoadError } from "./errors.js";
export type { LoadedState, RaftOptions } from "./options.js";
export { type Appended, Raft } from "./raft.js";
export type { RaftEvent, RaftRoleState, Ready, SnapshotSend, SoftState } from "./ready.js";
export * from "./types.js";
