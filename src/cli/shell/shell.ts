// The shell's commands, as current go-dqlite's internal/shell runs them: dot commands for the
// cluster, and everything else as SQL (BEGIN, QuerySQL, COMMIT) printed as an aligned table.
// `process` returns what to print ("" prints nothing) or throws a ShellError whose message is
// what go-dqlite would print after "Error: ".
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import {
  Client,
  type DialFunction,
  type NodeStore,
  NoLeaderError,
  SqliteError,
  YamlNodeStore,
} from "../../client/index.js";
import { DialError } from "./dial.js";
import { formatGoJsonIndented, quoteGo } from "./go-format.js";
import { formatGoValue } from "./go-value.js";
import { QueryStepError, SqlSession } from "./sql-session.js";
import { TabWriter } from "./tab-writer.js";

/** Output formats of -f/--format. */
export type ShellFormat = "tabular" | "json";

/** A command failed; the message is the text after "Error: ". */
export class ShellError extends Error {
  override name = "ShellError";
}

export interface ShellOptions {
  database: string;
  store: NodeStore;
  dial: DialFunction;
  format: ShellFormat;
  /** Where .dump writes its files (go-dqlite: the working directory). */
  directory?: string;
}

/** The largest result the shell lays out in memory (characters), so a huge SELECT cannot exhaust it. */
const MAX_OUTPUT_CHARS = 256 * 1024 * 1024;

export const HELP_TEXT = `Dqlite shell is a simple interactive prompt for inspecting a dqlite database.
Enter a SQL statement to execute it, or one of the following built-in commands:

  .cluster                          Show the cluster membership
  .leader                           Show the current leader
  .remove <address>                 Remove a node from the cluster
  .describe <address>               Show the details of a node
  .weight <address> <weight>        Set the weight of a node
  .dump <address> [<database>]      Dump the database
  .reconfigure <dir> <clusteryaml>  Reconfigure the cluster
`;

const RECONFIGURE_USAGE =
  "bad command format, should be: .reconfigure <dir> <clusteryaml>\n" +
  "Args:\n" +
  "\tdir - Directory of node with up to date data\n" +
  "\tclusteryaml - Path to a .yaml file containing the desired cluster configuration\n\n" +
  "Help:\n" +
  "\tUse this command when trying to preserve the data from your cluster while changing the\n" +
  "\tconfiguration of the cluster because e.g. your cluster is broken due to unreachablee nodes.\n" +
  "\t0. BACKUP ALL YOUR NODE DATA DIRECTORIES BEFORE PROCEEDING!\n" +
  "\t1. Stop all dqlite nodes.\n" +
  "\t2. Identify the dir of the node with the most up to date raft term and log, this will be the <dir> argument.\n" +
  "\t3. Create a .yaml file with the same format as cluster.yaml (or use/adapt an existing cluster.yaml) with the\n " +
  "\t   desired cluster configuration. This will be the <clusteryaml> argument.\n" +
  "\t   Don't forget to make sure the ID's in the file line up with the ID's in the info.yaml files.\n" +
  '\t4. Run the .reconfigure <dir> <clusteryaml> command, it should return "OK".\n' +
  "\t5. Copy the snapshot-xxx-xxx-xxx, snapshot-xxx-xxx-xxx.meta, segment files (00000xxxxx-000000xxxxx), desired cluster.yaml\n" +
  "\t   from <dir> over to the directories of the other nodes identified in <clusteryaml>, deleting any leftover snapshot-xxx-xxx-xxx, snapshot-xxx-xxx-xxx.meta,\n" +
  "\t   segment (00000xxxxx-000000xxxxx, open-xxx) and metadata{1,2} files that it contains.\n" +
  "\t   Make sure an info.yaml is also present that is in line with cluster.yaml.\n" +
  "\t6. Start all the dqlite nodes.\n" +
  "\t7. If, for some reason, this fails or gives undesired results, try again with data from another node (you should still have this from step 0).\n";

/** go-dqlite's NodeRole.String(). */
function roleText(role: number): string {
  return role === 0 ? "voter" : role === 1 ? "stand-by" : role === 2 ? "spare" : "unknown role";
}

/** An error's text as go-dqlite would show it. */
export function goErrorText(error: unknown): string {
  // Admin requests fail with protocol.ErrRequest, whose text carries the code.
  if (error instanceof SqliteError) return `${error.message} (${error.code})`;
  if (error instanceof Error) {
    if (error.name === "AbortError" || error.name === "TimeoutError") {
      return "context deadline exceeded";
    }
    return error.message;
  }
  return String(error);
}

// Dot commands go-dqlite matches by prefix, after leading spaces, in any case.
function hasCommand(line: string, command: string): boolean {
  return line.replace(/^ +/, "").toLowerCase().startsWith(command);
}

export class Shell {
  readonly #options: ShellOptions;
  readonly #session: SqlSession;

  constructor(options: ShellOptions) {
    this.#options = options;
    this.#session = new SqlSession(options);
  }

  /** Runs one input line within `signal`'s time. */
  async process(line: string, signal: AbortSignal): Promise<string> {
    switch (line) {
      case ".cluster":
        return await this.#cluster(signal);
      case ".leader":
        return await this.#leader(signal);
      case ".help":
        return HELP_TEXT;
    }
    if (hasCommand(line, ".remove")) return await this.#remove(line, signal);
    if (hasCommand(line, ".describe")) return await this.#describe(line, signal);
    if (hasCommand(line, ".weight")) return await this.#weight(line, signal);
    if (hasCommand(line, ".dump")) return await this.#dump(line, signal);
    if (hasCommand(line, ".reconfigure")) return await this.#reconfigure(line);
    return await this.#query(line, signal);
  }

  /** Closes the SQL connection. */
  close(): void {
    this.#session.close();
  }

  async #findLeader(signal: AbortSignal): Promise<Client> {
    try {
      return await Client.findLeader(this.#options.store, { dial: this.#options.dial, signal });
    } catch (error) {
      // go-dqlite's connector gives up with ErrNoAvailableLeader when its context expires.
      if (signal.aborted) throw new ShellError(new NoLeaderError().message);
      throw new ShellError(goErrorText(error));
    }
  }

  async #connect(address: string, signal: AbortSignal): Promise<Client> {
    try {
      return await Client.connect(address, { dial: this.#options.dial, signal });
    } catch (error) {
      if (error instanceof DialError) {
        throw new ShellError(`failed to establish network connection: ${error.message}`);
      }
      throw new ShellError(goErrorText(error));
    }
  }

  async #call<T>(client: Client, call: (client: Client) => Promise<T>, prefix = ""): Promise<T> {
    try {
      return await call(client);
    } catch (error) {
      throw new ShellError(prefix + goErrorText(error));
    } finally {
      client.close();
    }
  }

  async #cluster(signal: AbortSignal): Promise<string> {
    const client = await this.#findLeader(signal);
    const nodes = await this.#call(client, (c) => c.cluster({ signal }));
    if (this.#options.format === "json") {
      return formatGoJsonIndented(
        nodes.map((node) => ({ ID: node.id, Address: node.address, Role: node.role })),
      );
    }
    return nodes
      .map((node) => `${node.id.toString(16)}|${node.address}|${roleText(node.role)}`)
      .join("\n");
  }

  async #leader(signal: AbortSignal): Promise<string> {
    const client = await this.#findLeader(signal);
    const leader = await this.#call(client, (c) => c.leader({ signal }));
    return leader?.address ?? "";
  }

  async #remove(line: string, signal: AbortSignal): Promise<string> {
    const parts = line.split(" ");
    if (parts.length !== 2) {
      throw new ShellError("bad command format, should be: .remove <address>");
    }
    const address = parts[1];
    const client = await this.#findLeader(signal);
    try {
      let nodes: Awaited<ReturnType<Client["cluster"]>>;
      try {
        nodes = await client.cluster({ signal });
      } catch (error) {
        throw new ShellError(goErrorText(error));
      }
      const node = nodes.find((n) => n.address === address);
      if (node === undefined) throw new ShellError(`no node has address ${quoteGo(address)}`);
      try {
        await client.remove(node.id, { signal });
      } catch (error) {
        throw new ShellError(`remove node ${quoteGo(address)}: ${goErrorText(error)}`);
      }
      return "";
    } finally {
      client.close();
    }
  }

  async #describe(line: string, signal: AbortSignal): Promise<string> {
    const parts = line.split(" ");
    if (parts.length !== 2) {
      throw new ShellError("bad command format, should be: .describe <address>");
    }
    const address = parts[1];
    const client = await this.#connect(address, signal);
    const metadata = await this.#call(client, (c) => c.describe({ signal }));
    if (this.#options.format === "json") {
      return formatGoJsonIndented({
        FailureDomain: metadata.failureDomain,
        Weight: metadata.weight,
      });
    }
    return `${address}|${metadata.failureDomain}|${metadata.weight}`;
  }

  async #weight(line: string, signal: AbortSignal): Promise<string> {
    const parts = line.split(" ");
    if (parts.length !== 3) {
      throw new ShellError("bad command format, should be: .weight <address> <n>");
    }
    const address = parts[1];
    const weight = parseGoInt(parts[2]);
    if (weight === undefined || weight < 0n)
      throw new ShellError(`bad weight ${quoteGo(parts[2])}`);
    const client = await this.#connect(address, signal);
    await this.#call(client, (c) => c.weight(weight, { signal }));
    return "";
  }

  async #dump(line: string, signal: AbortSignal): Promise<string> {
    const parts = line.split(" ");
    if (parts.length < 2 || parts.length > 3) {
      throw new ShellError("bad command format, should be: .dump <address> [<database>]");
    }
    const address = parts[1];
    let client: Client;
    try {
      client = await Client.connect(address, { dial: this.#options.dial, signal });
    } catch {
      throw new ShellError("dial failed");
    }
    const database = parts.length === 3 ? parts[2] : "db.bin";
    let files: Awaited<ReturnType<Client["dump"]>>;
    try {
      files = await client.dump(database, { signal });
    } catch {
      throw new ShellError("dump failed");
    } finally {
      client.close();
    }
    const directory = this.#options.directory ?? process.cwd();
    for (const file of files) {
      const path = join(directory, file.name);
      try {
        // The names come from the server: never let one climb out of the directory.
        if (file.name.includes("/") || file.name === "." || file.name === "..") {
          throw new Error("bad file name");
        }
        await writeFile(path, file.data, { mode: 0o600 });
      } catch {
        throw new ShellError(`WriteFile failed on path ${path}`);
      }
    }
    return "OK";
  }

  async #reconfigure(line: string): Promise<string> {
    const parts = line.split(" ");
    if (parts.length !== 3) throw new ShellError(RECONFIGURE_USAGE);
    const [, dir, yamlPath] = parts;
    let store: YamlNodeStore;
    try {
      store = await YamlNodeStore.open(yamlPath);
    } catch (error) {
      throw new ShellError(
        `failed to create YamlNodeStore from file at ${yamlPath} :${goErrorText(error)}`,
      );
    }
    let servers: Awaited<ReturnType<YamlNodeStore["get"]>>;
    try {
      servers = await store.get();
    } catch (error) {
      throw new ShellError(`failed to retrieve NodeInfo list :${goErrorText(error)}`);
    }
    try {
      // Loaded on demand: it brings the raft storage code, which nothing else here needs.
      const { reconfigureMembershipExt } = await import("../../server/reconfigure.js");
      await reconfigureMembershipExt(dir, servers);
    } catch (error) {
      throw new ShellError(`failed to reconfigure membership :${goErrorText(error)}`);
    }
    return "OK";
  }

  async #query(line: string, signal: AbortSignal): Promise<string> {
    const session = this.#session;
    try {
      await session.begin(signal);
    } catch (error) {
      throw new ShellError(`begin transaction: ${goErrorText(error)}`);
    }
    const writer = new TabWriter({ minWidth: 0, tabWidth: 8, padding: 1, padChar: "\t" });
    let chars = 0;
    const write = (text: string): void => {
      chars += text.length;
      if (chars > MAX_OUTPUT_CHARS) {
        throw new Error(`the result is too large to print (over ${MAX_OUTPUT_CHARS} characters)`);
      }
      writer.write(text);
    };
    try {
      await session.query(
        line,
        signal,
        (columns) => write(`${columns.map((c) => `${c}\t`).join("")}\n`),
        (row) => write(`${row.map((v) => `${formatGoValue(v)}\t`).join("")}\n`),
      );
    } catch (error) {
      const step = error instanceof QueryStepError ? error.step : "rows";
      const text = `${step}: ${goErrorText(error instanceof QueryStepError ? error.cause : error)}`;
      try {
        await session.rollback(signal);
      } catch {
        throw new ShellError(`unable to rollback: ${text}`);
      }
      throw new ShellError(text);
    }
    try {
      await session.commit(signal);
    } catch (error) {
      // A COMMIT that failed may leave the transaction open: do not carry it to the next line.
      await session.rollback(signal).catch(() => {});
      throw new ShellError(`commit: ${goErrorText(error)}`);
    }
    return writer.flush().replace(/\n+$/, "");
  }
}

/** strconv.Atoi: optional sign, decimal digits, within int64. */
function parseGoInt(text: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const value = BigInt(text);
  if (value > 2n ** 63n - 1n || value < -(2n ** 63n)) return undefined;
  return value;
}
