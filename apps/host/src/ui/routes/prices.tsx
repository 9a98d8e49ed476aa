/**
 * `/connections/:id/prices`: what one seat of each product (and plan) costs, monthly or annually, in a
 * currency; plans and savings count with these. Everyone reads them; an admin sets them.
 *
 * @since 0.2.0
 */
import type { ProductSummary } from "@seatkeeper/core/Inventory"
import type { Price } from "@seatkeeper/core/Reclaim"
import * as Effect from "effect/Effect"
import type { Context, Hono } from "hono"
import type { FC } from "hono/jsx"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import type { ErrorDescription } from "../../errors.js"
import { type Host, runOperation } from "../../http/Host.js"
import { Accounts } from "../../services/Accounts.js"
import { Connections } from "../../services/Connections.js"
import { Reclaim } from "../../services/Reclaim.js"
import type { ConnectionView } from "../../views.js"
import { describedBy, FormErrors, numberOrText } from "../fields.js"
import { ConnectionTabs, CsrfField, Layout, Notice, TableBox } from "../layout.js"
import { paths } from "../paths.js"
import { errorPage, fieldIssues, noticeOf, readForm, renderPage } from "../render.js"
import { can } from "../roles.js"
import type { PagesEnv } from "../security.js"

interface Row {
  readonly product: string
  readonly name: string
  /** `null`: every plan of the product without a price of its own. */
  readonly plan: string | null
}

const productName = (name: string) => name.replace(/\s*\([^)]*\)\s*$/, "")

/** One row per product and plan the inventory has, and per price set for one it no longer has. */
const rowsOf = (products: ReadonlyArray<ProductSummary>, prices: ReadonlyArray<Price>): ReadonlyArray<Row> => {
  const rows = new Map<string, Row>()
  const add = (product: string, name: string, plan: string | null) => {
    const key = `${product}\u0000${plan ?? "\u0001"}`
    if (!rows.has(key)) rows.set(key, { product, name, plan })
  }
  for (const p of products) {
    add(p.product, productName(p.name), null)
    if (p.plan !== null) add(p.product, productName(p.name), p.plan)
  }
  for (const price of prices) {
    add(
      price.product,
      products.find((p) => p.product === price.product)?.name ?? price.product,
      price.plan ?? null
    )
  }
  return [...rows.values()].sort((a, b) =>
    a.name.localeCompare(b.name) || a.product.localeCompare(b.product) || (a.plan ?? "").localeCompare(b.plan ?? "")
  )
}

const priceOf = (prices: ReadonlyArray<Price>, row: Row) =>
  prices.find((p) => p.product === row.product && (p.plan ?? null) === row.plan)

const valuesOf = (rows: ReadonlyArray<Row>, prices: ReadonlyArray<Price>): Record<string, string> => {
  const out: Record<string, string> = {}
  rows.forEach((row, i) => {
    const price = priceOf(prices, row)
    out[`rows.${i}.amount`] = price === undefined ? "" : String(price.amount)
    out[`rows.${i}.currency`] = price?.currency ?? ""
    out[`rows.${i}.period`] = price?.period ?? "monthly"
  })
  return out
}

interface FormState {
  readonly values: Readonly<Record<string, string>>
  readonly errors: ReadonlyMap<string, string>
  readonly error?: ErrorDescription | undefined
}

const PricesForm: FC<
  {
    rows: ReadonlyArray<Row>
    state: FormState
    action: string
    readOnly: boolean
    session: PagesEnv["Variables"]["session"]
  }
> = (
  { action, readOnly, rows, session, state }
) => {
  const v = state.values
  const e = state.errors
  const table = (
    <TableBox label="Prices per seat">
      <table class="prices">
        <caption>A seat's price; leave the amount blank for no price</caption>
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col">Plan</th>
            <th scope="col">Amount</th>
            <th scope="col">Currency</th>
            <th scope="col">Per</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row, i) => {
            const cell = (field: "amount" | "currency" | "period") => {
              const key = `rows.${i}.${field}`
              const error = e.get(key)
              return {
                key,
                error,
                id: `price-${i}-${field}`,
                describedBy: describedBy(`price-${i}-${field}`, undefined, error)
              }
            }
            const amount = cell("amount")
            const currency = cell("currency")
            const period = cell("period")
            const label = `${row.name}${row.plan === null ? "" : ` ${row.plan}`}`
            return (
              <tr>
                <th scope="row">
                  {row.name}
                  <div class="mono muted">{row.product}</div>
                </th>
                <td>{row.plan ?? <span class="muted">any plan</span>}</td>
                <td>
                  <input
                    type="text"
                    inputmode="decimal"
                    id={amount.id}
                    name={amount.key}
                    value={v[amount.key] ?? ""}
                    size={8}
                    aria-label={`Amount for ${label}`}
                    aria-invalid={amount.error === undefined ? undefined : "true"}
                    aria-describedby={amount.describedBy}
                  />
                  {amount.error === undefined
                    ? null
                    : <p class="error small" id={`${amount.id}-error`}>{amount.error}</p>}
                  {e.get(`rows.${i}`) === undefined ? null : <p class="error small">{e.get(`rows.${i}`)}</p>}
                </td>
                <td>
                  <input
                    type="text"
                    id={currency.id}
                    name={currency.key}
                    value={v[currency.key] ?? ""}
                    size={4}
                    maxlength={3}
                    placeholder="EUR"
                    aria-label={`Currency for ${label}`}
                    aria-invalid={currency.error === undefined ? undefined : "true"}
                    aria-describedby={currency.describedBy}
                  />
                  {currency.error === undefined
                    ? null
                    : <p class="error small" id={`${currency.id}-error`}>{currency.error}</p>}
                </td>
                <td>
                  <select
                    id={period.id}
                    name={period.key}
                    aria-label={`Period for ${label}`}
                    aria-describedby={period.describedBy}
                  >
                    <option value="monthly" selected={v[period.key] !== "annual"}>month</option>
                    <option value="annual" selected={v[period.key] === "annual"}>year</option>
                  </select>
                  {period.error === undefined
                    ? null
                    : <p class="error small" id={`${period.id}-error`}>{period.error}</p>}
                  <input type="hidden" name={`rows.${i}.product`} value={row.product} />
                  <input type="hidden" name={`rows.${i}.plan`} value={row.plan ?? ""} />
                  <input type="hidden" name={`rows.${i}.anyPlan`} value={row.plan === null ? "1" : ""} />
                </td>
              </tr>
            )
          })}
        </tbody>
      </table>
    </TableBox>
  )
  return (
    <form method="post" action={action} novalidate>
      <CsrfField session={session} />
      <input type="hidden" name="rowCount" value={String(rows.length)} />
      <FormErrors errors={e} shown={(k) => /^rows\.\d+(\.(amount|currency|period))?$/.test(k)} error={state.error} />
      {readOnly ? <fieldset class="plain" disabled>{table}</fieldset> : table}
      {readOnly ? null : (
        <div class="actions">
          <button type="submit" class="primary">Save prices</button>
        </div>
      )}
    </form>
  )
}

/**
 * @since 0.2.0
 * @category routes
 */
export const priceRoutes = (pages: Hono<PagesEnv>, host: Host) => {
  const load = (id: string) =>
    Effect.all({ connection: Connections.get(id), products: Accounts.products(id), prices: Reclaim.listPrices(id) })

  const page = (
    c: Context<PagesEnv>,
    connection: ConnectionView,
    rows: ReadonlyArray<Row>,
    state: FormState,
    status: ContentfulStatusCode = 200
  ) => {
    const session = c.get("session")
    const p = paths.connection(connection.id)
    return renderPage(
      c,
      <Layout title={`${connection.name}: prices`} session={session} notice={noticeOf(c)}>
        <p class="crumbs">
          <a href={paths.dashboard}>Dashboard</a> / <a href={p.accounts}>{connection.name}</a> /{" "}
          <a href={p.reclaim}>Reclaim</a> / Prices
        </p>
        <h1>{connection.name}</h1>
        <ConnectionTabs id={connection.id} current="reclaim" session={session} />
        <h2>Prices per seat</h2>
        <p class="muted">
          What one seat costs, per product and plan; a price for “any plan” counts for the product's plans without their
          own. An annual price counts as a twelfth a month. Plans show what they free with these prices, and the savings
          count with them.
        </p>
        {can(session, "admin")
          ? null
          : (
            <Notice tone="info">
              {`Your role (${session.principal.role}) can read the prices; an admin sets them.`}
            </Notice>
          )}
        {rows.length === 0
          ? <p class="muted">No products yet: sync the connection first.</p>
          : (
            <PricesForm
              rows={rows}
              state={state}
              action={p.prices}
              readOnly={!can(session, "admin")}
              session={session}
            />
          )}
      </Layout>,
      status
    )
  }

  pages.get("/connections/:id/prices", async (c) => {
    const outcome = await runOperation(host, load(c.req.param("id")))
    if (outcome._tag === "Failure") return errorPage(c, outcome.error, "Connection not found")
    const { connection, prices, products } = outcome.value
    const rows = rowsOf(products, prices)
    return page(c, connection, rows, { values: valuesOf(rows, prices), errors: new Map() })
  })

  pages.post("/connections/:id/prices", async (c) => {
    const id = c.req.param("id")
    const form = await readForm(c)
    const loaded = await runOperation(host, load(id))
    if (loaded._tag === "Failure") return errorPage(c, loaded.error, "Connection not found")
    const { connection, prices: stored, products } = loaded.value
    // The rows as the form sent them (the page they were shown on), so an error lands next to its row.
    const count = Math.min(1_000, Number.parseInt(form.rowCount ?? "0", 10) || 0)
    const rows: Array<Row> = []
    const prices: Array<Record<string, unknown>> = []
    const rowOfPrice: Array<number> = []
    for (let i = 0; i < count; i++) {
      const product = form[`rows.${i}.product`] ?? ""
      const plan = form[`rows.${i}.anyPlan`] === "1" ? null : form[`rows.${i}.plan`] ?? null
      const known = rowsOf(products, stored).find((r) => r.product === product && r.plan === plan)
      rows.push(known ?? { product, name: product, plan })
      const amount = numberOrText(form[`rows.${i}.amount`])
      if (amount === undefined) continue
      prices.push({
        product,
        ...(plan === null ? {} : { plan }),
        amount,
        currency: (form[`rows.${i}.currency`] ?? "").trim().toUpperCase(),
        period: form[`rows.${i}.period`] ?? "monthly"
      })
      rowOfPrice.push(i)
    }
    const outcome = await runOperation(host, Reclaim.setPrices(id, { prices }, c.get("session").principal))
    if (outcome._tag === "Success") return c.redirect(`${paths.connection(id).prices}?notice=prices-saved`, 303)
    if (outcome.error.status === 403) return errorPage(c, outcome.error, "Not allowed")
    const errors = new Map<string, string>()
    for (const [path, message] of fieldIssues(outcome.error)) {
      const [first, index, field] = path.split(".")
      const row = first === "prices" && index !== undefined ? rowOfPrice[Number(index)] : undefined
      const key = row === undefined ? path : field === undefined ? `rows.${row}` : `rows.${row}.${field}`
      errors.set(key, errors.has(key) ? `${errors.get(key)}; ${message}` : message)
    }
    return page(
      c,
      connection,
      rows,
      errors.size > 0 ? { values: form, errors } : { values: form, errors, error: outcome.error },
      outcome.error.status as ContentfulStatusCode
    )
  })
}
