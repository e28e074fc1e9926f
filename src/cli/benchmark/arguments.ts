// The command line of `dqlite-benchmark`: go-dqlite's flags for the embedded mode (every instance
// runs a node; the one with --driver runs the workload) and our --client mode, which runs the
// workload against an existing cluster. -d/--db is the node's address in the embedded mode (as in
// go-dqlite) and the database name with --client.
import { Command, CommanderError, InvalidArgumentError } from "commander";
import { WORKLOADS, type WorkloadName } from "./workload.js";

export interface BenchmarkArguments {
  /** --client: no embedded node, the workload runs against `cluster`. */
  client: boolean;
  /** Embedded mode: this node's address (--db); "" with --client. */
  address: string;
  /** Embedded mode: addresses of existing nodes to join. */
  join: string[];
  /** Embedded mode: this instance runs the workload. */
  driver: boolean;
  /** Nodes that must all be online members before the run starts. */
  cluster: string[];
  workload: WorkloadName;
  workers: number;
  durationMs: number;
  keySizeBytes: number;
  valueSizeBytes: number;
  /** The database name the workload uses. */
  database: string;
  /** Base directory: results in <dir>/results (--client) or <dir>/<address>/results. */
  dir: string;
  clusterTimeoutMs: number;
}

export type ParsedBenchmarkLine = { help: true } | { help: false; args: BenchmarkArguments };

export class BenchmarkUsageError extends Error {
  override name = "BenchmarkUsageError";
}

/** The database the embedded mode's driver opens (go-dqlite's name). */
export const EMBEDDED_DATABASE = "benchmark";

export const BENCHMARK_USAGE = `Usage:
  dqlite-benchmark --db ADDR [--join ADDR,...] [--driver --cluster ADDR,...] [flags]
  dqlite-benchmark --client --cluster ADDR[,ADDR...] [flags]

Flags:
      --client                   run the workload against an existing cluster (no embedded node)
  -c, --cluster strings          addresses of all nodes taking part in the benchmark; the driver
                                 (or --client) waits for all of them to be online before the run
      --cluster-timeout int      seconds to wait for the node to be ready and for the whole cluster
                                 to be online (default 120)
  -d, --db string                embedded mode: address used for internal database replication
                                 (required); with --client: the database name (default "benchmark")
  -D, --dir string               data directory: the node's is <dir>/<db>, results go to
                                 <dir>/<db>/results (--client: <dir>/results)
                                 (default "/tmp/dqlite-benchmark")
      --driver                   run the benchmark from this instance; must be set on 1 node
      --duration duration        run duration: seconds, or a Go duration like 10s, 1m30s (default 60s)
  -h, --help                     help for dqlite-benchmark
  -j, --join strings             database addresses of existing nodes
      --key-size int             size of the KV keys in bytes (default 32)
      --value-size int           size of the KV values in bytes (default 1024)
      --workers int              number of workers executing the workload (default 1)
  -w, --workload string          the workload to run: "kvwrite" or "kvreadwrite" (default "kvwrite")
`;

export const BENCHMARK_HELP = `For benchmarking dqlite.

Run a 1 node benchmark:
dqlite-benchmark -d 127.0.0.1:9001 --driver --cluster 127.0.0.1:9001

Run a multi-node benchmark, the first node will self-elect and become leader,
the driver flag results in the workload being run from the first, leader node.
dqlite-benchmark --db 127.0.0.1:9001 --driver --cluster 127.0.0.1:9001,127.0.0.1:9002,127.0.0.1:9003 &
dqlite-benchmark --db 127.0.0.1:9002 --join 127.0.0.1:9001 &
dqlite-benchmark --db 127.0.0.1:9003 --join 127.0.0.1:9001 &

Run a multi-node benchmark, the first node will self-elect and become leader,
the driver flag results in the workload being run from the third, non-leader node.
dqlite-benchmark --db 127.0.0.1:9001 &
dqlite-benchmark --db 127.0.0.1:9002 --join 127.0.0.1:9001 &
dqlite-benchmark --db 127.0.0.1:9003 --join 127.0.0.1:9001 --driver --cluster 127.0.0.1:9001,127.0.0.1:9002,127.0.0.1:9003 &

Instances without --driver print "Benchmark client ready. Send signal to abort or when done."
and run their node until SIGINT or SIGTERM.

Run a workload against a running cluster (any dqlite: this project's or the C one), with no
embedded node; here --db names the database:
dqlite-benchmark --client --cluster 127.0.0.1:9001,127.0.0.1:9002,127.0.0.1:9003 --workers 4 --duration 10s

Workers write random-letter keys with half-repetitive values (kvwrite), or half of the time read
back a key they wrote (kvreadwrite). The results are on the driver, in <dir>/<db>/results
(--client: <dir>/results), as files named \`n-q-timestamp\` where \`n\` is the worker and \`q\`
the kind of operation (exec, query); all times in milliseconds. A progress line goes to stderr
every second; the last line on stdout is "ops/s: X p50: Y ms p99: Z ms errors: E".

${BENCHMARK_USAGE}`;

const GO_UNITS_NS: Readonly<Record<string, number>> = {
  ns: 1,
  us: 1e3,
  µs: 1e3,
  μs: 1e3,
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};

/** A duration in milliseconds: whole seconds ("10", go-dqlite's flag) or Go's syntax ("1m30s"). */
export function parseDurationMs(text: string): number {
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const pattern = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;
  let ns = 0;
  let at = 0;
  while (at < text.length) {
    pattern.lastIndex = at;
    const match = pattern.exec(text);
    if (match === null) throw new InvalidArgumentError(`invalid duration "${text}"`);
    ns += Number(match[1]) * GO_UNITS_NS[match[2]];
    at = pattern.lastIndex;
  }
  if (text === "") throw new InvalidArgumentError('invalid duration ""');
  return ns / 1e6;
}

function parseCount(min: number) {
  return (text: string): number => {
    if (!/^[+-]?\d+$/.test(text) || Number(text) < min || !Number.isSafeInteger(Number(text))) {
      throw new InvalidArgumentError(`must be an integer ≥ ${min}, got "${text}"`);
    }
    return Number(text);
  };
}

/** Parses the arguments (without the program name); throws BenchmarkUsageError. */
export function parseBenchmarkArguments(argv: readonly string[]): ParsedBenchmarkLine {
  const program = new Command("dqlite-benchmark")
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} })
    .helpOption(false)
    .allowExcessArguments(false)
    .option("--client", "", false)
    .option("--driver", "", false)
    .option(
      "-j, --join <addresses>",
      "",
      (value: string, previous: string[]) => [...previous, ...value.split(",").filter((a) => a)],
      [] as string[],
    )
    .option(
      "-c, --cluster <addresses>",
      "",
      (value: string, previous: string[]) => [...previous, ...value.split(",").filter((a) => a)],
      [] as string[],
    )
    .option("--cluster-timeout <seconds>", "", parseCount(0), 120)
    .option("-d, --db <name>", "")
    .option("-D, --dir <dir>", "", "/tmp/dqlite-benchmark")
    .option("--duration <duration>", "", parseDurationMs, 60_000)
    .option("--key-size <bytes>", "", parseCount(1), 32)
    .option("--value-size <bytes>", "", parseCount(0), 1024)
    .option("--workers <n>", "", parseCount(1), 1)
    .option("-w, --workload <name>", "", "kvwrite")
    .option("-h, --help", "");
  try {
    program.parse(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      throw new BenchmarkUsageError(error.message.replace(/^error: /, ""));
    }
    throw error;
  }
  const o = program.opts<{
    client: boolean;
    driver: boolean;
    join: string[];
    cluster: string[];
    clusterTimeout: number;
    db: string | undefined;
    dir: string;
    duration: number;
    keySize: number;
    valueSize: number;
    workers: number;
    workload: string;
    help?: boolean;
  }>();
  if (o.help) return { help: true };
  const workload = o.workload.toLowerCase() as WorkloadName;
  if (!WORKLOADS.includes(workload)) {
    throw new BenchmarkUsageError(`unknown workload "${o.workload}" (kvwrite or kvreadwrite)`);
  }
  if (o.client) {
    if (o.driver || o.join.length > 0) {
      throw new BenchmarkUsageError(
        "--driver and --join belong to the embedded mode; --client runs without a node",
      );
    }
    if (o.cluster.length === 0) {
      throw new BenchmarkUsageError(
        "--client needs the cluster's addresses: --cluster ADDR[,ADDR...]",
      );
    }
    if (o.db === "") throw new BenchmarkUsageError("--db must not be empty");
  } else {
    if (o.db === undefined || o.db === "") {
      throw new BenchmarkUsageError(
        'required flag(s) "db" not set (the node\'s address; or use --client to run against an existing cluster)',
      );
    }
    if (o.driver && o.cluster.length === 0) {
      throw new BenchmarkUsageError("driver node, `--cluster` flag must be provided");
    }
  }
  return {
    help: false,
    args: {
      client: o.client,
      address: o.client ? "" : (o.db ?? ""),
      join: o.join,
      driver: o.driver,
      cluster: o.cluster,
      workload,
      workers: o.workers,
      durationMs: o.duration,
      keySizeBytes: o.keySize,
      valueSizeBytes: o.valueSize,
      database: o.client ? (o.db ?? EMBEDDED_DATABASE) : EMBEDDED_DATABASE,
      dir: o.dir,
      clusterTimeoutMs: o.clusterTimeout * 1000,
    },
  };
}
