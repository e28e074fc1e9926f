// go-dqlite's DefaultNodeStore: the kind of node store a file holds is told by its name.
import type { NodeStore } from "./node-store.js";
import { SqliteNodeStore } from "./sqlite-node-store.js";
import { YamlNodeStore } from "./yaml-node-store.js";

/**
 * Opens the node store in the file at `path`: a YamlNodeStore when the name ends in ".yaml",
 * else a SqliteNodeStore with go-dqlite's default table (created when missing).
 */
export async function openNodeStore(path: string): Promise<NodeStore> {
  if (path.endsWith(".yaml")) return await YamlNodeStore.open(path);
  return await SqliteNodeStore.open(path);
}
