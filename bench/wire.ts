// Wire codec speed: a 1,000-row Rows result (int, ~20-char text, float, 32-byte blob, null) encoded
// row by row into 4 KiB parts and decoded again, small requests and responses, and the stream
// decoder. References measured in the same run: JSON of the same data (a common yardstick) and a
// plain copy of the same bytes (the ceiling). Rates are per CPU-second.
import { fileURLToPath } from "node:url";
import {
  decodeHeader,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  type Frame,
  type Request,
  RowsWriter,
  StreamDecoder,
} from "../src/wire/index.js";

const ROWS = 1000;
const COLUMNS = ["id", "name", "score", "digest", "nothing"];

interface Measurement {
  opsPerSecond: number;
}

// Throughput per CPU-second of this process: on a shared machine wall-clock time mostly measures
// the neighbours. Every figure, references included, is measured the same way in the same run.
function measure(durationMs: number, op: () => void): Measurement {
  const warmUntil = performance.now() + Math.min(200, durationMs / 2);
  while (performance.now() < warmUntil) op();
  let ops = 0;
  const started = performance.now();
  const cpuStart = process.cpuUsage();
  do {
    for (let i = 0; i < 16; i++) op();
    ops += 16;
  } while (performance.now() - started < durationMs);
  const cpu = process.cpuUsage(cpuStart);
  return { opsPerSecond: (ops * 1e6) / (cpu.user + cpu.system) };
}

function frameOf(message: Uint8Array): Frame {
  const header = decodeHeader(message);
  return {
    type: header.type,
    schema: header.schema,
    extra: header.extra,
    body: message.subarray(8),
  };
}

function makeRows(): { ints: number[]; texts: string[]; floats: number[]; blobs: Uint8Array[] } {
  const ints: number[] = [];
  const texts: string[] = [];
  const floats: number[] = [];
  const blobs: Uint8Array[] = [];
  for (let i = 0; i < ROWS; i++) {
    ints.push(i * 7919);
    texts.push(`user-${String(i).padStart(6, "0")}-abcdefghi`);
    floats.push(i / 3);
    blobs.push(Uint8Array.from({ length: 32 }, (_, k) => (i + k) & 0xff));
  }
  return { ints, texts, floats, blobs };
}

function encodeResult(data: ReturnType<typeof makeRows>): Uint8Array[] {
  const writer = new RowsWriter(COLUMNS);
  const messages: Uint8Array[] = [];
  for (let i = 0; i < ROWS; i++) {
    if (writer.full) messages.push(writer.finish(true));
    writer.beginRow();
    writer.integer(data.ints[i]);
    writer.text(data.texts[i]);
    writer.float(data.floats[i]);
    writer.blob(data.blobs[i]);
    writer.null();
    writer.endRow();
  }
  messages.push(writer.finish(false));
  return messages;
}

function line(
  name: string,
  m: Measurement,
  unitsPerOp: number,
  unit: string,
  bytesPerOp: number,
): string {
  const units = m.opsPerSecond * unitsPerOp;
  const mbps = (m.opsPerSecond * bytesPerOp) / 1e6;
  return `${name.padEnd(44)} ${fmt(units).padStart(10)} ${unit}/s ${mbps.toFixed(1).padStart(8)} MB/s`;
}

function fmt(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(2)}M`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return value.toFixed(0);
}

export async function run(options: { short: boolean }): Promise<void> {
  const durationMs = options.short ? 300 : 1500;
  const data = makeRows();
  const messages = encodeResult(data);
  const bytes = messages.reduce((size, m) => size + m.length, 0);
  console.log(`1,000-row result: ${messages.length} Rows messages, ${bytes} bytes`);

  const encode = measure(durationMs, () => encodeResult(data));
  console.log(line("Rows encode (RowsWriter, typed puts)", encode, ROWS, "rows", bytes));
  const decode = measure(durationMs, () => {
    for (const message of messages) decodeResponse(frameOf(message));
  });
  console.log(line("Rows decode (flat values)", decode, ROWS, "rows", bytes));
  const decodeBig = measure(durationMs, () => {
    for (const message of messages) decodeResponse(frameOf(message), { bigints: true });
  });
  console.log(line("Rows decode, bigints", decodeBig, ROWS, "rows", bytes));

  // References on the same data.
  const objects = data.ints.map((id, i) => ({
    id,
    name: data.texts[i],
    score: data.floats[i],
    digest: Buffer.from(data.blobs[i]).toString("base64"),
    nothing: null,
  }));
  const json = JSON.stringify(objects);
  const jsonEncode = measure(durationMs, () => JSON.stringify(objects));
  const jsonDecode = measure(durationMs, () => JSON.parse(json));
  console.log(line("reference: JSON.stringify of the rows", jsonEncode, ROWS, "rows", json.length));
  console.log(line("reference: JSON.parse of the rows", jsonDecode, ROWS, "rows", json.length));
  const target = new Uint8Array(bytes);
  const copy = measure(durationMs, () => {
    let at = 0;
    for (const message of messages) {
      target.set(message, at);
      at += message.length;
    }
  });
  console.log(line("reference: copying the encoded bytes", copy, ROWS, "rows", bytes));
  console.log(
    `ratios: encode ${(encode.opsPerSecond / jsonEncode.opsPerSecond).toFixed(2)}x JSON.stringify, ` +
      `decode ${(decode.opsPerSecond / jsonDecode.opsPerSecond).toFixed(2)}x JSON.parse, ` +
      `decode at ${((decode.opsPerSecond / copy.opsPerSecond) * 100).toFixed(1)}% of memcpy speed`,
  );

  // Small messages: the kvwrite request shape and the usual answers.
  const requests: Request[] = [
    { type: "leader" },
    {
      type: "execSql",
      schema: 0,
      dbId: 0,
      sql: "INSERT OR REPLACE INTO model(key, value) VALUES(?, ?)",
      params: [
        { type: 3, value: "k".repeat(32) },
        { type: 3, value: "v".repeat(1024) },
      ],
    },
    {
      type: "querySql",
      schema: 0,
      dbId: 0,
      sql: "SELECT value FROM model WHERE key = ?",
      params: [{ type: 3, value: "key-000042" }],
    },
    {
      type: "exec",
      schema: 0,
      dbId: 0,
      stmtId: 3,
      params: [
        { type: 1, value: 42 },
        { type: 2, value: 0.5 },
      ],
    },
  ];
  for (const request of requests) {
    const encoded = encodeRequest(request);
    const frame = frameOf(encoded);
    const enc = measure(durationMs / 2, () => encodeRequest(request));
    const dec = measure(durationMs / 2, () => decodeRequest(frame));
    console.log(
      line(`${request.type} request encode (${encoded.length} B)`, enc, 1, "msgs", encoded.length),
    );
    console.log(
      line(`${request.type} request decode (${encoded.length} B)`, dec, 1, "msgs", encoded.length),
    );
  }
  const result = encodeResponse({ type: "result", lastInsertId: 42n, rowsAffected: 1 });
  const resultFrame = frameOf(result);
  console.log(
    line(
      "result response encode",
      measure(durationMs / 2, () =>
        encodeResponse({ type: "result", lastInsertId: 42n, rowsAffected: 1 }),
      ),
      1,
      "msgs",
      result.length,
    ),
  );
  console.log(
    line(
      "result response decode",
      measure(durationMs / 2, () => decodeResponse(resultFrame)),
      1,
      "msgs",
      result.length,
    ),
  );

  // Stream decoder: the result's messages back to back, in 64 KiB chunks.
  const stream = Buffer.concat(messages);
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < stream.length; at += 65536) chunks.push(stream.subarray(at, at + 65536));
  const framing = measure(durationMs, () => {
    const decoder = new StreamDecoder();
    for (const chunk of chunks) {
      decoder.push(chunk);
      while (decoder.next() !== undefined);
    }
  });
  console.log(
    line("stream decoder framing, 64 KiB chunks", framing, messages.length, "msgs", bytes),
  );
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await run({ short: process.argv.includes("--short") });
}
