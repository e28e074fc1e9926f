// Writes a disk-mode database's pages into a new file beside the live one (a snapshot being
// restored), to become its store only once the whole snapshot checked out: a restore that
// fails half-way leaves every database as it was.
import { closeSync, ftruncateSync, openSync, rmSync, write } from "node:fs";
import { FilePageStore, writeAllSync } from "./file-page-store.js";
import { invariant } from "./invariant.js";
import type { PageCache } from "./page-cache.js";

export class PageFileBuilder {
  readonly path: string;
  readonly pageSizeBytes: number;
  #fd: number | null;

  constructor(path: string, pageSizeBytes: number) {
    this.path = path;
    this.pageSizeBytes = pageSizeBytes;
    this.#fd = openSync(path, "w+");
  }

  /** Writes whole pages from page `firstPage` on (synchronously). */
  writeSync(firstPage: number, pages: Uint8Array): void {
    writeAllSync(this.#openFd(), pages, this.#offsetOf(firstPage, pages));
  }

  /** Writes whole pages from page `firstPage` on, off the main thread. */
  async write(firstPage: number, pages: Uint8Array): Promise<void> {
    const fd = this.#openFd();
    const position = this.#offsetOf(firstPage, pages);
    let done = 0;
    for (let attempt = 0; done < pages.length; attempt++) {
      if (attempt > 1000) throw new Error(`${this.path}: write made no progress`);
      done += await new Promise<number>((resolve, reject) =>
        write(fd, pages, done, pages.length - done, position + done, (error, n) =>
          error ? reject(error) : resolve(n),
        ),
      );
    }
  }

  #offsetOf(firstPage: number, pages: Uint8Array): number {
    if (!(firstPage >= 1) || pages.length % this.pageSizeBytes !== 0) {
      invariant("whole pages from page 1 on");
    }
    return (firstPage - 1) * this.pageSizeBytes;
  }

  /**
   * The file as a store of `pageCount` pages (anything written beyond is cut off), moved to
   * `path`, starting at `version`.
   */
  finish(pageCount: number, path: string, cache: PageCache, version: number): FilePageStore {
    const fd = this.#openFd();
    ftruncateSync(fd, pageCount * this.pageSizeBytes);
    this.#fd = null;
    const store = new FilePageStore(this.path, cache, {
      fd,
      pageSizeBytes: pageCount === 0 ? 0 : this.pageSizeBytes,
      pageCount,
      version,
    });
    store.rename(path);
    return store;
  }

  /** Deletes the file (the restore failed). */
  abandon(): void {
    if (this.#fd !== null) closeSync(this.#fd);
    this.#fd = null;
    rmSync(this.path, { force: true });
  }

  #openFd(): number {
    if (this.#fd === null) invariant(`${this.path} is finished`);
    return this.#fd;
  }
}
