// Public API of the fsm folder: dqlite's command and snapshot codecs and the state machine.
export {
  type Command,
  decodeCommand,
  encodeCheckpoint,
  encodeFrames,
  encodeOpen,
  encodeUndo,
  type FramesCommand,
  framesSizeBytes,
} from "./command-codec.js";
export { type ApplyOutcome, type DatabaseDump, Fsm, type SnapshotSource } from "./fsm.js";
export { DecodeError } from "./serialization.js";
export {
  chunksSizeBytes,
  concatChunks,
  decodeSnapshot,
  encodeDatabaseHeader,
  encodeSnapshot,
  encodeSnapshotHeader,
  type SnapshotDatabase,
} from "./snapshot-codec.js";
export {
  type PageSink,
  readSnapshotStream,
  type StreamedDatabase,
} from "./snapshot-reader.js";
export { readWal, type WalContent, type WalFrame, walChecksum, writeWal } from "./wal-image.js";
