// Page 1 in FRAMES commands: left out when SQLite only bumped its change counter (as a WAL-mode
// leader's frames leave it out), sent when anything else in it changed.
import assert from "node:assert/strict";
import { test } from "node:test";
import { decodeCommand, type FramesCommand } from "../../src/fsm/command-codec.js";
import { loadSqlite } from "../../src/sqlite/index.js";
import { ReplicationHarness } from "./replication-harness.js";

const sqlite = await loadSqlite();

function lastFrames(harness: ReplicationHarness): FramesCommand {
  const command = decodeCommand(harness.entries[harness.entries.length - 1]);
  assert.equal(command.type, "frames");
  return command as FramesCommand;
}

function samePage1Everywhere(harness: ReplicationHarness, name: string): void {
  const leaderPage1 = harness.leader.database(name).store.latestPages()[0];
  for (const follower of harness.followers) {
    const page1 = follower.database(name).store.latestPages()[0];
    assert.ok(Buffer.from(page1).equals(Buffer.from(leaderPage1)), "page 1 is the same");
  }
}

test("a small write leaves page 1 out of its frames; schema and freelist changes send it", () => {
  const harness = new ReplicationHarness(sqlite, 2);
  try {
    harness.run("db", "CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)");
    assert.equal(lastFrames(harness).pageNumbers[0], 1, "a schema change is in page 1");

    harness.run("db", "INSERT INTO kv VALUES ('a', 'first')");
    const small = lastFrames(harness);
    assert.ok(small.pageNumbers.length > 0);
    assert.ok(!small.pageNumbers.includes(1), `pages ${small.pageNumbers} leave page 1 out`);
    samePage1Everywhere(harness, "db");

    // Growing the file changes page 1's in-header size: sent.
    harness.run(
      "db",
      "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n WHERE x < 200) INSERT INTO kv SELECT 'k' || x, randomblob(300) FROM n",
    );
    assert.equal(lastFrames(harness).pageNumbers[0], 1, "a larger file is in page 1");
    // Freeing pages changes the freelist fields of page 1: sent.
    harness.run("db", "DELETE FROM kv WHERE k != 'a'");
    assert.equal(lastFrames(harness).pageNumbers[0], 1, "the freelist is in page 1");

    harness.run("db", "UPDATE kv SET v = 'second' WHERE k = 'a'");
    assert.ok(!lastFrames(harness).pageNumbers.includes(1));
    samePage1Everywhere(harness, "db");
    assert.deepEqual(harness.run("db", "SELECT v FROM kv"), [["second"]], "the writer sees it");
    for (const fsm of [harness.leader, ...harness.followers]) {
      const connection = fsm.connect("db");
      const rows: unknown[] = [];
      const statement = connection.prepare("SELECT v FROM kv");
      while (statement.step()) rows.push(statement.row());
      statement.finalize();
      connection.close();
      assert.deepEqual(rows, [["second"]]);
    }
  } finally {
    harness.close();
  }
});
