/**
 * `/login` and `/logout`: a user's own token (or the bootstrap admin token) in exchange for a session
 * cookie that carries who logged in and their role, slowed down after failures.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import type { Hono } from "hono"
import { type Host, runOperation } from "../../http/Host.js"
import { Users } from "../../services/Users.js"
import { Layout, Notice } from "../layout.js"
import type { LoginThrottle } from "../LoginThrottle.js"
import { paths, safeNext } from "../paths.js"
import { readForm, renderPage } from "../render.js"
import { clearSessionCookie, clientAddress, currentSession, type PagesEnv, setSessionCookie } from "../security.js"
import type { SessionStore } from "../Sessions.js"

const LoginPage = (props: { next: string | undefined; error?: string | undefined; notice?: string | undefined }) => (
  <Layout title="Log in">
    <div class="login">
      <h1>Log in</h1>
      {props.notice === undefined ? null : <Notice tone="ok">{props.notice}</Notice>}
      {props.error === undefined ? null : (
        <div class="alert" role="alert">
          <strong>{props.error}</strong>
        </div>
      )}
      <form method="post" action={paths.login}>
        {props.next === undefined ? null : <input type="hidden" name="next" value={props.next} />}
        <div class="field">
          <label for="token">Your token</label>
          <input
            type="password"
            id="token"
            name="token"
            autocomplete="current-password"
            required
            autofocus
            aria-describedby="token-help"
            aria-invalid={props.error === undefined ? undefined : "true"}
          />
          <p class="help" id="token-help">
            The token an admin gave you when they added you as a user. To set the host up, the admin token: the value of
            SEATKEEPER_ADMIN_TOKEN, or the one the host printed at its first start (kept in the file admin-token in its
            data directory).
          </p>
        </div>
        <button type="submit" class="primary">Log in</button>
      </form>
    </div>
  </Layout>
)

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/**
 * @since 0.1.0
 * @category routes
 */
export const loginRoutes = (
  pages: Hono<PagesEnv>,
  deps: { readonly host: Host; readonly sessions: SessionStore; readonly throttle: LoginThrottle }
) => {
  pages.get(paths.login, (c) => {
    if (currentSession(c, deps.sessions) !== undefined) return c.redirect(safeNext(c.req.query("next")), 303)
    const notice = c.req.query("notice") === "logged-out" ? "You are logged out." : undefined
    return renderPage(c, <LoginPage next={c.req.query("next")} notice={notice} />)
  })

  pages.post(paths.login, async (c) => {
    const form = await readForm(c)
    const next = form.next === undefined || form.next === "" ? undefined : form.next
    const decision = deps.throttle.begin(clientAddress(c))
    if (decision._tag === "Refused") {
      c.header("Retry-After", String(decision.retryAfterSeconds))
      return renderPage(
        c,
        <LoginPage
          next={next}
          error={`Too many failed logins from your address. Try again in ${decision.retryAfterSeconds} seconds.`}
        />,
        429
      )
    }
    // Each recent failure from this address makes this answer wait longer, right or wrong.
    if (decision.delayMs > 0) await sleep(decision.delayMs)
    const token = form.token ?? ""
    const outcome = token === ""
      ? undefined
      : await runOperation(deps.host, Users.authenticate(token, deps.host.adminToken))
    if (outcome?._tag === "Failure") {
      return renderPage(
        c,
        <LoginPage next={next} error={`Seatkeeper cannot check tokens right now: ${outcome.error.message}`} />,
        outcome.error.status as 503
      )
    }
    if (outcome === undefined || Option.isNone(outcome.value)) {
      return renderPage(
        c,
        <LoginPage
          next={next}
          error="That token is not valid: not the admin token, nor an enabled user's. Check for a missing character and try again."
        />,
        401
      )
    }
    decision.attempt.succeeded()
    const old = currentSession(c, deps.sessions)
    if (old !== undefined) deps.sessions.delete(old.id)
    const session = deps.sessions.create(outcome.value.value, token)
    setSessionCookie(c, session, deps.sessions.ttlMs)
    return c.redirect(safeNext(next), 303)
  })

  pages.post(paths.logout, (c) => {
    deps.sessions.delete(c.get("session").id)
    clearSessionCookie(c)
    return c.redirect(`${paths.login}?notice=logged-out`, 303)
  })
}
