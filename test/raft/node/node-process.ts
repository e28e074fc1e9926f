// One RaftNode with DiskStorage in its own process, driven over IPC by crash.slow.ts:
//   argv: <id> <data dir> <address of node 1> <address of node 2> ...
//   requests: { id, op: "apply", value } | { id, op: "status" } | { id, op: "values" }
//   replies:  { id, ok: true, result } | { id, ok: false, error }

import { RaftRole } from "../../../src/raft/core/types.js";
import { listenForPeers } from "../../../src/raft/io/connect-listener.js";
import { DiskStorage } from "../../../src/raft/io/disk-storage.js";
import { RaftNode } from "../../../src/raft/raft-node.js";
import { command, RecordingFsm } from "./cluster.js";

const [idText, dir, ...addresses] = process.argv.slice(2);
const id = BigInt(idText);
const address = addresses[Number(id) - 1];
const configuration = addresses.map((a, i) => ({
  id: BigInt(i + 1),
  address: a,
  role: RaftRole.Voter,
}));
const fsm = new RecordingFsm();
const node = new RaftNode({
  id,
  address,
  storage: new DiskStorage(dir, { segmentSizeBytes: 256 * 1024 }),
  fsm,
  bootstrap: configuration,
  heartbeatTimeoutMs: 50,
  electionTimeoutMs: 400,
  snapshotThreshold: 64,
  snapshotTrailing: 64,
});
await listenForPeers(address, node);
await node.start();

type Request = { id: number; op: "apply"; value: number } | { id: number; op: "status" | "values" };

process.on("message", (request: Request) => {
  const reply = (result: unknown) => process.send?.({ id: request.id, ok: true, result });
  const fail = (error: Error) =>
    process.send?.({ id: request.id, ok: false, error: `${error.name}: ${error.message}` });
  switch (request.op) {
    case "apply":
      node.apply(command(request.value)).then(reply, fail);
      return;
    case "status":
      reply({
        state: node.state,
        leader: String(node.leader()?.id ?? 0n),
        applied: node.appliedIndex,
      });
      return;
    case "values":
      node.barrier().then(() => reply(fsm.values()), fail);
      return;
  }
});
process.send?.({ id: 0, ok: true, result: "started" });
