// A listener that accepts only raft connections (the protocol word, then a CONNECT request) and
// hands them to a RaftTransport. The dqlite Node has its own listener that serves clients too;
// this one is for raft on its own: tests, benchmarks, tools.
import { createServer, type Server, type Socket } from "node:net";
import { parseAddress } from "./dial.js";
import type { RaftTransport } from "./raft-transport.js";

const PROTOCOL_VERSION = 1n;
const REQUEST_CONNECT = 11;
/** Handshake + header + a CONNECT body with an address of up to 4 KiB. */
const MAX_PREAMBLE_BYTES = 16 + 8 + 4096 + 8;
const utf8 = new TextDecoder("utf-8", { fatal: true });

/** Parses protocol word + CONNECT request; null while more bytes are needed. */
export function parseConnectPreamble(
  bytes: Uint8Array,
): { id: bigint; address: string; consumed: number } | null | Error {
  if (bytes.length < 16) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getBigUint64(0, true) !== PROTOCOL_VERSION) return new Error("unknown protocol version");
  const bodyBytes = view.getUint32(8, true) * 8;
  if (bytes[12] !== REQUEST_CONNECT)
    return new Error(`expected CONNECT, got request type ${bytes[12]}`);
  if (16 + bodyBytes > MAX_PREAMBLE_BYTES || bodyBytes < 16)
    return new Error("bad CONNECT body size");
  if (bytes.length < 16 + bodyBytes) return null;
  const id = view.getBigUint64(16, true);
  const text = bytes.subarray(24, 16 + bodyBytes);
  const nul = text.indexOf(0);
  if (nul < 0) return new Error("CONNECT address without NUL");
  try {
    return { id, address: utf8.decode(text.subarray(0, nul)), consumed: 16 + bodyBytes };
  } catch {
    return new Error("CONNECT address is not UTF-8");
  }
}

/** Whoever takes over accepted raft connections (a RaftTransport). */
export type PeerAcceptor = Pick<RaftTransport, "accept">;

/** Listens on `address` ("host:port" or "@abstract") and feeds raft connections to `transport`. */
export async function listenForPeers(address: string, transport: PeerAcceptor): Promise<Server> {
  const server = createServer((socket: Socket) => {
    let buffered = new Uint8Array(0);
    const timer = setTimeout(() => socket.destroy(), 10_000);
    const onData = (chunk: Uint8Array) => {
      const joined = new Uint8Array(buffered.length + chunk.length);
      joined.set(buffered);
      joined.set(chunk, buffered.length);
      buffered = joined;
      const parsed = parseConnectPreamble(buffered);
      if (parsed === null) {
        if (buffered.length > MAX_PREAMBLE_BYTES) socket.destroy();
        return;
      }
      clearTimeout(timer);
      socket.off("data", onData);
      if (parsed instanceof Error) {
        socket.destroy();
        return;
      }
      transport.accept(socket, parsed.id, parsed.address, buffered.subarray(parsed.consumed));
    };
    socket.on("data", onData);
    socket.on("error", () => socket.destroy());
  });
  const target = parseAddress(address);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    if ("path" in target) server.listen(target.path, resolve);
    else server.listen(target.port, target.host, resolve);
  });
  return server;
}
