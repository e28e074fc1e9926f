// The command line of `dqlite-demo`: current go-dqlite's flags, with cobra's and pflag's messages
// so scripts written for the Go program see the same errors.
import { Command, CommanderError } from "commander";
import { splitServersFlag } from "../shell/server-store.js";

export interface DemoArguments {
  /** HTTP listen address of the key/value API. */
  api: string;
  /** The node's dqlite address. */
  db: string;
  /** Addresses of existing nodes to join (empty: bootstrap a new cluster). */
  join: string[];
  /** Base directory; the node's directory is `<dir>/<db>`. */
  dir: string;
  verbose: boolean;
  /** TLS certificate and key files ("" when not given). */
  cert: string;
  key: string;
}

export type ParsedDemoLine = { help: true } | { help: false; args: DemoArguments };

/** A command-line error: printed as "Error: <message>" followed by the usage. */
export class DemoUsageError extends Error {
  override name = "DemoUsageError";
}

export const DEFAULT_DEMO_DIR = "/tmp/dqlite-demo";

export const DEMO_USAGE = `Usage:
  dqlite-demo [flags]

Flags:
  -a, --api string     address used to expose the demo API
  -c, --cert string    public TLS cert
  -d, --db string      address used for internal database replication
  -D, --dir string     data directory (default "${DEFAULT_DEMO_DIR}")
  -h, --help           help for dqlite-demo
  -j, --join strings   database addresses of existing nodes
  -k, --key string     private TLS key
  -v, --verbose        verbose logging
`;

export const DEMO_HELP = `This demo shows how to integrate an application with dqlite: a key/value
HTTP API (GET /<key>, PUT /<key> with the value as body) over a replicated table.

Complete documentation is available at https://github.com/canonical/go-dqlite

${DEMO_USAGE}`;

/** Turns commander's complaint into pflag's wording. */
export function pflagError(error: CommanderError, argv: readonly string[]): string {
  const quoted = /'([^']*)'/.exec(error.message)?.[1] ?? "";
  switch (error.code) {
    case "commander.unknownOption":
      if (quoted.startsWith("--")) return `unknown flag: ${quoted.split("=")[0]}`;
      return `unknown shorthand flag: '${quoted.slice(1, 2)}' in ${quoted}`;
    case "commander.optionMissingArgument": {
      // Only the last token can lack its value.
      const token = argv[argv.length - 1] ?? "";
      if (token.startsWith("--")) return `flag needs an argument: ${token}`;
      return `flag needs an argument: '${token.slice(-1)}' in ${token}`;
    }
    default:
      return error.message.replace(/^error: /, "");
  }
}

/** pflag accepts "-a=value" for a short flag; commander would keep the "=". */
export function splitShortEquals(argv: readonly string[], shorts: string): string[] {
  const pattern = new RegExp(`^-[${shorts}]=`);
  return argv.flatMap((arg) => (pattern.test(arg) ? [arg.slice(0, 2), arg.slice(3)] : [arg]));
}

/** Parses `dqlite-demo`'s arguments (without the program name); throws DemoUsageError. */
export function parseDemoArguments(argv: readonly string[]): ParsedDemoLine {
  const program = new Command("dqlite-demo")
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} })
    .showSuggestionAfterError(false)
    .helpOption(false)
    .allowExcessArguments(true)
    .argument("[args...]")
    .option("-a, --api <address>", "", "")
    .option("-d, --db <address>", "", "")
    .option(
      "-j, --join <addresses>",
      "",
      (value: string, previous: string[]) => [...previous, ...splitServersFlag(value)],
      [] as string[],
    )
    .option("-D, --dir <dir>", "", DEFAULT_DEMO_DIR)
    .option("-v, --verbose", "", false)
    .option("-c, --cert <file>", "", "")
    .option("-k, --key <file>", "", "")
    .option("-h, --help", "");
  const given = new Set<string>();
  for (const name of ["api", "db"]) program.on(`option:${name}`, () => given.add(name));
  try {
    program.parse(splitShortEquals(argv, "adjDck"), { from: "user" });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    throw new DemoUsageError(pflagError(error, argv));
  }
  const o = program.opts<{
    api: string;
    db: string;
    join: string[];
    dir: string;
    verbose: boolean;
    cert: string;
    key: string;
    help?: boolean;
  }>();
  if (o.help) return { help: true };
  // Positional arguments are ignored, as cobra does for a command without sub-commands.
  const missing = ["api", "db"].filter((name) => !given.has(name));
  if (missing.length > 0) {
    throw new DemoUsageError(
      `required flag(s) ${missing.map((name) => `"${name}"`).join(", ")} not set`,
    );
  }
  return {
    help: false,
    args: {
      api: o.api,
      db: o.db,
      join: o.join,
      dir: o.dir,
      verbose: o.verbose,
      cert: o.cert,
      key: o.key,
    },
  };
}
