// Public API of the server folder: the Node and the offline recovery of a data directory.
export type { LogFn, Logger } from "./logger.js";
export { silentLogger } from "./logger.js";
export { BOOTSTRAP_ID, generateId, Node, type NodeOptions } from "./node.js";
export {
  type MemberSpec,
  reconfigureMembership,
  reconfigureMembershipExt,
} from "./reconfigure.js";
