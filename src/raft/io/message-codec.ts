// libraft 0.15's encoding of the six raft RPCs (engine-internals §6.3-6.5). Every message is
//   u64 type, u64 header length H, H bytes of header, then a payload (AppendEntries: the entries'
//   data back to back; InstallSnapshot: the snapshot data; others: nothing).
// Sizes written are exactly libraft's, including the 8 "phantom" bytes its size formulas still
// count for a removed leader-id word (AppendEntries, InstallSnapshot): we write zeros there and
// ignore whatever a peer sends. Decoding is lenient like raft 0.15 (extra header bytes ignored) but
// never reads past what was received: a header too short for its fields is a typed error.
import { decodeConfiguration, encodeConfiguration } from "../core/configuration-codec.js";
import {
  type AppendEntries,
  type Entry,
  EntryType,
  type InstallSnapshot,
  type Message,
  type NodeId,
  type SnapshotData,
  type SnapshotStream,
} from "../core/types.js";
import { readU64, viewOf, writeU64 } from "./little-endian.js";

export const MESSAGE_TYPE = {
  appendEntries: 1,
  appendEntriesResult: 2,
  requestVote: 3,
  requestVoteResult: 4,
  installSnapshot: 5,
  timeoutNow: 6,
} as const;

/** Bytes before each header: u64 type and u64 header length. */
export const PREAMBLE_BYTES = 16;

const REQUEST_VOTE_BYTES = 40;
const REQUEST_VOTE_V1_BYTES = 32;
const REQUEST_VOTE_RESULT_BYTES = 24;
const REQUEST_VOTE_RESULT_V1_BYTES = 16;
const APPEND_ENTRIES_FIXED_BYTES = 40;
const ENTRY_HEADER_BYTES = 16;
const APPEND_ENTRIES_RESULT_BYTES = 24;
const INSTALL_SNAPSHOT_FIXED_BYTES = 48;
const TIMEOUT_NOW_BYTES = 24;
/** The removed leader-id word that libraft ≤ 0.18.1 still counts in two header sizes. */
const PHANTOM_BYTES = 8;

const FLAG_DISRUPT_LEADER = 1;
const FLAG_PRE_VOTE = 2;
const FLAG_RESULT_PRE_VOTE = 1;

/** Bad bytes from a peer: the connection carrying them must be closed. */
export class MessageDecodeError extends Error {
  override name = "MessageDecodeError";
}

/**
 * Encodes `message` as libraft does. Returns the preamble + header first, then the payload pieces
 * (entry data or snapshot data, not copied) so a socket can write them without concatenating.
 */
export function encodeMessage(message: Message): Uint8Array[] {
  switch (message.type) {
    case "requestVote": {
      const [bytes, view] = header(MESSAGE_TYPE.requestVote, REQUEST_VOTE_BYTES);
      let flags = 0;
      if (message.disruptLeader) flags |= FLAG_DISRUPT_LEADER;
      if (message.preVote) flags |= FLAG_PRE_VOTE;
      writeU64(view, 16, message.term);
      view.setBigUint64(24, message.candidateId, true);
      writeU64(view, 32, message.lastLogIndex);
      writeU64(view, 40, message.lastLogTerm);
      writeU64(view, 48, flags);
      return [bytes];
    }
    case "requestVoteResult": {
      const [bytes, view] = header(MESSAGE_TYPE.requestVoteResult, REQUEST_VOTE_RESULT_BYTES);
      writeU64(view, 16, message.term);
      writeU64(view, 24, message.voteGranted ? 1 : 0);
      writeU64(view, 32, message.preVote ? FLAG_RESULT_PRE_VOTE : 0);
      return [bytes];
    }
    case "appendEntries":
      return encodeAppendEntries(message);
    case "appendEntriesResult": {
      const [bytes, view] = header(MESSAGE_TYPE.appendEntriesResult, APPEND_ENTRIES_RESULT_BYTES);
      writeU64(view, 16, message.term);
      writeU64(view, 24, message.rejected);
      writeU64(view, 32, message.lastLogIndex);
      return [bytes];
    }
    case "installSnapshot":
      return encodeInstallSnapshot(message);
    case "timeoutNow": {
      const [bytes, view] = header(MESSAGE_TYPE.timeoutNow, TIMEOUT_NOW_BYTES);
      writeU64(view, 16, message.term);
      writeU64(view, 24, message.lastLogIndex);
      writeU64(view, 32, message.lastLogTerm);
      return [bytes];
    }
  }
}

function header(type: number, headerBytes: number): [Uint8Array, DataView] {
  const bytes = new Uint8Array(PREAMBLE_BYTES + headerBytes);
  const view = viewOf(bytes);
  writeU64(view, 0, type);
  writeU64(view, 8, headerBytes);
  return [bytes, view];
}

function encodeAppendEntries(message: AppendEntries): Uint8Array[] {
  const n = message.entries.length;
  const [bytes, view] = header(
    MESSAGE_TYPE.appendEntries,
    APPEND_ENTRIES_FIXED_BYTES + ENTRY_HEADER_BYTES * n + PHANTOM_BYTES,
  );
  writeU64(view, 16, message.term);
  writeU64(view, 24, message.prevLogIndex);
  writeU64(view, 32, message.prevLogTerm);
  writeU64(view, 40, message.leaderCommit);
  writeU64(view, 48, n);
  const pieces: Uint8Array[] = [bytes];
  let offset = 56;
  for (const entry of message.entries) {
    checkEntryLength(entry);
    writeU64(view, offset, entry.term);
    bytes[offset + 8] = entry.type;
    view.setUint32(offset + 12, entry.data.length, true);
    offset += ENTRY_HEADER_BYTES;
    if (entry.data.length > 0) pieces.push(entry.data);
  }
  return pieces;
}

function encodeInstallSnapshot(message: InstallSnapshot): Uint8Array[] {
  const { pieces, tail } = encodeOutgoing(message);
  if (tail !== null) throw new TypeError("snapshot data is a stream: use encodeOutgoing");
  return pieces;
}

/**
 * As `encodeMessage`, for messages whose payload may be a stream (an InstallSnapshot of a large
 * snapshot): the pieces to write first, then the stream's bytes, if any. Same bytes on the wire.
 */
export function encodeOutgoing(message: Message): {
  pieces: Uint8Array[];
  tail: SnapshotStream | null;
} {
  if (message.type !== "installSnapshot") return { pieces: encodeMessage(message), tail: null };
  const { meta, data } = message.snapshot;
  const configuration = encodeConfiguration(meta.configuration);
  const [bytes, view] = header(
    MESSAGE_TYPE.installSnapshot,
    INSTALL_SNAPSHOT_FIXED_BYTES + configuration.length + PHANTOM_BYTES,
  );
  writeU64(view, 16, message.term);
  writeU64(view, 24, meta.index);
  writeU64(view, 32, meta.term);
  writeU64(view, 40, meta.configurationIndex);
  writeU64(view, 48, configuration.length);
  bytes.set(configuration, 56);
  if (!(data instanceof Uint8Array)) {
    writeU64(view, 56 + configuration.length, data.sizeBytes);
    return { pieces: [bytes], tail: data.sizeBytes > 0 ? data : null };
  }
  writeU64(view, 56 + configuration.length, data.length);
  return { pieces: data.length > 0 ? [bytes, data] : [bytes], tail: null };
}

function checkEntryLength(entry: Entry): void {
  // A stand-in's data must be read back from storage first: sent as is, it would be applied empty.
  if (entry.droppedDataBytes !== undefined) {
    throw new RangeError(`entry ${entry.index} is a stand-in without its data`);
  }
  // libraft's receivers walk payloads assuming 8-byte multiples; anything else corrupts them.
  if (entry.data.length % 8 !== 0) {
    throw new RangeError(
      `entry ${entry.index} has ${entry.data.length} bytes, not a multiple of 8`,
    );
  }
}

/** A decoded header: everything but the payload, and how many payload bytes follow. */
export interface DecodedHeader {
  payloadBytes: number;
  /** Builds the message once its payload (exactly `payloadBytes` long) has arrived. */
  complete(payload: Uint8Array): Message;
  /**
   * Set for an InstallSnapshot: builds the message from a payload kept elsewhere (a large
   * snapshot received into a file).
   */
  completeStreamed?: (payload: SnapshotStream) => Message;
}

/**
 * Decodes a message header of the given type. `from`/`to` are not on the wire: the caller knows
 * them from the connection.
 */
export function decodeHeader(
  type: number,
  headerBytes: Uint8Array,
  from: NodeId,
  to: NodeId,
): DecodedHeader {
  const view = viewOf(headerBytes);
  const size = headerBytes.length;
  const need = (bytes: number, what: string) => {
    if (size < bytes)
      throw new MessageDecodeError(`${what} header has ${size} bytes, needs ${bytes}`);
  };
  const read = (offset: number) => {
    try {
      return readU64(view, offset);
    } catch (error) {
      throw new MessageDecodeError((error as Error).message);
    }
  };
  const noPayload = (message: Message): DecodedHeader => ({
    payloadBytes: 0,
    complete: () => message,
  });
  switch (type) {
    case MESSAGE_TYPE.requestVote: {
      need(REQUEST_VOTE_V1_BYTES, "RequestVote");
      const flags = size >= REQUEST_VOTE_BYTES ? read(32) : 0;
      return noPayload({
        type: "requestVote",
        from,
        to,
        term: read(0),
        candidateId: view.getBigUint64(8, true),
        lastLogIndex: read(16),
        lastLogTerm: read(24),
        disruptLeader: (flags & FLAG_DISRUPT_LEADER) !== 0,
        preVote: (flags & FLAG_PRE_VOTE) !== 0,
      });
    }
    case MESSAGE_TYPE.requestVoteResult: {
      need(REQUEST_VOTE_RESULT_V1_BYTES, "RequestVoteResult");
      const flags = size >= REQUEST_VOTE_RESULT_BYTES ? read(16) : 0;
      return noPayload({
        type: "requestVoteResult",
        from,
        to,
        term: read(0),
        voteGranted: view.getBigUint64(8, true) !== 0n,
        preVote: (flags & FLAG_RESULT_PRE_VOTE) !== 0,
      });
    }
    case MESSAGE_TYPE.appendEntries:
      return decodeAppendEntries(headerBytes, view, read, from, to);
    case MESSAGE_TYPE.appendEntriesResult:
      need(APPEND_ENTRIES_RESULT_BYTES, "AppendEntriesResult");
      return noPayload({
        type: "appendEntriesResult",
        from,
        to,
        term: read(0),
        rejected: read(8),
        lastLogIndex: read(16),
      });
    case MESSAGE_TYPE.installSnapshot:
      return decodeInstallSnapshot(headerBytes, read, from, to);
    case MESSAGE_TYPE.timeoutNow:
      need(TIMEOUT_NOW_BYTES, "TimeoutNow");
      return noPayload({
        type: "timeoutNow",
        from,
        to,
        term: read(0),
        lastLogIndex: read(8),
        lastLogTerm: read(16),
      });
    default:
      throw new MessageDecodeError(`unknown message type ${type}`);
  }
}

function decodeAppendEntries(
  bytes: Uint8Array,
  view: DataView,
  read: (offset: number) => number,
  from: NodeId,
  to: NodeId,
): DecodedHeader {
  if (bytes.length < APPEND_ENTRIES_FIXED_BYTES) {
    throw new MessageDecodeError(`AppendEntries header has ${bytes.length} bytes, needs 40`);
  }
  const term = read(0);
  const prevLogIndex = read(8);
  const prevLogTerm = read(16);
  const leaderCommit = read(24);
  const n = read(32);
  const needed = APPEND_ENTRIES_FIXED_BYTES + ENTRY_HEADER_BYTES * n;
  if (bytes.length < needed) {
    throw new MessageDecodeError(
      `AppendEntries header of ${bytes.length} bytes cannot describe ${n} entries`,
    );
  }
  const terms: number[] = [];
  const types: EntryType[] = [];
  const lengths: number[] = [];
  let payloadBytes = 0;
  for (let i = 0, offset = APPEND_ENTRIES_FIXED_BYTES; i < n; i++, offset += ENTRY_HEADER_BYTES) {
    const type = bytes[offset + 8];
    if (type !== EntryType.Command && type !== EntryType.Barrier && type !== EntryType.Change) {
      throw new MessageDecodeError(`entry ${i} has unknown type ${type}`);
    }
    const length = view.getUint32(offset + 12, true);
    if (length % 8 !== 0) {
      throw new MessageDecodeError(`entry ${i} has ${length} bytes, not a multiple of 8`);
    }
    terms.push(read(offset));
    types.push(type);
    lengths.push(length);
    payloadBytes += length;
  }
  return {
    payloadBytes,
    complete(payload) {
      const entries: Entry[] = [];
      let offset = 0;
      for (let i = 0; i < n; i++) {
        entries.push({
          term: terms[i],
          index: prevLogIndex + 1 + i,
          type: types[i],
          data: payload.subarray(offset, offset + lengths[i]),
        });
        offset += lengths[i];
      }
      return {
        type: "appendEntries",
        from,
        to,
        term,
        prevLogIndex,
        prevLogTerm,
        leaderCommit,
        entries,
      };
    },
  };
}

function decodeInstallSnapshot(
  bytes: Uint8Array,
  read: (offset: number) => number,
  from: NodeId,
  to: NodeId,
): DecodedHeader {
  if (bytes.length < INSTALL_SNAPSHOT_FIXED_BYTES) {
    throw new MessageDecodeError(`InstallSnapshot header has ${bytes.length} bytes, needs 48`);
  }
  const term = read(0);
  const index = read(8);
  const snapshotTerm = read(16);
  const configurationIndex = read(24);
  const configurationBytes = read(32);
  if (bytes.length < INSTALL_SNAPSHOT_FIXED_BYTES + configurationBytes) {
    throw new MessageDecodeError(
      `InstallSnapshot header of ${bytes.length} bytes cannot hold a ${configurationBytes}-byte configuration`,
    );
  }
  let configuration: ReturnType<typeof decodeConfiguration>;
  try {
    configuration = decodeConfiguration(bytes.subarray(40, 40 + configurationBytes));
  } catch (error) {
    throw new MessageDecodeError(`InstallSnapshot configuration: ${(error as Error).message}`);
  }
  const payloadBytes = read(40 + configurationBytes);
  const complete = (data: SnapshotData): Message => ({
    type: "installSnapshot",
    from,
    to,
    term,
    snapshot: {
      meta: { index, term: snapshotTerm, configuration, configurationIndex },
      data,
    },
  });
  return { payloadBytes, complete, completeStreamed: complete };
}
