// The shell's commands against fake dqlite nodes: what goes on the wire and what is printed.
import assert from "node:assert/strict";
import { cp, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { shellDial } from "../../src/cli/shell/dial.js";
import { HELP_TEXT, Shell, ShellError } from "../../src/cli/shell/shell.js";
import { MemoryNodeStore } from "../../src/client/index.js";
import { type Request, type Response, Role, ValueType } from "../../src/wire/index.js";
import { FakeCluster, type FakeNode, rowsMessage } from "../client/fake-server.js";

const TIMEOUT_MS = 5000;
let cluster: FakeCluster;
let directory: string;

before(async () => {
  cluster = await FakeCluster.start(3, { leader: 1 });
  directory = await mkdtemp(join(tmpdir(), "shell-test-"));
  process.env.TZ = "UTC";
});

after(async () => {
  await cluster.close();
  await rm(directory, { recursive: true, force: true });
});

function makeShell(format: "tabular" | "json" = "tabular"): Shell {
  return new Shell({
    database: "test",
    store: new MemoryNodeStore(cluster.addresses),
    dial: shellDial(),
    format,
    directory,
  });
}

async function run(line: string, format: "tabular" | "json" = "tabular"): Promise<string> {
  const shell = makeShell(format);
  try {
    return await shell.process(line, AbortSignal.timeout(TIMEOUT_MS));
  } finally {
    shell.close();
  }
}

/** Runs `line` with `sql` answering the leader's SQL requests; returns the output or error. */
async function runSql(
  line: string,
  sql: (request: Request) => Response | Response[] | undefined,
): Promise<{ output?: string; error?: string; requests: Request[] }> {
  const leader = cluster.nodes[1];
  const before = leader.requests.length;
  cluster.sql = (request) => sql(request);
  try {
    return { output: await run(line), requests: sqlRequests(leader, before) };
  } catch (error) {
    assert.ok(error instanceof ShellError, String(error));
    return { error: error.message, requests: sqlRequests(leader, before) };
  }
}

function sqlRequests(node: FakeNode, from: number): Request[] {
  return node.requests
    .slice(from)
    .map((logged) => logged.request)
    .filter((r) => ["execSql", "querySql", "interrupt"].includes(r.type));
}

const ok: Response = { type: "result", lastInsertId: 0n, rowsAffected: 0 };

function rowsOf(columns: string[], cells: [number, unknown][][], more = false): Response {
  return {
    type: "rows",
    columns,
    rowCount: cells.length,
    types: Uint8Array.from(cells.flat().map(([type]) => type)),
    values: cells.flat().map(([, value]) => value) as never,
    more,
  };
}

test("an SQL line runs as BEGIN, QuerySQL, COMMIT and prints a header and aligned rows", async () => {
  const { output, requests } = await runSql("SELECT * FROM t", (request) =>
    request.type === "querySql"
      ? rowsMessage(
          ["id", "name"],
          [
            [1, "alice"],
            [22, "bob"],
          ],
          false,
        )
      : ok,
  );
  assert.equal(output, "id\tname\t\n1\talice\t\n22\tbob\t");
  assert.deepEqual(
    requests.map((r) =>
      r.type === "execSql" || r.type === "querySql" ? `${r.type} ${r.sql}` : r.type,
    ),
    ["execSql BEGIN", "querySql SELECT * FROM t", "execSql COMMIT"],
  );
});

test("every value type prints as Go's %v of go-dqlite's driver value", async () => {
  const { output } = await runSql("SELECT everything", (request) =>
    request.type === "querySql"
      ? rowsOf(
          ["i", "f", "s", "b", "n", "u", "d", "e", "t"],
          [
            [
              [ValueType.Integer, 9223372036854775807n],
              [ValueType.Float, 1e20],
              [ValueType.Text, "hé"],
              [ValueType.Blob, new Uint8Array([1, 2])],
              [ValueType.Null, null],
              [ValueType.UnixTime, 1700000000],
              [ValueType.Iso8601, "2024-01-02 03:04:05.123456789+02:00"],
              [ValueType.Iso8601, ""],
              [ValueType.Boolean, true],
            ],
          ],
        )
      : ok,
  );
  assert.equal(
    output,
    "i\t\t\tf\ts\tb\tn\tu\t\t\t\td\t\t\t\t\t\te\tt\t\n" +
      "9223372036854775807\t1e+20\thé\t[1 2]\t<nil>\t2023-11-14 22:13:20 +0000 UTC\t" +
      "2024-01-02 03:04:05.123456789 +0200 +0200\t<nil>\ttrue\t",
  );
});

test("a result in several Rows messages is read to the end", async () => {
  const { output } = await runSql("SELECT n", (request) =>
    request.type === "querySql"
      ? [rowsMessage(["n"], [[1], [2]], true), rowsMessage(["n"], [[3]], false)]
      : ok,
  );
  assert.equal(output, "n\t\n1\t\n2\t\n3\t");
});

test("a statement without columns prints nothing", async () => {
  const { output } = await runSql("CREATE TABLE t (x)", (request) =>
    request.type === "querySql" ? rowsMessage([], [], false) : ok,
  );
  assert.equal(output, "");
});

test("a failing statement is reported as a query error and rolled back", async () => {
  const { error, requests } = await runSql("SELECT nope", (request) =>
    request.type === "querySql"
      ? { type: "failure", code: 1, message: "no such column: nope" }
      : ok,
  );
  assert.equal(error, "query: no such column: nope");
  assert.deepEqual(
    requests.map((r) => (r.type === "execSql" ? r.sql : r.type)),
    ["BEGIN", "querySql", "ROLLBACK"],
  );
});

test("a date no layout parses fails the rows, interrupting a result that goes on", async () => {
  const { error, requests } = await runSql("SELECT d", (request) => {
    if (request.type === "interrupt") return { type: "empty" };
    if (request.type !== "querySql") return ok;
    return rowsOf(["d"], [[[ValueType.Iso8601, "yesterday"]]], true);
  });
  assert.equal(
    error,
    'rows: parsing time "yesterday" as "2006-01-02": cannot parse "yesterday" as "2006"',
  );
  assert.deepEqual(
    requests.map((r) => (r.type === "execSql" ? r.sql : r.type)),
    ["BEGIN", "querySql", "interrupt", "ROLLBACK"],
  );
});

test("a failing BEGIN or COMMIT is reported with its step", async () => {
  const begin = await runSql("SELECT 1", (request) =>
    request.type === "execSql" && request.sql === "BEGIN"
      ? { type: "failure", code: 5, message: "database is locked" }
      : ok,
  );
  assert.equal(begin.error, "begin transaction: database is locked");
  const commit = await runSql("SELECT 1", (request) => {
    if (request.type === "querySql") return rowsMessage(["1"], [[1]], false);
    if (request.type === "execSql" && request.sql === "COMMIT") {
      return { type: "failure", code: 1, message: "cannot commit - no transaction is active" };
    }
    return ok;
  });
  assert.equal(commit.error, "commit: cannot commit - no transaction is active");
});

test(".cluster lists id in hex, address and role; JSON keeps u64 ids exact", async () => {
  const leader = 1;
  const saved = cluster.nodes[leader].handler;
  cluster.nodes[leader].handler = (request, connection) =>
    request.type === "cluster"
      ? {
          type: "servers",
          servers: [
            { id: 0xd96a05636bc678d0n, address: "a:1", role: Role.Voter },
            { id: 2n, address: "b:2", role: Role.StandBy },
            { id: 3n, address: "c:3", role: Role.Spare },
          ],
        }
      : cluster.answer(leader, request, connection);
  try {
    assert.equal(await run(".cluster"), "d96a05636bc678d0|a:1|voter\n2|b:2|stand-by\n3|c:3|spare");
    assert.equal(
      await run(".cluster", "json"),
      '[\n\t{\n\t\t"ID": 15666340178329762000,\n\t\t"Address": "a:1",\n\t\t"Role": 0\n\t},\n' +
        '\t{\n\t\t"ID": 2,\n\t\t"Address": "b:2",\n\t\t"Role": 1\n\t},\n' +
        '\t{\n\t\t"ID": 3,\n\t\t"Address": "c:3",\n\t\t"Role": 2\n\t}\n]',
    );
  } finally {
    cluster.nodes[leader].handler = saved;
  }
});

test(".leader prints the leader's address", async () => {
  assert.equal(await run(".leader"), cluster.addresses[1]);
});

test(".remove removes the node with that address, or says none has it", async () => {
  const leader = cluster.nodes[1];
  const before = leader.requestsOf("remove").length;
  cluster.sql = () => ({ type: "empty" });
  assert.equal(await run(`.remove ${cluster.addresses[2]}`), "");
  assert.deepEqual(leader.requestsOf("remove").slice(before), [{ type: "remove", nodeId: 3n }]);
  await assert.rejects(run(".remove 1.2.3.4:5"), { message: 'no node has address "1.2.3.4:5"' });
});

test(".remove reports the server's refusal with its code", async () => {
  cluster.sql = (request) =>
    request.type === "remove"
      ? { type: "failure", code: 1, message: "leader cannot be removed" }
      : ok;
  await assert.rejects(run(`.remove ${cluster.addresses[1]}`), {
    message: `remove node "${cluster.addresses[1]}": leader cannot be removed (1)`,
  });
});

test(".describe and .weight talk to the node named, whoever leads", async () => {
  const node = cluster.nodes[2];
  const saved = node.handler;
  node.handler = (request, connection) => {
    if (request.type === "describe") {
      return { type: "metadata", failureDomain: 7n, weight: 18446744073709551615n };
    }
    if (request.type === "weight") return { type: "empty" };
    return cluster.answer(2, request, connection);
  };
  try {
    assert.equal(await run(`.describe ${node.address}`), `${node.address}|7|18446744073709551615`);
    assert.equal(
      await run(`.describe ${node.address}`, "json"),
      '{\n\t"FailureDomain": 7,\n\t"Weight": 18446744073709551615\n}',
    );
    assert.equal(await run(`.weight ${node.address} +42`), "");
    assert.deepEqual(node.requestsOf("weight").at(-1), { type: "weight", weight: 42n });
  } finally {
    node.handler = saved;
  }
});

test(".dump writes the database and its WAL into the directory with mode 0600", async () => {
  const node = cluster.nodes[0];
  const saved = node.handler;
  node.handler = (request, connection) =>
    request.type === "dump"
      ? {
          type: "files",
          files: [
            { name: request.name, data: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]) },
            { name: `${request.name}-wal`, data: new Uint8Array() },
          ],
        }
      : cluster.answer(0, request, connection);
  try {
    assert.equal(await run(`.dump ${node.address} mine.db`), "OK");
    assert.deepEqual(
      await readFile(join(directory, "mine.db")),
      Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]),
    );
    assert.equal((await stat(join(directory, "mine.db-wal"))).size, 0);
    assert.equal((await stat(join(directory, "mine.db"))).mode & 0o777, 0o600);
    assert.equal(await run(`.dump ${node.address}`), "OK");
    assert.ok((await stat(join(directory, "db.bin"))).isFile());
  } finally {
    node.handler = saved;
  }
  await assert.rejects(run(".dump 127.0.0.1:1"), { message: "dial failed" });
});

test("dot commands check their arguments like go-dqlite", async () => {
  const cases: [string, string][] = [
    [".remove", "bad command format, should be: .remove <address>"],
    [".remove a b", "bad command format, should be: .remove <address>"],
    [".describe", "bad command format, should be: .describe <address>"],
    [".DESCRIBE  a", "bad command format, should be: .describe <address>"],
    [".weight a", "bad command format, should be: .weight <address> <n>"],
    [".weight a -1", 'bad weight "-1"'],
    [".weight a x", 'bad weight "x"'],
    [".weight a 9223372036854775808", 'bad weight "9223372036854775808"'],
    [".dump", "bad command format, should be: .dump <address> [<database>]"],
    [".dump a b c", "bad command format, should be: .dump <address> [<database>]"],
  ];
  for (const [line, message] of cases) {
    await assert.rejects(run(line), { name: "ShellError", message }, line);
  }
  await assert.rejects(run(".reconfigure x"), (error: Error) =>
    error.message.startsWith(
      "bad command format, should be: .reconfigure <dir> <clusteryaml>\nArgs:\n",
    ),
  );
});

test(".describe of an address nobody listens on fails like Go's dial", async () => {
  await assert.rejects(run(".describe 127.0.0.1:1"), {
    message:
      "failed to establish network connection: dial tcp 127.0.0.1:1: connect: connection refused",
  });
  await assert.rejects(run(".describe nonsense"), {
    message:
      "failed to establish network connection: dial tcp: address nonsense: missing port in address",
  });
});

test(".help lists the commands; .cluster and .leader match only exactly", async () => {
  assert.equal(await run(".help"), HELP_TEXT);
  // " .leader" is not the command: it goes to SQL, as in go-dqlite.
  const { error } = await runSql(" .leader", (request) =>
    request.type === "querySql"
      ? { type: "failure", code: 1, message: 'near ".": syntax error' }
      : ok,
  );
  assert.equal(error, 'query: near ".": syntax error');
});

test(".reconfigure forces the YAML file's members into a stopped node's data directory", async () => {
  const dir = join(directory, "node");
  await cp("test/fixtures/raft-datadir/leader", dir, { recursive: true });
  const listing = async (): Promise<string> => {
    const names = (await readdir(dir)).sort();
    const sizes = await Promise.all(names.map(async (name) => (await stat(join(dir, name))).size));
    return names.map((name, i) => `${name}:${sizes[i]}`).join(" ");
  };
  const before = await listing();
  const yaml = join(directory, "new-cluster.yaml");
  await writeFile(yaml, "- ID: 1\n  Address: 127.0.0.1:9001\n  Role: 0\n");
  assert.equal(await run(`.reconfigure ${dir} ${yaml}`), "OK");
  // The forced configuration is written into the directory as a new log entry.
  assert.notEqual(await listing(), before);
  await writeFile(yaml, "[]\n");
  await assert.rejects(run(`.reconfigure ${dir} ${yaml}`), {
    message: "failed to reconfigure membership :the new configuration has no members",
  });
  await assert.rejects(
    run(`.reconfigure ${join(directory, "missing")} ${join(directory, "x.yaml")}`),
    (error: Error) => error.message.startsWith("failed to reconfigure membership :"),
  );
});

test("a leader change during a query drops the connection and the next line finds the new leader", async () => {
  const shell = makeShell();
  try {
    cluster.leader = 1;
    cluster.sql = (request) =>
      request.type === "querySql" ? rowsMessage(["n"], [[1]], false) : ok;
    assert.equal(await shell.process("SELECT 1", AbortSignal.timeout(TIMEOUT_MS)), "n\t\n1\t");
    // Node 1 steps down between BEGIN and the query.
    cluster.sql = (request) => {
      if (request.type === "querySql") {
        cluster.leader = 2;
        return { type: "failure", code: 10250, message: "not leader" };
      }
      return ok;
    };
    await assert.rejects(shell.process("SELECT 1", AbortSignal.timeout(TIMEOUT_MS)), {
      message: "query: not leader",
    });
    cluster.sql = (request) =>
      request.type === "querySql" ? rowsMessage(["n"], [[2]], false) : ok;
    const before = cluster.nodes[2].requestsOf("querySql").length;
    assert.equal(await shell.process("SELECT 2", AbortSignal.timeout(TIMEOUT_MS)), "n\t\n2\t");
    assert.equal(cluster.nodes[2].requestsOf("querySql").length, before + 1);
  } finally {
    cluster.leader = 1;
    shell.close();
  }
});
