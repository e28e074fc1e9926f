// libraft's configuration encoding (CHANGE entries, InstallSnapshot, snapshot .meta):
//   u8 format = 1, u64 n (unaligned), n × { u64 id, NUL-terminated address, u8 role },
//   then zero padding of the whole blob to a multiple of 8. All integers little-endian.
import { type Configuration, RaftRole, type ServerInfo } from "./types.js";

const FORMAT = 1;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder("utf-8", { fatal: true });

export class ConfigurationDecodeError extends Error {
  override name = "ConfigurationDecodeError";
}

export function encodeConfiguration(configuration: Configuration): Uint8Array {
  const addresses = configuration.map((server) => utf8.encode(server.address));
  let size = 1 + 8;
  for (const address of addresses) size += 8 + address.length + 1 + 1;
  const bytes = new Uint8Array(Math.ceil(size / 8) * 8);
  const view = new DataView(bytes.buffer);
  bytes[0] = FORMAT;
  view.setBigUint64(1, BigInt(configuration.length), true);
  let offset = 9;
  configuration.forEach((server, i) => {
    const address = addresses[i];
    if (address.includes(0)) throw new RangeError(`address contains NUL: ${server.address}`);
    view.setBigUint64(offset, server.id, true);
    offset += 8;
    bytes.set(address, offset);
    offset += address.length + 1;
    bytes[offset++] = server.role;
  });
  return bytes;
}

export function decodeConfiguration(bytes: Uint8Array): ServerInfo[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 9) throw new ConfigurationDecodeError("configuration shorter than 9 bytes");
  if (bytes[0] !== FORMAT) throw new ConfigurationDecodeError(`unknown format ${bytes[0]}`);
  const count = view.getBigUint64(1, true);
  // Each server takes at least 10 bytes, which bounds the count before anything is allocated.
  if (count > BigInt(Math.floor((bytes.length - 9) / 10))) {
    throw new ConfigurationDecodeError(`server count ${count} does not fit ${bytes.length} bytes`);
  }
  const servers: ServerInfo[] = [];
  let offset = 9;
  for (let i = 0; i < Number(count); i++) {
    if (offset + 8 > bytes.length) throw new ConfigurationDecodeError("truncated server id");
    const id = view.getBigUint64(offset, true);
    offset += 8;
    const nul = bytes.indexOf(0, offset);
    if (nul < 0) throw new ConfigurationDecodeError("address without NUL terminator");
    let address: string;
    try {
      address = utf8Decoder.decode(bytes.subarray(offset, nul));
    } catch {
      throw new ConfigurationDecodeError("address is not valid UTF-8");
    }
    offset = nul + 1;
    if (offset >= bytes.length) throw new ConfigurationDecodeError("truncated server role");
    const role = bytes[offset++];
    if (role !== RaftRole.Standby && role !== RaftRole.Voter && role !== RaftRole.Spare) {
      throw new ConfigurationDecodeError(`unknown role ${role}`);
    }
    servers.push({ id, address, role });
  }
  return servers;
}
