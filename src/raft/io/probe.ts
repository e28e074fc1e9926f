// Telling a dead peer from a silent one, for fast failover: a connection refused at its address
// means no process listens there. Racing a SIGKILL, the probe can also reach the dying
// process's listener before the kernel closes it (the connected sockets are torn down first):
// the connection is accepted into the backlog, then reset. So a connection that the far side
// drops at once is not taken as a sign of life, and the address is probed again.
import type { Socket } from "node:net";
import type { DialFunction } from "./dial.js";

export interface ProbeOptions {
  /** Bound on each connection attempt. */
  timeoutMs: number;
  /** How long an accepted connection must stay up to count as a live listener. */
  holdMs?: number;
  /** Connection attempts when the far side keeps dropping them. */
  attempts?: number;
}

/** Gives a dying process's kernel a moment to close the listener before the next attempt. */
const RETRY_PAUSE_MS = 10;

/** Resolves true when `address` refuses connections (its process is gone), false otherwise. */
export async function listenerGone(
  dial: DialFunction,
  address: string,
  options: ProbeOptions,
): Promise<boolean> {
  const { timeoutMs, holdMs = 100, attempts = 3 } = options;
  for (let attempt = 0; attempt < attempts; attempt++) {
    if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
    let socket: Socket;
    try {
      socket = await dial(address, AbortSignal.timeout(timeoutMs));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ECONNREFUSED") return true;
      if (code === "ECONNRESET" || code === "EPIPE") continue; // dropped during a handshake
      return false; // a timeout or an unreachable network says nothing about the process
    }
    const dropped = await closedWithin(socket, holdMs);
    socket.destroy();
    if (!dropped) return false;
  }
  return false;
}

/** Whether the far side closes or resets `socket` within `ms`. */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const finish = (dropped: boolean) => {
      clearTimeout(timer);
      socket.off("close", onClose);
      socket.off("end", onClose);
      socket.off("error", onClose);
      resolve(dropped);
    };
    const onClose = () => finish(true);
    const timer = setTimeout(() => finish(false), ms);
    socket.on("close", onClose);
    socket.on("end", onClose);
    socket.on("error", onClose);
    socket.resume();
  });
}
