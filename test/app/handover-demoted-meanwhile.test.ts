// A voter's handover: after it gave its vote to the stand-by, the leader's roles round may demote
// it before it demotes itself (with four voters the round demotes one, possibly this one). Its
// own demotion is then refused ("server role is not valid"): the handover is done, it must not
// retry until its deadline (a graceful stop took the whole handover timeout, 60 s by default).
import assert from "node:assert/strict";
import { after, test } from "node:test";
import type { Client } from "../../src/client/index.js";
import type { Logger } from "../../src/server/index.js";
import { Role } from "../../src/wire/index.js";
import { AppCluster, memoryLogger, roleCounts } from "./app-harness.js";

// No adjustment rounds during the test (roles settle by assume at start-up): the demotion that
// races the handover's is the test's own, sent the moment the vote has been handed over.
const cluster = await AppCluster.create(4, {
  standbys: 1,
  rolesAdjustmentFrequencyMs: 3_600_000,
});
after(() => cluster.close(), { timeout: 60_000 });

const onHanded: (() => void)[] = [];
function hookedLogger(index: number): Logger {
  const logger = memoryLogger(`node${index}`, cluster.logs);
  return {
    ...logger,
    info(fields, message) {
      logger.info(fields, message);
      if (message === "handed role over") onHanded[index]?.();
    },
  };
}

test("a voter demoted by someone else while handing over is done at once", {
  timeout: 120_000,
}, async () => {
  for (const index of [0, 1, 2, 3]) await cluster.start(index, { logger: hookedLogger(index) });
  const members = await cluster.waitForRoles(
    "3 voters and 1 stand-by",
    (m) => roleCounts(m).join() === "3,1,0",
  );
  const leader: Client = await cluster.running().leader();
  try {
    const leaderAddress = (await leader.leader())!.address;
    const voter = members.find((m) => m.role === Role.Voter && m.address !== leaderAddress)!;
    const index = cluster.indexOf(voter.address);
    let demoted: Promise<void> | undefined;
    onHanded[index] = () => {
      demoted = leader.assign(voter.id, Role.Spare, { timeoutMs: 10_000 });
    };

    const started = performance.now();
    await cluster.apps[index]!.handover({ timeoutMs: 8000 });
    const elapsedMs = performance.now() - started;
    assert.ok(demoted, "the vote was handed over");
    await demoted;
    const lines = cluster.logs.filter((l) => l.message.startsWith(`node${index}: `));
    assert.ok(
      lines.some((l) => l.message === `node${index}: already a spare`),
      lines.map((l) => l.message).join("\n"),
    );
    assert.ok(elapsedMs < 4000, `handover took ${elapsedMs.toFixed(0)} ms`);
    const now = await cluster.members();
    assert.equal(now.find((m) => m.id === voter.id)?.role, Role.Spare);
    assert.equal(roleCounts(now).join(), "3,0,1");
  } finally {
    leader.close();
  }
});
