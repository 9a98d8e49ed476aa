/**
 * The HTTP API under `/api`: JSON in and out, every route behind the admin token.
 *
 * @since 0.1.0
 */
import { Hono } from "hono"
import type { MiddlewareHandler } from "hono"
import { type Host, isAdminToken, jsonError } from "../http/Host.js"
import { accountRoutes } from "./accounts.js"
import { auditRoutes } from "./audit.js"
import { connectionRoutes } from "./connections.js"
import { syncRoutes } from "./syncs.js"

const bearer = /^Bearer\s+(\S+)\s*$/i

/**
 * Requires `Authorization: Bearer <admin token>`; answers 401 JSON otherwise.
 *
 * @since 0.1.0
 * @category middleware
 */
export const requireAdminToken = (host: Host): MiddlewareHandler => async (c, next) => {
  const token = bearer.exec(c.req.header("authorization") ?? "")?.[1]
  if (!isAdminToken(host, token)) {
    c.header("WWW-Authenticate", `Bearer realm="seatkeeper"`)
    return jsonError(c, {
      status: 401,
      code: "unauthorized",
      message: token === undefined ? "this API needs the admin token" : "the admin token is not valid",
      hint: "send Authorization: Bearer <admin token> (SEATKEEPER_ADMIN_TOKEN, or the admin-token file in the data directory)"
    })
  }
  await next()
}

/**
 * The API routes, meant to be mounted at `/api`.
 *
 * @since 0.1.0
 * @category routes
 */
export const makeApi = (host: Host) =>
  new Hono()
    .use("*", requireAdminToken(host))
    .route("/", connectionRoutes(host))
    .route("/", syncRoutes(host))
    .route("/", accountRoutes(host))
    .route("/", auditRoutes(host))
    .all("*", (c) => jsonError(c, { status: 404, code: "not_found", message: `no API route ${c.req.method} ${c.req.path}` }))
