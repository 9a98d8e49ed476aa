/**
 * The request pipeline every Atlassian endpoint of the sandbox shares, on top of Hono's router: log the
 * request, count it against the rate limit, hand it to a queued fault, check the method and the key, then
 * run the route's handler. Answers are written straight to Node's `ServerResponse` (Hono's node adapter
 * exposes it as `c.env.outgoing`), because faults need what a `Response` cannot express: a destroyed
 * socket, a body cut off after its headers, exact `Content-Length` and header order.
 *
 * @since 0.2.0
 */
import type { HttpBindings } from "@hono/node-server"
import { RESPONSE_ALREADY_SENT } from "@hono/node-server/utils/response"
import type { Context } from "hono"
import type { IncomingMessage, ServerResponse } from "node:http"
import { STATUS_CODES } from "node:http"
import {
  gatewayError,
  headerBlock,
  htmlError,
  noPermsError,
  orgError,
  orgErrorCode,
  uamError,
  userError,
  userErrorKey
} from "./ErrorBodies.js"
import type { SandboxFault, SandboxRoute } from "./Faults.js"
import type { RateDecision } from "./RateLimitWindow.js"
import { formatReset } from "./RateLimitWindow.js"
import type { MutableRequest, SandboxState } from "./State.js"

/**
 * @since 0.2.0
 * @category models
 */
export type Env = { Bindings: HttpBindings }

/**
 * One request being answered.
 *
 * @since 0.2.0
 * @category models
 */
export interface Exchange {
  readonly state: SandboxState
  readonly incoming: IncomingMessage
  readonly outgoing: ServerResponse
  readonly entry: MutableRequest
  readonly params: Readonly<Record<string, string>>
  readonly query: URLSearchParams
  /** The raw request body ("" for none). */
  readonly body: string
  rate: RateDecision | undefined
}

/**
 * A route's handler: answers through {@link send} / {@link sendJson}.
 *
 * @since 0.2.0
 * @category models
 */
export type Handler = (ex: Exchange) => void

/**
 * Which API family a route belongs to, for its 401 and 405 bodies: the Org API (`ApplicationError` and
 * gateway `ProxyError`), the user-management API (`{key}`), or the v2 user API (`ADMIN-UAM-*`).
 *
 * @since 0.2.0
 * @category models
 */
export type Family = "org" | "user" | "uam"

/**
 * @since 0.2.0
 * @category models
 */
export interface ApiRoute {
  readonly route: SandboxRoute
  readonly family: Family
  /** Hono path patterns. */
  readonly paths: ReadonlyArray<string>
  readonly methods: Readonly<Partial<Record<"GET" | "POST", Handler>>>
}

/**
 * @since 0.2.0
 * @category constants
 */
export const JSON_TYPE = "application/json; charset=utf-8"

const MALFORMED_BODY = `{"data":[{"account_id":"5b10ac8d82e05b22cc7d4ef5","account_type":"atlassian","name":"Ada Lov`

/**
 * Writes an answer. The log entry gets its status before any byte leaves, so a client that has its answer
 * sees a complete log entry. A faulted answer carries `X-Sandbox-Fault: <kind>`, so a validating proxy can
 * tell an injected fault from a contract violation.
 *
 * @since 0.2.0
 * @category responses
 */
export const send = (
  ex: Exchange,
  status: number,
  body: string | undefined,
  contentType: string | undefined,
  extra?: Record<string, string>
): void => {
  const { entry, outgoing, rate, state } = ex
  entry.status = status
  const headers: Record<string, string | number> = { ...extra }
  if (contentType !== undefined) headers["Content-Type"] = contentType
  if (body !== undefined) headers["Content-Length"] = Buffer.byteLength(body)
  if (rate !== undefined) {
    headers["X-RateLimit-Limit"] = rate.limit
    headers["X-RateLimit-Remaining"] = rate.remaining
    headers["X-RateLimit-Reset"] = formatReset(rate.resetAtMs, state.rateWindow?.limit.resetFormat ?? "minutes")
  }
  if (entry.fault !== undefined && entry.fault !== "slow") headers["X-Sandbox-Fault"] = entry.fault
  if (outgoing.destroyed || outgoing.headersSent) return
  outgoing.writeHead(status, headers)
  outgoing.end(entry.method === "HEAD" ? undefined : body)
}

/**
 * @since 0.2.0
 * @category responses
 */
export const sendJson = (ex: Exchange, status: number, body: unknown): void =>
  send(ex, status, JSON.stringify(body), JSON_TYPE)

/**
 * 204 with no body.
 *
 * @since 0.2.0
 * @category responses
 */
export const noContent = (ex: Exchange): void => send(ex, 204, undefined, undefined)

/**
 * The Org API's 404 for an org the key cannot see.
 *
 * @since 0.2.0
 * @category responses
 */
export const orgNotFound = (ex: Exchange, orgId: string): void =>
  sendJson(
    ex,
    404,
    orgError(404, "ADMIN-404-2", "Organization not found", `No organization ${orgId} is visible to this API key.`)
  )

/**
 * 400 `ADMIN-400-1` for a cursor this listing did not issue (or, in strict mode, one issued before the
 * roster changed).
 *
 * @since 0.2.0
 * @category responses
 */
export const invalidCursor = (ex: Exchange, detail: string): void =>
  sendJson(ex, 400, orgError(400, "ADMIN-400-1", "Invalid page cursor", detail))

const unauthorized = (ex: Exchange, family: Family): void =>
  family === "user"
    ? sendJson(ex, 401, userError("unauthorized"))
    : sendJson(ex, 401, gatewayError(401, "Unauthorized"))

const methodNotAllowed = (ex: Exchange, family: Family, allowed: ReadonlyArray<string>): void => {
  const detail = `${ex.entry.method} is not supported here; use ${allowed.join(" or ")}`
  switch (family) {
    case "user":
      return sendJson(ex, 405, userError("methodNotAllowed"))
    case "uam":
      return sendJson(ex, 405, uamError(405, "ADMIN-UAM-405-1", "Method not allowed", detail))
    case "org":
      return sendJson(ex, 405, orgError(405, "ADMIN-405-1", "Method not supported", detail))
  }
}

const isAuthorized = (auth: string | undefined, apiKey: string): boolean =>
  auth !== undefined && auth.length === apiKey.length + 7 && auth.slice(0, 7).toLowerCase() === "bearer " &&
  auth.slice(7) === apiKey

/**
 * The Hono handler of an API route (or of unknown paths, with `route: "other"`).
 *
 * @since 0.2.0
 * @category pipeline
 */
export const serve = (state: SandboxState, api: ApiRoute) => async (c: Context<Env>): Promise<Response> => {
  const { incoming, outgoing } = c.env
  const raw = incoming.url ?? "/"
  const q = raw.indexOf("?")
  const entry: MutableRequest = {
    method: incoming.method ?? "GET",
    path: q === -1 ? raw : raw.slice(0, q),
    query: q === -1 ? "" : raw.slice(q),
    route: api.route,
    at: Date.now(),
    status: 0,
    authorized: isAuthorized(incoming.headers.authorization, state.apiKey)
  }
  state.record(entry)
  let body = ""
  if (entry.method !== "GET" && entry.method !== "HEAD") {
    try {
      body = await c.req.text()
    } catch {
      return RESPONSE_ALREADY_SENT // the client went away mid-body
    }
    if (body.length > 0) {
      try {
        entry.body = JSON.parse(body)
      } catch {
        entry.body = body
      }
    }
  }
  const ex: Exchange = {
    state,
    incoming,
    outgoing,
    entry,
    params: c.req.param(),
    query: new URLSearchParams(entry.query),
    body,
    rate: undefined
  }
  ex.rate = state.hit(entry.at)
  if (ex.rate !== undefined && !ex.rate.allowed) {
    sendJson(ex, 429, gatewayError(429, "Rate limit exceeded"))
    return RESPONSE_ALREADY_SENT
  }
  const fault = state.queue.takeResponseFault(api.route)
  if (fault !== undefined) {
    entry.fault = fault.kind
    if (fault.kind === "slow") {
      const timer = setTimeout(() => {
        state.timers.delete(timer)
        if (!outgoing.destroyed && !incoming.socket.destroyed) dispatch(ex, api)
      }, fault.delayMs)
      state.timers.add(timer)
    } else {
      respondWithFault(ex, fault, api)
    }
    return RESPONSE_ALREADY_SENT
  }
  dispatch(ex, api)
  return RESPONSE_ALREADY_SENT
}

const dispatch = (ex: Exchange, api: ApiRoute): void => {
  try {
    const method = ex.entry.method === "HEAD" ? "GET" : ex.entry.method
    const handler = api.methods[method as "GET" | "POST"]
    if (handler === undefined) {
      if (api.route === "other") return sendJson(ex, 404, gatewayError(404, "Not Found"))
      return methodNotAllowed(ex, api.family, Object.keys(api.methods))
    }
    if (!ex.entry.authorized) return unauthorized(ex, api.family)
    handler(ex)
  } catch (error) {
    // A sandbox bug must still answer, or the client would hang until its timeout.
    const detail = error instanceof Error ? error.message : String(error)
    sendJson(ex, 500, orgError(500, "ADMIN-500-1", "Internal error", `sandbox: ${detail}`))
  }
}

const respondWithFault = (ex: Exchange, fault: SandboxFault, api: ApiRoute): void => {
  const { entry, incoming, outgoing, state } = ex
  switch (fault.kind) {
    case "reset": {
      entry.status = 0
      if (fault.partial === true) {
        outgoing.writeHead(200, { "Content-Type": JSON_TYPE, "Content-Length": 4096 })
        outgoing.write(MALFORMED_BODY)
        setImmediate(() => incoming.socket.destroy())
      } else {
        incoming.socket.destroy()
      }
      return
    }
    case "malformed":
      return send(ex, 200, MALFORMED_BODY, JSON_TYPE)
    case "rateLimited": {
      const now = Date.now()
      const window = state.rateWindow
      const format = fault.resetFormat ?? window?.limit.resetFormat ?? "minutes"
      const resetAt = window !== undefined
        ? window.resetAt(now)
        : now + 1000 * (fault.resetAfterSeconds ?? fault.retryAfterSeconds ?? 60)
      const headers: Record<string, string> = {
        "X-RateLimit-Limit": String(window?.limit.requests ?? 100),
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset": formatReset(resetAt, format)
      }
      if (fault.retryAfterSeconds !== undefined) headers["Retry-After"] = String(fault.retryAfterSeconds)
      ex.rate = undefined
      return send(ex, 429, JSON.stringify(gatewayError(429, "Rate limit exceeded")), JSON_TYPE, headers)
    }
    case "status": {
      const status = fault.status
      switch (fault.shape) {
        case "org": {
          const defaults = orgErrorCode(status)
          return sendJson(
            ex,
            status,
            orgError(
              status,
              fault.code ?? defaults.code,
              defaults.title,
              fault.message ?? `Sandbox fault: ${defaults.title}.`
            )
          )
        }
        case "gateway":
          return sendJson(ex, status, gatewayError(status, fault.message ?? STATUS_CODES[status] ?? "Error"))
        case "noperms":
          return sendJson(ex, status, noPermsError(status, entry.path))
        case "user":
          return sendJson(ex, status, userError(fault.key ?? userErrorKey(status, fault.reason), fault.reason))
        case "html":
          return send(ex, status, htmlError(status), "text/html; charset=utf-8")
        case "empty":
          return send(ex, status, "", JSON_TYPE)
      }
      return
    }
    case "echoHeaders": {
      const status = fault.status ?? 500
      const block = headerBlock(incoming.rawHeaders, fault.encoding ?? "plain")
      const detail = `The upstream service rejected the request. Request headers: ${block}`
      switch (fault.shape ?? "org") {
        case "org": {
          const defaults = orgErrorCode(status)
          return sendJson(ex, status, orgError(status, defaults.code, defaults.title, detail))
        }
        case "user":
          return sendJson(ex, status, { key: userErrorKey(status, undefined), context: { message: detail } })
        case "gateway":
          return sendJson(ex, status, gatewayError(status, detail))
        case "text":
          return send(ex, status, detail, "text/plain; charset=utf-8")
      }
      return
    }
    default:
      // slow, page faults and scenarios never reach here
      return dispatch(ex, api)
  }
}
