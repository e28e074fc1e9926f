import assert from "node:assert/strict";
import { test } from "node:test";
import { runChaos } from "../../../src/raft/sim/chaos.js";
import { SimCluster } from "../../../src/raft/sim/sim-cluster.js";

test("a seed replays exactly: same steps, same commits, same trace", () => {
  const traces: string[] = [];
  const original = SimCluster.prototype.trace;
  try {
    SimCluster.prototype.trace = function (line: string) {
      traces.push(`${this.now} ${line}`);
      original.call(this, line);
    };
    const first = runChaos({ seed: 4242 });
    const firstTrace = traces.splice(0).join("\n");
    const second = runChaos({ seed: 4242 });
    assert.deepEqual(second, first);
    assert.equal(traces.join("\n"), firstTrace);
    assert.ok(firstTrace.length > 1000);
  } finally {
    SimCluster.prototype.trace = original;
  }
});

test("different seeds give different runs", () => {
  assert.notDeepEqual(runChaos({ seed: 1 }), runChaos({ seed: 2 }));
});
