// What a database's page store offers the rest of this folder, whichever way it keeps its
// pages: all in memory (PageStore) or in a file with hot pages cached (FilePageStore, disk
// mode). Versions, pins and immutable images work the same in both.

/** A reader's hold on one version: the pages it sees and the database size then. */
export interface Pin {
  readonly version: number;
  readonly pageCount: number;
}

export interface VersionedPages {
  /** 0 until the first page arrives. */
  readonly pageSizeBytes: number;
  /** The latest applied version (0 = nothing applied yet). */
  readonly version: number;
  /** Database size in pages at the latest version. */
  readonly pageCount: number;
  /** Number of page versions kept only for pinned readers (for tests and metrics). */
  readonly olderVersionCount: number;
  /** Pins the latest version; release it with `unpin` (once per pin). */
  pin(): Pin;
  unpin(pin: Pin): void;
  /** Image of page `pageNumber` as of `version` (latest by default); undefined if it had none. */
  page(pageNumber: number, version?: number): Uint8Array | undefined;
  /** As `page`, for callers that copy the image before anything else happens to the store. */
  peek(pageNumber: number, version?: number): Uint8Array | undefined;
  /** The images of pages 1..pageCount at the latest version. */
  latestPages(): Uint8Array[];
  /** As `latestPages`, for callers that copy the images at once. */
  peekLatestPages(): Uint8Array[];
  /** A page buffer for a new image (recycled when possible); give it to `commit` or `recycle`. */
  allocate(pageSizeBytes: number): Uint8Array;
  /** A store-allocated copy of `source`. */
  copy(source: Uint8Array): Uint8Array;
  /** Marks images as handed out: they will never be recycled. */
  expose(pages: readonly Uint8Array[]): void;
  /** Takes back a buffer nobody uses any more (ignored if foreign or exposed). */
  recycle(page: Uint8Array): void;
  /**
   * Makes a new version: the given pages replace theirs (a later duplicate wins), pages beyond
   * `pageCount` are cut off. The arrays are kept, not copied: callers must not change them.
   */
  commit(
    pageSizeBytes: number,
    pageCount: number,
    pageNumbers: ArrayLike<number>,
    pages: readonly Uint8Array[],
  ): number;
  /**
   * Pages `firstPage`..`firstPage + count - 1` as of `pin` (still pinned), read into one new
   * buffer: what a snapshot streams.
   */
  readPages(pin: Pin, firstPage: number, count: number): Promise<Uint8Array>;
  /** Gives up the store's resources once no pin is left (a replaced store). */
  retire(): void;
}
