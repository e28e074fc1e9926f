// metadata1 / metadata2 (engine-internals §5.2): exactly 32 bytes, u64 format (1), u64 version,
// u64 term, u64 voted-for. Each write bumps the version; odd versions live in metadata1 and even
// ones in metadata2, so a torn write of one file leaves the other intact.
import { readU64, viewOf, writeU64 } from "./little-endian.js";

export const METADATA_BYTES = 32;
const FORMAT = 1;

export interface Metadata {
  version: number;
  term: number;
  votedFor: bigint;
}

export function encodeMetadata(metadata: Metadata): Uint8Array {
  const bytes = new Uint8Array(METADATA_BYTES);
  const view = viewOf(bytes);
  writeU64(view, 0, FORMAT);
  writeU64(view, 8, metadata.version);
  writeU64(view, 16, metadata.term);
  view.setBigUint64(24, metadata.votedFor, true);
  return bytes;
}

/** Decodes a 32-byte metadata file; returns a reason string when it is not valid. */
export function decodeMetadata(bytes: Uint8Array): Metadata | string {
  if (bytes.length !== METADATA_BYTES) return `has ${bytes.length} bytes instead of 32`;
  const view = viewOf(bytes);
  try {
    const format = readU64(view, 0);
    if (format !== FORMAT) return `bad format version ${format}`;
    const version = readU64(view, 8);
    if (version === 0) return "version is set to zero";
    return { version, term: readU64(view, 16), votedFor: view.getBigUint64(24, true) };
  } catch (error) {
    return (error as Error).message;
  }
}

/** Which file holds a given version: odd → metadata1, even → metadata2. */
export function metadataFileOf(version: number): "metadata1" | "metadata2" {
  return version % 2 === 1 ? "metadata1" : "metadata2";
}
