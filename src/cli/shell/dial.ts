// The shell's dial function: TCP (`host:port`, `[v6]:port`) or an abstract unix socket (`@name`),
// optionally wrapped in TLS, with Go's error texts (the shell prints them the way go-dqlite's
// does: "dial tcp 127.0.0.1:1: connect: connection refused").
import { connect as connectTcp, type Socket } from "node:net";
import type { Duplex } from "node:stream";
import { connect as connectTls, type TLSSocket } from "node:tls";
import type { DialFunction } from "../../client/index.js";

/** TLS material for dialling, as go-dqlite's SimpleDialTLSConfig builds it. */
export interface TlsDialOptions {
  cert: string;
  key: string;
  /** Trusted certificates (the shell trusts its own certificate). */
  ca: string;
  /** Name checked against the server's certificate (the first DNS name of ours). */
  serverName: string;
}

/** A dial failure, with Go's net.OpError text. */
export class DialError extends Error {
  override name = "DialError";
}

/** Go's texts for the errno values a dial can end with. */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused",
  ECONNRESET: "connection reset by peer",
  EHOSTUNREACH: "no route to host",
  ENETUNREACH: "network is unreachable",
  ETIMEDOUT: "connection timed out",
  EADDRNOTAVAIL: "cannot assign requested address",
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
};

type Target = { network: "tcp"; host: string; port: number } | { network: "unix"; path: string };

// Go's net.SplitHostPort rules, with its messages.
function parseTarget(address: string): Target {
  if (address.startsWith("@")) return { network: "unix", path: `\0${address.slice(1)}` };
  const fail = (why: string): never => {
    throw new DialError(`dial tcp: address ${address}: ${why}`);
  };
  let host: string;
  let portText: string;
  if (address.startsWith("[")) {
    const end = address.indexOf("]");
    if (end < 0) fail("missing ']' in address");
    host = address.slice(1, end);
    const rest = address.slice(end + 1);
    if (rest === "") fail("missing port in address");
    if (!rest.startsWith(":")) fail("missing port in address");
    portText = rest.slice(1);
  } else {
    const colon = address.lastIndexOf(":");
    if (colon < 0) fail("missing port in address");
    host = address.slice(0, colon);
    if (host.includes(":")) fail("too many colons in address");
    portText = address.slice(colon + 1);
  }
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new DialError(`dial tcp: lookup tcp/${portText}: unknown port`);
  }
  return { network: "tcp", host: host === "" ? "localhost" : host, port };
}

function describeFailure(target: Target, address: string, error: NodeJS.ErrnoException): string {
  const network = target.network;
  if (error.code === "ENOTFOUND" || error.code === "EAI_AGAIN") {
    return `dial ${network}: lookup ${target.network === "tcp" ? target.host : address}: no such host`;
  }
  const text = (error.code && ERRNO_TEXT[error.code]) ?? error.message;
  return `dial ${network} ${address}: connect: ${text}`;
}

function dialPlain(address: string, signal: AbortSignal): Promise<Socket> {
  const target = parseTarget(address);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<Socket>((resolve, reject) => {
    const socket =
      target.network === "tcp"
        ? connectTcp({ host: target.host, port: target.port })
        : connectTcp({ path: target.path });
    const cleanUp = (): void => {
      signal.removeEventListener("abort", onAbort);
      socket.off("connect", onConnect);
      socket.off("error", onError);
    };
    const onAbort = (): void => {
      cleanUp();
      socket.destroy();
      reject(signal.reason);
    };
    const onError = (error: NodeJS.ErrnoException): void => {
      cleanUp();
      socket.destroy();
      reject(new DialError(describeFailure(target, address, error), { cause: error }));
    };
    const onConnect = (): void => {
      cleanUp();
      if (target.network === "tcp") socket.setNoDelay(true);
      resolve(socket);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", onConnect);
    socket.once("error", onError);
  });
}

function upgradeTls(socket: Socket, tls: TlsDialOptions, signal: AbortSignal): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    const secure = connectTls({
      socket,
      cert: tls.cert,
      key: tls.key,
      ca: tls.ca,
      servername: tls.serverName,
      minVersion: "TLSv1.2",
    });
    const cleanUp = (): void => {
      signal.removeEventListener("abort", onAbort);
      secure.off("secureConnect", onConnect);
      secure.off("error", onError);
    };
    const onAbort = (): void => {
      cleanUp();
      secure.destroy();
      reject(signal.reason);
    };
    const onError = (error: Error): void => {
      cleanUp();
      secure.destroy();
      reject(new DialError(`tls: ${error.message}`, { cause: error }));
    };
    const onConnect = (): void => {
      cleanUp();
      resolve(secure);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    secure.once("secureConnect", onConnect);
    secure.once("error", onError);
  });
}

/** A dial function for the client library: plain, or TLS over it when `tls` is given. */
export function shellDial(tls?: TlsDialOptions): DialFunction {
  return async (address: string, signal: AbortSignal): Promise<Duplex> => {
    const socket = await dialPlain(address, signal);
    if (tls === undefined) return socket;
    return await upgradeTls(socket, tls, signal);
  };
}
