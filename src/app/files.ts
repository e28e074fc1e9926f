// The App's files beside raft's in its directory, with go-dqlite's names, shapes and rules:
// info.yaml (this node's id and address), cluster.yaml (the YAML node store) and the empty `join`
// marker (this node has yet to add itself to the cluster). go-dqlite can read what we write.
import { mkdir, readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { Document, parse } from "yaml";
import { writeFileAtomically } from "../client/atomic-file.js";
import { type NodeInfo, YamlNodeStore } from "../client/index.js";
import { generateId } from "../server/index.js";
import { BOOTSTRAP_ID, Role } from "../wire/index.js";
import { AppError } from "./errors.js";

export const INFO_FILE = "info.yaml";
export const STORE_FILE = "cluster.yaml";
export const JOIN_FILE = "join";

const MAX_U64 = 0xffff_ffff_ffff_ffffn;
/** info.yaml holds three short keys; anything bigger is not one. */
const MAX_INFO_SIZE_BYTES = 64 * 1024;

/** This node's identity, as info.yaml keeps it. */
export interface NodeIdentity {
  id: bigint;
  address: string;
}

/** What start-up learned from (or wrote to) the directory. */
export interface AppDirectory {
  identity: NodeIdentity;
  /** The join marker is present: this node must add itself to the cluster. */
  joining: boolean;
  /** cluster.yaml, ready for leader searches. */
  store: YamlNodeStore;
  /** Removes what this start-up created, for when the App fails to start after all. */
  undo(): Promise<void>;
}

/**
 * Reads the directory, or sets it up for a new node (go-dqlite's app.New): a node started without
 * cluster addresses founds a cluster with the bootstrap id; one started with them gets a fresh id
 * and the join marker. Throws AppError with go-dqlite's texts when the files disagree.
 */
export async function openAppDirectory(
  dir: string,
  options: {
    address: string | undefined;
    cluster: readonly string[];
    defaultAddress: () => string;
  },
): Promise<AppDirectory> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  const created: string[] = [];
  const undo = async (): Promise<void> => {
    for (const file of created.reverse()) await unlink(join(dir, file)).catch(() => {});
  };
  try {
    const infoExisted = await exists(dir, INFO_FILE);
    let identity: NodeIdentity;
    if (!infoExisted) {
      const address = options.address ?? options.defaultAddress();
      if (options.cluster.length === 0) {
        identity = { id: BOOTSTRAP_ID, address };
      } else {
        identity = { id: generateId(address), address };
        await writeFileAtomically(join(dir, JOIN_FILE), "", 0o600);
        created.push(JOIN_FILE);
      }
      await writeFileAtomically(join(dir, INFO_FILE), formatInfo(identity), 0o600);
      created.push(INFO_FILE);
    } else {
      identity = await readInfo(dir);
      if (options.address !== undefined && options.address !== identity.address) {
        throw new AppError(
          `address "${identity.address}" in info.yaml does not match "${options.address}"`,
        );
      }
    }
    const joining = await exists(dir, JOIN_FILE);
    if (identity.id === BOOTSTRAP_ID && joining) {
      throw new AppError("bootstrap node can't join a cluster");
    }
    const storeExisted = await exists(dir, STORE_FILE);
    let store: YamlNodeStore;
    try {
      store = await YamlNodeStore.open(join(dir, STORE_FILE));
    } catch (error) {
      throw new AppError(`open cluster.yaml node store: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (infoExisted !== storeExisted) throw new AppError("inconsistent info.yaml and cluster.yaml");
    if (!storeExisted) {
      let nodes: NodeInfo[];
      if (identity.id === BOOTSTRAP_ID) {
        nodes = [{ id: 0n, address: identity.address, role: Role.Voter }];
      } else {
        if (options.cluster.length === 0) throw new AppError("no cluster addresses provided");
        nodes = options.cluster.map((address) => ({ id: 0n, address, role: Role.Voter }));
      }
      created.push(STORE_FILE);
      await store.set(nodes);
    }
    return { identity, joining, store, undo };
  } catch (error) {
    await undo();
    throw error;
  }
}

/** Deletes the join marker once this node is a member. */
export async function removeJoinMarker(dir: string): Promise<void> {
  await unlink(join(dir, JOIN_FILE)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== "ENOENT") throw error;
  });
}

/** info.yaml's text: current go-dqlite's key order; Role is always 0 there. */
export function formatInfo(identity: NodeIdentity): string {
  const address = new Document(identity.address, { version: "1.1" })
    .toString({ lineWidth: 0 })
    .trimEnd();
  return `ID: ${identity.id}\nAddress: ${address}\nRole: 0\n`;
}

/** Reads info.yaml's text; keys in any order and case (go-dqlite 1.11 wrote them sorted). */
export function parseInfo(text: string): NodeIdentity {
  if (text.length > MAX_INFO_SIZE_BYTES) throw new AppError("unmarshall info.yaml: file too big");
  let document: unknown;
  try {
    document = parse(text, { intAsBigInt: true, maxAliasCount: 0 });
  } catch (error) {
    throw new AppError(`unmarshall info.yaml: ${(error as Error).message}`, { cause: error });
  }
  if (document === null || typeof document !== "object" || Array.isArray(document)) {
    throw new AppError("unmarshall info.yaml: expected a map with ID and Address");
  }
  const identity: NodeIdentity = { id: 0n, address: "" };
  for (const [key, value] of Object.entries(document)) {
    switch (key.toLowerCase()) {
      case "id":
        if (typeof value !== "bigint" || value < 0n || value > MAX_U64) {
          throw new AppError(`unmarshall info.yaml: ID ${String(value)} is not a u64`);
        }
        identity.id = value;
        break;
      case "address":
        if (typeof value !== "string") {
          throw new AppError("unmarshall info.yaml: Address is not a string");
        }
        identity.address = value;
        break;
    }
  }
  if (identity.id === 0n) throw new AppError("info.yaml has no node ID");
  if (identity.address === "") throw new AppError("info.yaml has no Address");
  return identity;
}

async function readInfo(dir: string): Promise<NodeIdentity> {
  let text: string;
  try {
    text = await readFile(join(dir, INFO_FILE), "utf8");
  } catch (error) {
    throw new AppError(`read info.yaml: ${(error as Error).message}`, { cause: error });
  }
  return parseInfo(text);
}

async function exists(dir: string, file: string): Promise<boolean> {
  try {
    await stat(join(dir, file));
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw new AppError(`check if ${file} exists: ${(error as Error).message}`, { cause: error });
  }
}
