/**
 * `@seatkeeper/host`: the Seatkeeper server. `main.ts` runs it, `demo.ts` runs it against a simulated
 * Atlassian organisation; this module exposes the pieces to build on (web pages, tests, embedding).
 *
 * @since 0.1.0
 */
export { makeApi, requireAdminToken } from "./api/index.js"
export { type HostConfig, HostConfigError, isLoopback, loadHostConfig } from "./config.js"
export {
  describeError,
  type ErrorDescription,
  type FieldIssue,
  type HostError,
  InvalidInput,
  NotFound
} from "./errors.js"
export { type AppOptions, makeApp, MAX_BODY_BYTES } from "./http/app.js"
export {
  errorBody,
  type Host,
  type HostServices,
  isAdminToken,
  jsonError,
  type Outcome,
  readJson,
  respond,
  runOperation
} from "./http/Host.js"
export * as Inputs from "./inputs.js"
export { ProviderRegistry } from "./ProviderRegistry.js"
export { providers } from "./registry.js"
export { hostLayer, type HostLayerOptions, type RunningHost, startHost } from "./runtime.js"
export * as Scheduler from "./scheduler.js"
export { serveHost, type ServingHost } from "./serve.js"
export { Accounts, type ActionResult, ActionView } from "./services/Accounts.js"
export { type Actor, AuditLog } from "./services/AuditLog.js"
export { Connections, type ProviderView } from "./services/Connections.js"
export { Syncs } from "./services/Syncs.js"
export { Upstream } from "./services/Upstream.js"
export { bootstrapAdmin, type Principal, requireRole, schedulerPrincipal } from "./services/Users.js"
export * from "./views.js"
