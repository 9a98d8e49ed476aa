/**
 * `@seatkeeper/host`: the Seatkeeper server. `main.ts` runs it, `demo.ts` runs it against a simulated
 * Atlassian organisation; this module exposes the pieces to build on (web pages, tests, embedding).
 *
 * @since 0.1.0
 */
export { type HostConfig, HostConfigError, isLoopback, loadHostConfig } from "./config.js"
export { describeError, type ErrorDescription, type FieldIssue, type HostError, InvalidInput, NotFound } from "./errors.js"
export { type AppOptions, makeApp, MAX_BODY_BYTES } from "./http/app.js"
export { errorBody, type Host, type HostServices, isAdminToken, jsonError, type Outcome, readJson, respond, runOperation } from "./http/Host.js"
export { makeApi, requireAdminToken } from "./api/index.js"
export * as Inputs from "./inputs.js"
export { ProviderRegistry } from "./ProviderRegistry.js"
export { providers } from "./registry.js"
export { hostLayer, type HostLayerOptions, type RunningHost, startHost } from "./runtime.js"
export * as Scheduler from "./scheduler.js"
export { type ActionResult, type ActionView, type Actor, layer as seatkeeperLayer, type ProviderView, Seatkeeper, use } from "./Seatkeeper.js"
export { serveHost, type ServingHost } from "./serve.js"
export type * from "./views.js"
