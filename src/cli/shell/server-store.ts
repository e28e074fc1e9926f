// The shell's -s flag: a list of addresses, or one `file://<path>` node store.
import { stat } from "node:fs/promises";
import { MemoryNodeStore, type NodeStore, openNodeStore } from "../../client/index.js";
import { goPathError } from "./go-errors.js";

const FILE_PREFIX = "file://";

/** The node store the -s values name; errors carry go-dqlite's texts. */
export async function openServerStore(servers: readonly string[]): Promise<NodeStore> {
  if (servers.length === 0) throw new Error("no servers provided");
  const first = servers[0];
  if (!first.startsWith(FILE_PREFIX)) return new MemoryNodeStore(servers);
  if (servers.length > 1) throw new Error("can't mix server store and explicit list");
  const path = first.slice(FILE_PREFIX.length);
  try {
    await stat(path);
  } catch (error) {
    throw new Error(`open servers store: ${goPathError("stat", path, error).message}`);
  }
  // go-dqlite picks the store by the file name: ".yaml" is YAML, anything else SQLite (whose
  // table is created when missing, as go-dqlite's DefaultNodeStore does).
  try {
    return await openNodeStore(path);
  } catch (error) {
    throw new Error(`open servers store: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Splits one -s value like pflag's string slices do (a CSV record: commas separate, double
 * quotes protect commas); the empty string is no value at all.
 */
export function splitServersFlag(value: string): string[] {
  if (value === "") return [];
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  let atFieldStart = true;
  for (let i = 0; i < value.length; i++) {
    const char = value[i];
    if (quoted) {
      if (char === '"' && value[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"' && atFieldStart) {
      quoted = true;
      atFieldStart = false;
    } else if (char === ",") {
      fields.push(field);
      field = "";
      atFieldStart = true;
    } else {
      field += char;
      atFieldStart = false;
    }
  }
  if (quoted)
    throw new Error(
      `parse error on line 1, column ${value.length + 1}: extraneous or missing " in quoted-field`,
    );
  fields.push(field);
  return fields;
}
