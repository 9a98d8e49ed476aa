/**
 * `/connections/:id/seats?license=&product=&plan=&unusedDays=&usedDays=`: the seats `Seats` defines, one row
 * per account and product instance, with their total. Every seat count on the dashboard and the products
 * page opens this list with its filters, and the list's total is that count.
 *
 * @since 0.2.0
 */
import type { Page, ProductSummary } from "@seatkeeper/core/Inventory"
import * as Effect from "effect/Effect"
import type { Hono } from "hono"
import type { FC } from "hono/jsx"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import { type Host, runOperation } from "../../http/Host.js"
import { decodeQuery, SeatFilters } from "../../inputs.js"
import { Accounts } from "../../services/Accounts.js"
import { Connections } from "../../services/Connections.js"
import type { SeatView } from "../../views.js"
import { Badge, ConnectionTabs, ErrorBox, Layout, TableBox, When } from "../layout.js"
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
import { errorPage, fieldIssues, renderPage } from "../render.js"
import type { PagesEnv } from "../security.js"
import { seatDefinition } from "./dashboard.js"

const productName = (name: string) => name.replace(/\s*\([^)]*\)\s*$/, "")

/** The list's filters in words: `Seats of Confluence (acme), unused for 90+ days`. */
const describe = (query: ListQuery, products: ReadonlyArray<ProductSummary>): string => {
  const parts: Array<string> = []
  const license = products.find((p) => p.key === query.license)
  if (query.license) parts.push(`of ${license?.name ?? query.license}`)
  if (query.product) {
    const family = products.find((p) => p.product === query.product)
    parts.push(`of ${productName(family?.name ?? query.product)} (every site)`)
  }
  if (query.plan) parts.push(`on the plan ${query.plan}`)
  if (query.unusedDays) parts.push(`unused for ${query.unusedDays}+ days`)
  if (query.usedDays) parts.push(`used in the last ${query.usedDays} days`)
  if (query.q) parts.push(`matching “${query.q}”`)
  return parts.length === 0 ? "Every seat" : `Seats ${parts.join(", ")}`
}

const SeatFilterForm: FC<{
  action: string
  query: ListQuery
  products: ReadonlyArray<ProductSummary>
  errors: ReadonlyMap<string, string>
}> = ({ action, query, products, errors }) => {
  const families = [...new Map(products.map((a) => [a.product, productName(a.name)])).entries()]
  const plans = [...new Set(products.flatMap((a) => (a.plan === null ? [] : [a.plan])))].sort()
  const err = (key: string) => errors.has(key) ? <p class="error" id={`seat-${key}-error`}>{errors.get(key)}</p> : null
  const invalid = (key: string) => (errors.has(key) ? "true" : undefined)
  const describedBy = (key: string) => (errors.has(key) ? `seat-${key}-error` : undefined)
  return (
    <form method="get" action={action} class="filters" role="search" aria-label="Filter seats">
      <div class="field">
        <label for="seat-license">Product and site</label>
        <select id="seat-license" name="license">
          <option value="">Any</option>
          {products.map((a) => <option value={a.key} selected={query.license === a.key}>{a.name}</option>)}
        </select>
      </div>
      <div class="field">
        <label for="seat-product">Product (every site)</label>
        <select id="seat-product" name="product">
          <option value="">Any</option>
          {families.map(([key, name]) => <option value={key} selected={query.product === key}>{name}</option>)}
        </select>
      </div>
      <div class="field">
        <label for="seat-plan">Plan</label>
        <select id="seat-plan" name="plan">
          <option value="">Any</option>
          {plans.map((plan) => <option value={plan} selected={query.plan === plan}>{plan}</option>)}
        </select>
      </div>
      <div class="field">
        <label for="seat-unused">Unused for (days)</label>
        <input
          type="number"
          id="seat-unused"
          name="unusedDays"
          min={0}
          step={1}
          placeholder="any"
          value={query.unusedDays ?? ""}
          aria-invalid={invalid("unusedDays")}
          aria-describedby={describedBy("unusedDays")}
        />
        {err("unusedDays")}
      </div>
      <div class="field">
        <label for="seat-used">Used in the last (days)</label>
        <input
          type="number"
          id="seat-used"
          name="usedDays"
          min={0}
          step={1}
          placeholder="any"
          value={query.usedDays ?? ""}
          aria-invalid={invalid("usedDays")}
          aria-describedby={describedBy("usedDays")}
        />
        {err("usedDays")}
      </div>
      <SearchField id="seat-q" value={query.q} error={err("q")} />
      <PageSizeField id="seat-limit" value={query.limit} />
      <SortFields query={query} />
      <button type="submit" class="primary">Filter</button>
      <a href={action}>Clear</a>
      {err("limit")}
      {err("cursor")}
      {err("sort")}
      {err("order")}
    </form>
  )
}

const SeatsTable: FC<{
  connectionId: string
  page: Page<SeatView>
  query: ListQuery
  products: ReadonlyMap<string, ProductSummary>
}> = ({ connectionId, page, query, products }) => {
  const p = paths.connection(connectionId)
  return (
    <TableBox label="Seats">
      <table>
        <RangeCaption
          start={startOf(query)}
          shown={page.data.length}
          total={page.total}
          noun={page.total === 1 ? "seat" : "seats"}
        />
        <thead>
          <tr>
            <SortHeader label="Account" sort="name" base={p.seats} query={query} />
            <SortHeader label="Email" sort="email" base={p.seats} query={query} />
            <th scope="col">Product (site)</th>
            <th scope="col">Plan</th>
            <SortHeader label="Last active in the product" sort="lastActive" base={p.seats} query={query} />
            <SortHeader label="Account since" sort="firstSeen" base={p.seats} query={query} />
            <th scope="col">Type</th>
          </tr>
        </thead>
        <tbody>
          {page.data.map(({ account, entitlement }) => (
            <tr>
              <th scope="row">
                <a href={p.account(account.externalId)}>{account.displayName}</a>
              </th>
              <td class="nowrap">{account.email ?? <span class="muted">no email</span>}</td>
              <td class="nowrap">
                {entitlement.name}
                {entitlement.role === null ? null : <div class="muted small">{entitlement.role}</div>}
              </td>
              <td>{products.get(entitlement.key)?.plan ?? <span class="muted">not reported</span>}</td>
              <td>
                <When at={entitlement.lastActiveAt} ageOnly />
              </td>
              <td>
                <When at={account.addedAt ?? account.firstSeenAt} ageOnly />
                {account.addedAt === null ? <div class="muted small">first seen</div> : null}
              </td>
              <td>
                {account.accountType}
                {account.managed === false ? <div class="muted small">unmanaged</div> : null}
                {account.status === "active" ? null : (
                  <div>
                    <Badge status={account.status} />
                  </div>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableBox>
  )
}

/**
 * @since 0.2.0
 * @category routes
 */
export const seatRoutes = (pages: Hono<PagesEnv>, host: Host) => {
  pages.get("/connections/:id/seats", async (c) => {
    const id = c.req.param("id")
    const query = c.req.query()
    const base = await runOperation(
      host,
      Effect.all({ connection: Connections.get(id), products: Accounts.products(id) })
    )
    if (base._tag === "Failure") return errorPage(c, base.error, "Connection not found")
    const { connection, products } = base.value
    const listed = await runOperation(
      host,
      decodeQuery(SeatFilters, sortedQuery(query)).pipe(Effect.flatMap((filters) => Accounts.seats(id, filters)))
    )
    const p = paths.connection(id)
    const errors = listed._tag === "Failure" ? fieldIssues(listed.error) : new Map<string, string>()
    const byKey = new Map(products.map((a) => [a.key, a]))
    return renderPage(
      c,
      <Layout title={`${connection.name}: seats`} session={c.get("session")}>
        <p class="crumbs">
          <a href={paths.dashboard}>Dashboard</a> / {connection.name}
        </p>
        <h1>{connection.name}</h1>
        <ConnectionTabs id={id} current="seats" session={c.get("session")} />
        <p>
          <strong>{describe(query, products)}</strong>
        </p>
        <p class="muted small">{seatDefinition}</p>
        <SeatFilterForm action={p.seats} query={query} products={products} errors={errors} />
        {listed._tag === "Failure"
          ? (errors.size > 0 ? null : <ErrorBox error={listed.error} />)
          : listed.value.total === 0
          ? (
            <p class="muted">
              No seat matches these filters: <span class="total">0</span> seats.
            </p>
          )
          : (
            <>
              <SeatsTable connectionId={id} page={listed.value} query={query} products={byKey} />
              <Pager base={p.seats} query={query} page={listed.value} limit={Number(query.limit) || 50} />
            </>
          )}
      </Layout>,
      listed._tag === "Failure" ? listed.error.status as ContentfulStatusCode : 200
    )
  })
}
