import assert from "node:assert/strict";
import { test } from "node:test";
import { EdnSet, kw, toEdn } from "./edn.js";
import { HistoryRecorder, historyToEdn, pairOps } from "./history.js";

test("EDN prints keywords, vectors, maps, sets, nil and strings", () => {
  assert.equal(toEdn([kw("append"), 1, 2]), "[:append 1 2]");
  assert.equal(toEdn([kw("r"), 1, null]), "[:r 1 nil]");
  assert.equal(toEdn(new EdnSet([1, 2])), "#{1 2}");
  assert.equal(toEdn('say "hi"'), '"say \\"hi\\""');
  assert.equal(toEdn(1.5), "1.5");
  assert.throws(() => kw("has space"));
});

test("a recorded history prints one Jepsen map per line and pairs its operations", () => {
  const history = new HistoryRecorder<"txn", unknown>();
  const a = history.invoke(0, "txn", [["r", 1, null]]);
  const b = history.invoke(1, "txn", [["append", 1, 2]]);
  history.complete(b, "info", b.value, "timeout");
  history.complete(a, "ok", [["r", 1, [2]]]);
  assert.throws(() => history.complete(a, "ok", null), /no such operation/);
  const edn = historyToEdn(history.ops, (op) =>
    (op.value as [string, number, unknown][]).map(([f, k, v]) => [kw(f), k, v as number[] | null]),
  );
  const lines = edn.trimEnd().split("\n");
  assert.equal(lines.length, 4);
  assert.match(
    lines[0]!,
    /^\{:type :invoke, :f :txn, :value \[\[:r 1 nil\]\], :process 0, :time \d+, :index 0\}$/,
  );
  assert.match(lines[2]!, /:type :info, .*:error "timeout"\}$/);
  assert.match(lines[3]!, /:value \[\[:r 1 \[2\]\]\]/);
  const pairs = pairOps(history.ops);
  assert.deepEqual(
    pairs.map((p) => p.type),
    ["ok", "info"],
  );
  assert.deepEqual(pairs[0]!.value, [["r", 1, [2]]]);
});
