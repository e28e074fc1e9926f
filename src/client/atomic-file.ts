// Replacing a small file so that readers see the old or the new content, never a mix, and a
// crash leaves one of the two: write a temporary file beside it, fsync, rename over, fsync the
// directory. Node stores write their files this way.
import { randomBytes } from "node:crypto";
import { open, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

/**
 * Writes `data` to `path` atomically. A new file gets permission bits `mode` less the umask, or
 * exactly `mode` with `exactMode` (to keep the bits of the file being replaced).
 */
export async function writeFileAtomically(
  path: string,
  data: string | Uint8Array,
  mode: number,
  exactMode = false,
): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  const file = await open(temporary, "wx", mode);
  try {
    try {
      await file.writeFile(data);
      if (exactMode) await file.chmod(mode);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temporary, path);
  } catch (error) {
    await unlink(temporary).catch(() => {});
    throw error;
  }
  // Make the rename itself durable; some file systems refuse to sync a directory.
  const directory = await open(dirname(path), "r");
  try {
    await directory.sync().catch(() => {});
  } finally {
    await directory.close();
  }
}
