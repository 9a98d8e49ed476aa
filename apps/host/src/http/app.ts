/**
 * The host's HTTP app: `/healthz`, the API under `/api`, and the place where web pages mount.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { Hono } from "hono"
import { bodyLimit } from "hono/body-limit"
import { secureHeaders } from "hono/secure-headers"
import { makeApi } from "../api/index.js"
import { internalError } from "../errors.js"
import { Metrics } from "../services/Metrics.js"
import { type Host, isMetricsToken, jsonError, RequestProblem, runOperation } from "./Host.js"

/**
 * The largest request body the host reads. Connection settings and action reasons are a few hundred
 * bytes; anything near this is not a request the host has a use for.
 *
 * @since 0.1.0
 * @category constants
 */
export const MAX_BODY_BYTES = 64 * 1024

/**
 * @since 0.1.0
 * @category models
 */
export interface AppOptions {
  /**
   * Mounts more routes on the app (the web UI). Called after `/healthz` and `/api` are in place, so the
   * pages cannot shadow them; they share the app's secure headers, body limit and request log.
   */
  readonly extend?: ((app: Hono, host: Host) => void) | undefined
  /** Whether to log every request as a JSON line (method, path, status, duration). Default true. */
  readonly requestLog?: boolean | undefined
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const makeApp = (host: Host, options: AppOptions = {}): Hono => {
  const app = new Hono()
  app.use("*", secureHeaders())
  // API answers hold accounts and settings: no cache (a browser's, or a proxy's) may keep them.
  app.use("/api/*", async (c, next) => {
    await next()
    c.header("Cache-Control", "no-store")
  })
  if (options.requestLog !== false) {
    app.use("*", async (c, next) => {
      const started = performance.now()
      await next()
      // A health check that passes is an orchestrator's heartbeat, not news: logging each (several a
      // second) would bury the log and cost the event loop during a sync.
      if (c.req.path === "/healthz" && c.res.status === 200) return
      // The path only: query strings may carry search terms (emails) the log has no need for.
      host.runtime.runFork(
        Effect.logInfo("request").pipe(
          Effect.annotateLogs({
            method: c.req.method,
            path: c.req.path,
            status: c.res.status,
            durationMs: Math.round(performance.now() - started)
          })
        )
      )
    })
  }
  // Counted by route pattern (`/api/connections/:id`), never by id: one series per route, not per account.
  app.use("*", async (c, next) => {
    await next()
    host.runtime.runFork(Metrics.use((m) => m.recordRequest(c.req.method, c.req.routePath, c.res.status)))
  })
  app.use(
    "*",
    bodyLimit({
      maxSize: MAX_BODY_BYTES,
      onError: (c) => {
        // The rest of the body is never read, so the connection cannot carry another request: say so,
        // and the server closes it instead of reading the leftover bytes as the next request.
        c.header("Connection", "close")
        return jsonError(c, {
          status: 413,
          code: "payload_too_large",
          message: `the body is larger than ${MAX_BODY_BYTES} bytes`,
          hint: "send less: connection settings and action reasons are a few hundred bytes"
        })
      }
    })
  )
  // No stored id or filter holds a NUL character (PostgreSQL cannot store one, and fails the query
  // instead of finding nothing): an address with one is refused before any page or route looks it up.
  app.use("*", async (c, next) => {
    if (!/%00|\u0000/i.test(c.req.url)) return next()
    const issue = { path: ["url"], message: "must not contain a NUL character (%00): no id or filter has one" }
    return jsonError(c, {
      status: 400,
      code: "invalid_request",
      message: `invalid input (url: ${issue.message})`,
      details: { issues: [issue] }
    })
  })
  app.get("/healthz", (c) => c.json({ status: "ok" }))
  app.get("/metrics", async (c) => {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(c.req.header("authorization") ?? "")?.[1]
    if (!isMetricsToken(host, token)) {
      c.header("WWW-Authenticate", `Bearer realm="seatkeeper"`)
      return jsonError(c, {
        status: 401,
        code: "unauthorized",
        message: "metrics need the admin token or the metrics token",
        hint: "send Authorization: Bearer <token> (SEATKEEPER_METRICS_TOKEN gives read access to /metrics only)"
      })
    }
    const outcome = await runOperation(
      host,
      Metrics.use((m) => Effect.map(m.scrape, (text) => ({ text, type: m.contentType })))
    )
    if (outcome._tag === "Failure") return jsonError(c, outcome.error)
    c.header("Cache-Control", "no-store")
    return c.body(outcome.value.text, 200, { "content-type": outcome.value.type })
  })
  app.route("/api", makeApi(host))
  options.extend?.(app, host)
  app.onError((err, c) => {
    if (err instanceof RequestProblem) return jsonError(c, err.description)
    host.runtime.runFork(Effect.logError("unhandled error in a request handler", err))
    return jsonError(c, internalError)
  })
  return app
}
