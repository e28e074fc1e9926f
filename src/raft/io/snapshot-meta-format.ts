// snapshot-T-I-M.meta (engine-internals §5.4): u64 format (1), u64 crc (low 32 bits: libraft's
// CRC over bytes 16..31 then over the configuration), u64 configuration index, u64 configuration
// length L (0 < L ≤ 1 MiB), then L bytes of encoded configuration. Term and index of the snapshot
// are in the file name, not in the file.
import { decodeConfiguration, encodeConfiguration } from "../core/configuration-codec.js";
import type { Configuration } from "../core/types.js";
import { crc32 } from "./crc32.js";
import { readU64, viewOf, writeU64 } from "./little-endian.js";

const FORMAT = 1;
const HEADER_BYTES = 32;
const MAX_CONFIGURATION_BYTES = 1024 * 1024;

export interface SnapshotMetaFile {
  configuration: Configuration;
  configurationIndex: number;
}

export function encodeSnapshotMeta(meta: SnapshotMetaFile): Uint8Array {
  const configuration = encodeConfiguration(meta.configuration);
  const bytes = new Uint8Array(HEADER_BYTES + configuration.length);
  const view = viewOf(bytes);
  writeU64(view, 0, FORMAT);
  writeU64(view, 16, meta.configurationIndex);
  writeU64(view, 24, configuration.length);
  bytes.set(configuration, HEADER_BYTES);
  view.setUint32(8, crc32(configuration, crc32(bytes.subarray(16, 32))), true);
  return bytes;
}

/** Decodes a .meta file; returns a reason string when it is not valid. */
export function decodeSnapshotMeta(bytes: Uint8Array): SnapshotMetaFile | string {
  if (bytes.length < HEADER_BYTES) return `has ${bytes.length} bytes, less than its 32-byte header`;
  const view = viewOf(bytes);
  try {
    const format = readU64(view, 0);
    if (format !== FORMAT) return `unsupported format ${format}`;
    const configurationIndex = readU64(view, 16);
    const length = readU64(view, 24);
    if (length === 0) return "no configuration data";
    if (length > MAX_CONFIGURATION_BYTES) return `configuration data too big (${length} bytes)`;
    if (HEADER_BYTES + length > bytes.length)
      return `configuration of ${length} bytes is truncated`;
    const configurationBytes = bytes.subarray(HEADER_BYTES, HEADER_BYTES + length);
    const crc = crc32(configurationBytes, crc32(bytes.subarray(16, 32)));
    if (crc !== view.getUint32(8, true)) return "checksum mismatch";
    return { configurationIndex, configuration: decodeConfiguration(configurationBytes) };
  } catch (error) {
    return (error as Error).message;
  }
}
