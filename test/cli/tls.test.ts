// The shell's mutual TLS (-c/-k): one certificate is both the client's identity and the only
// trusted CA, and its first DNS name is the name the server must present.
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { connect, type Server } from "node:net";
import { join } from "node:path";
import { Writable } from "node:stream";
import { after, before, test } from "node:test";
import { createServer as createTlsServer } from "node:tls";
import { main } from "../../src/cli/dqlite.js";
import { loadTlsDialOptions } from "../../src/cli/shell/tls-config.js";
import { FakeNode } from "../client/fake-server.js";

const FIXTURES = "test/cli/fixtures";
const CERT = join(FIXTURES, "tls-cert.pem");
const KEY = join(FIXTURES, "tls-key.pem");
let node: FakeNode;
let proxy: Server;
let proxyAddress: string;
let clientCertsSeen = 0;

before(async () => {
  node = await FakeNode.start((request) =>
    request.type === "describe" ? { type: "metadata", failureDomain: 3n, weight: 4n } : undefined,
  );
  const [cert, key] = [await readFile(CERT, "utf8"), await readFile(KEY, "utf8")];
  // A TLS front for the node that insists on a client certificate signed by the same CA.
  proxy = createTlsServer(
    { cert, key, ca: cert, requestCert: true, rejectUnauthorized: true },
    (socket) => {
      if (socket.getPeerCertificate().subject?.CN === "dqlite-test") clientCertsSeen++;
      const [host, port] = node.address.split(":");
      const upstream = connect({ host, port: Number(port) });
      socket.pipe(upstream).pipe(socket);
      socket.on("error", () => upstream.destroy());
      upstream.on("error", () => socket.destroy());
    },
  );
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  const info = proxy.address();
  assert.ok(info !== null && typeof info === "object");
  proxyAddress = `127.0.0.1:${info.port}`;
});

after(async () => {
  proxy.close();
  await node.close();
});

class Collector extends Writable {
  text = "";
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function dqlite(args: string[]) {
  const stdout = new Collector();
  const stderr = new Collector();
  const code = await main(args, { stdin: process.stdin, stdout, stderr });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

test("with -c and -k the shell speaks mutual TLS and checks the server's DNS name", async () => {
  const run = await dqlite([
    "-s",
    proxyAddress,
    "-c",
    CERT,
    "-k",
    KEY,
    "db",
    `.describe ${proxyAddress}`,
  ]);
  assert.equal(run.stderr, "");
  assert.equal(run.stdout, `${proxyAddress}|3|4\n`);
  assert.ok(clientCertsSeen >= 1, "the server saw our client certificate");
  const options = await loadTlsDialOptions(CERT, KEY);
  assert.equal(options.serverName, "dqlite-test");
});

test("without TLS the TLS server's connection fails", async () => {
  const run = await dqlite([
    "-s",
    proxyAddress,
    "--timeout",
    "1000",
    "db",
    `.describe ${proxyAddress}`,
  ]);
  assert.equal(run.code, 1);
  assert.match(run.stderr, /^Error: /);
});

test("bad TLS material is refused before anything is dialled, with Go's messages", async () => {
  const cases: [string[], string][] = [
    [
      ["-c", join(FIXTURES, "nodns-cert.pem"), "-k", join(FIXTURES, "nodns-key.pem")],
      "certificate has no DNS extension",
    ],
    [
      ["-c", CERT, "-k", join(FIXTURES, "nodns-key.pem")],
      "tls: private key does not match public key",
    ],
    [
      ["-c", join(FIXTURES, "missing.pem"), "-k", KEY],
      `open ${join(FIXTURES, "missing.pem")}: no such file or directory`,
    ],
    [
      ["-c", join(FIXTURES, "README.md"), "-k", KEY],
      "tls: failed to find any PEM data in certificate input",
    ],
    [["-k", KEY], "both TLS certificate and key must be given"],
  ];
  for (const [flags, message] of cases) {
    const run = await dqlite(["-s", proxyAddress, ...flags, "db", ".help"]);
    assert.equal(run.code, 1, message);
    assert.equal(run.stderr.split("\n")[0], `Error: ${message}`);
  }
});
