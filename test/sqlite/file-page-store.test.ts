// Disk mode's page store: the latest version in a file, hot pages in a bounded cache, older
// versions in memory only while pinned readers need them.
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { FilePageStore } from "../../src/sqlite/file-page-store.js";
import { PageCache } from "../../src/sqlite/page-cache.js";
import { diskDirectory } from "./modes.js";

const SIZE = 512;
const page = (fill: number) => new Uint8Array(SIZE).fill(fill);
const numbers = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

function newStore(cachePages = 4) {
  const cache = new PageCache(cachePages * SIZE);
  const path = join(diskDirectory(), "db");
  return { store: new FilePageStore(path, cache), cache, path };
}

test("pages are written to the file and read back through a cache that never outgrows its bound", () => {
  const { store, cache, path } = newStore(4);
  store.commit(SIZE, 20, numbers(1, 20), numbers(1, 20).map(page));
  assert.equal(statSync(path).size, 20 * SIZE);
  assert.ok(cache.pageCount <= 4, `${cache.pageCount} pages cached`);
  for (let round = 0; round < 3; round++) {
    for (let n = 1; n <= 20; n++) assert.equal(store.peek(n)?.[0], n);
    assert.ok(cache.sizeBytes <= 4 * SIZE);
  }
  assert.ok(cache.stats.misses >= 16, "evicted pages were read again from the file");
  assert.equal(store.peek(21), undefined);
});

test("the least recently used page is evicted first", () => {
  const { store, cache } = newStore(3);
  store.commit(SIZE, 4, numbers(1, 4), numbers(1, 4).map(page));
  store.peek(2); // 2 becomes the most recent of 2, 3, 4
  store.peek(1); // 1 is read from the file; 3 goes
  const missesBefore = cache.stats.misses;
  store.peek(2);
  store.peek(1);
  assert.equal(cache.stats.misses, missesBefore, "2 and 1 are cached");
  store.peek(3);
  assert.equal(cache.stats.misses, missesBefore + 1, "3 was evicted");
});

test("a pinned reader keeps its version's pages after later commits, though they leave the cache", () => {
  const { store } = newStore(2);
  store.commit(SIZE, 10, numbers(1, 10), numbers(1, 10).map(page));
  const pin = store.pin();
  store.commit(SIZE, 10, [2, 5], [page(22), page(55)]);
  const second = store.pin();
  store.commit(SIZE, 10, [2], [page(222)]);
  // Churn the cache: every current page is read, nothing of the old versions is evicted.
  for (let n = 1; n <= 10; n++) store.peek(n);
  assert.equal(store.peek(2, pin.version)?.[0], 2);
  assert.equal(store.peek(5, pin.version)?.[0], 5);
  assert.equal(store.peek(7, pin.version)?.[0], 7);
  assert.equal(store.peek(2, second.version)?.[0], 22);
  assert.equal(store.peek(5, second.version)?.[0], 55);
  assert.equal(store.peek(2)?.[0], 222);
  assert.equal(store.olderVersionCount, 3);
  store.unpin(pin);
  assert.equal(store.olderVersionCount, 1, "only what the second pin reads is left");
  store.unpin(second);
  assert.equal(store.olderVersionCount, 0);
});

test("a shrinking database is cut from the file only when no reader needs the cut pages", () => {
  const { store, path } = newStore();
  store.commit(SIZE, 6, numbers(1, 6), numbers(1, 6).map(page));
  const pin = store.pin();
  store.commit(SIZE, 2, [1], [page(9)]);
  assert.equal(store.pageCount, 2);
  assert.equal(store.peek(5), undefined, "cut off for new readers");
  assert.equal(store.peek(5, pin.version)?.[0], 5, "still there for the pinned one");
  assert.equal(statSync(path).size, 6 * SIZE);
  store.unpin(pin);
  assert.equal(statSync(path).size, 2 * SIZE);
});

test("a database that shrinks and grows again under a pinned reader keeps the reader's pages", () => {
  const { store } = newStore();
  store.commit(SIZE, 6, numbers(1, 6), numbers(1, 6).map(page));
  const pin = store.pin();
  store.commit(SIZE, 2, [1], [page(9)]);
  store.commit(SIZE, 5, [1, 3, 4, 5], [page(9), page(33), page(44), page(55)]);
  assert.equal(store.peek(4)?.[0], 44);
  assert.equal(store.peek(4, pin.version)?.[0], 4);
  assert.equal(store.peek(6, pin.version)?.[0], 6);
  store.unpin(pin);
  assert.equal(store.olderVersionCount, 0);
});

test("growing the database without the new pages is a bug that crashes", () => {
  const { store } = newStore();
  store.commit(SIZE, 1, [1], [page(1)]);
  assert.throws(() => store.commit(SIZE, 3, [1, 3], [page(1), page(3)]), /grew/);
});

test("a page written twice in one transaction keeps the later image, and no history of the first", () => {
  const { store } = newStore();
  store.commit(SIZE, 1, [1], [page(1)]);
  const pin = store.pin();
  store.commit(SIZE, 1, [1, 1], [page(2), page(3)]);
  assert.equal(store.peek(1)?.[0], 3);
  assert.equal(store.peek(1, pin.version)?.[0], 1);
  assert.equal(store.olderVersionCount, 1);
  store.unpin(pin);
});

test("readPages gives a pinned version's pages even when commits overwrite them during the read", async () => {
  const { store } = newStore(2);
  store.commit(SIZE, 64, numbers(1, 64), numbers(1, 64).map(page));
  const pin = store.pin();
  const reading = store.readPages(pin, 1, 64);
  // Written while the read is in flight on the thread pool.
  store.commit(
    SIZE,
    64,
    numbers(1, 64),
    numbers(1, 64).map((n) => page(100 + n)),
  );
  store.commit(SIZE, 64, [10, 20], [page(7), page(7)]);
  const bytes = await reading;
  for (let n = 1; n <= 64; n++) assert.equal(bytes[(n - 1) * SIZE], n, `page ${n}`);
  const later = await store.readPages(pin, 10, 2);
  assert.deepEqual([later[0], later[SIZE]], [10, 11]);
  store.unpin(pin);
  const latest = await store.readPages(store.pin(), 9, 3);
  assert.deepEqual([latest[0], latest[SIZE], latest[2 * SIZE]], [109, 7, 111]);
});

test("a retired store serves its pinned readers, then closes its file", () => {
  const { store } = newStore(0);
  store.commit(SIZE, 2, [1, 2], [page(1), page(2)]);
  const pin = store.pin();
  store.retire();
  assert.equal(store.peek(2, pin.version)?.[0], 2);
  store.unpin(pin);
  assert.throws(() => store.peek(2), /closed/);
  assert.throws(() => store.commit(SIZE, 2, [1], [page(1)]), /replaced store/);
});

test("pages read again after eviction are right, though the cache reuses evicted buffers", () => {
  const { store, cache } = newStore(3);
  store.commit(SIZE, 50, numbers(1, 50), numbers(1, 50).map(page));
  for (let round = 0; round < 4; round++) {
    for (let n = 1; n <= 50; n += 1 + round) {
      const image = store.peek(n)!;
      assert.ok(
        image.every((b) => b === n),
        `page ${n} in round ${round}`,
      );
    }
  }
  assert.ok(cache.pageCount <= 3);
  const pin = store.pin();
  // Overwritten while pinned: the old image moves from the cache into the page's history.
  store.peek(7);
  store.commit(SIZE, 50, [7], [page(70)]);
  for (let n = 1; n <= 50; n++) store.peek(n);
  assert.ok(store.peek(7, pin.version)!.every((b) => b === 7));
  assert.ok(store.page(7)!.every((b) => b === 70));
  store.unpin(pin);
});
