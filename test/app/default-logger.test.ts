// Without a logger, an App logs only errors (go-dqlite's default): starting, serving SQL and
// closing print nothing, while the same run with a logger shows there was info to print.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { freePorts } from "../harness/ports.js";

const ROOT = join(fileURLToPath(import.meta.url), "..", "..", "..");

const SCRIPT = `
import { App } from "./src/app/app.js";
const lines = [];
const keep = (level) => (fields, message) => lines.push(level + " " + message);
const logger = process.env.WITH_LOGGER
  ? { debug: keep("debug"), info: keep("info"), warn: keep("warn"), error: keep("error") }
  : undefined;
const app = await App.create(process.env.DIR, { address: process.env.ADDRESS, logger });
await app.ready({ signal: AbortSignal.timeout(20000) });
const db = await app.open("quiet");
await db.exec("CREATE TABLE t (n INTEGER)");
await db.exec("INSERT INTO t VALUES (1)");
await db.close();
await app.close();
process.stdout.write(JSON.stringify(lines));
`;

async function run(withLogger: boolean): Promise<{ stdout: string; stderr: string }> {
  const [port] = await freePorts(1);
  const address = `127.0.0.1:${port}`;
  return new Promise((resolve, reject) =>
    mkdtemp(join(tmpdir(), "app-quiet-")).then((dir) =>
      execFile(
        process.execPath,
        ["--import", "tsx", "--input-type=module", "-e", SCRIPT],
        {
          cwd: ROOT,
          env: { ...process.env, DIR: dir, ADDRESS: address, WITH_LOGGER: withLogger ? "1" : "" },
          timeout: 60_000,
        },
        (error, stdout, stderr) => {
          void rm(dir, { recursive: true, force: true });
          if (error) reject(Object.assign(error, { stderr }));
          else resolve({ stdout, stderr });
        },
      ),
    ),
  );
}

test("an App without a logger prints nothing while it starts, serves SQL and closes", async () => {
  const quiet = await run(false);
  assert.equal(quiet.stderr, "", "nothing on stderr");
  assert.deepEqual(JSON.parse(quiet.stdout), []);
  const told = await run(true);
  const lines = JSON.parse(told.stdout) as string[];
  assert.ok(
    lines.some((line) => line.startsWith("info ")),
    `a logger given gets info lines: ${lines.join("; ")}`,
  );
});
