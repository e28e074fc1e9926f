// The workloads by name. `base` keeps the keys/elements/accounts of runs sharing one cluster apart.
import { bankWorkload } from "./bank.js";
import { listAppendWorkload } from "./list-append.js";
import { registerWorkload } from "./register.js";
import { setWorkload } from "./set.js";
import type { Workload } from "./workload.js";

export const WORKLOAD_NAMES = ["append", "register", "bank", "set"] as const;
export type WorkloadName = (typeof WORKLOAD_NAMES)[number];

export function makeWorkload(name: WorkloadName, base: number): Workload<string, unknown> {
  switch (name) {
    case "append":
      return listAppendWorkload({ keyBase: base }) as unknown as Workload<string, unknown>;
    case "register":
      return registerWorkload({ keyBase: base }) as unknown as Workload<string, unknown>;
    case "bank":
      return bankWorkload({ accountBase: base }) as unknown as Workload<string, unknown>;
    case "set":
      return setWorkload({ elementBase: base }) as unknown as Workload<string, unknown>;
  }
}
