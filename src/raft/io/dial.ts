// Opening a connection to a raft peer's address, the way dqlite's default dialer does:
// "host:port" over TCP (port 8080 when omitted; "[v6]:port" accepted), and "@name" for a Linux
// abstract unix socket.
import { connect, type Socket } from "node:net";

/** Opens a connected socket to `address`, or rejects (on error, timeout or abort). */
export type DialFunction = (address: string, signal: AbortSignal) => Promise<Socket>;

const DEFAULT_PORT = 8080;

/** Splits "host:port", "[v6]:port" or "host" into connect options. */
export function parseAddress(address: string): { path: string } | { host: string; port: number } {
  if (address.startsWith("@")) return { path: `\0${address.slice(1)}` };
  let host = address;
  let port = DEFAULT_PORT;
  const v6 = /^\[([^\]]+)\](?::(\d+))?$/.exec(address);
  if (v6) {
    host = v6[1];
    if (v6[2] !== undefined) port = Number(v6[2]);
  } else {
    const colon = address.lastIndexOf(":");
    if (colon >= 0) {
      host = address.slice(0, colon);
      port = Number(address.slice(colon + 1));
    }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new RangeError(`bad port in address ${address}`);
  return { host, port };
}

/** The default dialer: TCP with Nagle off, or an abstract unix socket. */
export const dialTcp: DialFunction = (address, signal) =>
  new Promise<Socket>((resolve, reject) => {
    let target: ReturnType<typeof parseAddress>;
    try {
      target = parseAddress(address);
    } catch (error) {
      reject(error);
      return;
    }
    const socket = connect(target);
    const onAbort = () => {
      socket.destroy();
      reject(signal.reason ?? new Error("dial aborted"));
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", () => {
      signal.removeEventListener("abort", onAbort);
      socket.setNoDelay(true);
      resolve(socket);
    });
    socket.once("error", (error) => {
      signal.removeEventListener("abort", onAbort);
      socket.destroy();
      reject(error);
    });
  });
