import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as RequestBudget from "@seatkeeper/core/RequestBudget"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type { ScimConfig } from "../src/ScimConfig.js"
import { connect } from "../src/ScimProvider.js"
import type { ScimServer } from "./scimServer.js"

/** The config that reaches a server; `overrides` replace fields. */
export const configFor = (server: ScimServer, overrides: Partial<ScimConfig> = {}): ScimConfig => ({
  appName: "Acme Chat",
  baseUrl: server.url,
  bearerToken: Redacted.make(server.token),
  rateLimit: { requests: 1000, windowSeconds: 1 },
  ...overrides
})

export const Env = Layer.merge(FetchHttpClient.layer, RequestBudget.layerMemory)

/** A connection to the server, with its own budget store. */
export const connectTo = (server: ScimServer, overrides: Partial<ScimConfig> = {}) =>
  connect(configFor(server, overrides)).pipe(Effect.provide(Env))

/** The requests the server saw on one route (path below the SCIM base). */
export const requestsOn = (server: ScimServer, method: string, path: string | RegExp) =>
  server.requests.filter((r) =>
    r.method === method && (typeof path === "string" ? r.path === `/scim/v2${path}` : path.test(r.path))
  )
