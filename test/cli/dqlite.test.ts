// `dqlite` as a program: flags and their errors (cobra's texts), the one-shot command split on
// ";", and the interactive prompt.
import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { after, before, test } from "node:test";
import { main } from "../../src/cli/dqlite.js";
import { parseGoUint, parseShellArguments, USAGE } from "../../src/cli/shell/arguments.js";
import { splitServersFlag } from "../../src/cli/shell/server-store.js";
import { HELP_TEXT } from "../../src/cli/shell/shell.js";
import { SqliteNodeStore } from "../../src/client/index.js";
import type { Request } from "../../src/wire/index.js";
import { FakeCluster, rowsMessage } from "../client/fake-server.js";

let cluster: FakeCluster;
let directory: string;

before(async () => {
  cluster = await FakeCluster.start(1, {
    sql: (request) => {
      if (request.type !== "querySql") return { type: "result", lastInsertId: 0n, rowsAffected: 0 };
      if (request.sql.includes("nope")) {
        return { type: "failure", code: 1, message: "no such table: nope" };
      }
      return rowsMessage(["sql"], [[request.sql]], false);
    },
  });
  directory = await mkdtemp(join(tmpdir(), "dqlite-cli-"));
});

after(async () => {
  await cluster.close();
  await rm(directory, { recursive: true, force: true });
});

class Collector extends Writable {
  text = "";
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function dqlite(args: string[], input = "") {
  const stdout = new Collector();
  const stderr = new Collector();
  const stdin = Readable.from(input === "" ? [] : [input]);
  const code = await main(args, { stdin, stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

function queries(): string[] {
  return cluster.nodes[0]
    .requestsOf("querySql")
    .map((request: Extract<Request, { type: "querySql" }>) => request.sql);
}

test("--help prints cobra's help with the usage on stdout", async () => {
  for (const flag of ["-h", "--help"]) {
    const run = await dqlite([flag]);
    assert.equal(run.code, 0);
    assert.equal(run.stderr, "");
    assert.ok(run.stdout.startsWith("Standard dqlite shell\n\n"));
    assert.match(run.stdout, /QuerySQL inside BEGIN\/COMMIT/);
    assert.ok(run.stdout.endsWith(`\n\n${USAGE}`));
  }
});

test("command-line errors print Error: and the usage on stderr and exit 1", async () => {
  const cases: [string[], string][] = [
    [[], "accepts between 1 and 2 arg(s), received 0"],
    [["-s", "a", "db", "x", "y"], "accepts between 1 and 2 arg(s), received 3"],
    [["db"], 'required flag(s) "servers" not set'],
    [["-x"], "unknown shorthand flag: 'x' in -x"],
    [["--foo=1", "db"], "unknown flag: --foo"],
    [["-s"], "flag needs an argument: 's' in -s"],
    [["db", "--servers"], "flag needs an argument: --servers"],
    [
      ["-s", "a", "--timeout", "abc", "db"],
      'invalid argument "abc" for "--timeout" flag: strconv.ParseUint: parsing "abc": invalid syntax',
    ],
    [["-s", "a", "-f", "xml", "db", ".help"], "unknown format xml"],
    [["-s", "", "db", ".help"], "no servers provided"],
    [["-s", "a", "-c", "cert.pem", "db", ".help"], "both TLS certificate and key must be given"],
    [
      ["-s", "file:///nonexistent/x.yaml", "db"],
      "open servers store: stat /nonexistent/x.yaml: no such file or directory",
    ],
    [["-s", "file:///x.yaml,b", "db"], "can't mix server store and explicit list"],
    [["-s", "a", "db", ".weight a"], "bad command format, should be: .weight <address> <n>"],
  ];
  for (const [args, message] of cases) {
    const run = await dqlite(args);
    assert.equal(run.code, 1, args.join(" "));
    assert.equal(run.stdout, "", args.join(" "));
    assert.equal(run.stderr, `Error: ${message}\n${USAGE}\n`, args.join(" "));
  }
});

test("a file:// store with any other name is go-dqlite's SQLite store, its table made if missing", async () => {
  const path = join(directory, "servers.db");
  await writeFile(path, "");
  const empty = await dqlite(["-s", `file://${path}`, "db", ".help"]);
  assert.equal(empty.stderr, "");
  assert.equal(empty.code, 0);
  assert.deepEqual(await (await SqliteNodeStore.open(path)).get(), []);
  await (await SqliteNodeStore.open(path)).set([
    { id: 1n, address: cluster.addresses[0], role: 0 },
  ]);
  const run = await dqlite(["-s", `file://${path}`, "db", ".leader"]);
  assert.equal(run.stderr, "");
  assert.equal(run.stdout, `${cluster.addresses[0]}\n`);
  await writeFile(path, "not a database at all, not even the header of one");
  const broken = await dqlite(["-s", `file://${path}`, "db", ".help"]);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /^Error: open servers store: .*file is not a database/);
});

test("a YAML node store is read for the servers", async () => {
  const path = join(directory, "cluster.yaml");
  await writeFile(path, `- ID: 1\n  Address: ${cluster.addresses[0]}\n  Role: 0\n`);
  const run = await dqlite(["-s", `file://${path}`, "db", ".leader"]);
  assert.equal(run.stderr, "");
  assert.equal(run.stdout, `${cluster.addresses[0]}\n`);
});

test("flags parse like pflag: repeated and comma-separated servers, = forms, uint timeouts", () => {
  const parsed = parseShellArguments([
    "-s",
    "a,b",
    "--servers=c",
    "-s=d",
    "-fjson",
    "--timeout",
    "0x10",
    "db",
  ]);
  assert.ok(!parsed.help);
  assert.deepEqual(parsed.args.servers, ["a", "b", "c", "d"]);
  assert.equal(parsed.args.format, "json");
  assert.equal(parsed.args.timeoutMs, 16);
  assert.equal(parsed.args.command, undefined);
  const defaults = parseShellArguments(["db", "-s", "x", "SELECT 1"]);
  assert.ok(!defaults.help);
  assert.equal(defaults.args.timeoutMs, 2000);
  assert.equal(defaults.args.format, "tabular");
  assert.equal(defaults.args.command, "SELECT 1");
  assert.deepEqual(splitServersFlag('"a,b",c'), ["a,b", "c"]);
  assert.deepEqual(splitServersFlag(""), []);
  assert.equal(parseGoUint("1_000"), 1000n);
  assert.equal(parseGoUint("010"), 8n);
  assert.equal(parseGoUint("-1"), "invalid syntax");
  assert.equal(parseGoUint("18446744073709551616"), "value out of range");
});

test("a one-shot command is split on ';' and each piece runs in order", async () => {
  const before = queries().length;
  const run = await dqlite(["-s", cluster.addresses[0], "db", "SELECT 1;.help;SELECT 2"]);
  assert.equal(run.stderr, "");
  assert.equal(run.code, 0);
  assert.equal(run.stdout, `sql\t\t\nSELECT 1\t\n${HELP_TEXT}\nsql\t\t\nSELECT 2\t\n`);
  assert.deepEqual(queries().slice(before), ["SELECT 1", "SELECT 2"]);
});

test("an error stops a one-shot command: later pieces do not run", async () => {
  const before = queries().length;
  const run = await dqlite(["-s", cluster.addresses[0], "db", "SELECT 1;SELECT nope;SELECT 3"]);
  assert.equal(run.code, 1);
  assert.equal(run.stdout, "sql\t\t\nSELECT 1\t\n");
  assert.equal(run.stderr, `Error: query: no such table: nope\n${USAGE}\n`);
  assert.deepEqual(queries().slice(before), ["SELECT 1", "SELECT nope"]);
});

test("the prompt runs each line, prints errors after 'Error:  ' and ends at end of input", async () => {
  const run = await dqlite(
    ["-s", cluster.addresses[0], "db"],
    "SELECT 1\n.weight x\nSELECT nope\n.leader",
  );
  assert.equal(run.code, 0);
  assert.equal(run.stderr, "");
  assert.equal(
    run.stdout,
    "dqlite> sql\t\t\nSELECT 1\t\n" +
      "dqlite> Error:  bad command format, should be: .weight <address> <n>\n" +
      "dqlite> Error:  query: no such table: nope\n" +
      `dqlite> ${cluster.addresses[0]}\n` +
      "dqlite> ",
  );
});
