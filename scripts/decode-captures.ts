// Decodes every captured dqlite conversation in test/fixtures/wire-captures with our codec and
// prints one compact line per message. Exits 1 if any message fails to decode.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import {
  decodeRequest,
  decodeResponse,
  type Request,
  type Response,
  StreamDecoder,
} from "../src/wire/index.js";
import { loadCapture, WIRE_CAPTURES_DIR } from "../test/wire/captures.js";

const MAX_SHOWN_CHARS = 60;

function show(value: unknown): string {
  if (typeof value === "bigint") return `0x${value.toString(16)}`;
  if (typeof value === "string") {
    const quoted = JSON.stringify(value);
    return quoted.length > MAX_SHOWN_CHARS ? `${quoted.slice(0, MAX_SHOWN_CHARS)}…"` : quoted;
  }
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  if (value === null) return "null";
  return String(value);
}

function summarize(message: Request | Response): string {
  switch (message.type) {
    case "rows":
      return `rows columns=[${message.columns.join(",")}] rows=${message.rowCount} ${message.more ? "PART" : "DONE"}`;
    case "files":
      return `files ${message.files.map((f) => `${f.name}:${f.data.length}B`).join(" ")}`;
    case "servers":
      return `servers ${message.servers.map((s) => `${show(s.id)}@${s.address}/role${s.role}`).join(" ")}`;
    default: {
      const fields = Object.entries(message)
        .filter(([key]) => key !== "type")
        .map(([key, value]) =>
          key === "params"
            ? `params=[${(value as { value: unknown }[]).map((p) => show(p.value)).join(",")}]`
            : `${key}=${show(value)}`,
        );
      return [message.type, ...fields].join(" ");
    }
  }
}

function decodeConversation(path: string): { messages: number; failure?: string } {
  const capture = loadCapture(path);
  if (capture.clientProtocolLines === 0) {
    console.log(`  (not dqlite: ${capture.lines.length} HTTP segments)`);
    return { messages: 0 };
  }
  const client = new StreamDecoder({ handshake: true });
  const server = new StreamDecoder();
  let clusterFormat = 1;
  let messages = 0;
  for (const line of capture.lines.slice(0, capture.clientProtocolLines)) {
    try {
      if (line.direction === "C") {
        let hadVersion = client.version !== undefined;
        client.push(line.bytes);
        for (;;) {
          const frame = client.next();
          if (!hadVersion && client.version !== undefined) {
            console.log(`  C handshake version=${show(client.version)}`);
            messages++;
            hadVersion = true;
          }
          if (frame === undefined) break;
          const request = decodeRequest(frame);
          if (request.type === "cluster") clusterFormat = request.format;
          console.log(`  C ${summarize(request)}`);
          messages++;
        }
      } else {
        server.push(line.bytes);
        for (let frame = server.next(); frame !== undefined; frame = server.next()) {
          console.log(`  S ${summarize(decodeResponse(frame, { serversFormat: clusterFormat }))}`);
          messages++;
        }
      }
    } catch (error) {
      return { messages, failure: `${capture.name}: ${String(error)}` };
    }
  }
  if (client.bufferedBytes !== 0 || server.bufferedBytes !== 0) {
    return { messages, failure: `${capture.name}: conversation ends inside a message` };
  }
  return { messages };
}

function main(): number {
  const files = readdirSync(WIRE_CAPTURES_DIR)
    .filter((name) => name.endsWith(".hex"))
    .sort();
  let total = 0;
  const failures: string[] = [];
  for (const name of files) {
    console.log(name.replace(/\.hex$/, ""));
    const { messages, failure } = decodeConversation(join(WIRE_CAPTURES_DIR, name));
    total += messages;
    if (failure !== undefined) {
      console.log(`  FAILED ${failure}`);
      failures.push(failure);
    }
  }
  console.log(
    `decoded ${total} messages in ${files.length} conversations; ${failures.length} failures`,
  );
  for (const failure of failures) console.log(`failure: ${failure}`);
  return failures.length === 0 ? 0 : 1;
}

process.exitCode = main();
