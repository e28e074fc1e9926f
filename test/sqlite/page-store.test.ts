import assert from "node:assert/strict";
import { test } from "node:test";
import { PageStore } from "../../src/sqlite/index.js";

const SIZE = 512;
const page = (fill: number) => new Uint8Array(SIZE).fill(fill);

test("a pinned reader keeps the pages of its version after later commits", () => {
  const store = new PageStore();
  store.commit(SIZE, 2, [1, 2], [page(1), page(2)]);
  const pin = store.pin();
  store.commit(SIZE, 2, [2], [page(22)]);
  assert.equal(store.page(2, pin.version)?.[0], 2);
  assert.equal(store.page(2)?.[0], 22);
  assert.equal(store.page(1, pin.version)?.[0], 1);
  assert.equal(pin.pageCount, 2);
});

test("old page versions are dropped once no pin can reach them", () => {
  const store = new PageStore();
  store.commit(SIZE, 1, [1], [page(1)]);
  const first = store.pin();
  store.commit(SIZE, 1, [1], [page(2)]);
  const second = store.pin();
  store.commit(SIZE, 1, [1], [page(3)]);
  assert.equal(store.olderVersionCount, 2);
  store.unpin(first);
  assert.equal(store.olderVersionCount, 1);
  assert.equal(store.page(1, second.version)?.[0], 2);
  store.unpin(second);
  assert.equal(store.olderVersionCount, 0);
  assert.equal(store.page(1)?.[0], 3);
});

test("without pins a commit keeps no history at all", () => {
  const store = new PageStore();
  for (let i = 0; i < 10; i++) store.commit(SIZE, 1, [1], [page(i)]);
  assert.equal(store.olderVersionCount, 0);
  assert.equal(store.version, 10);
});

test("a truncation cuts pages off for new readers but not for pinned ones", () => {
  const store = new PageStore();
  store.commit(SIZE, 3, [1, 2, 3], [page(1), page(2), page(3)]);
  const pin = store.pin();
  store.commit(SIZE, 1, [1], [page(9)]);
  assert.equal(store.pageCount, 1);
  assert.equal(store.page(3), undefined);
  assert.equal(store.page(3, pin.version)?.[0], 3);
  assert.equal(store.latestPages().length, 1);
  store.unpin(pin);
  assert.equal(store.olderVersionCount, 0);
});

test("a page written twice in one transaction keeps the later image", () => {
  const store = new PageStore();
  store.commit(SIZE, 1, [1, 1], [page(1), page(2)]);
  assert.equal(store.page(1)?.[0], 2);
});

test("growing the database without the new pages is refused", () => {
  const store = new PageStore();
  assert.throws(() => store.commit(SIZE, 2, [1], [page(1)]), /missing/);
});

test("releasing more pins than were taken is a bug that crashes", () => {
  const store = new PageStore();
  const pin = store.pin();
  store.unpin(pin);
  assert.throws(() => store.unpin(pin), /unpin without a pin/);
});

test("buffers of dropped images are recycled, but never those handed out", () => {
  const store = new PageStore();
  const first = store.copy(page(1));
  store.commit(SIZE, 1, [1], [first]);
  const handedOut = store.page(1)!;
  store.commit(SIZE, 1, [1], [store.copy(page(2))]);
  // `first` was exposed by page(): a new allocation must not reuse it.
  const next = store.allocate(SIZE);
  assert.notEqual(next, handedOut);
  next.fill(9);
  assert.equal(handedOut[0], 1);
  // An image never handed out is reused once dropped.
  const quiet = store.peek(1)!;
  store.commit(SIZE, 1, [1], [next]);
  assert.equal(store.allocate(SIZE), quiet);
});
