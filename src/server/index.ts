// Public API of the server folder: the Node, the offline recovery of a data directory, and the
// threading-mode calls (no-ops here).

export type { LogFn, Logger } from "../log/logger.js";
export { silentLogger } from "../log/logger.js";
export { isBefore, type LastEntryInfo, readLastEntryInfo } from "./last-entry-info.js";
export { BOOTSTRAP_ID, generateId, Node, type NodeOptions } from "./node.js";
export {
  type MemberSpec,
  reconfigureMembership,
  reconfigureMembershipExt,
} from "./reconfigure.js";
export { configMultiThread, configSingleThread } from "./threading.js";
