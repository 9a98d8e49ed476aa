/**
 * What keeps the pages to the admin: the session cookie, the login requirement, and the two CSRF checks
 * on every form post (the request's origin, and the session's token in the form). The API under `/api`
 * never looks at the cookie: it stays bearer-only, so a browser session cannot be used against it.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import type { Context, MiddlewareHandler } from "hono"
import { deleteCookie, getCookie, setCookie } from "hono/cookie"
import { csrf } from "hono/csrf"
import { HTTPException } from "hono/http-exception"
import { type Host, runOperation } from "../http/Host.js"
import { Users } from "../services/Users.js"
import { stylesheetHash } from "./layout.js"
import { paths, withQuery } from "./paths.js"
import { isSessionCsrfToken, type Session, type SessionStore } from "./Sessions.js"

/**
 * The session cookie's name.
 *
 * @since 0.1.0
 * @category constants
 */
export const SESSION_COOKIE = "seatkeeper_session"

/**
 * The hidden form field that carries the session's CSRF token.
 *
 * @since 0.1.0
 * @category constants
 */
export const CSRF_FIELD = "_csrf"

/**
 * The variables page handlers get.
 *
 * @since 0.1.0
 * @category models
 */
export type PagesEnv = { Variables: { session: Session } }

/**
 * Whether the browser reached us over HTTPS: directly, or through a proxy that says so.
 *
 * @since 0.1.0
 * @category utils
 */
export const isHttps = (c: Context): boolean => {
  const forwarded = (c.req.header("x-forwarded-proto") ?? "").split(",")[0]!.trim().toLowerCase()
  return forwarded === "https" || new URL(c.req.url).protocol === "https:"
}

/**
 * The address a request came from (the socket's peer; a forwarded-for header is not trusted, as anyone
 * can send one). `unknown` when the app runs without a socket (`app.request` in tests).
 *
 * @since 0.1.0
 * @category utils
 */
export const clientAddress = (c: Context): string => {
  const env = c.env as { incoming?: { socket?: { remoteAddress?: string } } } | undefined
  return env?.incoming?.socket?.remoteAddress ?? "unknown"
}

/**
 * Sets the session cookie: httpOnly, SameSite=Strict, Path=/, Secure over HTTPS, lasting the session.
 *
 * @since 0.1.0
 * @category cookies
 */
export const setSessionCookie = (c: Context, session: Session, ttlMs: number): void =>
  setCookie(c, SESSION_COOKIE, session.id, {
    httpOnly: true,
    sameSite: "Strict",
    secure: isHttps(c),
    path: "/",
    maxAge: Math.floor(ttlMs / 1000)
  })

/**
 * @since 0.1.0
 * @category cookies
 */
export const clearSessionCookie = (c: Context): void => {
  deleteCookie(c, SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "Strict", secure: isHttps(c) })
}

/**
 * The request's session, if its cookie names a live one.
 *
 * @since 0.1.0
 * @category cookies
 */
export const currentSession = (c: Context, sessions: SessionStore): Session | undefined =>
  sessions.get(getCookie(c, SESSION_COOKIE))

/**
 * Every page but the login page needs a session; without one the browser goes to the login page, which
 * sends it back here afterwards. The session's token is checked again on every request: a user disabled,
 * or whose token was replaced, is logged out at once, and a changed role applies at once.
 *
 * @since 0.1.0
 * @category middleware
 */
export const requireSession = (sessions: SessionStore, host: Host): MiddlewareHandler<PagesEnv> => async (c, next) => {
  if (c.req.path === paths.login) return next()
  const found = currentSession(c, sessions)
  const toLogin = () => {
    const url = new URL(c.req.url)
    const next = c.req.method === "GET" ? `${url.pathname}${url.search}` : undefined
    return c.redirect(withQuery(paths.login, { next: next === paths.dashboard ? undefined : next }), 303)
  }
  if (found === undefined) return toLogin()
  const outcome = await runOperation(host, Users.authenticateHash(found.tokenHash, host.adminToken))
  if (outcome._tag === "Failure") {
    return c.text(`Seatkeeper cannot check your login right now: ${outcome.error.message}`, outcome.error.status as 503)
  }
  const session = Option.isNone(outcome.value) ? undefined : sessions.refresh(found, outcome.value.value)
  if (session === undefined) {
    sessions.delete(found.id)
    clearSessionCookie(c)
    return toLogin()
  }
  c.set("session", session)
  await next()
}

/**
 * Our own host as the browser addressed it: the URL's host, or the one a proxy forwarded.
 */
const ownHosts = (c: Context): ReadonlyArray<string> => {
  const hosts = [new URL(c.req.url).host]
  const forwarded = c.req.header("x-forwarded-host")?.split(",")[0]?.trim()
  if (forwarded !== undefined && forwarded !== "") hosts.push(forwarded)
  return hosts
}

// hono/csrf: a form post must come from our own origin (Origin header) or say so (Sec-Fetch-Site). The
// origin's scheme is not compared, so a TLS-terminating proxy in front does not break forms.
const originCheck = csrf({
  origin: (origin, c) => {
    try {
      return ownHosts(c).includes(new URL(origin).host)
    } catch {
      return false
    }
  }
})

/**
 * Why a form post was refused, for the 403 page.
 *
 * @since 0.1.0
 * @category models
 */
export type CsrfFailure = "origin" | "token"

/**
 * Checks every POST: its origin (hono/csrf), and, except on the login form (no session yet), the
 * session's CSRF token in the form. `refuse` renders the 403.
 *
 * @since 0.1.0
 * @category middleware
 */
export const checkCsrf = (
  refuse: (c: Context<PagesEnv>, why: CsrfFailure) => Response | Promise<Response>
): MiddlewareHandler<PagesEnv> =>
async (c, next) => {
  if (c.req.method !== "POST") return next()
  let originOk = true
  try {
    await originCheck(c, async () => {})
  } catch (e) {
    if (!(e instanceof HTTPException)) throw e
    originOk = false
  }
  if (!originOk) return refuse(c, "origin")
  if (c.req.path !== paths.login) {
    const body = await c.req.parseBody()
    const token = body[CSRF_FIELD]
    if (!isSessionCsrfToken(c.get("session"), typeof token === "string" ? token : undefined)) return refuse(c, "token")
  }
  await next()
}

/**
 * Page responses are never cached (they show accounts and settings), and may only load their own
 * stylesheet: no script, no frames, forms post only here.
 *
 * @since 0.1.0
 * @category middleware
 */
export const pageHeaders: MiddlewareHandler = async (c, next) => {
  await next()
  c.header("Cache-Control", "no-store")
  c.header(
    "Content-Security-Policy",
    `default-src 'none'; style-src ${stylesheetHash}; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`
  )
}
