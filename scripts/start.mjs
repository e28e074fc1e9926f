#!/usr/bin/env node
// The main job. Until the Node lands it decodes the captured dqlite conversations.
import { spawnSync } from "node:child_process";

const run = spawnSync(process.execPath, ["--import", "tsx", "scripts/decode-captures.ts"], {
  stdio: "inherit",
});
process.exit(run.status ?? 1);
