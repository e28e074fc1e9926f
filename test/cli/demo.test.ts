// dqlite-demo: its command line, its HTTP API (current go-dqlite's replies) over a stand-in
// database, Go's content sniffing and log lines, and one real single-node demo in this process.
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { createServer, request as httpRequest, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { simpleTlsConfig } from "../../src/app/index.js";
import { parseDemoArguments } from "../../src/cli/demo/arguments.js";
import { detectContentType } from "../../src/cli/demo/content-type.js";
import { startDemo } from "../../src/cli/demo/demo-node.js";
import {
  type KeyValueDatabase,
  keyValueApi,
  MAX_VALUE_BYTES,
  READ_SQL,
  WRITE_SQL,
} from "../../src/cli/demo/key-value-api.js";
import { formatLogLine, goLogPrefix } from "../../src/cli/demo/verbose-log.js";
import { main } from "../../src/cli/dqlite-demo.js";
import { Client } from "../../src/client/index.js";

class Collector extends Writable {
  text = "";
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/** The model table in memory, answering the two statements the API runs. */
class MemoryModel implements KeyValueDatabase {
  readonly rows = new Map<string, unknown>();
  failure: Error | undefined;
  readonly statements: string[] = [];

  async exec(sql: string, params: string[]): Promise<unknown> {
    this.statements.push(sql);
    if (this.failure) throw this.failure;
    assert.equal(sql, WRITE_SQL);
    this.rows.set(params[0], params[1]);
    return {};
  }

  async get(sql: string, params: string[]): Promise<Record<string, unknown> | undefined> {
    this.statements.push(sql);
    if (this.failure) throw this.failure;
    assert.equal(sql, READ_SQL);
    return this.rows.has(params[0]) ? { value: this.rows.get(params[0]) } : undefined;
  }
}

let model: MemoryModel;
let server: Server;
let base: string;

before(async () => {
  model = new MemoryModel();
  server = createServer(keyValueApi(model));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

async function request(path: string, init: RequestInit = {}) {
  const response = await fetch(`${base}${path}`, { redirect: "manual", ...init });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** A request whose path goes out byte for byte (fetch would resolve "." and ".." first). */
function rawRequest(path: string, method = "GET") {
  return new Promise<{ status: number; location: string | undefined; body: string }>(
    (resolve, reject) => {
      const req = httpRequest(`${base}/`, { path, method }, (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, location: response.headers.location, body }),
        );
      });
      req.on("error", reject);
      req.end();
    },
  );
}

test("flags: go-dqlite's names, joins as a comma list or repeated, cobra's errors", () => {
  const parsed = parseDemoArguments([
    "-a",
    "127.0.0.1:8001",
    "--db=127.0.0.1:9001",
    "-j",
    "127.0.0.1:9002,127.0.0.1:9003",
    "--join",
    "127.0.0.1:9004",
    "-D",
    "/var/demo",
    "-v",
  ]);
  assert.deepEqual(parsed, {
    help: false,
    args: {
      api: "127.0.0.1:8001",
      db: "127.0.0.1:9001",
      join: ["127.0.0.1:9002", "127.0.0.1:9003", "127.0.0.1:9004"],
      dir: "/var/demo",
      verbose: true,
      cert: "",
      key: "",
    },
  });
  const defaults = parseDemoArguments(["--api", "a:1", "--db", "b:2"]);
  assert.ok(!defaults.help);
  assert.equal(defaults.args.dir, "/tmp/dqlite-demo");
  assert.deepEqual(defaults.args.join, []);
  assert.equal(defaults.args.verbose, false);
  assert.throws(() => parseDemoArguments([]), { message: 'required flag(s) "api", "db" not set' });
  assert.throws(() => parseDemoArguments(["-a", "a:1"]), {
    message: 'required flag(s) "db" not set',
  });
  assert.throws(() => parseDemoArguments(["-a", "a:1", "-d", "b:2", "--disk-mode"]), {
    message: "unknown flag: --disk-mode",
  });
  assert.throws(() => parseDemoArguments(["-a", "a:1", "-x"]), {
    message: "unknown shorthand flag: 'x' in -x",
  });
  assert.throws(() => parseDemoArguments(["-a", "a:1", "--db"]), {
    message: "flag needs an argument: --db",
  });
  assert.deepEqual(parseDemoArguments(["-h"]), { help: true });
});

test("the program prints cobra's error and usage and exits 1 on bad flags", async () => {
  const stdout = new Collector();
  const stderr = new Collector();
  assert.equal(await main(["--api", "a:1"], { stdout, stderr }), 1);
  assert.match(
    stderr.text,
    /^Error: required flag\(s\) "db" not set\nUsage:\n {2}dqlite-demo \[flags\]\n/,
  );
  assert.equal(stdout.text, "");
  const help = new Collector();
  assert.equal(await main(["--help"], { stdout: help, stderr }), 0);
  assert.match(help.text, /-j, --join strings {3}database addresses of existing nodes/);
});

test("PUT stores the body and answers done; GET answers the value without a newline", async () => {
  const put = await request("/hello", { method: "PUT", body: "wörld" });
  assert.equal(put.status, 200);
  assert.equal(put.body, "done");
  assert.equal(put.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(model.rows.get("hello"), "wörld");
  const get = await request("/hello");
  assert.equal(get.status, 200);
  assert.equal(get.body, "wörld");
  // The key is the path without its leading slashes, percent-decoded; the query is not part of it.
  await request("/a%20b/c?x=1", { method: "PUT", body: "spaced" });
  assert.equal(model.rows.get("a b/c"), "spaced");
  assert.equal((await request("/a%20b/c")).body, "spaced");
  // An empty body is an empty value.
  await request("/empty", { method: "PUT" });
  assert.equal(model.rows.get("empty"), "");
  const empty = await request("/empty");
  assert.equal(empty.status, 200);
  assert.equal(empty.body, "");
});

test("failures are HTTP 500 with the error text and a newline", async () => {
  const missing = await request("/nothing-here");
  assert.equal(missing.status, 500);
  assert.equal(missing.body, "sql: no rows in result set\n");
  assert.equal(missing.headers.get("content-type"), "text/plain; charset=utf-8");
  assert.equal(missing.headers.get("x-content-type-options"), "nosniff");
  for (const method of ["POST", "DELETE", "PATCH"]) {
    const other = await request("/hello", { method });
    assert.equal(other.status, 500, method);
    assert.equal(other.body, "unsupported method\n", method);
  }
  const head = await request("/hello", { method: "HEAD" });
  assert.equal(head.status, 500);
  assert.equal(head.body, "");
  model.rows.set("null", null);
  const nullValue = await request("/null");
  assert.equal(nullValue.status, 500);
  assert.equal(
    nullValue.body,
    'sql: Scan error on column index 0, name "value": converting NULL to string is unsupported\n',
  );
  model.failure = new Error("disk I/O error");
  try {
    const failedPut = await request("/k", { method: "PUT", body: "v" });
    assert.equal(failedPut.status, 500);
    assert.equal(failedPut.body, "disk I/O error\n");
    const failedGet = await request("/k");
    assert.equal(failedGet.body, "disk I/O error\n");
  } finally {
    model.failure = undefined;
  }
});

test("a value larger than the bound is refused without reaching the database", async () => {
  const before = model.statements.length;
  const big = await request("/big", { method: "PUT", body: new Uint8Array(MAX_VALUE_BYTES + 1) });
  assert.equal(big.status, 500);
  assert.equal(big.body, "http: request body too large\n");
  assert.equal(model.statements.length, before);
});

test("unclean paths are redirected as Go's ServeMux does", async () => {
  const cases: Array<[string, string]> = [
    ["//hello", "/hello"],
    ["/a/../hello", "/hello"],
    ["/./x/", "/x/"],
    ["/a//b?q=1", "/a/b?q=1"],
  ];
  for (const [path, location] of cases) {
    const reply = await rawRequest(path);
    assert.equal(reply.status, 301, path);
    assert.equal(reply.location, location, path);
    assert.equal(reply.body, `<a href="${location}">Moved Permanently</a>.\n\n`, path);
  }
  const put = await rawRequest("//k", "PUT");
  assert.equal(put.status, 301);
  assert.equal(put.body, "");
  assert.equal(model.rows.has("k"), false);
  const bad = await rawRequest("/%zz");
  assert.equal(bad.status, 400);
});

test("replies announce the content type Go's sniffing picks", async () => {
  const enc = (text: string) => Buffer.from(text, "latin1");
  assert.equal(detectContentType(enc("plain words")), "text/plain; charset=utf-8");
  assert.equal(detectContentType(enc("")), "text/plain; charset=utf-8");
  assert.equal(detectContentType(enc("  <html><body>")), "text/html; charset=utf-8");
  assert.equal(detectContentType(enc("<p>para")), "text/html; charset=utf-8");
  assert.equal(detectContentType(enc("<pre>")), "text/plain; charset=utf-8");
  assert.equal(detectContentType(enc("<?xml version")), "text/xml; charset=utf-8");
  assert.equal(detectContentType(enc("%PDF-1.4")), "application/pdf");
  assert.equal(detectContentType(enc("\x89PNG\r\n\x1a\n....")), "image/png");
  assert.equal(detectContentType(enc("a\x00b")), "application/octet-stream");
  assert.equal(detectContentType(enc('{"json": true}')), "text/plain; charset=utf-8");
  await request("/page", { method: "PUT", body: "<html><b>hi</b></html>" });
  const page = await request("/page");
  assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
});

test("verbose lines look like Go's log with the demo's prefix", () => {
  const at = new Date(2024, 0, 2, 3, 4, 5);
  assert.equal(goLogPrefix(at), "2024/01/02 03:04:05 ");
  assert.equal(
    formatLogLine(at, "127.0.0.1:8001", "INFO", "app started", { id: "42", joining: false }),
    "2024/01/02 03:04:05 127.0.0.1:8001: INFO: app started id=42 joining=false\n",
  );
  assert.equal(
    formatLogLine(at, "a:1", "WARN", "failed", { error: "dial tcp: refused" }),
    '2024/01/02 03:04:05 a:1: WARN: failed error="dial tcp: refused"\n',
  );
});

test("a single-node demo serves the API over its own replicated database", async () => {
  const dir = await mkdtemp(join(tmpdir(), "demo-test-"));
  const log = new Collector();
  try {
    const port = await freeLoopbackPort();
    const demo = await startDemo(
      {
        api: "127.0.0.1:0",
        db: `127.0.0.1:${port}`,
        join: [],
        dir,
        verbose: true,
        cert: "",
        key: "",
      },
      log,
    );
    try {
      // The node's files live in <dir>/<db address>.
      assert.ok((await stat(join(dir, `127.0.0.1:${port}`, "info.yaml"))).isFile());
      const url = `http://${demo.apiAddress}`;
      const put = await fetch(`${url}/colour`, { method: "PUT", body: "blue" });
      assert.equal(await put.text(), "done");
      const get = await fetch(`${url}/colour`);
      assert.equal(await get.text(), "blue");
      const missing = await fetch(`${url}/size`);
      assert.equal(missing.status, 500);
      assert.equal(await missing.text(), "sql: no rows in result set\n");
    } finally {
      await demo.stop();
    }
    // Closed: the API no longer answers.
    await assert.rejects(fetch(`http://${demo.apiAddress}/colour`));
    assert.match(log.text, /^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d 127\.0\.0\.1:0: INFO: /m);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("with --cert and --key the node speaks mutual TLS; the HTTP API stays plain", async () => {
  const fixtures = join(import.meta.dirname, "fixtures");
  const cert = join(fixtures, "tls-cert.pem");
  const key = join(fixtures, "tls-key.pem");
  const dir = await mkdtemp(join(tmpdir(), "demo-tls-"));
  try {
    const db = `127.0.0.1:${await freeLoopbackPort()}`;
    const args = { api: "127.0.0.1:0", db, join: [], dir, verbose: false, cert, key };
    await assert.rejects(startDemo({ ...args, key: "" }, new Collector()), {
      message: "both TLS certificate and key must be given",
    });
    await assert.rejects(
      startDemo(
        { ...args, cert: join(fixtures, "nodns-cert.pem"), key: join(fixtures, "nodns-key.pem") },
        new Collector(),
      ),
      /DNS/,
    );
    const demo = await startDemo(args, new Collector());
    try {
      const url = `http://${demo.apiAddress}`;
      assert.equal(await (await fetch(`${url}/k`, { method: "PUT", body: "v" })).text(), "done");
      assert.equal(await (await fetch(`${url}/k`)).text(), "v");
      const material = await readFile(cert);
      const tls = simpleTlsConfig({ cert: material, key: await readFile(key) });
      const client = await Client.connect(db, { dial: tls.dial, timeoutMs: 5000 });
      try {
        assert.deepEqual(await client.leader(), { id: 3297041220608546238n, address: db });
      } finally {
        client.close();
      }
      // Without TLS the node does not answer.
      await assert.rejects(async () => {
        const plain = await Client.connect(db, { timeoutMs: 1000 });
        try {
          await plain.leader({ timeoutMs: 1000 });
        } finally {
          plain.close();
        }
      });
    } finally {
      await demo.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

async function freeLoopbackPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}
