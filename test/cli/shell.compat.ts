// Our `dqlite` shell and Debian's (go-dqlite 1.11.5) on the same session against a real 3-node
// dqlite cluster. Debian's shell is the old one: rows joined by "|" without a header, and only
// lines starting with SELECT go through QuerySQL. That layout is the one difference normalised
// here (cell values are compared row by row); everything else must match byte for byte.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { after, before, test } from "node:test";
import { main } from "../../src/cli/dqlite.js";
import { type DemoCluster, requireRealDqlite, startDemoCluster } from "../harness/real-dqlite.js";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

const DATABASE = "shell-compat";
let cluster: DemoCluster;
let work: string;

before(async () => {
  requireRealDqlite();
  // Both shells print UNIXTIME cells in the local zone: make it the same for both.
  process.env.TZ = "UTC";
  cluster = await startDemoCluster(3);
  work = await mkdtemp(join(tmpdir(), "shell-compat-"));
});

after(async () => {
  await cluster?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

/** Debian's shell, in `cwd`, with `input` on stdin when there is no command. */
function debian(args: string[], options: { cwd?: string; input?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      "/usr/bin/dqlite",
      args,
      {
        cwd: options.cwd ?? work,
        env: { ...process.env, TZ: "UTC" },
        timeout: 20_000,
        killSignal: "SIGKILL",
      },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout, stderr });
      },
    );
    child.stdin?.end(options.input ?? "");
  });
}

class Collector extends Writable {
  text = "";
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** Our shell, in-process, with the working directory `cwd` (for .dump). */
async function ours(args: string[], options: { cwd?: string; input?: string } = {}): Promise<Run> {
  const stdout = new Collector();
  const stderr = new Collector();
  const stdin = Readable.from(options.input ? [options.input] : []);
  const saved = process.cwd();
  process.chdir(options.cwd ?? work);
  try {
    // A generous per-command limit: this machine is shared, and Debian's shell has none.
    const code = await main(["--timeout", "20000", ...args], { stdin, stdout, stderr });
    return { code, stdout: stdout.text, stderr: stderr.text };
  } finally {
    process.chdir(saved);
  }
}

const servers = (): string[] => ["-s", cluster.servers];

/** Both shells, one command; the same exit code is required of them. */
async function both(command: string, extra: string[] = []): Promise<{ ours: Run; debian: Run }> {
  const args = [...servers(), ...extra, DATABASE, command];
  const [a, b] = [await ours(args), await debian(args)];
  assert.equal(a.code, b.code, `exit codes for ${command}: ours ${a.stderr} / debian ${b.stderr}`);
  return { ours: a, debian: b };
}

/** Expands tabs to stops of 8 columns, as a terminal shows them. */
function expandTabs(line: string): string {
  let out = "";
  for (const char of line) out += char === "\t" ? " ".repeat(8 - (out.length % 8)) : char;
  return out;
}

/**
 * Our table (a header, then cells padded with tabs to shared column stops) as rows of cells: the
 * header's names give where each column starts, and each row is cut at those stops.
 */
function ourTable(stdout: string): { header: string[]; rows: string[][] } {
  const lines = stdout.replace(/\n$/, "").split("\n").map(expandTabs);
  const starts: number[] = [];
  const header: string[] = [];
  for (const match of lines[0].matchAll(/\S+/g)) {
    starts.push(match.index);
    header.push(match[0]);
  }
  const rows = lines
    .slice(1)
    .map((line) => starts.map((start, i) => line.slice(start, starts[i + 1]).trimEnd()));
  return { header, rows };
}

function debianRows(stdout: string): string[][] {
  return stdout
    .replace(/\n$/, "")
    .split("\n")
    .map((line) => line.split("|"));
}

test("a table with every type reads the same through both shells", async () => {
  // Debian's shell routes writes through ExecSQL; ours (like current go-dqlite) would use
  // QuerySQL, which dqlite 1.11 refuses for statements without columns (checked below).
  const setup = await debian([
    ...servers(),
    DATABASE,
    "CREATE TABLE types (i INTEGER, r REAL, s TEXT, b BLOB, n, d DATETIME, ts TIMESTAMP, bo BOOLEAN);" +
      "INSERT INTO types VALUES (1, 2.5, 'hé llo', x'0102ff', NULL, '2024-01-02 03:04:05.123456789+02:00', 1700000000, 1);" +
      "INSERT INTO types VALUES (9223372036854775807, 1e20, '', x'', NULL, NULL, '2024-01-02T03:04:05Z', NULL);" +
      "INSERT INTO types VALUES (-9223372036854775808, -0.0, 'x', NULL, 3, '2024-01-02', 0, 0);" +
      "INSERT INTO types VALUES (0, 1e-7, '<&>', x'00', 1.5, '2024-01-02 3:04', -1, 7);" +
      "INSERT INTO types VALUES (123456, 123456.0, '0', x'41', 'text', '1969-12-31 23:59:59.5', '2000-02-29T12:00', 1)",
  ]);
  assert.equal(setup.code, 0, setup.stderr);
  const { ours: a, debian: b } = await both("SELECT * FROM types");
  const table = ourTable(a.stdout);
  assert.deepEqual(table.header, ["i", "r", "s", "b", "n", "d", "ts", "bo"]);
  assert.deepEqual(
    table.rows,
    debianRows(b.stdout).map((row) => row.map((cell) => cell || "")),
  );
  assert.equal(table.rows.length, 5);
});

test("values computed in SELECT (floats, texts, NULL) print the same", async () => {
  const { ours: a, debian: b } = await both(
    "SELECT 1e6, 123456.0, 1234567.0, 0.0001, 0.00001, 1e999, -1e999, 1.0/3, 100.0, x'0a0b', NULL, 'a b' AS ab, 42",
  );
  assert.deepEqual(ourTable(a.stdout).rows, debianRows(b.stdout));
});

test("a date no layout parses fails both shells with Go's error", async () => {
  const setup = await debian([
    ...servers(),
    DATABASE,
    "CREATE TABLE bad (d DATETIME); INSERT INTO bad VALUES ('yesterday')",
  ]);
  assert.equal(setup.code, 0, setup.stderr);
  const { ours: a, debian: b } = await both("SELECT d FROM bad");
  assert.equal(a.stdout, b.stdout);
  assert.equal(a.stderr.split("\n")[0], b.stderr.split("\n")[0]);
  assert.equal(
    a.stderr.split("\n")[0],
    'Error: rows: parsing time "yesterday" as "2006-01-02": cannot parse "yesterday" as "2006"',
  );
});

test(".cluster, .leader, .describe and .weight print the same, in both formats", async () => {
  const address = cluster.nodes[1].db;
  for (const format of ["tabular", "json"]) {
    for (const command of [".cluster", ".leader", `.describe ${address}`]) {
      const { ours: a, debian: b } = await both(command, ["-f", format]);
      assert.equal(a.stdout, b.stdout, `${command} -f ${format}`);
      assert.equal(a.stderr, "");
    }
  }
  const weighted = await both(`.weight ${address} 7;.describe ${address}`);
  assert.equal(weighted.ours.stdout, `${address}|0|7\n`);
  assert.equal(weighted.ours.stdout, weighted.debian.stdout);
});

test(".dump writes the same files with the same bytes", async () => {
  const mine = await mkdtemp(join(work, "ours-"));
  const theirs = await mkdtemp(join(work, "debian-"));
  const command = `.dump ${cluster.nodes[0].db} ${DATABASE}`;
  const args = [...servers(), DATABASE, command];
  const [a, b] = [await ours(args, { cwd: mine }), await debian(args, { cwd: theirs })];
  assert.equal(a.stdout, "OK\n");
  assert.equal(a.stdout, b.stdout);
  for (const name of [DATABASE, `${DATABASE}-wal`]) {
    const [x, y] = [await readFile(join(mine, name)), await readFile(join(theirs, name))];
    assert.ok(x.length > 0 || name.endsWith("-wal"));
    assert.ok(x.equals(y), `${name} differs`);
  }
});

test("errors print the same first line (the usage differs by our --timeout flag)", async () => {
  for (const command of [
    ".remove 1.2.3.4:5",
    ".weight x",
    ".weight a -3",
    ".describe 127.0.0.1:1",
    ".describe nonsense",
    ".dump",
    "SELECT * FROM nope",
    ".leader;SELECT nope;.leader",
  ]) {
    const { ours: a, debian: b } = await both(command);
    assert.equal(a.code, 1, command);
    assert.equal(a.stdout, b.stdout, command);
    assert.equal(a.stderr.split("\n")[0], b.stderr.split("\n")[0], command);
  }
});

test("the prompt prints the same session for dot commands and errors", async () => {
  const input = `.leader\n.weight x\n.cluster\n.describe ${cluster.nodes[2].db}\n.remove 1.2.3.4:5\n`;
  const args = [...servers(), DATABASE];
  const [a, b] = [await ours(args, { input }), await debian(args, { input })];
  assert.equal(a.code, 0);
  assert.equal(a.stdout, b.stdout);
  assert.equal(a.stderr, b.stderr);
});

test("documented differences: .help exists only in current go-dqlite; 1.11 refuses writes via QuerySQL", async () => {
  const help = await ours([...servers(), DATABASE, ".help"]);
  assert.equal(
    help.stdout,
    "Dqlite shell is a simple interactive prompt for inspecting a dqlite database.\n" +
      "Enter a SQL statement to execute it, or one of the following built-in commands:\n\n" +
      "  .cluster                          Show the cluster membership\n" +
      "  .leader                           Show the current leader\n" +
      "  .remove <address>                 Remove a node from the cluster\n" +
      "  .describe <address>               Show the details of a node\n" +
      "  .weight <address> <weight>        Set the weight of a node\n" +
      "  .dump <address> [<database>]      Dump the database\n" +
      "  .reconfigure <dir> <clusteryaml>  Reconfigure the cluster\n\n",
  );
  // Debian's shell sends ".help" to SQL (ExecSQL): a syntax error.
  const old = await debian([...servers(), DATABASE, ".help"]);
  assert.equal(old.stderr.split("\n")[0], 'Error: exec: near ".": syntax error');
  // dqlite 1.11 answers QuerySQL of a statement without columns with "not an error" (fixed in
  // 1.18.2); current go-dqlite's shell, and ours, report it, and nothing is written.
  const create = await ours([...servers(), DATABASE, "CREATE TABLE made_by_query (x)"]);
  assert.equal(create.stderr.split("\n")[0], "Error: query: not an error");
  const check = await both("SELECT count(*) FROM sqlite_master WHERE name = 'made_by_query'");
  assert.deepEqual(ourTable(check.ours.stdout).rows, [["0"]]);
  assert.equal(check.debian.stdout, "0\n");
});
