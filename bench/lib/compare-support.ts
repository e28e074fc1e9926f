// Pieces of the side-by-side benchmarks (compare.ts, memory-growth.ts): what they need to run,
// physical limits of the machine, block-device flush counters, process memory, and the SVG chart.
import {
  closeSync,
  existsSync,
  fdatasyncSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { createServer, connect as netConnect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { haveRealDqlite } from "../../test/harness/real-dqlite.js";

/** The repository's root. */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/**
 * Whether a side-by-side run can start: false (said on stdout) without Debian's real dqlite;
 * throws without `dist/`, which our dqlite-demo runs from.
 */
export function readyToCompare(): boolean {
  if (!haveRealDqlite()) {
    console.log("real dqlite is not installed (apt-get install -y go-dqlite): nothing to compare");
    return false;
  }
  if (!existsSync(join(ROOT, "dist", "cli", "dqlite-demo.js"))) {
    throw new Error("dist/ is missing: run npm run build first");
  }
  return true;
}

/** Durable 4 KiB appends per second (write + fdatasync), as the raft log needs them. */
export function measureFsyncRate(durationMs: number): number {
  const dir = mkdtempSync(join(tmpdir(), "fsync-rate-"));
  const fd = openSync(join(dir, "f"), "w");
  const block = Buffer.alloc(4096, 7);
  let count = 0;
  const started = performance.now();
  try {
    while (performance.now() - started < durationMs) {
      writeSync(fd, block);
      fdatasyncSync(fd);
      count++;
    }
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
  return count / ((performance.now() - started) / 1000);
}

/** Median round trip of a 16-byte message over loopback TCP, in microseconds. */
export async function measureLoopbackRoundTripUs(rounds: number): Promise<number> {
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    socket.on("data", (data) => socket.write(data));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const socket = netConnect({ host: "127.0.0.1", port });
  socket.setNoDelay(true);
  await new Promise((resolve) => socket.once("connect", resolve));
  const samples: number[] = [];
  const message = Buffer.alloc(16, 1);
  for (let i = 0; i < rounds; i++) {
    const started = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      socket.once("data", () => resolve());
      socket.write(message);
    });
    samples.push(Number(process.hrtime.bigint() - started) / 1000);
  }
  socket.destroy();
  server.close();
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

/**
 * Completed flush requests of the block device holding `path` (from /sys/block/<dev>/stat, field
 * 16), or null where the kernel does not say. Every durable write (fsync, fdatasync, O_DSYNC)
 * ends in one.
 */
export function flushCounter(path: string): (() => number) | null {
  try {
    const dev = statSync(path).dev;
    const major = Math.floor(dev / 256);
    const minor = dev % 256;
    const base = `/sys/dev/block/${major}:${minor}`;
    const candidates = [`${base}/stat`, `${base}/../stat`];
    for (const file of candidates) {
      const read = () => Number(readFileSync(file, "utf8").trim().split(/\s+/)[15]);
      const value = read();
      if (Number.isFinite(value) && value > 0) return read;
    }
  } catch {
    // no block device statistics here
  }
  return null;
}

/** Resident and peak resident memory of a process, in bytes. */
export function memoryOf(pid: number): { rssBytes: number; peakBytes: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string) =>
      Number(new RegExp(`${name}:\\s+(\\d+) kB`).exec(status)?.[1]) * 1024;
    return { rssBytes: field("VmRSS"), peakBytes: field("VmHWM") };
  } catch {
    return null;
  }
}

export interface ChartRow {
  label: string;
  realOpsPerSecond: number;
  oursOpsPerSecond: number;
  realP99Ms: number;
  oursP99Ms: number;
}

/** A two-panel bar chart (throughput, p99 latency), ours beside real, per workload. */
export function chartSvg(title: string, rows: readonly ChartRow[]): string {
  const rowHeight = 34;
  const labelWidth = 230;
  const panelWidth = 360;
  const height = 60 + rows.length * rowHeight + 30;
  const width = labelWidth + 2 * panelWidth + 40;
  const maxOps = Math.max(1, ...rows.flatMap((r) => [r.realOpsPerSecond, r.oursOpsPerSecond]));
  const maxP99 = Math.max(0.001, ...rows.flatMap((r) => [r.realP99Ms, r.oursP99Ms]));
  const escapeXml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">${escapeXml(title)}</text>`,
    `<text x="${labelWidth}" y="45" font-weight="bold">throughput (ops/s)</text>`,
    `<text x="${labelWidth + panelWidth + 20}" y="45" font-weight="bold">p99 latency (ms)</text>`,
    `<rect x="${width - 190}" y="8" width="12" height="12" fill="#9e9e9e"/><text x="${width - 172}" y="18">real dqlite 1.11</text>`,
    `<rect x="${width - 80}" y="8" width="12" height="12" fill="#1e88e5"/><text x="${width - 62}" y="18">ours</text>`,
  ];
  rows.forEach((row, i) => {
    const y = 55 + i * rowHeight;
    parts.push(`<text x="10" y="${y + 18}">${escapeXml(row.label)}</text>`);
    const bars: [number, number, string, number][] = [
      [row.realOpsPerSecond, maxOps, "#9e9e9e", 0],
      [row.oursOpsPerSecond, maxOps, "#1e88e5", 1],
    ];
    for (const [value, max, color, k] of bars) {
      const w = Math.max(1, (value / max) * (panelWidth - 70));
      parts.push(
        `<rect x="${labelWidth}" y="${y + k * 14}" width="${w.toFixed(1)}" height="12" fill="${color}"/>`,
        `<text x="${labelWidth + w + 4}" y="${y + k * 14 + 10}">${value.toFixed(0)}</text>`,
      );
    }
    const latency: [number, string, number][] = [
      [row.realP99Ms, "#9e9e9e", 0],
      [row.oursP99Ms, "#1e88e5", 1],
    ];
    for (const [value, color, k] of latency) {
      const x = labelWidth + panelWidth + 20;
      const w = Math.max(1, (value / maxP99) * (panelWidth - 70));
      parts.push(
        `<rect x="${x}" y="${y + k * 14}" width="${w.toFixed(1)}" height="12" fill="${color}"/>`,
        `<text x="${x + w + 4}" y="${y + k * 14 + 10}">${value.toFixed(2)}</text>`,
      );
    }
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
