// The outbound side for one peer: a single connection, opened with the CONNECT hand-off and
// used only to write. Messages are queued whole and written whole (never split between
// connections or interleaved). The queue is bounded in messages and bytes: when it is full the
// oldest queued messages are dropped (raft resends what matters), and while the peer is
// unreachable only the newest few are kept. Reconnects back off exponentially from
// `minBackoffMs` to `maxBackoffMs` (libraft retries every second) with jitter.
import type { Socket } from "node:net";
import type { SnapshotStream } from "../core/types.js";
import type { DialFunction } from "./dial.js";

export interface PeerSenderOptions {
  handshake: Uint8Array;
  dial: DialFunction;
  connectTimeoutMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  maxQueuedMessages: number;
  maxQueuedBytes: number;
  /** Kept while no connection is up (libraft: 3). */
  maxQueuedWhileDown: number;
  /** Bytes allowed in the socket's own buffer before we hold messages back in our queue. */
  socketBufferBytes: number;
  random: () => number;
  onDrop: (count: number) => void;
  onConnected: () => void;
}

interface Queued {
  pieces: Uint8Array[];
  /** Bytes held in memory (a tail stream's bytes are read only while it is written). */
  bytes: number;
  /** The rest of the message, read chunk by chunk as the socket drains (a large snapshot). */
  tail: SnapshotStream | null;
}

export class PeerSender {
  #address: string;
  readonly #options: PeerSenderOptions;
  #socket: Socket | null = null;
  #connecting: AbortController | null = null;
  #retryTimer: NodeJS.Timeout | null = null;
  #failures = 0;
  #queue: Queued[] = [];
  #queuedBytes = 0;
  #closed = false;
  /** A message's tail is being written: the connection belongs to it until it is done. */
  #streaming = false;

  constructor(address: string, options: PeerSenderOptions) {
    this.#address = address;
    this.#options = options;
  }

  get address(): string {
    return this.#address;
  }

  get connected(): boolean {
    return this.#socket !== null;
  }

  get queuedMessages(): number {
    return this.#queue.length;
  }

  /** Points the sender at a new address (the peer moved): reconnects there. */
  setAddress(address: string): void {
    if (address === this.#address) return;
    this.#address = address;
    this.#dropConnection();
    this.#ensureConnection();
  }

  /**
   * Queues one message: `pieces`, then the bytes of `tail` if given (read only when written, so
   * a snapshot larger than memory can be sent; the caller keeps it readable meanwhile).
   */
  send(pieces: Uint8Array[], tail: SnapshotStream | null = null): void {
    if (this.#closed) return;
    let bytes = 0;
    for (const piece of pieces) bytes += piece.length;
    this.#queue.push({ pieces, bytes, tail });
    this.#queuedBytes += bytes;
    // Full bounds while connected or while a first attempt is under way; a peer we failed to
    // reach keeps only the newest few.
    this.#trim(
      this.#retryTimer !== null
        ? this.#options.maxQueuedWhileDown
        : this.#options.maxQueuedMessages,
    );
    if (this.#socket !== null) this.#flush();
    else this.#ensureConnection();
  }

  close(): void {
    this.#closed = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#connecting?.abort();
    this.#connecting = null;
    this.#socket?.destroy();
    this.#socket = null;
    this.#queue = [];
    this.#queuedBytes = 0;
  }

  #trim(maxMessages: number): void {
    let dropped = 0;
    while (
      this.#queue.length > 0 &&
      (this.#queue.length > maxMessages ||
        // The newest message is always kept, even alone over the byte bound (a big snapshot).
        (this.#queuedBytes > this.#options.maxQueuedBytes && this.#queue.length > 1))
    ) {
      const oldest = this.#queue.shift()!;
      this.#queuedBytes -= oldest.bytes;
      dropped++;
    }
    if (dropped > 0) this.#options.onDrop(dropped);
  }

  #ensureConnection(): void {
    if (
      this.#closed ||
      this.#socket !== null ||
      this.#connecting !== null ||
      this.#retryTimer !== null
    )
      return;
    const controller = new AbortController();
    this.#connecting = controller;
    const timeout = setTimeout(
      () => controller.abort(new Error(`connect to ${this.#address} timed out`)),
      this.#options.connectTimeoutMs,
    );
    const address = this.#address;
    this.#options
      .dial(address, controller.signal)
      .then(
        (socket) => {
          if (this.#connecting !== controller || this.#closed) {
            socket.destroy();
            return;
          }
          this.#connecting = null;
          this.#onConnected(socket);
        },
        () => {
          if (this.#connecting !== controller) return;
          this.#connecting = null;
          this.#scheduleRetry();
        },
      )
      .finally(() => clearTimeout(timeout));
  }

  #onConnected(socket: Socket): void {
    this.#failures = 0;
    this.#socket = socket;
    // We never read, but a peer closing its side must be noticed to reconnect.
    socket.on("data", () => {});
    socket.on("drain", () => this.#flush());
    const lost = () => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      socket.destroy();
      this.#trim(this.#options.maxQueuedWhileDown);
      this.#scheduleRetry();
    };
    socket.on("error", lost);
    socket.on("close", lost);
    socket.on("end", lost);
    socket.write(this.#options.handshake);
    this.#options.onConnected();
    this.#flush();
  }

  #flush(): void {
    const socket = this.#socket;
    if (socket === null || this.#streaming) return;
    if (socket.writableLength >= this.#options.socketBufferBytes || this.#queue.length === 0)
      return;
    socket.cork();
    while (this.#queue.length > 0 && socket.writableLength < this.#options.socketBufferBytes) {
      const message = this.#queue.shift()!;
      this.#queuedBytes -= message.bytes;
      for (const piece of message.pieces) socket.write(piece);
      if (message.tail !== null) {
        // Nothing else may be written on this connection until the whole message is out.
        this.#streaming = true;
        void this.#writeTail(socket, message.tail);
        break;
      }
    }
    socket.uncork();
  }

  /**
   * Writes a message's streamed tail, waiting for the socket to drain between chunks. If the
   * stream fails, the connection is dropped: the peer discards the partial message with it, and
   * raft sends the snapshot again later.
   */
  async #writeTail(socket: Socket, tail: SnapshotStream): Promise<void> {
    let written = 0;
    try {
      for await (const chunk of tail.chunks()) {
        if (this.#socket !== socket) return;
        if (written + chunk.length > tail.sizeBytes) throw new Error("snapshot stream too long");
        socket.write(chunk);
        written += chunk.length;
        if (socket.writableLength >= this.#options.socketBufferBytes) await drained(socket);
      }
      if (written !== tail.sizeBytes) throw new Error("snapshot stream ended early");
    } catch {
      if (this.#socket === socket) {
        this.#socket = null;
        socket.destroy();
        this.#scheduleRetry();
      }
    } finally {
      this.#streaming = false;
      if (this.#socket === socket) this.#flush();
    }
  }

  #dropConnection(): void {
    this.#connecting?.abort();
    this.#connecting = null;
    const socket = this.#socket;
    this.#socket = null;
    socket?.destroy();
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
  }

  #scheduleRetry(): void {
    if (this.#closed || this.#retryTimer !== null) return;
    this.#trim(this.#options.maxQueuedWhileDown);
    const { minBackoffMs, maxBackoffMs, random } = this.#options;
    const base = Math.min(maxBackoffMs, minBackoffMs * 2 ** Math.min(this.#failures, 20));
    this.#failures++;
    const delayMs = base / 2 + (random() * base) / 2;
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      // With nothing to send, the next send() reconnects (raft sends heartbeats anyway).
      if (this.#queue.length > 0) this.#ensureConnection();
    }, delayMs);
  }
}

/** Resolves when the socket's buffer drained, or it closed (the writer then checks the socket). */
function drained(socket: Socket): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      socket.off("drain", done);
      socket.off("close", done);
      resolve();
    };
    socket.on("drain", done);
    socket.on("close", done);
  });
}
