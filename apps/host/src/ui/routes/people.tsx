/**
 * The admin's pages for people and notifications: `/users` (add a user with a role, whose token is shown
 * once; change a role; disable or enable; issue a new token) and `/webhooks` (add one for some events, a
 * generated signing secret shown once; remove; `/webhooks/:id`: its recent deliveries). Only an admin
 * sees these pages (the services refuse everyone else too).
 *
 * @since 0.2.0
 */
import { Role as RoleSchema, type User } from "@seatkeeper/core/User"
import { WebhookEvent } from "@seatkeeper/core/Webhook"
import type { Webhook } from "@seatkeeper/core/Webhook"
import * as Effect from "effect/Effect"
import type { Context, Hono, MiddlewareHandler } from "hono"
import type { FC } from "hono/jsx"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import type { ErrorDescription } from "../../errors.js"
import { NotFound } from "../../errors.js"
import { type Host, runOperation } from "../../http/Host.js"
import { Users } from "../../services/Users.js"
import { Webhooks } from "../../services/Webhooks.js"
import { describedBy, Field, FormErrors, InputField } from "../fields.js"
import { Badge, CsrfField, ErrorBox, Layout, TableBox, When } from "../layout.js"
import { paths } from "../paths.js"
import { errorPage, fieldIssues, noticeOf, readForm, readFormWithLists, renderPage } from "../render.js"
import { can, forbidden, roleHelp } from "../roles.js"
import type { PagesEnv } from "../security.js"
import type { Session } from "../Sessions.js"

const roles = RoleSchema.literals

const eventHelp: Record<string, string> = {
  "plan.ready": "a reclaim plan is ready for approval",
  "plan.executed": "a plan's execution ended",
  "sync.failed": "a sync failed",
  "sync.held": "a sync was held for a decision"
}

/** Shown once: a token or secret just issued, with a warning that it will not be shown again. */
const ShownOnce: FC<{ title: string; value: string; id: string; what: string }> = ({ id, title, value, what }) => (
  <div class="notice ok" role="status">
    <strong>{title}</strong>
    <p>{`Copy the ${what} now: Seatkeeper keeps only a hash of it and never shows it again.`}</p>
    <code class="secret" id={id}>{value}</code>
  </div>
)

const adminOnly = (what: string): MiddlewareHandler<PagesEnv> => async (c, next) => {
  const session = c.get("session")
  if (!can(session, "admin")) return errorPage(c, forbidden(session, "admin", what), "Not allowed")
  await next()
}

// =============================================================================
// users
// =============================================================================

interface UsersState {
  readonly values: Readonly<Record<string, string>>
  readonly errors: ReadonlyMap<string, string>
  readonly error?: ErrorDescription | undefined
  readonly issued?: { readonly name: string; readonly token: string; readonly created: boolean } | undefined
}

const UserRow: FC<{ user: User; session: Session }> = ({ session, user }) => {
  const u = paths.user(user.id)
  const me = session.principal.userId === user.id
  return (
    <tr class="user">
      <th scope="row">
        {user.name}
        {me ? <span class="muted small">(you)</span> : null}
      </th>
      <td>
        <form method="post" action={u.role} class="inline">
          <CsrfField session={session} />
          <select name="role" aria-label={`Role of ${user.name}`}>
            {roles.map((r) => <option value={r} selected={user.role === r}>{r}</option>)}
          </select>{" "}
          <button type="submit" class="small" aria-label={`Change the role of ${user.name}`}>Change</button>
        </form>
      </td>
      <td>
        {user.disabledAt === null ? <Badge status="enabled" /> : (
          <>
            <Badge status="disabled" /> <When at={user.disabledAt} ageOnly />
          </>
        )}
      </td>
      <td class="small">
        {`by ${user.createdBy}, `}
        <When at={user.createdAt} ageOnly />
      </td>
      <td>
        <div class="actions">
          {user.disabledAt === null
            ? (
              <form method="post" action={u.disable} class="inline">
                <CsrfField session={session} />
                <button type="submit" class="small danger" aria-label={`Disable ${user.name}`}>Disable</button>
              </form>
            )
            : (
              <form method="post" action={u.enable} class="inline">
                <CsrfField session={session} />
                <button type="submit" class="small" aria-label={`Enable ${user.name}`}>Enable</button>
              </form>
            )}
          <form method="post" action={u.token} class="inline">
            <CsrfField session={session} />
            <button type="submit" class="small" aria-label={`New token for ${user.name}`}>New token</button>
          </form>
        </div>
      </td>
    </tr>
  )
}

// =============================================================================
// webhooks
// =============================================================================

interface WebhooksState {
  readonly values: Readonly<Record<string, string>>
  readonly events: ReadonlyArray<string>
  readonly errors: ReadonlyMap<string, string>
  readonly error?: ErrorDescription | undefined
  readonly created?: { readonly url: string; readonly secret: string | undefined } | undefined
}

/**
 * @since 0.2.0
 * @category routes
 */
export const peopleRoutes = (pages: Hono<PagesEnv>, host: Host) => {
  pages.use(paths.users, adminOnly("manage users"))
  pages.use("/users/*", adminOnly("manage users"))
  pages.use(paths.webhooks, adminOnly("manage webhooks"))
  pages.use("/webhooks/*", adminOnly("manage webhooks"))

  const usersPage = async (c: Context<PagesEnv>, state: UsersState, status: ContentfulStatusCode = 200) => {
    const session = c.get("session")
    const outcome = await runOperation(host, Users.list(session.principal))
    if (outcome._tag === "Failure") return errorPage(c, outcome.error)
    const users = outcome.value
    const e = state.errors
    const roleError = e.get("role")
    return renderPage(
      c,
      <Layout title="Users" session={session} section="users" notice={noticeOf(c)}>
        <h1>Users</h1>
        {state.issued === undefined ? null : (
          <ShownOnce
            id="issued-token"
            title={state.issued.created
              ? `${state.issued.name} added: their token`
              : `New token for ${state.issued.name}`}
            value={state.issued.token}
            what="token"
          />
        )}
        {state.error === undefined || e.size > 0 ? null : <ErrorBox error={state.error} />}
        <p class="muted">
          Each person logs in with a token of their own, so the audit log names them and their role applies. The
          bootstrap admin token stays for setting up.
        </p>
        <dl class="facts small">
          {roleHelp.map(([role, text]) => (
            <>
              <dt>{role}</dt>
              <dd>{text}</dd>
            </>
          ))}
        </dl>
        {users.length === 0 ? <p class="muted">No users yet.</p> : (
          <TableBox label="Users">
            <table>
              <caption>{`${users.length} ${users.length === 1 ? "user" : "users"}`}</caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Added</th>
                  <th scope="col">Token</th>
                </tr>
              </thead>
              <tbody>{users.map((user) => <UserRow user={user} session={session} />)}</tbody>
            </table>
          </TableBox>
        )}
        <h2>Add a user</h2>
        <form method="post" action={paths.users} class="stack" novalidate>
          <CsrfField session={session} />
          <FormErrors errors={e} shown={(k) => k === "name" || k === "role"} />
          <InputField
            id="u-name"
            name="name"
            label="Name"
            value={state.values.name}
            errors={e}
            required
            help="What the audit log shows for what they do, e.g. their full name or email."
          />
          <Field id="u-role" label="Role" error={roleError}>
            <select
              id="u-role"
              name="role"
              aria-describedby={describedBy("u-role", undefined, roleError)}
              aria-invalid={roleError === undefined ? undefined : "true"}
            >
              {roles.map((r) => <option value={r} selected={(state.values.role ?? "viewer") === r}>{r}</option>)}
            </select>
          </Field>
          <div class="actions">
            <button type="submit" class="primary">Add user</button>
          </div>
        </form>
      </Layout>,
      status
    )
  }

  pages.get(paths.users, (c) => usersPage(c, { values: {}, errors: new Map() }))

  pages.post(paths.users, async (c) => {
    const form = await readForm(c)
    const outcome = await runOperation(
      host,
      Users.create({ name: form.name ?? "", role: form.role ?? "" }, c.get("session").principal)
    )
    if (outcome._tag === "Success") {
      // The token goes on this answer only: never into an address, a redirect or a log line.
      return usersPage(c, {
        values: {},
        errors: new Map(),
        issued: { name: outcome.value.name, token: outcome.value.token, created: true }
      })
    }
    if (outcome.error.status === 403) return errorPage(c, outcome.error, "Not allowed")
    return usersPage(
      c,
      { values: form, errors: fieldIssues(outcome.error), error: outcome.error },
      outcome.error.status as ContentfulStatusCode
    )
  })

  const userChanges = {
    role: (form: Record<string, string>) => ({ role: form.role ?? "" }),
    disable: () => ({ disabled: true }),
    enable: () => ({ disabled: false }),
    token: () => ({ newToken: true })
  } as const
  const userNotices = { role: "role-changed", disable: "user-disabled", enable: "user-enabled" } as const

  for (const change of ["role", "disable", "enable", "token"] as const) {
    pages.post(`/users/:userId/${change}`, async (c) => {
      const form = await readForm(c)
      const outcome = await runOperation(
        host,
        Users.update(c.req.param("userId"), userChanges[change](form), c.get("session").principal)
      )
      if (outcome._tag === "Failure") {
        if (outcome.error.status === 404) return errorPage(c, outcome.error, "User not found")
        return usersPage(
          c,
          { values: {}, errors: new Map(), error: outcome.error },
          outcome.error.status as ContentfulStatusCode
        )
      }
      if (change === "token") {
        const token = (outcome.value as { readonly token?: string }).token ?? ""
        return usersPage(c, {
          values: {},
          errors: new Map(),
          issued: { name: outcome.value.name, token, created: false }
        })
      }
      return c.redirect(`${paths.users}?notice=${userNotices[change]}`, 303)
    })
  }

  const webhooksPage = async (c: Context<PagesEnv>, state: WebhooksState, status: ContentfulStatusCode = 200) => {
    const session = c.get("session")
    const outcome = await runOperation(host, Webhooks.list(session.principal))
    if (outcome._tag === "Failure") return errorPage(c, outcome.error)
    const hooks = outcome.value
    const e = state.errors
    const eventsError = e.get("events")
    return renderPage(
      c,
      <Layout title="Webhooks" session={session} section="webhooks" notice={noticeOf(c)}>
        <h1>Webhooks</h1>
        {state.created === undefined ? null : state.created.secret === undefined
          ? (
            <div class="notice ok" role="status">
              <strong>{`Webhook added for ${state.created.url}`}</strong>
              <p>It signs with the secret you entered.</p>
            </div>
          )
          : (
            <ShownOnce
              id="issued-secret"
              title={`Webhook added for ${state.created.url}: its signing secret`}
              value={state.created.secret}
              what="secret"
            />
          )}
        <p class="muted">
          Seatkeeper POSTs Slack-compatible JSON to each webhook for the events it subscribes to, signed with an
          HMAC-SHA256 of the timestamp and the body in the X-Seatkeeper-Signature header (t=…,v1=…), and retries with
          backoff.
        </p>
        {hooks.length === 0 ? <p class="muted">No webhooks yet.</p> : (
          <TableBox label="Webhooks">
            <table>
              <caption>{`${hooks.length} ${hooks.length === 1 ? "webhook" : "webhooks"}`}</caption>
              <thead>
                <tr>
                  <th scope="col">URL</th>
                  <th scope="col">Events</th>
                  <th scope="col">Added</th>
                  <th scope="col">
                    <span class="muted small">Remove</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {hooks.map((hook) => (
                  <tr class="webhook">
                    <th scope="row" class="anywhere">
                      <a href={paths.webhook(hook.id).page}>{hook.url}</a>
                    </th>
                    <td class="small">{hook.events.join(", ")}</td>
                    <td class="small">
                      {`by ${hook.createdBy}, `}
                      <When at={hook.createdAt} ageOnly />
                    </td>
                    <td>
                      <form method="post" action={paths.webhook(hook.id).remove} class="inline">
                        <CsrfField session={session} />
                        <button type="submit" class="small danger" aria-label={`Remove the webhook for ${hook.url}`}>
                          Remove
                        </button>
                      </form>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableBox>
        )}
        <h2>Add a webhook</h2>
        <form method="post" action={paths.webhooks} class="stack" novalidate>
          <CsrfField session={session} />
          <FormErrors
            errors={e}
            shown={(k) => k === "url" || k === "events" || k === "secret" || /^events\.\d+$/.test(k)}
            error={e.size > 0 ? undefined : state.error}
          />
          <InputField
            id="w-url"
            name="url"
            type="url"
            label="URL"
            value={state.values.url}
            errors={e}
            required
            help="Where the events are POSTed, e.g. a Slack incoming webhook."
          />
          <fieldset aria-describedby={eventsError === undefined ? undefined : "w-events-error"}>
            <legend>Events</legend>
            {eventsError === undefined ? null : <p class="error" id="w-events-error">{eventsError}</p>}
            {WebhookEvent.literals.map((event, i) => (
              <div class="check">
                <input
                  type="checkbox"
                  id={`w-event-${i}`}
                  name="events"
                  value={event}
                  checked={state.events.includes(event)}
                />
                <label for={`w-event-${i}`}>
                  <span class="mono">{event}</span>
                  {`: ${eventHelp[event] ?? ""}`}
                </label>
              </div>
            ))}
          </fieldset>
          <InputField
            id="w-secret"
            name="secret"
            type="password"
            label="Signing secret (optional)"
            value=""
            errors={e}
            help="At least 16 characters. Leave blank and Seatkeeper generates one, shown once."
          />
          <div class="actions">
            <button type="submit" class="primary">Add webhook</button>
          </div>
        </form>
      </Layout>,
      status
    )
  }

  pages.get(paths.webhooks, (c) => webhooksPage(c, { values: {}, events: [], errors: new Map() }))

  pages.post(paths.webhooks, async (c) => {
    const { list, values } = await readFormWithLists(c)
    const events = list("events")
    const secret = (values.secret ?? "") === "" ? {} : { secret: values.secret }
    const outcome = await runOperation(
      host,
      Webhooks.create({ url: (values.url ?? "").trim(), events, ...secret }, c.get("session").principal)
    )
    if (outcome._tag === "Success") {
      const created = outcome.value as Webhook & { readonly secret?: string }
      return webhooksPage(c, {
        values: {},
        events: [],
        errors: new Map(),
        created: { url: created.url, secret: created.secret }
      })
    }
    if (outcome.error.status === 403) return errorPage(c, outcome.error, "Not allowed")
    const errors = new Map<string, string>()
    for (const [key, message] of fieldIssues(outcome.error)) {
      const field = key.startsWith("events") ? "events" : key
      errors.set(field, errors.has(field) ? `${errors.get(field)}; ${message}` : message)
    }
    return webhooksPage(
      c,
      { values: { url: values.url ?? "" }, events, errors, error: outcome.error },
      outcome.error.status as ContentfulStatusCode
    )
  })

  pages.post("/webhooks/:webhookId/remove", async (c) => {
    const outcome = await runOperation(host, Webhooks.remove(c.req.param("webhookId"), c.get("session").principal))
    if (outcome._tag === "Failure") return errorPage(c, outcome.error, "Not removed")
    return c.redirect(`${paths.webhooks}?notice=webhook-removed`, 303)
  })

  pages.get("/webhooks/:webhookId", async (c) => {
    const id = c.req.param("webhookId")
    const principal = c.get("session").principal
    const outcome = await runOperation(
      host,
      Effect.all({
        hook: Webhooks.list(principal).pipe(
          Effect.map((all) => all.find((h) => h.id === id)),
          Effect.filterOrFail((h): h is Webhook => h !== undefined, () => new NotFound({ resource: "webhook", id }))
        ),
        deliveries: Webhooks.deliveries(id, principal)
      })
    )
    if (outcome._tag === "Failure") return errorPage(c, outcome.error, "Webhook not found")
    const { deliveries, hook } = outcome.value
    return renderPage(
      c,
      <Layout title="Webhook deliveries" session={c.get("session")} section="webhooks">
        <p class="crumbs">
          <a href={paths.webhooks}>Webhooks</a> / Deliveries
        </p>
        <h1 class="anywhere">{hook.url}</h1>
        <p class="small">{`Events: ${hook.events.join(", ")}. Added by ${hook.createdBy}.`}</p>
        <h2>Recent deliveries</h2>
        {deliveries.length === 0 ? <p class="muted">Nothing delivered yet.</p> : (
          <TableBox label="Deliveries">
            <table>
              <caption>{`The last ${deliveries.length}, newest first`}</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Event</th>
                  <th scope="col">Outcome</th>
                  <th scope="col" class="num">Attempts</th>
                  <th scope="col">Detail</th>
                </tr>
              </thead>
              <tbody>
                {deliveries.map((d) => (
                  <tr>
                    <td>
                      <When at={d.at} />
                    </td>
                    <td class="mono">{d.event}</td>
                    <td>
                      <Badge status={d.status} />
                    </td>
                    <td class="num">{d.attempts}</td>
                    <td class="small anywhere">{d.detail}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableBox>
        )}
      </Layout>
    )
  })
}
