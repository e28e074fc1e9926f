// Mutual TLS for an App from one certificate, like go-dqlite's SimpleTLSConfig: every node and
// client presents the same certificate and trusts the same CA pool (usually that certificate).
import { X509Certificate } from "node:crypto";
import { connect as connectTcp, type Socket } from "node:net";
import {
  type ConnectionOptions,
  connect as connectTls,
  type TLSSocket,
  type TlsOptions,
} from "node:tls";
import { ConnectionError, type DialFunction } from "../client/index.js";
import { AppError } from "./errors.js";
import type { AppTlsOptions } from "./options.js";

/** PEM text or bytes. */
export type Pem = string | Buffer;

/** One certificate and key for the whole cluster, and the CAs to trust (default: the certificate). */
export interface SimpleTlsInput {
  cert: Pem;
  key: Pem;
  ca?: Pem | Pem[];
}

/** Both sides of mutual TLS, plus the dial function clients use with it. */
export interface SimpleTlsConfig extends AppTlsOptions {
  /** Dials a node over TLS; give it to `connect` or `Client` as their `dial` option. */
  dial: DialFunction;
}

// go-dqlite 1.11's suite list for TLS 1.2 (TLS 1.3 suites are not configurable there either).
const TLS12_CIPHERS = [
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES128-GCM-SHA256",
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-AES256-SHA",
  "ECDHE-ECDSA-AES128-SHA",
  "ECDHE-RSA-AES256-SHA",
  "ECDHE-RSA-AES128-SHA",
].join(":");
const TLS13_CIPHERS = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";

/**
 * Mutual TLS from one certificate: TLS >= 1.2, client certificates required and verified against
 * `ca`, and the certificate's first DNS name as the server name when dialling. Throws AppError
 * when the certificate has no DNS name (go-dqlite panics).
 */
export function simpleTlsConfig(input: SimpleTlsInput): SimpleTlsConfig {
  const ca = input.ca ?? input.cert;
  const serverName = firstDnsName(input.cert);
  const server: TlsOptions = {
    cert: input.cert,
    key: input.key,
    ca,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.2",
    ciphers: `${TLS13_CIPHERS}:${TLS12_CIPHERS}`,
    honorCipherOrder: true,
  };
  const client: ConnectionOptions = {
    cert: input.cert,
    key: input.key,
    ca,
    servername: serverName,
    minVersion: "TLSv1.2",
    rejectUnauthorized: true,
  };
  return { server, client, dial: tlsDial(client) };
}

/**
 * A dial function that opens TCP (or an abstract unix socket for "@name") and then does a TLS
 * client handshake with `options`. Without a `servername` the host of the address is checked
 * against the certificate, as go-dqlite's DialFuncWithTLS does.
 */
export function tlsDial(
  options: ConnectionOptions,
): (address: string, signal: AbortSignal) => Promise<TLSSocket> {
  const sessions = new SessionCache();
  return async (address, signal) => {
    const socket = await dialSocket(address, signal);
    const secure = await handshake(
      socket,
      address,
      { session: sessions.get(address), ...options },
      signal,
    );
    secure.on("session", (session: Buffer) => sessions.set(address, session));
    return secure;
  };
}

/** Sessions kept for a resumption at the next dial of each address. */
const MAX_CACHED_SESSIONS = 256;

/**
 * TLS sessions by address, so that the next connection resumes instead of a full handshake
 * (go-dqlite's dial config keeps an LRU session cache too). The App opens many short connections:
 * leader searches and the probes of every roles round.
 */
class SessionCache {
  readonly #sessions = new Map<string, Buffer>();

  get(address: string): Buffer | undefined {
    return this.#sessions.get(address);
  }

  set(address: string, session: Buffer): void {
    this.#sessions.delete(address);
    this.#sessions.set(address, session);
    if (this.#sessions.size > MAX_CACHED_SESSIONS) {
      const oldest = this.#sessions.keys().next().value;
      if (oldest !== undefined) this.#sessions.delete(oldest);
    }
  }
}

function firstDnsName(cert: Pem): string {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(cert);
  } catch (error) {
    throw new AppError(`parse certificate: ${(error as Error).message}`, { cause: error });
  }
  const name = (certificate.subjectAltName ?? "")
    .split(", ")
    .find((entry) => entry.startsWith("DNS:"));
  if (name === undefined) throw new AppError("certificate has no DNS extension");
  return name.slice("DNS:".length);
}

type Endpoint = { host: string; port: number } | { path: string };

function parseEndpoint(address: string): Endpoint {
  if (address.startsWith("@")) return { path: `\0${address.slice(1)}` };
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(address);
  if (!match) throw new TypeError(`address "${address}" is not host:port or @name`);
  const port = Number(match[3]);
  if (port < 1 || port > 65535) throw new TypeError(`address "${address}" has no valid port`);
  return { host: match[1] ?? match[2] ?? "", port };
}

function dialSocket(address: string, signal: AbortSignal): Promise<Socket> {
  const endpoint = parseEndpoint(address);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<Socket>((resolve, reject) => {
    const socket = connectTcp(endpoint);
    const done = (): void => {
      signal.removeEventListener("abort", onAbort);
      socket.off("connect", onConnect);
      socket.off("error", onError);
    };
    const onAbort = (): void => {
      done();
      socket.destroy();
      reject(signal.reason);
    };
    const onError = (error: Error): void => {
      done();
      socket.destroy();
      reject(
        new ConnectionError(address, `dial failed: ${error.message}`, false, { cause: error }),
      );
    };
    const onConnect = (): void => {
      done();
      if ("host" in endpoint) socket.setNoDelay(true);
      resolve(socket);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    socket.once("connect", onConnect);
    socket.once("error", onError);
  });
}

function handshake(
  socket: Socket,
  address: string,
  options: ConnectionOptions,
  signal: AbortSignal,
): Promise<TLSSocket> {
  const endpoint = parseEndpoint(address);
  const host = "host" in endpoint ? endpoint.host : undefined;
  return new Promise<TLSSocket>((resolve, reject) => {
    // Without a server name, Node checks the certificate against `host` (an IP is matched
    // against the IP names), like Go does with the address's host.
    const secure = connectTls({ ...options, socket, host: options.host ?? host });
    const done = (): void => {
      signal.removeEventListener("abort", onAbort);
      secure.off("secureConnect", onConnect);
      secure.off("error", onError);
    };
    const onAbort = (): void => {
      done();
      secure.destroy();
      reject(signal.reason);
    };
    const onError = (error: Error): void => {
      done();
      secure.destroy();
      reject(
        new ConnectionError(address, `TLS handshake failed: ${error.message}`, false, {
          cause: error,
        }),
      );
    };
    const onConnect = (): void => {
      done();
      resolve(secure);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener("abort", onAbort, { once: true });
    secure.once("secureConnect", onConnect);
    secure.once("error", onError);
  });
}
