// Dialing raft peers over TLS: the same addresses as the plain dialer, then a TLS client
// handshake. Used when the Node is given TLS options.
import { type ConnectionOptions, connect as tlsConnect } from "node:tls";
import { type DialFunction, parseAddress } from "../raft/io/dial.js";

export function tlsDialer(options: ConnectionOptions): DialFunction {
  return (address, signal) =>
    new Promise((resolve, reject) => {
      let target: ReturnType<typeof parseAddress>;
      try {
        target = parseAddress(address);
      } catch (error) {
        reject(error);
        return;
      }
      const socket = tlsConnect({ ...options, ...target });
      const onAbort = () => {
        socket.destroy();
        reject(signal.reason);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      socket.once("secureConnect", () => {
        signal.removeEventListener("abort", onAbort);
        socket.setNoDelay(true);
        resolve(socket);
      });
      socket.once("error", (error) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      });
    });
}
