// One simulated server: a raft core, its disk, its state machine, and what the checker needs
// to know about it. The cluster drives it; this file only holds per-node state.

import type { RaftOptions } from "../core/options.js";
import { Raft } from "../core/raft.js";
import type { NodeId } from "../core/types.js";
import { LogMirror } from "./invariants.js";
import { SimDisk } from "./sim-disk.js";
import { SimFsm } from "./sim-fsm.js";

export class SimNode {
  readonly disk = new SimDisk();
  raft: Raft | null = null;
  fsm = new SimFsm();
  readonly mirror = new LogMirror();
  /** Index of the FSM snapshot last written. */
  snapshotIndex = 0;
  restarts = 0;

  constructor(
    readonly id: NodeId,
    readonly address: string,
  ) {}

  get alive(): boolean {
    return this.raft !== null;
  }

  /** Starts (or restarts) from what is on disk. */
  start(options: Omit<RaftOptions, "id" | "loaded">): Raft {
    const loaded = this.disk.load();
    this.fsm = new SimFsm();
    if (this.disk.snapshot !== undefined && loaded.snapshot !== undefined) {
      this.fsm.restore(this.disk.snapshot.data);
    }
    this.snapshotIndex = loaded.snapshot?.index ?? 0;
    this.mirror.reset(loaded.snapshot?.index ?? 0, loaded.snapshot?.term ?? 0);
    const first = loaded.entries[0];
    if (first !== undefined) {
      // Loaded entries may begin before the snapshot (trailing ones): mirror from the first;
      // the term before it is then unknown (-1), and nothing is ever appended after it.
      if (first.index <= (loaded.snapshot?.index ?? 0)) this.mirror.reset(first.index - 1, -1);
      for (const entry of loaded.entries) this.mirror.append(entry.index, entry.term);
    }
    this.raft = new Raft({ ...options, id: this.id, loaded });
    return this.raft;
  }

  crash(disk: (d: SimDisk) => void): void {
    this.raft = null;
    disk(this.disk);
  }
}
