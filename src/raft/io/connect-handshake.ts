// The bytes that open an outbound raft connection to a dqlite node (engine-internals §6.1):
// the client protocol word, then a client-protocol request of type 11 (CONNECT) whose body is
// the sender's raft id and address. The receiving node answers nothing and hands the socket to
// raft; the server side of that hand-off lives in the Node's listener, not here.
import { pad8, viewOf } from "./little-endian.js";

const PROTOCOL_VERSION = 1;
const REQUEST_CONNECT = 11;
const utf8 = new TextEncoder();

/** Protocol word + CONNECT request announcing `id` at `address`. */
export function encodeConnectHandshake(id: bigint, address: string): Uint8Array {
  const text = utf8.encode(address);
  if (text.includes(0)) throw new RangeError(`address contains NUL: ${address}`);
  const bodyBytes = 8 + pad8(text.length + 1);
  const bytes = new Uint8Array(8 + 8 + bodyBytes);
  const view = viewOf(bytes);
  view.setBigUint64(0, BigInt(PROTOCOL_VERSION), true);
  view.setUint32(8, bodyBytes / 8, true);
  bytes[12] = REQUEST_CONNECT;
  view.setBigUint64(16, id, true);
  bytes.set(text, 24);
  return bytes;
}
