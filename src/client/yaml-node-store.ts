// The YAML node store file of go-dqlite (`cluster.yaml` in an app's directory): a sequence of maps
// with the keys ID, Address and Role. go-dqlite 1.11 writes the keys sorted (through JSON), current
// go-dqlite in the order ID, Address, Role; we read either and write the latter. IDs are u64 and
// are read as bigint so that no digit is lost.
import { readFile } from "node:fs/promises";
import { Document, parse } from "yaml";
import { Role } from "../wire/index.js";
import { writeFileAtomically } from "./atomic-file.js";
import { DqliteError } from "./errors.js";
import type { NodeInfo, NodeStore } from "./node-store.js";

const MAX_U64 = 0xffff_ffff_ffff_ffffn;
/** A node store file bigger than this is not a node list. */
const MAX_FILE_SIZE_BYTES = 16 * 1024 * 1024;

/** A NodeStore kept in a YAML file, readable and writable by go-dqlite. */
export class YamlNodeStore implements NodeStore {
  /** The file's path. */
  readonly path: string;
  #nodes: NodeInfo[];
  // Writes are chained so that the file always ends with the last `set`.
  #writing: Promise<void> = Promise.resolve();

  private constructor(path: string, nodes: NodeInfo[]) {
    this.path = path;
    this.#nodes = nodes;
  }

  /** Loads the store from `path`; a missing file is an empty store. */
  static async open(path: string): Promise<YamlNodeStore> {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return new YamlNodeStore(path, []);
      throw error;
    }
    return new YamlNodeStore(path, parseNodeStoreYaml(text, path));
  }

  async get(): Promise<NodeInfo[]> {
    return this.#nodes.map((node) => ({ ...node }));
  }

  /** Writes the file atomically (temporary file, fsync, rename), mode 0600, then keeps `nodes`. */
  async set(nodes: readonly NodeInfo[]): Promise<void> {
    const text = formatNodeStoreYaml(nodes);
    const copy = nodes.map((node) => ({ ...node }));
    const write = this.#writing.then(() => writeFileAtomically(this.path, text, 0o600));
    this.#writing = write.catch(() => {});
    await write;
    this.#nodes = copy;
  }
}

/** Parses the YAML of a node store file (exported for tests and tools). */
export function parseNodeStoreYaml(text: string, source = "node store"): NodeInfo[] {
  if (text.length > MAX_FILE_SIZE_BYTES) {
    throw new DqliteError(`${source}: file of ${text.length} bytes is too big for a node list`);
  }
  let document: unknown;
  try {
    document = parse(text, { intAsBigInt: true, maxAliasCount: 0 });
  } catch (error) {
    throw new DqliteError(`${source}: not valid YAML: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (document === null || document === undefined) return [];
  if (!Array.isArray(document)) throw new DqliteError(`${source}: expected a YAML sequence`);
  return document.map((entry, index) => readEntry(entry, `${source}: entry ${index}`));
}

// Go decodes into a struct: keys match case-insensitively (1.11's JSON path), missing keys stay
// zero, unknown keys are ignored.
function readEntry(entry: unknown, where: string): NodeInfo {
  if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
    throw new DqliteError(`${where}: expected a map with ID, Address and Role`);
  }
  const node: NodeInfo = { id: 0n, address: "", role: Role.Voter };
  for (const [key, value] of Object.entries(entry)) {
    switch (key.toLowerCase()) {
      case "id":
        node.id = readInteger(value, 0n, MAX_U64, `${where}: ID`);
        break;
      case "address":
        if (typeof value !== "string") throw new DqliteError(`${where}: Address is not a string`);
        node.address = value;
        break;
      case "role":
        node.role = Number(readInteger(value, 0n, 2n, `${where}: Role`)) as Role;
        break;
    }
  }
  return node;
}

function readInteger(value: unknown, min: bigint, max: bigint, what: string): bigint {
  if (typeof value !== "bigint" || value < min || value > max) {
    throw new DqliteError(`${what} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** The YAML go-dqlite reads: keys in the order ID, Address, Role; `[]` for no nodes. */
export function formatNodeStoreYaml(nodes: readonly NodeInfo[]): string {
  if (nodes.length === 0) return "[]\n";
  let text = "";
  for (const node of nodes) {
    if (typeof node.id !== "bigint" || node.id < 0n || node.id > MAX_U64) {
      throw new RangeError(`node id ${String(node.id)} is not a u64`);
    }
    if (!Number.isInteger(node.role) || node.role < 0) {
      throw new RangeError(`node role ${node.role} is not a role number`);
    }
    text += `- ID: ${node.id}\n  Address: ${yamlString(node.address)}\n  Role: ${node.role}\n`;
  }
  return text;
}

// A scalar that both YAML 1.1 (Go's yaml.v2) and 1.2 read back as this exact string: the 1.1
// rules quote what 1.1 would take for a boolean, a number or a sexagesimal.
function yamlString(value: string): string {
  return new Document(value, { version: "1.1" }).toString({ lineWidth: 0 }).trimEnd();
}
