// The handshake word and the 8-byte message header (client-protocol.md §1.2, §2).
import { HEADER_SIZE_BYTES, PROTOCOL_VERSION, PROTOCOL_VERSION_LEGACY } from "./constants.js";
import { WireDecodeError, WireEncodeError } from "./errors.js";

/** The handshake words a server accepts. */
export type ProtocolVersion = typeof PROTOCOL_VERSION | typeof PROTOCOL_VERSION_LEGACY;

/** The 8-byte header: body size in words, type code, schema, and the unused extra field. */
export interface Header {
  words: number;
  type: number;
  schema: number;
  extra: number;
}

/** The 8 bytes a client sends first. */
export function encodeHandshake(version: ProtocolVersion = PROTOCOL_VERSION): Uint8Array {
  if (version !== PROTOCOL_VERSION && version !== PROTOCOL_VERSION_LEGACY) {
    throw new WireEncodeError("bad-value", `unknown protocol version ${version}`);
  }
  const bytes = new Uint8Array(HEADER_SIZE_BYTES);
  new DataView(bytes.buffer).setBigUint64(0, version, true);
  return bytes;
}

/** Reads the handshake word at `offset`; anything but version 1 or the legacy word is refused. */
export function decodeHandshake(bytes: Uint8Array, offset = 0): ProtocolVersion {
  if (bytes.length - offset < HEADER_SIZE_BYTES) {
    throw new WireDecodeError("truncated", "handshake needs 8 bytes");
  }
  const version = new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(offset, true);
  if (version !== PROTOCOL_VERSION && version !== PROTOCOL_VERSION_LEGACY) {
    throw new WireDecodeError("bad-version", `unknown protocol version 0x${version.toString(16)}`);
  }
  return version;
}

/** Reads a header at `offset` (no check of type or size: callers decide). */
export function decodeHeader(bytes: Uint8Array, offset = 0): Header {
  if (bytes.length - offset < HEADER_SIZE_BYTES) {
    throw new WireDecodeError("truncated", "header needs 8 bytes");
  }
  const i = bytes.byteOffset + offset;
  const view = new DataView(bytes.buffer, i, HEADER_SIZE_BYTES);
  return {
    words: view.getUint32(0, true),
    type: view.getUint8(4),
    schema: view.getUint8(5),
    extra: view.getUint16(6, true),
  };
}

/** Writes a header into 8 new bytes. */
export function encodeHeader(header: Header): Uint8Array {
  const bytes = new Uint8Array(HEADER_SIZE_BYTES);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, header.words, true);
  view.setUint8(4, header.type);
  view.setUint8(5, header.schema);
  view.setUint16(6, header.extra, true);
  return bytes;
}
