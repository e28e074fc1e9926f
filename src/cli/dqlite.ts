// `dqlite -s <servers> <database> [command]`: the dqlite shell, as current go-dqlite's.
import type { Readable, Writable } from "node:stream";
import { HELP, parseShellArguments, USAGE, UsageError } from "./shell/arguments.js";
import { shellDial, type TlsDialOptions } from "./shell/dial.js";
import { runInteractive } from "./shell/interactive.js";
import { openServerStore } from "./shell/server-store.js";
import { goErrorText, Shell, type ShellFormat } from "./shell/shell.js";
import { loadTlsDialOptions } from "./shell/tls-config.js";

/** Where the shell reads and writes (the process's streams unless a test gives others). */
export interface ShellIo {
  stdin: Readable & { isTTY?: boolean };
  stdout: Writable;
  stderr: Writable;
}

/** Entry point of `dqlite`; returns the process exit code. */
export async function main(args: string[], io: ShellIo = process): Promise<number> {
  try {
    const parsed = parseShellArguments(args);
    if (parsed.help) {
      io.stdout.write(HELP);
      return 0;
    }
    const { servers, cert, key, format, timeoutMs, database, command } = parsed.args;
    const store = await openServerStore(servers);
    if ((cert !== "" && key === "") || (key !== "" && cert === "")) {
      throw new Error("both TLS certificate and key must be given");
    }
    let tls: TlsDialOptions | undefined;
    if (cert !== "") tls = await loadTlsDialOptions(cert, key);
    if (format !== "tabular" && format !== "json") throw new Error(`unknown format ${format}`);
    const shell = new Shell({
      database,
      store,
      dial: shellDial(tls),
      format: format as ShellFormat,
    });
    try {
      if (command === undefined) {
        await runInteractive(shell, io, timeoutMs);
        return 0;
      }
      for (const input of command.split(";")) {
        const result = await shell.process(input, AbortSignal.timeout(timeoutMs));
        if (result !== "") io.stdout.write(`${result}\n`);
      }
      return 0;
    } finally {
      shell.close();
    }
  } catch (error) {
    // cobra: "Error: <message>", then the usage and a blank line, on stderr; exit code 1.
    const message = error instanceof UsageError ? error.message : goErrorText(error);
    io.stderr.write(`Error: ${message}\n${USAGE}\n`);
    return 1;
  }
}
