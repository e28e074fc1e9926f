// The `dqlite> ` prompt: one command per line until end of input. On a terminal, Node's readline
// gives line editing and an in-memory history of this session (no history file, as go-dqlite's
// liner has none). Without a terminal the prompt is still written before each line is read,
// as liner does, so piped sessions print the same text as go-dqlite's.
import { createInterface } from "node:readline";
import type { Readable, Writable } from "node:stream";
import { goErrorText, type Shell } from "./shell.js";

/** Lines of history kept for the arrow keys. */
const HISTORY_SIZE = 1000;
const PROMPT = "dqlite> ";

export interface InteractiveIo {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
}

/** Reads and runs lines until end of input; each command gets `timeoutMs`. */
export async function runInteractive(shell: Shell, io: InteractiveIo, timeoutMs: number) {
  const terminal = io.stdin.isTTY === true;
  const lines = createInterface({
    input: io.stdin,
    output: terminal ? io.stdout : undefined,
    terminal,
    prompt: PROMPT,
    historySize: HISTORY_SIZE,
  });
  // Ctrl-C drops the line being typed and starts a new prompt, as liner does.
  lines.on("SIGINT", () => {
    lines.write(null, { ctrl: true, name: "e" });
    lines.write(null, { ctrl: true, name: "u" });
    io.stdout.write("\n");
    lines.prompt();
  });
  const showPrompt = (): void => {
    if (terminal) lines.prompt();
    else io.stdout.write(PROMPT);
  };
  try {
    showPrompt();
    for await (const line of lines) {
      try {
        const result = await shell.process(line, AbortSignal.timeout(timeoutMs));
        if (result !== "") io.stdout.write(`${result}\n`);
      } catch (error) {
        // fmt.Println("Error: ", err): Println puts a space between its two operands.
        io.stdout.write(`Error:  ${goErrorText(error)}\n`);
      }
      showPrompt();
    }
  } finally {
    lines.close();
  }
}
