// go-dqlite's external connections (WithExternalConn, as LXD uses it): the application's own
// server accepts the cluster's connections, e.g. HTTP requests answered with `Upgrade: dqlite`,
// and hands them to the App; the App dials through the application's dial function. The node
// itself then listens only on a private abstract unix socket, for local clients.
import { randomBytes } from "node:crypto";
import { Socket } from "node:net";
import type { Duplex } from "node:stream";

/** go-dqlite's answer to an upgrade request, byte for byte. */
export const SWITCHING_PROTOCOLS = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: dqlite\r\n\r\n";

/** The node's private socket when the options name none: abstract, unique to this start. */
export function defaultUnixSocket(id: bigint): string {
  return `@dqlite-${id}-${randomBytes(4).toString("hex")}`;
}

/** The socket behind an upgraded connection (Node's HTTP server types it as a Duplex). */
export function asSocket(stream: Duplex): Socket {
  if (!(stream instanceof Socket)) {
    throw new TypeError("the connection must be a net.Socket (TCP, unix or TLS)");
  }
  return stream;
}

/**
 * Answers an upgrade on `socket` and puts back `head` (bytes the HTTP server read past the
 * request), so that the node reads the dqlite stream from its first byte.
 */
export function switchProtocols(socket: Socket, head: Uint8Array | undefined): void {
  if (head !== undefined && head.length > 0) socket.unshift(head);
  socket.write(SWITCHING_PROTOCOLS);
}
