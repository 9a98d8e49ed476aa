/**
 * The web UI: server-rendered pages (hono/jsx) over the same services as the API, behind a login with a
 * user's own token (or the bootstrap admin token); every action passes the person to the services. Mount it with `serveHost(config, { extend: (app, host) => mountPages(app, host) })`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { Context } from "hono"
import { Hono } from "hono"
import { internalError } from "../errors.js"
import type { Host } from "../http/Host.js"
import { RequestProblem } from "../http/Host.js"
import { Layout } from "./layout.js"
import { LoginThrottle, type LoginThrottleOptions } from "./LoginThrottle.js"
import { paths } from "./paths.js"
import { errorPage, renderPage } from "./render.js"
import { accountRoutes } from "./routes/accounts.js"
import { appRoutes } from "./routes/apps.js"
import { auditRoutes } from "./routes/audit.js"
import { connectionRoutes } from "./routes/connections.js"
import { dashboardRoutes } from "./routes/dashboard.js"
import { loginRoutes } from "./routes/login.js"
import { peopleRoutes } from "./routes/people.js"
import { planRoutes } from "./routes/plans.js"
import { priceRoutes } from "./routes/prices.js"
import { reclaimRoutes } from "./routes/reclaim.js"
import { seatRoutes } from "./routes/seats.js"
import { syncRoutes } from "./routes/syncs.js"
import { checkCsrf, type CsrfFailure, pageHeaders, type PagesEnv, requireSession } from "./security.js"
import { SessionStore, type SessionStoreOptions } from "./Sessions.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface PagesOptions {
  readonly sessions?: SessionStoreOptions | undefined
  readonly loginThrottle?: LoginThrottleOptions | undefined
}

const refusal = (c: Context<PagesEnv>, why: CsrfFailure) =>
  renderPage(
    c,
    <Layout title="Form refused" session={c.get("session")}>
      <h1>This form was refused</h1>
      <div class="alert" role="alert">
        <strong>
          {why === "origin"
            ? "The form was not sent from a Seatkeeper page."
            : "The form's security token is missing or out of date (for example after logging in again)."}
        </strong>
        <p>Go back, reload the page and send the form again. Nothing was changed.</p>
      </div>
      <p>
        <a href={paths.dashboard}>Back to the dashboard</a>
      </p>
    </Layout>,
    403
  )

/**
 * Mounts the pages on the host's app. Sessions live in this process: a restart logs the admin out.
 *
 * @since 0.1.0
 * @category constructors
 */
export const mountPages = (app: Hono, host: Host, options: PagesOptions = {}): void => {
  const sessions = new SessionStore(options.sessions)
  const throttle = new LoginThrottle(options.loginThrottle)
  const pages = new Hono<PagesEnv>()

  pages.use("*", pageHeaders)
  pages.use("*", requireSession(sessions, host))
  pages.use("*", checkCsrf(refusal))

  loginRoutes(pages, { host, sessions, throttle })
  dashboardRoutes(pages, host)
  connectionRoutes(pages, host)
  accountRoutes(pages, host)
  seatRoutes(pages, host)
  appRoutes(pages, host)
  syncRoutes(pages, host)
  auditRoutes(pages, host)
  reclaimRoutes(pages, host)
  planRoutes(pages, host)
  priceRoutes(pages, host)
  peopleRoutes(pages, host)

  pages.all(
    "*",
    (c) =>
      errorPage(c, { status: 404, code: "not_found", message: `there is no page at ${c.req.path}` }, "Page not found")
  )

  pages.onError((err, c) => {
    if (err instanceof RequestProblem) return errorPage(c, err.description, "The request was not understood")
    host.runtime.runFork(Effect.logError("unhandled error in a page handler", err))
    return errorPage(c, internalError)
  })

  app.route("/", pages)
}
