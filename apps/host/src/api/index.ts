/**
 * The HTTP API under `/api`: JSON in and out, every route behind a bearer token, described by the OpenAPI
 * document at `/api/openapi.json` (generated from the same route table).
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import { Hono } from "hono"
import type { MiddlewareHandler } from "hono"
import { type Host, jsonError, runOperation } from "../http/Host.js"
import { Users } from "../services/Users.js"
import { accountRoutes } from "./accounts.js"
import { auditRoutes } from "./audit.js"
import { connectionRoutes } from "./connections.js"
import { document } from "./openapi.js"
import { reclaimRoutes } from "./reclaim.js"
import { type ApiRoute, mount } from "./Route.js"
import { syncRoutes } from "./syncs.js"

const bearer = /^Bearer\s+(\S+)\s*$/i

/**
 * Every route of the API, in the order the document lists them.
 *
 * @since 0.2.0
 * @category routes
 */
export const apiRoutes: ReadonlyArray<ApiRoute> = [
  ...connectionRoutes,
  ...syncRoutes,
  ...accountRoutes,
  ...auditRoutes,
  ...reclaimRoutes
]

/**
 * The API's OpenAPI document.
 *
 * @since 0.2.0
 * @category routes
 */
export const openApiDocument = document(apiRoutes, { version: "0.2.0" })

/**
 * Requires `Authorization: Bearer <token>`: the admin token, or an enabled user's own token. Sets the
 * request's principal (who it is, and their role; each route checks the role it needs). Answers 401 JSON
 * otherwise, the same for every wrong token so an answer never tells which tokens exist.
 *
 * @since 0.1.0
 * @category middleware
 */
export const requireAdminToken = (host: Host): MiddlewareHandler => async (c, next) => {
  const token = bearer.exec(c.req.header("authorization") ?? "")?.[1]
  const outcome = token === undefined
    ? undefined
    : await runOperation(host, Users.authenticate(token, host.adminToken))
  if (outcome?._tag === "Failure") return jsonError(c, outcome.error)
  const principal = outcome === undefined ? Option.none() : outcome.value
  if (Option.isNone(principal)) {
    c.header("WWW-Authenticate", `Bearer realm="seatkeeper"`)
    return jsonError(c, {
      status: 401,
      code: "unauthorized",
      message: token === undefined ? "this API needs a token" : "the token is not valid",
      hint: "send Authorization: Bearer <token>: the admin token (SEATKEEPER_ADMIN_TOKEN, or the admin-token file in " +
        "the data directory) or a user's token (POST /api/users issues one)"
    })
  }
  c.set("principal" as never, principal.value as never)
  c.set("actor" as never, principal.value.name as never)
  await next()
}

/**
 * The API routes, meant to be mounted at `/api`.
 *
 * @since 0.1.0
 * @category routes
 */
export const makeApi = (host: Host) => {
  const app = new Hono().use("*", requireAdminToken(host))
  app.get("/openapi.json", (c) => c.json(openApiDocument))
  mount(app, host, apiRoutes)
  app.all(
    "*",
    (c) => jsonError(c, { status: 404, code: "not_found", message: `no API route ${c.req.method} ${c.req.path}` })
  )
  return app
}
