/**
 * `/connections/:id/accounts` (filters, cursor paging), one account with its history, and suspend and
 * restore behind a confirmation with a reason and a dry-run option.
 *
 * @since 0.1.0
 */
import { AccountStatus } from "@seatkeeper/core/Account"
import type { AppSummary, Page, StatusEvent } from "@seatkeeper/core/LicenseStore"
import * as Effect from "effect/Effect"
import type { Context, Hono } from "hono"
import type { Child, FC } from "hono/jsx"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import type { ErrorDescription } from "../../errors.js"
import { type Host, runOperation } from "../../http/Host.js"
import { AccountFilters, decodeQuery } from "../../inputs.js"
import { type ActionResult, use } from "../../Seatkeeper.js"
import type { AccountDetailView, AccountView, ConnectionView } from "../../views.js"
import { formatCount } from "../format.js"
import { Badge, ConnectionTabs, CsrfField, ErrorBox, Layout, Notice, When } from "../layout.js"
import { paths, withQuery } from "../paths.js"
import { errorPage, fieldIssues, readForm, renderPage } from "../render.js"
import type { PagesEnv } from "../security.js"
import type { Session } from "../Sessions.js"

type ActionName = "suspend" | "restore"

const actionWords = {
  suspend: {
    verb: "Suspend",
    done: "suspended",
    explain:
      "The provider deactivates the account: the person can no longer log in, and the seat can be reclaimed. Their data stays. You can restore the account later.",
    reasonHelp: "Kept in the audit log and sent to the provider with the deactivation (Atlassian shows it to the person)."
  },
  restore: {
    verb: "Restore",
    done: "restored",
    explain: "The provider reactivates the account: the person can log in again to the products they still hold.",
    reasonHelp: "Kept in the audit log."
  }
} as const

/** The action a row or an account page offers for an account in this status. */
const actionFor = (status: AccountView["status"]): ActionName | undefined =>
  status === "active" ? "suspend" : status === "suspended" ? "restore" : undefined

const ActionLink: FC<{ connectionId: string; account: AccountView; small?: boolean }> = ({ connectionId, account, small }) => {
  const action = actionFor(account.status)
  if (action === undefined) return null
  const p = paths.connection(connectionId)
  return (
    <a
      class={small === true ? "button small" : "button"}
      href={action === "suspend" ? p.suspend(account.externalId) : p.restore(account.externalId)}
      aria-label={`${actionWords[action].verb} ${account.displayName}`}
    >
      {actionWords[action].verb}…
    </a>
  )
}

const Products: FC<{ account: AccountView }> = ({ account }) => {
  const held = account.entitlements.filter((e) => e.status === "active")
  const removed = account.entitlements.length - held.length
  return (
    <>
      {held.length === 0 ? <span class="muted">none</span> : held.map((e, i) => <>{i > 0 ? ", " : ""}{e.name}</>)}
      {removed > 0 ? <span class="muted small">{` (+${removed} removed)`}</span> : null}
    </>
  )
}

const statuses: ReadonlyArray<string> = AccountStatus.literals

const FilterForm: FC<{
  action: string
  query: Record<string, string>
  apps: ReadonlyArray<AppSummary>
  errors: ReadonlyMap<string, string>
}> = ({ action, query, apps, errors }) => {
  const products = [...new Map(apps.map((a) => [a.product, a.name.replace(/\s*\([^)]*\)\s*$/, "")])).entries()]
  const err = (key: string) =>
    errors.has(key) ? <p class="error" id={`filter-${key}-error`}>{errors.get(key)}</p> : null
  const invalid = (key: string) => (errors.has(key) ? "true" : undefined)
  return (
    <form method="get" action={action} class="filters" role="search" aria-label="Filter accounts">
      <div class="field">
        <label for="filter-status">Status</label>
        <select id="filter-status" name="status" aria-invalid={invalid("status")}>
          <option value="">Any</option>
          {statuses.map((s) => <option value={s} selected={query.status === s}>{s}</option>)}
        </select>
        {err("status")}
      </div>
      <div class="field">
        <label for="filter-product">Product</label>
        <select id="filter-product" name="product">
          <option value="">Any</option>
          <optgroup label="All sites">
            {products.map(([key, name]) => <option value={key} selected={query.product === key}>{name}</option>)}
          </optgroup>
          <optgroup label="One site">
            {apps.map((a) => <option value={a.key} selected={query.product === a.key}>{a.name}</option>)}
          </optgroup>
        </select>
      </div>
      <div class="field">
        <label for="filter-inactive">Unused for (days)</label>
        <input
          type="number"
          id="filter-inactive"
          name="inactiveDays"
          min={0}
          step={1}
          placeholder="any"
          value={query.inactiveDays ?? ""}
          aria-invalid={invalid("inactiveDays")}
          aria-describedby={errors.has("inactiveDays") ? "filter-inactiveDays-error" : undefined}
        />
        {err("inactiveDays")}
      </div>
      <div class="field">
        <label for="filter-q">Search</label>
        <input type="search" id="filter-q" name="q" placeholder="name, email or id" value={query.q ?? ""} maxlength={200} />
        {err("q")}
      </div>
      {query.limit === undefined ? null : <input type="hidden" name="limit" value={query.limit} />}
      <button type="submit" class="primary">Filter</button>
      <a href={action}>Clear</a>
      {err("limit")}
      {err("cursor")}
    </form>
  )
}

const AccountsTable: FC<{ connectionId: string; page: Page<AccountView>; caption: string }> = ({ connectionId, page, caption }) => (
  <table>
    <caption>{caption}</caption>
    <thead>
      <tr>
        <th scope="col">Name</th>
        <th scope="col">Email</th>
        <th scope="col">Status</th>
        <th scope="col">Products</th>
        <th scope="col">Last active</th>
        <th scope="col"><span class="muted">Action</span></th>
      </tr>
    </thead>
    <tbody>
      {page.data.map((a) => (
        <tr>
          <th scope="row"><a href={paths.connection(connectionId).account(a.externalId)}>{a.displayName}</a></th>
          <td>{a.email ?? <span class="muted">no email</span>}</td>
          <td>
            <Badge status={a.status} />
            {a.sourceStatus === a.status ? null : <div class="muted small">{`source: ${a.sourceStatus}`}</div>}
          </td>
          <td><Products account={a} /></td>
          <td><When at={a.lastActiveAt} ageOnly /></td>
          <td><ActionLink connectionId={connectionId} account={a} small /></td>
        </tr>
      ))}
    </tbody>
  </table>
)

const Header: FC<{ connection: ConnectionView; current: "accounts" }> = ({ connection, current }) => (
  <>
    <p class="crumbs"><a href={paths.dashboard}>Dashboard</a> / {connection.name}</p>
    <h1>{connection.name}</h1>
    <ConnectionTabs id={connection.id} current={current} />
  </>
)

const Crumbs: FC<{ connection: ConnectionView; account?: AccountView | undefined }> = ({ connection, account }) => {
  const p = paths.connection(connection.id)
  return (
    <p class="crumbs">
      <a href={paths.dashboard}>Dashboard</a> / <a href={p.accounts}>{connection.name}</a>
      {account === undefined ? null : <> / <a href={p.account(account.externalId)}>{account.displayName}</a></>}
    </p>
  )
}

const HistoryTable: FC<{ history: ReadonlyArray<StatusEvent>; account: AccountDetailView }> = ({ history, account }) => {
  const names = new Map(account.entitlements.map((e) => [e.key, e.name]))
  return history.length === 0 ? <p class="muted">No status changes recorded.</p> : (
    <table>
      <caption>Status changes, newest first</caption>
      <thead>
        <tr>
          <th scope="col">When</th>
          <th scope="col">What</th>
          <th scope="col">From</th>
          <th scope="col">To</th>
          <th scope="col">Cause</th>
        </tr>
      </thead>
      <tbody>
        {[...history].sort((a, b) => b.at.localeCompare(a.at)).map((e) => (
          <tr>
            <td><When at={e.at} /></td>
            <td>{e.entitlementKey === null ? "Account" : names.get(e.entitlementKey) ?? e.entitlementKey}</td>
            <td>{e.from === null ? <span class="muted">new</span> : <Badge status={e.from} />}</td>
            <td><Badge status={e.to} /></td>
            <td>{e.cause}{e.runId === null ? null : <span class="muted small mono">{` (run ${e.runId})`}</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  )
}

const AccountFacts: FC<{ account: AccountView }> = ({ account }) => (
  <dl class="facts">
    <dt>Status</dt>
    <dd><Badge status={account.status} /> <span class="muted small">{`source status: ${account.sourceStatus}`}</span></dd>
    <dt>Email</dt>
    <dd>{account.email ?? <span class="muted">none given</span>}</dd>
    <dt>Account id</dt>
    <dd class="mono">{account.externalId}</dd>
    <dt>Type</dt>
    <dd>{account.accountType}</dd>
    <dt>Last active</dt>
    <dd><When at={account.lastActiveAt} /></dd>
    <dt>First seen</dt>
    <dd><When at={account.firstSeenAt} /></dd>
    <dt>Last seen in a sync</dt>
    <dd><When at={account.lastSeenAt} /></dd>
  </dl>
)

const ActionForm: FC<{
  name: ActionName
  connectionId: string
  account: AccountView
  session: Session
  values: Record<string, string>
  error?: ErrorDescription | undefined
}> = ({ name, connectionId, account, session, values, error }) => {
  const words = actionWords[name]
  const p = paths.connection(connectionId)
  const reasonError = error === undefined ? undefined : fieldIssues(error).get("reason")
  const expected = name === "suspend" ? "active" : "suspended"
  return (
    <>
      <p>{words.explain} The next sync confirms the change.</p>
      {account.status === expected ? null : (
        <Notice tone="warn">
          <strong>{`This account is ${account.status}`}</strong>
          <p>{`${words.verb} asks the provider anyway; it may answer that there is nothing to do.`}</p>
        </Notice>
      )}
      {error === undefined || reasonError !== undefined ? null : <ErrorBox error={error} title={`Not ${words.done}`} />}
      <form method="post" action={name === "suspend" ? p.suspend(account.externalId) : p.restore(account.externalId)} class="stack">
        <CsrfField session={session} />
        <div class="field">
          <label for="reason">Reason (optional)</label>
          <textarea
            id="reason"
            name="reason"
            maxlength={500}
            aria-describedby={reasonError === undefined ? "reason-help" : "reason-help reason-error"}
            aria-invalid={reasonError === undefined ? undefined : "true"}
          >
            {values.reason ?? ""}
          </textarea>
          <p class="help" id="reason-help">{words.reasonHelp}</p>
          {reasonError === undefined ? null : <p class="error" id="reason-error">{reasonError}</p>}
        </div>
        <div class="field">
          <div class="check">
            <input type="checkbox" id="dryRun" name="dryRun" checked={values.dryRun === "on"} aria-describedby="dryRun-help" />
            <label for="dryRun">Dry run</label>
          </div>
          <p class="help" id="dryRun-help">Checks and records the request in the audit log, but calls nothing and changes nothing.</p>
        </div>
        <div class="actions">
          <button type="submit" class={name === "suspend" ? "danger" : "primary"}>{`${words.verb} account`}</button>
          <a href={p.account(account.externalId)}>Cancel</a>
        </div>
      </form>
    </>
  )
}

const ActionOutcome: FC<{ connectionId: string; result: ActionResult }> = ({ connectionId, result }) => {
  const { account, action } = result
  const words = actionWords[action.name]
  const p = paths.connection(connectionId)
  return (
    <>
      {action.dryRun
        ? (
          <Notice>
            <strong>Dry run: nothing was changed</strong>
            <p>
              {`${words.verb} would change the account from ${action.from} to ${action.to}. Nothing was called; the audit log records the dry run.`}
            </p>
          </Notice>
        )
        : (
          <Notice tone="ok">
            <strong>{`Account ${words.done}`}</strong>
            <p>{`The provider accepted the change: ${action.from} → ${action.to}. The next sync confirms it.`}</p>
          </Notice>
        )}
      <AccountFacts account={account} />
      {action.reason === null ? null : <p><span class="muted">Reason:</span> {action.reason}</p>}
      <div class="actions">
        <a class="button" href={p.account(account.externalId)}>Back to the account</a>
        <a href={p.accounts}>All accounts</a>
      </div>
    </>
  )
}

/**
 * @since 0.1.0
 * @category routes
 */
export const accountRoutes = (pages: Hono<PagesEnv>, host: Host) => {
  pages.get("/connections/:id/accounts", async (c) => {
    const id = c.req.param("id")
    const query = c.req.query()
    const base = await runOperation(host, use((s) => Effect.all({ connection: s.getConnection(id), apps: s.listApps(id) })))
    if (base._tag === "Failure") return errorPage(c, base.error, "Connection not found")
    const { apps, connection } = base.value
    const listed = await runOperation(
      host,
      decodeQuery(AccountFilters, query).pipe(Effect.flatMap((filters) => use((s) => s.listAccounts(id, filters))))
    )
    const p = paths.connection(id)
    const start = Math.max(0, Number.parseInt(query.n ?? "0", 10) || 0)
    const errors = listed._tag === "Failure" ? fieldIssues(listed.error) : new Map<string, string>()
    const filtered = ["status", "product", "inactiveDays", "q"].some((k) => (query[k] ?? "") !== "")
    return renderPage(
      c,
      <Layout title={`${connection.name}: accounts`} session={c.get("session")}>
        <Header connection={connection} current="accounts" />
        <FilterForm action={p.accounts} query={query} apps={apps} errors={errors} />
        {listed._tag === "Failure"
          ? (errors.size > 0 ? null : <ErrorBox error={listed.error} />)
          : listed.value.total === 0
          ? <p class="muted">{filtered ? "No account matches these filters." : "No accounts yet. Sync the connection to load them."}</p>
          : (
            <>
              <AccountsTable
                connectionId={id}
                page={listed.value}
                caption={`${formatCount(start + 1)}–${formatCount(start + listed.value.data.length)} of ${formatCount(listed.value.total)} ${filtered ? "matching accounts" : "accounts"}`}
              />
              <nav class="pager" aria-label="Pages">
                {query.cursor === undefined || query.cursor === "" ? null : (
                  <a href={withQuery(p.accounts, { ...query, cursor: undefined, n: undefined })}>« First page</a>
                )}
                {listed.value.nextCursor === null ? null : (
                  <a href={withQuery(p.accounts, { ...query, cursor: listed.value.nextCursor, n: start + listed.value.data.length })}>
                    Next page »
                  </a>
                )}
              </nav>
            </>
          )}
      </Layout>,
      listed._tag === "Failure" ? listed.error.status as ContentfulStatusCode : 200
    )
  })

  const loadAccount = (id: string, externalId: string) =>
    use((s) => Effect.all({ connection: s.getConnection(id), account: s.getAccount(id, externalId) }))

  pages.get("/connections/:id/accounts/:externalId", async (c) => {
    const id = c.req.param("id")
    const outcome = await runOperation(host, loadAccount(id, c.req.param("externalId")))
    if (outcome._tag === "Failure") return errorPage(c, outcome.error, "Account not found")
    const { account, connection } = outcome.value
    return renderPage(
      c,
      <Layout title={`${account.displayName} · ${connection.name}`} session={c.get("session")}>
        <Crumbs connection={connection} />
        <h1>{account.displayName}</h1>
        <AccountFacts account={account} />
        <div class="actions"><ActionLink connectionId={id} account={account} /></div>
        <h2>Products</h2>
        {account.entitlements.length === 0 ? <p class="muted">No products.</p> : (
          <table>
            <caption>Products and sites this account can reach</caption>
            <thead>
              <tr>
                <th scope="col">Product (site)</th>
                <th scope="col">Product key</th>
                <th scope="col">Status</th>
                <th scope="col">Last active</th>
              </tr>
            </thead>
            <tbody>
              {account.entitlements.map((e) => (
                <tr>
                  <th scope="row">{e.name}</th>
                  <td class="mono">{e.product}</td>
                  <td><Badge status={e.status} /></td>
                  <td><When at={e.lastActiveAt} /></td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <h2>History</h2>
        <HistoryTable history={account.history} account={account} />
      </Layout>
    )
  })

  const actionPage = (
    c: Context<PagesEnv>,
    name: ActionName,
    connection: ConnectionView,
    account: AccountView,
    body: Child,
    status: ContentfulStatusCode = 200
  ) =>
    renderPage(
      c,
      <Layout title={`${actionWords[name].verb} ${account.displayName}`} session={c.get("session")}>
        <Crumbs connection={connection} account={account} />
        <h1>{`${actionWords[name].verb} ${account.displayName}?`}</h1>
        {body}
      </Layout>,
      status
    )

  for (const name of ["suspend", "restore"] as const) {
    pages.get(`/connections/:id/accounts/:externalId/${name}`, async (c) => {
      const id = c.req.param("id")
      const outcome = await runOperation(host, loadAccount(id, c.req.param("externalId")))
      if (outcome._tag === "Failure") return errorPage(c, outcome.error, "Account not found")
      const { account, connection } = outcome.value
      return actionPage(
        c,
        name,
        connection,
        account,
        <>
          <AccountFacts account={account} />
          <ActionForm name={name} connectionId={id} account={account} session={c.get("session")} values={{}} />
        </>
      )
    })

    pages.post(`/connections/:id/accounts/:externalId/${name}`, async (c) => {
      const id = c.req.param("id")
      const externalId = c.req.param("externalId")
      const form = await readForm(c)
      const input = {
        ...(form.reason === undefined || form.reason.trim() === "" ? {} : { reason: form.reason.trim() }),
        dryRun: form.dryRun === "on"
      }
      const outcome = await runOperation(host, use((s) => s[name](id, externalId, input, "admin")))
      const loaded = await runOperation(host, loadAccount(id, externalId))
      if (loaded._tag === "Failure") return errorPage(c, outcome._tag === "Failure" ? outcome.error : loaded.error, "Account not found")
      const { account, connection } = loaded.value
      if (outcome._tag === "Success") {
        return renderPage(
          c,
          <Layout title={`${account.displayName}: ${actionWords[name].done}`} session={c.get("session")}>
            <Crumbs connection={connection} account={account} />
            <h1>{account.displayName}</h1>
            <ActionOutcome connectionId={id} result={outcome.value} />
          </Layout>
        )
      }
      return actionPage(
        c,
        name,
        connection,
        account,
        <ActionForm name={name} connectionId={id} account={account} session={c.get("session")} values={form} error={outcome.error} />,
        outcome.error.status as ContentfulStatusCode
      )
    })
  }
}
