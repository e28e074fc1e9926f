#!/usr/bin/env node
// npm run test:faults: the Jepsen-style fault tests (test/faults). Needs root, iproute2,
// nftables and libfaketime; arguments are passed on (--long, --only append:partition, ...).
import { spawnSync } from "node:child_process";

const result = spawnSync(
  process.execPath,
  ["--import", "tsx", "test/faults/main.ts", ...process.argv.slice(2)],
  { stdio: "inherit" },
);
process.exit(result.status ?? 1);
