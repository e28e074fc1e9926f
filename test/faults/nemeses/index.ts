// The nemeses by name, as the command line and the matrix name them.
import { clockNemesis } from "./clock.js";
import { diskFullNemesis } from "./disk.js";
import { memberNemesis } from "./member.js";
import type { Nemesis } from "./nemesis.js";
import { packetNemesis } from "./packet.js";
import { partitionNemesis } from "./partition.js";
import { killNemesis, pauseNemesis, stopNemesis } from "./process.js";

export const NEMESIS_NAMES = [
  "none",
  "partition",
  "partition-leader",
  "partition-one",
  "partition-halves",
  "partition-bridge",
  "partition-ring",
  "kill",
  "pause",
  "stop",
  "disk-full",
  "member",
  "clock",
  "packet",
] as const;
export type NemesisName = (typeof NEMESIS_NAMES)[number];

/** What a nemesis breaks: the partition-* names are single modes of the partition nemesis. */
export function nemesisKind(name: NemesisName): string {
  return name.startsWith("partition") ? "partition" : name;
}

/** Every kind of fault the harness injects (partition, kill, pause, ...). */
export const NEMESIS_KINDS: readonly string[] = [
  ...new Set(NEMESIS_NAMES.filter((n) => n !== "none").map(nemesisKind)),
];

export function makeNemesis(name: NemesisName): Nemesis | undefined {
  switch (name) {
    case "none":
      return undefined;
    case "partition":
      return partitionNemesis(["one", "halves", "leader", "bridge", "ring"]);
    case "partition-leader":
      return partitionNemesis(["leader"]);
    case "partition-one":
      return partitionNemesis(["one"]);
    case "partition-halves":
      return partitionNemesis(["halves"]);
    case "partition-bridge":
      return partitionNemesis(["bridge"]);
    case "partition-ring":
      return partitionNemesis(["ring"]);
    case "kill":
      return killNemesis();
    case "pause":
      return pauseNemesis();
    case "stop":
      return stopNemesis();
    case "disk-full":
      return diskFullNemesis();
    case "member":
      return memberNemesis();
    case "clock":
      return clockNemesis();
    case "packet":
      return packetNemesis();
  }
}
