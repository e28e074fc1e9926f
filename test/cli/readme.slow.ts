// The README's walk-through, run as written: every ```sh block after a `<!-- readme-test -->`
// comment goes, in order, into one bash session (as if typed into a terminal) in a built copy of
// the package, and its output must equal the ```text block after a `<!-- readme-output -->`
// comment that follows it. The README's fixed loopback addresses (127.0.0.1:8001 ...) are
// replaced by free ports on the way in and mapped back on the way out; in expected output, `...`
// stands for any text and trailing blanks do not count.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { after, test } from "node:test";
import { freePorts } from "../harness/ports.js";
import { builtPackage, REPO } from "./demo-build.js";

interface Step {
  script: string;
  expected: string | undefined;
}

const MARKED_BLOCK =
  /<!-- readme-test -->\s*```sh\n([\s\S]*?)```(?:\s*<!-- readme-output -->\s*```text\n([\s\S]*?)```)?/g;
const STEP_TIMEOUT_MS = 180_000;

function readmeSteps(markdown: string): Step[] {
  return [...markdown.matchAll(MARKED_BLOCK)].map((match) => ({
    script: match[1],
    expected: match[2],
  }));
}

/** A bash session fed one step at a time; each step's output ends at a marker line. */
class Session {
  readonly #bash;
  #stdout = "";
  #stderr = "";
  #waiter: (() => void) | undefined;
  #steps = 0;

  constructor(cwd: string) {
    this.#bash = spawn("bash", ["--noprofile", "--norc"], {
      cwd,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, LC_ALL: "C.UTF-8" },
    });
    this.#bash.stdout.on("data", (chunk: Buffer) => {
      this.#stdout += chunk.toString();
      this.#waiter?.();
    });
    this.#bash.stderr.on("data", (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
  }

  get pid(): number {
    return this.#bash.pid ?? -1;
  }

  /** Runs `script`; resolves with what it printed on stdout and stderr. */
  async run(script: string): Promise<{ stdout: string; stderr: string }> {
    const marker = `__readme_step_${++this.#steps}_done__`;
    const stderrStart = this.#stderr.length;
    this.#bash.stdin.write(`${script}\necho ${marker}\n`);
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    while (!this.#stdout.includes(`${marker}\n`)) {
      if (Date.now() > deadline) {
        throw new Error(
          `step ${this.#steps} still running after ${STEP_TIMEOUT_MS} ms:\n${script}`,
        );
      }
      await new Promise<void>((resolve) => {
        this.#waiter = resolve;
        setTimeout(resolve, 500);
      });
    }
    const end = this.#stdout.indexOf(`${marker}\n`);
    const stdout = this.#stdout.slice(0, end);
    this.#stdout = this.#stdout.slice(end + marker.length + 1);
    return { stdout, stderr: this.#stderr.slice(stderrStart) };
  }

  close(): void {
    this.#bash.stdin.end();
  }
}

function matchesLine(actual: string, expected: string): boolean {
  const pattern = expected
    .trimEnd()
    .split("...")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${pattern}$`).test(actual.trimEnd());
}

function assertOutput(actual: string, expected: string, script: string): void {
  const actualLines = actual.replace(/\n$/, "").split("\n");
  const expectedLines = expected.replace(/\n$/, "").split("\n");
  const message = `output of\n${script}\nexpected:\n${expected}\nactual:\n${actual}`;
  assert.equal(actualLines.length, expectedLines.length, message);
  for (const [i, line] of expectedLines.entries()) {
    assert.ok(matchesLine(actualLines[i], line), message);
  }
}

let session: Session | undefined;
let nodePids: number[] = [];

after(() => {
  session?.close();
  // Whatever a failed step left running goes, by pid.
  for (const pid of [...nodePids, session?.pid ?? -1]) {
    try {
      if (pid > 0) process.kill(pid, "SIGKILL");
    } catch {}
  }
});

test("the README's three-node walk-through runs as written, with the outputs it shows", async () => {
  const readme = await readFile(join(REPO, "README.md"), "utf8");
  const steps = readmeSteps(readme);
  assert.ok(steps.length >= 6, `found ${steps.length} marked steps`);
  assert.ok(
    steps.some((s) => s.expected !== undefined),
    "some steps show their expected output",
  );

  // The README's addresses, each given a free port of its own.
  const fixed = [
    ...new Set(
      steps.flatMap((s) => [...s.script.matchAll(/127\.0\.0\.1:(\d+)/g)].map((m) => m[0])),
    ),
  ].sort();
  assert.ok(fixed.length >= 6, fixed.join(" "));
  const ports = await freePorts(fixed.length);
  const free = new Map(fixed.map((address, i) => [address, `127.0.0.1:${ports[i]}`]));
  const toFree = (text: string) => text.replace(/127\.0\.0\.1:\d+/g, (a) => free.get(a) ?? a);
  const back = new Map([...free].map(([readmeAddress, ours]) => [ours, readmeAddress]));
  const toReadme = (text: string) => text.replace(/127\.0\.0\.1:\d+/g, (a) => back.get(a) ?? a);

  const root = await builtPackage();
  session = new Session(root);
  for (const step of steps) {
    const script = toFree(step.script);
    const { stdout, stderr } = await session.run(script);
    const output = toReadme(stdout);
    if (step.expected !== undefined) assertOutput(output, step.expected, step.script);
    if (/^kill -KILL/m.test(step.script)) {
      // The failover step: the leader it prints is one of the survivors.
      const leader = output.trimEnd().split("\n").at(-1);
      assert.notEqual(leader, "127.0.0.1:9001", "a new leader after the old one was killed");
    }
    if (/^node bin\/dqlite-demo/m.test(step.script)) {
      const pids = await session.run('echo "$NODE1 $NODE2 $NODE3"');
      nodePids = [...new Set([...nodePids, ...pids.stdout.trim().split(/\s+/).map(Number)])];
    }
    assert.doesNotMatch(stderr, /command not found|No such file/, stderr);
  }
  // The last step stopped every node: none of them is left.
  for (const pid of nodePids) {
    assert.throws(() => process.kill(pid, 0), `process ${pid} is gone`);
  }
});
