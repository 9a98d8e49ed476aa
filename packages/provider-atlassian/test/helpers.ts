import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as RequestBudget from "@seatkeeper/core/RequestBudget"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type { AtlassianConfig } from "../src/AtlassianConfig.js"
import { connect } from "../src/AtlassianProvider.js"
import type { AtlassianSandbox } from "../src/sandbox/index.js"

/** The config that reaches a sandbox; `overrides` replace fields. */
export const configFor = (sandbox: AtlassianSandbox, overrides: Partial<AtlassianConfig> = {}): AtlassianConfig => ({
  organizationId: sandbox.orgId,
  apiKey: Redacted.make(sandbox.apiKey),
  adminEmail: "admin@example.com",
  baseUrl: sandbox.url,
  rateLimit: { requests: 1000, windowSeconds: 1 },
  ...overrides
})

export const Env = Layer.merge(FetchHttpClient.layer, RequestBudget.layerMemory)

/** A connection to the sandbox, with its own budget store. */
export const connectTo = (sandbox: AtlassianSandbox, overrides: Partial<AtlassianConfig> = {}) =>
  connect(configFor(sandbox, overrides)).pipe(Effect.provide(Env))

/** The requests the sandbox saw on one route. */
export const requestsOn = (sandbox: AtlassianSandbox, route: "users" | "org" | "lifecycle") =>
  sandbox.requests.filter((r) => r.route === route)
