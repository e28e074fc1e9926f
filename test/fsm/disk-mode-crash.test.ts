// Two kills of a disk-mode writer at random points (the long run is disk-mode-crash.slow.ts).
import { test } from "node:test";
import { crashLoop } from "./crash-loop.js";

test("a disk-mode node killed at random points restarts with every acknowledged write and nothing torn", async () => {
  await crashLoop({ iterations: 2, seed: Number(process.env.CRASH_SEED ?? 7) });
});
