// Public API of the app folder: the App, its options, TLS helpers and the roles algorithm.
export { App, type AppOpenOptions, type CloseOptions, type HandoverOptions } from "./app.js";
export { AppError } from "./errors.js";
export { SWITCHING_PROTOCOLS } from "./external-connections.js";
export type { AppOptions, AppTlsOptions, ExternalConnections } from "./options.js";
export {
  type AssumeDecision,
  adjustRoles,
  assumeRole,
  handoverRole,
  type ProbedNode,
  type RoleChange,
  type RolesConfig,
  type RolesInput,
  sortCandidates,
  sortVotersToDemote,
} from "./roles.js";
export {
  type Pem,
  type SimpleTlsConfig,
  type SimpleTlsInput,
  simpleTlsConfig,
  tlsDial,
} from "./tls.js";
