// The command line of `dqlite`, with go-dqlite's flags and cobra's checks, messages and help.
// Parsing is commander's; the texts are cobra's and pflag's, so scripts see what go-dqlite prints.
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { quoteGo } from "./go-format.js";
import { splitServersFlag } from "./server-store.js";

export interface ShellArguments {
  servers: string[];
  cert: string;
  key: string;
  format: string;
  timeoutMs: number;
  database: string;
  /** The one-shot command text; undefined for the interactive prompt. */
  command: string | undefined;
}

/** What the command line asks for: help, or a run. */
export type ParsedCommandLine = { help: true } | { help: false; args: ShellArguments };

/** A command-line error: printed as "Error: <message>" followed by the usage. */
export class UsageError extends Error {
  override name = "UsageError";
}

export const USAGE = `Usage:
  dqlite -s <servers> <database> [command] [flags]

Flags:
  -c, --cert string       public TLS cert
  -f, --format string     output format (tabular, json) (default "tabular")
  -h, --help              help for dqlite
  -k, --key string        private TLS key
  -s, --servers strings   comma-separated list of db servers, or file://<store>
      --timeout uint      timeout of each request (msec) (default 2000)
`;

export const HELP = `Standard dqlite shell

SQL lines run as in current go-dqlite: every line goes through QuerySQL inside BEGIN/COMMIT and
its rows print as a tab-aligned table under a header of column names (go-dqlite 1.11 printed
rows joined by "|", without a header, and ran lines not starting with SELECT through ExecSQL).
dqlite servers before 1.18.2 answer QuerySQL of a statement that returns no columns (CREATE,
INSERT...) with "not an error", so use a newer server, or this project's, for writes.

${USAGE}`;

const DEFAULT_TIMEOUT_MS = 2000;
/** Timers cannot wait longer (2^31 - 1 ms, about 24.8 days): a longer timeout means no limit. */
const MAX_TIMER_MS = 2_147_483_647;
const UINT64_MAX = 2n ** 64n - 1n;

/** strconv.ParseUint(text, 0, 64), as pflag's uint flags use it; or the reason it fails. */
export function parseGoUint(text: string): bigint | "invalid syntax" | "value out of range" {
  let digits = text;
  let base = 10;
  if (/^0[xX]/.test(digits)) [base, digits] = [16, digits.slice(2)];
  else if (/^0[bB]/.test(digits)) [base, digits] = [2, digits.slice(2)];
  else if (/^0[oO]/.test(digits)) [base, digits] = [8, digits.slice(2)];
  else if (/^0./.test(digits)) [base, digits] = [8, digits.slice(1)];
  const prefixed = digits.length !== text.length;
  // Underscores may only separate digits (or follow a base prefix).
  if (digits.includes("_")) {
    const checked = prefixed ? `0${digits}` : digits;
    if (!/^[0-9a-zA-Z]+(_[0-9a-zA-Z]+)*$/.test(checked)) return "invalid syntax";
    digits = digits.replaceAll("_", "");
  }
  const alphabet = "0123456789abcdef".slice(0, base);
  if (digits === "" || ![...digits.toLowerCase()].every((d) => alphabet.includes(d))) {
    return "invalid syntax";
  }
  let value = 0n;
  for (const d of digits.toLowerCase()) value = value * BigInt(base) + BigInt(alphabet.indexOf(d));
  return value > UINT64_MAX ? "value out of range" : value;
}

function cobraFlagError(error: CommanderError, argv: readonly string[]): UsageError {
  const quoted = /'([^']*)'/.exec(error.message)?.[1] ?? "";
  switch (error.code) {
    case "commander.unknownOption":
      if (quoted.startsWith("--")) return new UsageError(`unknown flag: ${quoted.split("=")[0]}`);
      return new UsageError(`unknown shorthand flag: '${quoted.slice(1, 2)}' in ${quoted}`);
    case "commander.optionMissingArgument": {
      // Only the last token can lack its value.
      const token = argv[argv.length - 1] ?? "";
      if (token.startsWith("--")) return new UsageError(`flag needs an argument: ${token}`);
      return new UsageError(`flag needs an argument: '${token.slice(-1)}' in ${token}`);
    }
    default:
      return new UsageError(error.message.replace(/^error: /, ""));
  }
}

/** Parses `dqlite`'s arguments (without the program name); throws UsageError. */
export function parseShellArguments(argv: readonly string[]): ParsedCommandLine {
  let timeoutError: string | undefined;
  const program = new Command("dqlite")
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} })
    .showSuggestionAfterError(false)
    .helpOption(false)
    .allowExcessArguments(true)
    .argument("[args...]")
    .option(
      "-s, --servers <servers>",
      "comma-separated list of db servers, or file://<store>",
      (value: string, previous: string[]) => [...previous, ...splitServersFlag(value)],
      [] as string[],
    )
    .option("-c, --cert <cert>", "public TLS cert", "")
    .option("-k, --key <key>", "private TLS key", "")
    .option("-f, --format <format>", "output format (tabular, json)", "tabular")
    .option(
      "--timeout <msec>",
      "timeout of each request (msec)",
      (value: string) => {
        const parsed = parseGoUint(value);
        if (typeof parsed === "bigint") return parsed;
        timeoutError = `invalid argument ${quoteGo(value)} for "--timeout" flag: strconv.ParseUint: parsing ${quoteGo(value)}: ${parsed}`;
        throw new InvalidArgumentError(timeoutError);
      },
      BigInt(DEFAULT_TIMEOUT_MS),
    )
    .option("-h, --help", "help for dqlite");
  let serversGiven = false;
  program.on("option:servers", () => {
    serversGiven = true;
  });
  try {
    // pflag accepts "-s=value" for a short flag; commander would keep the "=".
    program.parse(
      argv.flatMap((arg) => (/^-[sckf]=/.test(arg) ? [arg.slice(0, 2), arg.slice(3)] : [arg])),
      { from: "user" },
    );
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.code === "commander.invalidArgument" && timeoutError !== undefined) {
      throw new UsageError(timeoutError);
    }
    throw cobraFlagError(error, argv);
  }
  const options = program.opts<{
    servers: string[];
    cert: string;
    key: string;
    format: string;
    timeout: bigint;
    help?: boolean;
  }>();
  if (options.help) return { help: true };
  const positional = program.args;
  if (positional.length < 1 || positional.length > 2) {
    throw new UsageError(`accepts between 1 and 2 arg(s), received ${positional.length}`);
  }
  if (!serversGiven) throw new UsageError('required flag(s) "servers" not set');
  const timeout = options.timeout;
  return {
    help: false,
    args: {
      servers: options.servers,
      cert: options.cert,
      key: options.key,
      format: options.format,
      timeoutMs: timeout > BigInt(MAX_TIMER_MS) ? MAX_TIMER_MS : Number(timeout),
      database: positional[0],
      command: positional[1],
    },
  };
}
