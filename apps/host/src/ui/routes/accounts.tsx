/**
 * `/connections/:id/accounts` (filters, sortable columns, previous and next pages, page size), one account
 * with its history and where its activity dates come from, and suspend and restore behind a confirmation
 * with a reason and a dry run that asks the provider's preflight.
 *
 * @since 0.1.0
 */
import { AccountStatus } from "@seatkeeper/core/Account"
import type { Page, ProductSummary, StatusEvent } from "@seatkeeper/core/Inventory"
import * as Effect from "effect/Effect"
import type { Context, Hono } from "hono"
import type { Child, FC } from "hono/jsx"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import type { ErrorDescription } from "../../errors.js"
import { type Host, runOperation } from "../../http/Host.js"
import { AccountFilters, decodeQuery } from "../../inputs.js"
import type { ActionResult } from "../../services/Accounts.js"
import { Accounts } from "../../services/Accounts.js"
import { Connections } from "../../services/Connections.js"
import type { AccountDetailView, AccountView, ConnectionView, EntitlementView } from "../../views.js"
import { Badge, ConnectionTabs, CsrfField, ErrorBox, Layout, Notice, TableBox, When } from "../layout.js"
import {
  type ListQuery,
  Pager,
  PageSizeField,
  RangeCaption,
  SearchField,
  sortedQuery,
  SortFields,
  SortHeader,
  startOf
} from "../lists.js"
import { paths } from "../paths.js"
import { errorPage, fieldIssues, readForm, renderPage } from "../render.js"
import { can, needs } from "../roles.js"
import type { PagesEnv } from "../security.js"
import type { Session } from "../Sessions.js"

type ActionName = "suspend" | "restore"

const actionWords = {
  suspend: {
    verb: "Suspend",
    done: "suspended",
    explain:
      "The provider deactivates the account: the person can no longer log in, and the seat can be reclaimed. Their data stays. You can restore the account later.",
    reasonHelp:
      "Kept in the audit log and sent to the provider with the deactivation (Atlassian shows it to the person)."
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

const ActionLink: FC<{ connectionId: string; account: AccountView; small?: boolean; session: Session }> = (
  { connectionId, account, small, session }
) => {
  const action = actionFor(account.status)
  if (action === undefined || !can(session, "operator")) return null
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

const managedText = (managed: boolean | null) => (managed === null ? "not said" : managed ? "managed" : "unmanaged")

const statuses: ReadonlyArray<string> = AccountStatus.literals

const productName = (name: string) => name.replace(/\s*\([^)]*\)\s*$/, "")

/** The entitlements a product filter (an entitlement key, or a product key for every site) names. */
const matching = (account: AccountView, product: string): ReadonlyArray<EntitlementView> =>
  account.entitlements.filter((e) => e.status === "active" && (e.key === product || e.product === product))

/** What a product filter names, in words: `Confluence (acme)` or `Confluence (every site)`. */
const productLabel = (product: string, apps: ReadonlyArray<ProductSummary>): string => {
  const instance = apps.find((a) => a.key === product)
  if (instance !== undefined) return instance.name
  const family = apps.find((a) => a.product === product)
  return family === undefined ? product : `${productName(family.name)} (every site)`
}

const Select: FC<{
  id: string
  name: string
  label: string
  value: string | undefined
  options: ReadonlyArray<readonly [string, string]>
}> = ({ id, label, name, options, value }) => (
  <div class="field">
    <label for={id}>{label}</label>
    <select id={id} name={name}>
      <option value="">Any</option>
      {options.map(([v, text]) => <option value={v} selected={value === v}>{text}</option>)}
    </select>
  </div>
)

const FilterForm: FC<{
  action: string
  query: ListQuery
  apps: ReadonlyArray<ProductSummary>
  types: ReadonlyArray<string>
  errors: ReadonlyMap<string, string>
}> = ({ action, query, apps, types, errors }) => {
  const products = [...new Map(apps.map((a) => [a.product, productName(a.name)])).entries()]
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
        <label for="filter-type">Account type</label>
        <input
          type="text"
          id="filter-type"
          name="accountType"
          list="filter-type-values"
          placeholder="any"
          value={query.accountType ?? ""}
          maxlength={100}
          aria-invalid={invalid("accountType")}
        />
        <datalist id="filter-type-values">
          {types.map((t) => <option value={t}></option>)}
        </datalist>
        {err("accountType")}
      </div>
      <Select
        id="filter-billable"
        name="billable"
        label="Billed"
        value={query.billable}
        options={[["true", "billable"], ["false", "not billed"]]}
      />
      <Select
        id="filter-managed"
        name="managed"
        label="Managed"
        value={query.managed}
        options={[["true", "managed"], ["false", "unmanaged"]]}
      />
      <SearchField id="filter-q" value={query.q} error={err("q")} />
      <PageSizeField id="filter-limit" value={query.limit} />
      <SortFields query={query} />
      <button type="submit" class="primary">Filter</button>
      <a href={action}>Clear</a>
      {err("billable")}
      {err("managed")}
      {err("limit")}
      {err("cursor")}
      {err("sort")}
      {err("order")}
    </form>
  )
}

const ProductActivity: FC<{ account: AccountView; product: string }> = ({ account, product }) => {
  const found = matching(account, product)
  if (found.length === 0) return <span class="muted">not held</span>
  if (found.length === 1) return <When at={found[0]!.lastActiveAt} ageOnly />
  return (
    <>
      {found.map((e) => (
        <div class="nowrap">
          <span class="muted small">{`${e.site ?? e.name}: `}</span>
          <When at={e.lastActiveAt} ageOnly />
        </div>
      ))}
    </>
  )
}

const AccountsTable: FC<{
  connectionId: string
  page: Page<AccountView>
  query: ListQuery
  noun: string
  productColumn: string | undefined
  session: Session
}> = ({ connectionId, noun, page, productColumn, query, session }) => {
  const p = paths.connection(connectionId)
  const product = query.product
  return (
    <TableBox label="Accounts">
      <table>
        <RangeCaption start={startOf(query)} shown={page.data.length} total={page.total} noun={noun} />
        <thead>
          <tr>
            <SortHeader label="Name" sort="name" base={p.accounts} query={query} />
            <SortHeader label="Email" sort="email" base={p.accounts} query={query} />
            <SortHeader label="Status" sort="status" base={p.accounts} query={query} />
            <th scope="col">Type</th>
            <th scope="col">Products</th>
            {productColumn === undefined ? null : <th scope="col" class="wrap">{`Last active in ${productColumn}`}</th>}
            <SortHeader label="Last active" sort="lastActive" base={p.accounts} query={query} />
            <SortHeader label="First seen" sort="firstSeen" base={p.accounts} query={query} />
            <th scope="col">
              <span class="muted">Action</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {page.data.map((a) => (
            <tr>
              <th scope="row">
                <a href={p.account(a.externalId)}>{a.displayName}</a>
              </th>
              <td class="nowrap">{a.email ?? <span class="muted">no email</span>}</td>
              <td>
                <Badge status={a.status} />
                {a.sourceStatus === a.status ? null : <div class="muted small">{`source: ${a.sourceStatus}`}</div>}
              </td>
              <td>
                {a.accountType}
                <div class="small nowrap">
                  {a.billable ? "billable" : <strong>not billed</strong>}
                  {a.managed === null ? null : <>{" · "}{a.managed ? "managed" : <strong>unmanaged</strong>}</>}
                </div>
              </td>
              <td class="products">
                <Products account={a} />
              </td>
              {product === undefined || product === ""
                ? null
                : (
                  <td>
                    <ProductActivity account={a} product={product} />
                  </td>
                )}
              <td>
                <When at={a.lastActiveAt} ageOnly />
              </td>
              <td>
                <When at={a.firstSeenAt} ageOnly />
              </td>
              <td>
                <ActionLink connectionId={connectionId} account={a} small session={session} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableBox>
  )
}

const Crumbs: FC<{ connection: ConnectionView; account?: AccountView | undefined }> = ({ connection, account }) => {
  const p = paths.connection(connection.id)
  return (
    <p class="crumbs">
      <a href={paths.dashboard}>Dashboard</a> / <a href={p.accounts}>{connection.name}</a>
      {account === undefined ? null : (
        <>
          / <a href={p.account(account.externalId)}>{account.displayName}</a>
        </>
      )}
    </p>
  )
}

const HistoryTable: FC<{ history: ReadonlyArray<StatusEvent>; account: AccountDetailView }> = (
  { history, account }
) => {
  const names = new Map(account.entitlements.map((e) => [e.key, e.name]))
  return history.length === 0 ? <p class="muted">No status changes recorded.</p> : (
    <TableBox label="Status changes">
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
              <td>
                <When at={e.at} />
              </td>
              <td>{e.entitlementKey === null ? "Account" : names.get(e.entitlementKey) ?? e.entitlementKey}</td>
              <td>{e.from === null ? <span class="muted">new</span> : <Badge status={e.from} />}</td>
              <td>
                <Badge status={e.to} />
              </td>
              <td>{e.cause}{e.runId === null ? null : <span class="muted small mono">{` (run ${e.runId})`}</span>}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableBox>
  )
}

type Source = AccountDetailView["activitySources"][number]

/** Where a date comes from: `Atlassian account activity · may lag up to 24 h`. */
const Provenance: FC<{ id: string | null; sources: ReadonlyArray<Source> | undefined }> = ({ id, sources }) => {
  if (id === null || sources === undefined) return null
  const source = sources.find((s) => s.id === id)
  if (source === undefined) return <div class="muted small">{`source: ${id}`}</div>
  return (
    <div class="muted small">
      {source.label}
      {source.maxLagHours === null ? null : ` · may lag up to ${source.maxLagHours} h`}
    </div>
  )
}

const List: FC<{ items: ReadonlyArray<string>; none: string }> = ({ items, none }) =>
  items.length === 0 ? <span class="muted">{none}</span> : <>{items.join(", ")}</>

const AccountFacts: FC<{ account: AccountView; sources?: ReadonlyArray<Source> | undefined }> = (
  { account, sources }
) => (
  <dl class="facts">
    <dt>Status</dt>
    <dd>
      <Badge status={account.status} /> <span class="muted small">{`source status: ${account.sourceStatus}`}</span>
    </dd>
    <dt>Email</dt>
    <dd>{account.email ?? <span class="muted">none given</span>}</dd>
    <dt>Account id</dt>
    <dd class="mono">{account.externalId}</dd>
    <dt>Type</dt>
    <dd>{account.accountType}</dd>
    <dt>Billed</dt>
    <dd>{account.billable ? "billable" : "not billed by the provider: holds no seat"}</dd>
    <dt>Managed</dt>
    <dd>
      {managedText(account.managed)}
      {account.managed === false ? <div class="muted small">outside the organisation's verified domains</div> : null}
    </dd>
    <dt>Roles</dt>
    <dd>
      <List items={account.roles} none="none given" />
    </dd>
    <dt>Groups</dt>
    <dd>
      <List items={account.groups} none="none given" />
    </dd>
    <dt>Last active</dt>
    <dd>
      <When at={account.lastActiveAt} />
      <Provenance id={account.activitySource} sources={sources} />
    </dd>
    <dt>In the organisation since</dt>
    <dd>
      <When at={account.addedAt} never="not said" />
    </dd>
    <dt>First seen</dt>
    <dd>
      <When at={account.firstSeenAt} />
    </dd>
    <dt>Last seen in a sync</dt>
    <dd>
      <When at={account.lastSeenAt} />
    </dd>
    {account.adminActionAt === null ? null : (
      <>
        <dt>Last admin action</dt>
        <dd>
          <When at={account.adminActionAt} />
        </dd>
      </>
    )}
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
      <form
        method="post"
        action={name === "suspend" ? p.suspend(account.externalId) : p.restore(account.externalId)}
        class="stack"
      >
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
        <div class="actions">
          <button type="submit" class={name === "suspend" ? "danger" : "primary"}>{`${words.verb} account`}</button>
          <button type="submit" name="dryRun" value="on" aria-describedby="dryRun-help">Dry run</button>
          <a href={p.account(account.externalId)}>Cancel</a>
        </div>
        <p class="help muted small" id="dryRun-help">
          A dry run asks the provider whether it would do this (its read-only check, where it has one) and records the
          question in the audit log. It changes nothing.
        </p>
      </form>
    </>
  )
}

/** A dry run's answer, above the confirmation form again: the provider's preflight, or what would change. */
const DryRunAnswer: FC<{ result: ActionResult }> = ({ result }) => {
  const { action } = result
  const refused = action.preflight !== null && !action.preflight.allowed
  return (
    <Notice tone={refused ? "warn" : "info"}>
      <strong>{refused ? "Dry run: the provider would refuse this" : "Dry run: nothing was changed"}</strong>
      <p class="dry-run-summary">{`${action.summary.charAt(0).toUpperCase()}${action.summary.slice(1)}.`}</p>
      {action.preflight?.hint == null ? null : (
        <p>
          <span class="muted">What to do:</span> {action.preflight.hint}
        </p>
      )}
      <p class="small">
        {action.preflight === null
          ? "The provider has no read-only check for this; the audit log records the dry run."
          : "The provider checked the request without carrying it out; the audit log records the dry run."}
      </p>
    </Notice>
  )
}

const ActionOutcome: FC<{ connectionId: string; result: ActionResult }> = ({ connectionId, result }) => {
  const { account, action } = result
  const words = actionWords[action.name]
  const p = paths.connection(connectionId)
  return (
    <>
      <Notice tone="ok">
        <strong>{`Account ${words.done}`}</strong>
        <p>{`The provider accepted the change: ${action.from} → ${action.to}. The next sync confirms it.`}</p>
      </Notice>
      <AccountFacts account={account} />
      {action.reason === null ? null : (
        <p>
          <span class="muted">Reason:</span> {action.reason}
        </p>
      )}
      <div class="actions">
        <a class="button" href={p.account(account.externalId)}>Back to the account</a>
        <a href={p.accounts}>All accounts</a>
      </div>
    </>
  )
}

const filterKeys = ["status", "product", "inactiveDays", "q", "accountType", "billable", "managed"] as const

/**
 * @since 0.1.0
 * @category routes
 */
export const accountRoutes = (pages: Hono<PagesEnv>, host: Host) => {
  pages.get("/connections/:id/accounts", async (c) => {
    const id = c.req.param("id")
    const query = c.req.query()
    const base = await runOperation(host, Effect.all({ connection: Connections.get(id), apps: Accounts.products(id) }))
    if (base._tag === "Failure") return errorPage(c, base.error, "Connection not found")
    const { apps, connection } = base.value
    const listed = await runOperation(
      host,
      decodeQuery(AccountFilters, sortedQuery(query)).pipe(Effect.flatMap((filters) => Accounts.list(id, filters)))
    )
    const p = paths.connection(id)
    const errors = listed._tag === "Failure" ? fieldIssues(listed.error) : new Map<string, string>()
    const filtered = filterKeys.some((k) => (query[k] ?? "") !== "")
    // Offered in the type filter: the types on this page (the source's words, verbatim) and the one asked for.
    const types = [
      ...new Set([
        ...(listed._tag === "Success" ? listed.value.data.map((a) => a.accountType) : []),
        ...(query.accountType ? [query.accountType] : [])
      ])
    ].sort()
    const product = query.product === undefined || query.product === "" ? undefined : productLabel(query.product, apps)
    let body: Child
    if (listed._tag === "Failure") body = errors.size > 0 ? null : <ErrorBox error={listed.error} />
    else if (listed.value.total === 0) {
      body = (
        <p class="muted">
          {filtered ? "No account matches these filters" : "No accounts yet. Sync the connection to load them"}
          {": "}
          <span class="total">0</span> accounts.
        </p>
      )
    } else {
      body = (
        <>
          <AccountsTable
            connectionId={id}
            page={listed.value}
            query={query}
            noun={filtered ? "matching accounts" : "accounts"}
            productColumn={product}
            session={c.get("session")}
          />
          <Pager base={p.accounts} query={query} page={listed.value} limit={Number(query.limit) || 50} />
        </>
      )
    }
    return renderPage(
      c,
      <Layout title={`${connection.name}: accounts`} session={c.get("session")}>
        <p class="crumbs">
          <a href={paths.dashboard}>Dashboard</a> / {connection.name}
        </p>
        <h1>{connection.name}</h1>
        <ConnectionTabs id={id} current="accounts" session={c.get("session")} />
        <FilterForm action={p.accounts} query={query} apps={apps} types={types} errors={errors} />
        {body}
      </Layout>,
      listed._tag === "Failure" ? listed.error.status as ContentfulStatusCode : 200
    )
  })

  const loadAccount = (id: string, externalId: string) =>
    Effect.all({ connection: Connections.get(id), account: Accounts.get(id, externalId) })

  pages.get("/connections/:id/accounts/:externalId", async (c) => {
    const id = c.req.param("id")
    const outcome = await runOperation(host, loadAccount(id, c.req.param("externalId")))
    if (outcome._tag === "Failure") return errorPage(c, outcome.error, "Account not found")
    const { account, connection } = outcome.value
    const sources = account.activitySources
    return renderPage(
      c,
      <Layout title={`${account.displayName} · ${connection.name}`} session={c.get("session")}>
        <Crumbs connection={connection} />
        <h1>{account.displayName}</h1>
        <AccountFacts account={account} sources={sources} />
        <div class="actions">
          <ActionLink connectionId={id} account={account} session={c.get("session")} />
        </div>
        <h2>Products</h2>
        {account.entitlements.length === 0 ? <p class="muted">No products.</p> : (
          <TableBox label="Products">
            <table>
              <caption>Products and sites this account can reach</caption>
              <thead>
                <tr>
                  <th scope="col">Product (site)</th>
                  <th scope="col">Product key</th>
                  <th scope="col">Status</th>
                  <th scope="col">Role</th>
                  <th scope="col">Billed</th>
                  <th scope="col">Last active</th>
                </tr>
              </thead>
              <tbody>
                {account.entitlements.map((e) => (
                  <tr>
                    <th scope="row">{e.name}</th>
                    <td class="mono">{e.product}</td>
                    <td>
                      <Badge status={e.status} />
                    </td>
                    <td class="small">{e.role ?? <span class="muted">none given</span>}</td>
                    <td>{e.billable ? "billable" : <span class="muted">not billed</span>}</td>
                    <td>
                      <When at={e.lastActiveAt} />
                      <Provenance id={e.activitySource} sources={sources} />
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableBox>
        )}
        {sources.length === 0 ? null : (
          <>
            <h2>Where the activity dates come from</h2>
            <dl class="facts sources">
              {sources.map((s) => (
                <>
                  <dt>{s.label}</dt>
                  <dd>{`${s.definition}${s.maxLagHours === null ? "" : `; may lag up to ${s.maxLagHours} h`}.`}</dd>
                </>
              ))}
            </dl>
          </>
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
      const outcome = await runOperation(
        host,
        Effect.zipRight(
          needs(c.get("session"), "operator", `${name} accounts`),
          loadAccount(id, c.req.param("externalId"))
        )
      )
      if (outcome._tag === "Failure") {
        return errorPage(c, outcome.error, outcome.error.status === 403 ? "Not allowed" : "Account not found")
      }
      const { account, connection } = outcome.value
      return actionPage(
        c,
        name,
        connection,
        account,
        <>
          <AccountFacts account={account} sources={account.activitySources} />
          <ActionForm name={name} connectionId={id} account={account} session={c.get("session")} values={{}} />
        </>
      )
    })

    pages.post(`/connections/:id/accounts/:externalId/${name}`, async (c) => {
      const id = c.req.param("id")
      const externalId = c.req.param("externalId")
      const session = c.get("session")
      const form = await readForm(c)
      const input = {
        ...(form.reason === undefined || form.reason.trim() === "" ? {} : { reason: form.reason.trim() }),
        dryRun: form.dryRun === "on"
      }
      const outcome = await runOperation(
        host,
        Accounts[name](id, externalId, input, session.principal)
      )
      if (outcome._tag === "Failure" && outcome.error.status === 403 && outcome.error.code === "forbidden") {
        return errorPage(c, outcome.error, "Not allowed")
      }
      const loaded = await runOperation(host, loadAccount(id, externalId))
      if (loaded._tag === "Failure") {
        return errorPage(c, outcome._tag === "Failure" ? outcome.error : loaded.error, "Account not found")
      }
      const { account, connection } = loaded.value
      if (outcome._tag === "Success" && outcome.value.action.dryRun) {
        // The answer sits on the confirmation itself: the admin reads it, then suspends or cancels.
        return actionPage(
          c,
          name,
          connection,
          account,
          <>
            <DryRunAnswer result={outcome.value} />
            <ActionForm
              name={name}
              connectionId={id}
              account={account}
              session={session}
              values={{ reason: form.reason ?? "" }}
            />
          </>
        )
      }
      if (outcome._tag === "Success") {
        return renderPage(
          c,
          <Layout title={`${account.displayName}: ${actionWords[name].done}`} session={session}>
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
        <ActionForm
          name={name}
          connectionId={id}
          account={account}
          session={session}
          values={form}
          error={outcome.error}
        />,
        outcome.error.status as ContentfulStatusCode
      )
    })
  }
}
