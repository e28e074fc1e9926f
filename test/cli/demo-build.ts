// A built copy of the package for tests that run bin/ and scripts/ as a user does (`npm ci` builds
// dist/ through `prepare`). It is compiled from the current sources into .tmp/demo-build/<hash>,
// beside copies of bin/, scripts/start.mjs and package.json and a link to node_modules, so the
// checkout's own dist/ is never touched; a build of the same sources is reused.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { cp, mkdir, readdir, readFile, rename, rm, symlink } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
export const REPO = resolve(import.meta.dirname, "..", "..");

async function hashTree(hash: ReturnType<typeof createHash>, path: string): Promise<void> {
  const entries = await readdir(path, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const full = join(path, entry.name);
    hash.update(full);
    if (entry.isDirectory()) await hashTree(hash, full);
    else hash.update(await readFile(full));
  }
}

/** The root of a built copy of the package (dist/, bin/, scripts/, node_modules). */
export async function builtPackage(): Promise<string> {
  const hash = createHash("sha256");
  for (const path of ["src", "bin"]) await hashTree(hash, join(REPO, path));
  for (const file of ["tsconfig.json", "package.json", "scripts/start.mjs"]) {
    hash.update(await readFile(join(REPO, file)));
  }
  const root = join(REPO, ".tmp", "demo-build", hash.digest("hex").slice(0, 16));
  if (existsSync(join(root, "dist", "cli", "dqlite-demo.js"))) return root;
  const staging = `${root}.${process.pid}`;
  await rm(staging, { recursive: true, force: true });
  await mkdir(join(staging, "scripts"), { recursive: true });
  try {
    await run(
      process.execPath,
      [
        join(REPO, "node_modules", "typescript", "bin", "tsc"),
        "-p",
        join(REPO, "tsconfig.json"),
        "--outDir",
        join(staging, "dist"),
      ],
      { cwd: REPO, maxBuffer: 16 * 1024 * 1024 },
    );
  } catch (error) {
    // Type errors elsewhere in the tree still emit JavaScript; only a missing program is fatal.
    if (!existsSync(join(staging, "dist", "cli", "dqlite-demo.js"))) throw error;
  }
  await cp(join(REPO, "bin"), join(staging, "bin"), { recursive: true });
  await cp(join(REPO, "scripts", "start.mjs"), join(staging, "scripts", "start.mjs"));
  await cp(join(REPO, "package.json"), join(staging, "package.json"));
  await symlink(join(REPO, "node_modules"), join(staging, "node_modules"), "dir");
  await rm(root, { recursive: true, force: true });
  await rename(staging, root);
  // Builds of older sources are of no further use.
  const builds = join(REPO, ".tmp", "demo-build");
  for (const name of await readdir(builds)) {
    if (join(builds, name) !== root && !name.includes(".")) {
      await rm(join(builds, name), { recursive: true, force: true });
    }
  }
  return root;
}
