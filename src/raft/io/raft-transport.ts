// Raft messages between nodes, over dqlite's connections (engine-internals §6.1-6.2). Each node
// writes only on its own outbound connection to a peer (opened with the CONNECT hand-off) and
// reads only from connections its peers opened to it, which the Node's listener hands over with
// accept(). A slow or dead peer only ever costs its own bounded queue.
import type { Socket } from "node:net";
import type { Message, NodeId } from "../core/types.js";
import { encodeConnectHandshake } from "./connect-handshake.js";
import { type DialFunction, dialTcp } from "./dial.js";
import { encodeOutgoing, MessageDecodeError } from "./message-codec.js";
import { MessageDecoder, type MessageDecoderOptions } from "./message-decoder.js";
import { PeerSender } from "./peer-sender.js";
import { SnapshotSpool } from "./snapshot-spool.js";

export interface RaftTransportOptions {
  /** This node's raft id and address (announced in every CONNECT). */
  id: NodeId;
  address: string;
  /** Called for every message received, `from` set to the peer named by its CONNECT. */
  onMessage: (message: Message) => void;
  /** Called when an inbound connection from `peerId` closes (the peer may have died). */
  onInboundClosed?: (peerId: NodeId) => void;
  /** Opens connections (default: TCP "host:port", "@name" abstract unix sockets). */
  dial?: DialFunction;
  connectTimeoutMs?: number;
  /** Reconnect backoff bounds (libraft: a fixed 1000 ms). */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** Per-peer queue bounds; the oldest messages are dropped beyond them. */
  maxQueuedMessages?: number;
  maxQueuedBytes?: number;
  /** Messages kept for a peer that is not connected (libraft: 3). */
  maxQueuedWhileDown?: number;
  /** Largest header / payload accepted from a peer before its connection is closed. */
  maxHeaderBytes?: number;
  maxPayloadBytes?: number;
  /**
   * A directory for received snapshots of at least `spoolThresholdBytes` (default 16 MiB):
   * they are written there as they arrive instead of being held in memory. Without it every
   * snapshot is received in memory (up to maxPayloadBytes).
   */
  snapshotSpoolDir?: string;
  spoolThresholdBytes?: number;
  /** Largest snapshot received into the spool directory (default 1 TiB). */
  maxSpooledBytes?: number;
  /** Randomness for backoff jitter (tests pass a seeded one). */
  random?: () => number;
  /** Told about dropped connections and undecodable input (default: ignored). */
  onError?: (error: Error, peer: NodeId) => void;
}

/** Counters for monitoring and tests. */
export interface TransportStats {
  sent: number;
  received: number;
  dropped: number;
  connects: number;
  inboundConnections: number;
}

export class RaftTransport {
  readonly stats: TransportStats = {
    sent: 0,
    received: 0,
    dropped: 0,
    connects: 0,
    inboundConnections: 0,
  };
  readonly #options: Required<
    Omit<RaftTransportOptions, "onError" | "onInboundClosed" | "snapshotSpoolDir">
  > &
    Pick<RaftTransportOptions, "onError" | "onInboundClosed">;
  readonly #spool: SnapshotSpool | null;
  readonly #handshake: Uint8Array;
  readonly #peers = new Map<NodeId, PeerSender>();
  readonly #inbound = new Set<Socket>();
  #closed = false;

  constructor(options: RaftTransportOptions) {
    this.#options = {
      dial: dialTcp,
      connectTimeoutMs: 5000,
      minBackoffMs: 50,
      maxBackoffMs: 1000,
      maxQueuedMessages: 1024,
      maxQueuedBytes: 64 * 1024 * 1024,
      maxQueuedWhileDown: 3,
      maxHeaderBytes: 4 * 1024 * 1024,
      maxPayloadBytes: 1024 * 1024 * 1024,
      spoolThresholdBytes: 16 * 1024 * 1024,
      maxSpooledBytes: 2 ** 40,
      random: Math.random,
      ...definedOnly(options),
      id: options.id,
      address: options.address,
      onMessage: options.onMessage,
    };
    this.#handshake = encodeConnectHandshake(options.id, options.address);
    this.#spool =
      options.snapshotSpoolDir === undefined ? null : new SnapshotSpool(options.snapshotSpoolDir);
  }

  /** Queues `message` for peer `message.to` at `address`; never blocks, never throws for I/O. */
  send(message: Message, address: string): void {
    if (this.#closed) return;
    if (message.to === this.#options.id)
      throw new RangeError("a node does not send raft messages to itself");
    let peer = this.#peers.get(message.to);
    if (peer === undefined) {
      const o = this.#options;
      peer = new PeerSender(address, {
        handshake: this.#handshake,
        dial: o.dial,
        connectTimeoutMs: o.connectTimeoutMs,
        minBackoffMs: o.minBackoffMs,
        maxBackoffMs: o.maxBackoffMs,
        maxQueuedMessages: o.maxQueuedMessages,
        maxQueuedBytes: o.maxQueuedBytes,
        maxQueuedWhileDown: o.maxQueuedWhileDown,
        socketBufferBytes: 4 * 1024 * 1024,
        random: o.random,
        onDrop: (count) => {
          this.stats.dropped += count;
        },
        onConnected: () => {
          this.stats.connects++;
        },
      });
      this.#peers.set(message.to, peer);
    } else {
      peer.setAddress(address);
    }
    const { pieces, tail } = encodeOutgoing(message);
    peer.send(pieces, tail);
    this.stats.sent++;
  }

  /**
   * Takes over an inbound connection whose CONNECT request (from `peerId` at `peerAddress`) the
   * listener has read; `leftover` holds bytes it read past that request.
   */
  accept(
    socket: Socket,
    peerId: NodeId,
    _peerAddress: string,
    leftover: Uint8Array = new Uint8Array(0),
  ): void {
    if (this.#closed) {
      socket.destroy();
      return;
    }
    this.stats.inboundConnections++;
    this.#inbound.add(socket);
    socket.setNoDelay(true);
    const decoder = new MessageDecoder({
      from: peerId,
      to: this.#options.id,
      maxHeaderBytes: this.#options.maxHeaderBytes,
      maxPayloadBytes: this.#options.maxPayloadBytes,
      spool: this.#spoolFor(),
    });
    const feed = (chunk: Uint8Array) => {
      let messages: Message[];
      try {
        messages = decoder.push(chunk);
      } catch (error) {
        if (!(error instanceof MessageDecodeError)) throw error;
        this.#options.onError?.(error, peerId);
        socket.destroy();
        return;
      }
      for (const message of messages) {
        if (this.#closed) return;
        this.stats.received++;
        this.#options.onMessage(message);
      }
    };
    socket.on("data", feed);
    socket.on("error", (error) => this.#options.onError?.(error, peerId));
    socket.on("close", () => {
      this.#inbound.delete(socket);
      decoder.close();
      if (!this.#closed) this.#options.onInboundClosed?.(peerId);
    });
    if (leftover.length > 0) feed(leftover);
  }

  #spoolFor(): MessageDecoderOptions["spool"] {
    const spool = this.#spool;
    if (spool === null) return undefined;
    return {
      thresholdBytes: this.#options.spoolThresholdBytes,
      maxBytes: this.#options.maxSpooledBytes,
      create: (sizeBytes) => spool.create(sizeBytes),
    };
  }

  /** Whether an outbound connection to `peer` is currently up. */
  isConnected(peer: NodeId): boolean {
    return this.#peers.get(peer)?.connected ?? false;
  }

  /** Forgets a peer that left the configuration (closes its connection, drops its queue). */
  forget(peer: NodeId): void {
    this.#peers.get(peer)?.close();
    this.#peers.delete(peer);
  }

  close(): void {
    this.#closed = true;
    for (const peer of this.#peers.values()) peer.close();
    this.#peers.clear();
    for (const socket of this.#inbound) socket.destroy();
    this.#inbound.clear();
  }
}

/** The options a caller actually set: an explicit `undefined` must not hide a default. */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
