/**
 * `/connections/:id/apps`: the products, grouped by product and plan with their instances (sites) under
 * them: seats purchased, assigned, billable seats, used and unused seats, whether a licence was reported,
 * and the trend over the last syncs. Every count opens the list it counts; purchased seats are the
 * provider's own figure.
 *
 * @since 0.1.0
 */
import type { ProductSnapshot, ProductSummary } from "@seatkeeper/core/Inventory"
import * as Effect from "effect/Effect"
import type { Hono } from "hono"
import type { Child, FC } from "hono/jsx"
import { type Host, runOperation } from "../../http/Host.js"
import { Accounts } from "../../services/Accounts.js"
import { Connections } from "../../services/Connections.js"
import { Reclaim } from "../../services/Reclaim.js"
import { formatCount, formatTime } from "../format.js"
import { ConnectionTabs, CountLink, Layout, TableBox, When } from "../layout.js"
import { paths, withQuery } from "../paths.js"
import { SavingsPanel } from "../reclaim.js"
import { errorPage, renderPage } from "../render.js"
import type { PagesEnv } from "../security.js"
import { seatDefinition, UNUSED_DAYS, unusedOf } from "./dashboard.js"

/** How many of the last syncs the trend shows. */
const TREND_RUNS = 10

const DAYS = UNUSED_DAYS

const usedOf = (a: { used30: number; used60: number; used90: number }, days: 30 | 60 | 90) =>
  days === 30 ? a.used30 : days === 60 ? a.used60 : a.used90

/** `Confluence (acme)` → `Confluence`: the product's name without its site. */
const productName = (a: ProductSummary) => (a.site === null ? a.name : a.name.replace(/\s*\([^)]*\)\s*$/, ""))

interface Group {
  readonly product: string
  readonly name: string
  readonly plan: string | null
  readonly instances: ReadonlyArray<ProductSummary>
}

/** The instances by product and plan, in name order; a plan is kept verbatim, an absent one is its own group. */
const groupsOf = (products: ReadonlyArray<ProductSummary>): ReadonlyArray<Group> => {
  const groups = new Map<
    string,
    { product: string; name: string; plan: string | null; instances: Array<ProductSummary> }
  >()
  for (const a of products) {
    const key = `${a.product}\u0000${a.plan ?? ""}\u0000${a.plan === null ? "none" : "plan"}`
    const group = groups.get(key) ?? { product: a.product, name: productName(a), plan: a.plan, instances: [] }
    group.instances.push(a)
    groups.set(key, group)
  }
  return [...groups.values()].sort((x, y) =>
    x.name.localeCompare(y.name) || x.product.localeCompare(y.product) || (x.plan ?? "").localeCompare(y.plan ?? "")
  )
}

const sum = (xs: ReadonlyArray<ProductSummary>, f: (a: ProductSummary) => number) => xs.reduce((n, a) => n + f(a), 0)

/**
 * The seats-list filters that give exactly a group's seats, if one does: product and plan; for instances
 * without a plan, the product alone when it has no other plan. `undefined`: no list has exactly them.
 */
const groupFilter = (group: Group, all: ReadonlyArray<Group>): Record<string, string> | undefined =>
  group.plan !== null
    ? { product: group.product, plan: group.plan }
    : all.every((g) => g === group || g.product !== group.product)
    ? { product: group.product }
    : undefined

const Plan: FC<{ a: { plan: string | null; edition: string | null } }> = ({ a }) =>
  a.plan === null ? <span class="muted">not reported</span> : (
    <>
      <span>{a.plan}</span>
      {a.edition === null ? <div class="muted small">edition not recognised</div> : null}
    </>
  )

const Licence: FC<{ a: ProductSummary }> = ({ a }) =>
  a.licensed
    ? (
      <>
        <span class="badge b-green">reported</span>
        {a.seatsUsedBySource === null ?
          null :
          (
            <div class="muted small nowrap" title="seats in use as the provider counts them">
              {`${formatCount(a.seatsUsedBySource)} in use`}
            </div>
          )}
      </>
    )
    : (
      <>
        <span class="badge b-amber">none reported</span>
        <div class="muted small">seats seen, no licence</div>
      </>
    )

const Purchased: FC<{ n: number | null }> = ({ n }) => n === null ? <span class="muted">—</span> : <>{formatCount(n)}</>

/** The counts of one row: links where a list has exactly that count, plain sums otherwise. */
const Counts: FC<{
  seatsHref: ((extra: Record<string, string | number>) => string) | undefined
  assignedHref: string | undefined
  label: string
  counts: Pick<
    ProductSummary,
    "assigned" | "seats" | "used30" | "used60" | "used90" | "unused30" | "unused60" | "unused90"
  >
  purchased: number | null
}> = ({ assignedHref, counts, label, purchased, seatsHref }) => {
  const cell = (n: number, extra: Record<string, string | number>, what: string): Child =>
    seatsHref === undefined
      ? <span title="the sum of the sites below">{formatCount(n)}</span>
      : <CountLink n={n} href={seatsHref(extra)} label={`${what} of ${label}`} />
  return (
    <>
      <td class="num">
        <Purchased n={purchased} />
      </td>
      <td class="num">
        {assignedHref === undefined
          ? <span title="the sum of the sites below">{formatCount(counts.assigned)}</span>
          : <CountLink n={counts.assigned} href={assignedHref} label={`accounts assigned ${label}`} />}
      </td>
      <td class="num">{cell(counts.seats, {}, "seats")}</td>
      {DAYS.map((d) => (
        <td class="num">{cell(usedOf(counts, d), { usedDays: d }, `seats used in the last ${d} days`)}</td>
      ))}
      {DAYS.map((d) => <td class="num">{cell(unusedOf(counts, d), { unusedDays: d }, `seats unused for ${d} days`)}
      </td>)}
    </>
  )
}

const COLUMNS = 13

const ProductsTable: FC<{ connectionId: string; products: ReadonlyArray<ProductSummary> }> = (
  { connectionId, products }
) => {
  const p = paths.connection(connectionId)
  const groups = groupsOf(products)
  // Product by product (in name order), each with its plans, each plan with its sites.
  const families = [...new Map(groups.map((g) => [g.product, groups.filter((x) => x.product === g.product)])).values()]
  const seatsOf = (filters: Record<string, string>) => (extra: Record<string, string | number>) =>
    withQuery(p.seats, { ...filters, ...extra })
  const instanceRow = (a: ProductSummary, depth: 0 | 1 | 2, showPlan: boolean) => (
    <tr>
      <th scope="row" class={depth === 0 ? "product" : depth === 1 ? "product sub" : "product sub2"}>
        {a.name}
        <div class="mono muted">{depth === 0 ? a.key : a.siteHost ?? a.key}</div>
      </th>
      <td>{showPlan ? <Plan a={a} /> : null}</td>
      <Counts
        counts={a}
        label={a.name}
        purchased={a.seatsPurchased}
        seatsHref={seatsOf({ license: a.key })}
        assignedHref={withQuery(p.accounts, { product: a.key })}
      />
      <td>
        <Licence a={a} />
      </td>
      <td>
        <When at={a.lastActiveAt} ageOnly />
      </td>
    </tr>
  )
  const planRows = (group: Group, depth: 0 | 1) => {
    const xs = group.instances
    if (xs.length === 1) return instanceRow(xs[0]!, depth, true)
    const filter = groupFilter(group, groups)
    const purchased = xs.every((a) => a.seatsPurchased === null) ? null : sum(xs, (a) => a.seatsPurchased ?? 0)
    const label = `${group.name}${group.plan === null ? "" : ` ${group.plan}`}`
    const totals = {
      assigned: sum(xs, (a) => a.assigned),
      seats: sum(xs, (a) => a.seats),
      used30: sum(xs, (a) => a.used30),
      used60: sum(xs, (a) => a.used60),
      used90: sum(xs, (a) => a.used90),
      unused30: sum(xs, (a) => a.unused30),
      unused60: sum(xs, (a) => a.unused60),
      unused90: sum(xs, (a) => a.unused90)
    }
    const latest = xs.map((a) => a.lastActiveAt).filter((t) => t !== null).sort().at(-1) ?? null
    return (
      <>
        <tr class="plan">
          <th scope="row" class={depth === 0 ? "product" : "product sub"}>
            {depth === 0 ? group.name : `${group.name}, ${group.plan ?? "no plan reported"}`}
            <div class="muted small">{`${xs.length} sites on this plan`}</div>
          </th>
          <td>
            <Plan a={{ plan: group.plan, edition: xs[0]!.edition }} />
          </td>
          <Counts
            counts={totals}
            label={label}
            purchased={purchased}
            seatsHref={filter === undefined ? undefined : seatsOf(filter)}
            // An account holding the product on several sites counts once in a list of accounts: no list has this sum.
            assignedHref={undefined}
          />
          <td>
            {xs.every((a) => a.licensed)
              ? <span class="badge b-green">reported</span>
              : <span class="small">for some sites</span>}
          </td>
          <td>
            <When at={latest} ageOnly />
          </td>
        </tr>
        {xs.map((a) => instanceRow(a, (depth + 1) as 1 | 2, false))}
      </>
    )
  }
  return (
    <TableBox label="Products">
      <table>
        <caption>Seats by product and plan, with each site under its plan</caption>
        <thead>
          <tr>
            <th scope="col" rowspan={2}>Product (site)</th>
            <th scope="col" rowspan={2}>Plan</th>
            <th scope="col" rowspan={2} class="num">Purchased</th>
            <th scope="col" rowspan={2} class="num">Assigned</th>
            <th scope="col" rowspan={2} class="num">Billable seats</th>
            <th scope="colgroup" colspan={3} class="num">Used in the last</th>
            <th scope="colgroup" colspan={3} class="num">Unused for</th>
            <th scope="col" rowspan={2}>Licence</th>
            <th scope="col" rowspan={2}>Last used</th>
          </tr>
          <tr>
            {DAYS.map((d) => <th scope="col" class="num">{`${d} days`}</th>)}
            {DAYS.map((d) => <th scope="col" class="num">{`${d}+ days`}</th>)}
          </tr>
        </thead>
        {families.map((family) => {
          const instances = family.flatMap((g) => g.instances)
          if (family.length === 1 && instances.length === 1) {
            return <tbody class="group">{instanceRow(instances[0]!, 0, true)}</tbody>
          }
          if (family.length === 1) return <tbody class="group">{planRows(family[0]!, 0)}</tbody>
          const first = family[0]!
          return (
            <tbody class="group">
              <tr>
                <th scope="rowgroup" colspan={COLUMNS} class="family">
                  {first.name} <span class="mono muted">{first.product}</span>{" "}
                  <span class="muted small">{`${instances.length} sites on ${family.length} plans`}</span>
                </th>
              </tr>
              {family.map((group) => planRows(group, 1))}
            </tbody>
          )
        })}
      </table>
    </TableBox>
  )
}

const BAR = 10
const HEIGHT = 32

/** Seats per sync as bars, unused 90+ inside them: an inline SVG (no script, no style attribute). */
const Spark: FC<{ points: ReadonlyArray<ProductSnapshot>; label: string }> = ({ label, points }) => {
  const max = Math.max(1, ...points.map((s) => Math.max(s.seats, s.unused90)))
  const h = (n: number) => (n === 0 ? 0 : Math.max(1, Math.round((n / max) * HEIGHT)))
  const width = Math.max(BAR, points.length * BAR)
  const description = `${label}: seats per sync ${points.map((s) => s.seats).join(", ")}; unused 90+ days ${
    points.map((s) => s.unused90).join(", ")
  }`
  return (
    <svg
      class="spark"
      width={width}
      height={HEIGHT}
      viewBox={`0 0 ${width} ${HEIGHT}`}
      role="img"
      aria-label={description}
    >
      <title>{description}</title>
      {points.map((s, i) => (
        <>
          <rect class="seats" x={i * BAR + 1} y={HEIGHT - h(s.seats)} width={BAR - 2} height={h(s.seats)} />
          <rect class="unused" x={i * BAR + 1} y={HEIGHT - h(s.unused90)} width={BAR - 2} height={h(s.unused90)} />
        </>
      ))}
    </svg>
  )
}

const Change: FC<{ from: number; to: number }> = ({ from, to }) =>
  from === to ? <>{formatCount(to)}</> : (
    <>
      {`${formatCount(from)} → ${formatCount(to)} `}
      <span class="muted small">{`(${to > from ? "+" : "−"}${formatCount(Math.abs(to - from))})`}</span>
    </>
  )

const Trend: FC<{ trend: ReadonlyArray<ProductSnapshot>; products: ReadonlyArray<ProductSummary> }> = (
  { products, trend }
) => {
  const runs = [...new Map(trend.map((s) => [s.runId, s.at])).entries()]
  if (runs.length === 0) return <p class="muted">No applied sync has recorded product counts yet.</p>
  const byKey = new Map<string, Array<ProductSnapshot>>()
  for (const s of trend) byKey.set(s.key, [...(byKey.get(s.key) ?? []), s])
  const names = new Map(products.map((a) => [a.key, a.name]))
  const keys = [...byKey.keys()].sort((a, b) => (names.get(a) ?? a).localeCompare(names.get(b) ?? b))
  return (
    <>
      <p class="small">
        {runs.length === 1
          ? `One applied sync so far (${formatTime(runs[0]![1])}); the trend grows with every sync.`
          : `The last ${runs.length} applied syncs, from ${formatTime(runs[0]![1])} to ${formatTime(runs.at(-1)![1])}.`}
        <span class="key seats" aria-hidden="true"></span>seats
        <span class="key unused" aria-hidden="true"></span>unused 90+ days
      </p>
      <TableBox label="Trend per product">
        <table>
          <caption>Billable seats and unused seats per sync, oldest first</caption>
          <thead>
            <tr>
              <th scope="col">Product (site)</th>
              <th scope="col">Per sync</th>
              <th scope="col" class="num">Seats</th>
              <th scope="col" class="num">Unused 90+ days</th>
              <th scope="col" class="num">Used in the last 30 days</th>
            </tr>
          </thead>
          <tbody>
            {keys.map((key) => {
              const points = byKey.get(key)!
              const first = points[0]!
              const last = points.at(-1)!
              const name = names.get(key) ?? key
              return (
                <tr>
                  <th scope="row">{name}</th>
                  <td>
                    <Spark points={points} label={name} />
                  </td>
                  <td class="num">
                    <Change from={first.seats} to={last.seats} />
                  </td>
                  <td class="num">
                    <Change from={first.unused90} to={last.unused90} />
                  </td>
                  <td class="num">
                    <Change from={first.used30} to={last.used30} />
                  </td>
                </tr>
              )
            })}
          </tbody>
        </table>
      </TableBox>
      <details>
        <summary>Every sync's numbers</summary>
        <TableBox label="Numbers per sync">
          <table>
            <caption>Counts each applied sync left, per product and site</caption>
            <thead>
              <tr>
                <th scope="col">Sync</th>
                <th scope="col">Product (site)</th>
                <th scope="col" class="num">Purchased</th>
                <th scope="col" class="num">Assigned</th>
                <th scope="col" class="num">Seats</th>
                <th scope="col" class="num">Used in the last 30 days</th>
                <th scope="col" class="num">Unused 90+ days</th>
              </tr>
            </thead>
            <tbody>
              {[...trend].reverse().map((s) => (
                <tr>
                  <td class="nowrap">{formatTime(s.at)}</td>
                  <th scope="row">{names.get(s.key) ?? s.key}</th>
                  <td class="num">
                    <Purchased n={s.seatsPurchased} />
                  </td>
                  <td class="num">{formatCount(s.assigned)}</td>
                  <td class="num">{formatCount(s.seats)}</td>
                  <td class="num">{formatCount(s.used30)}</td>
                  <td class="num">{formatCount(s.unused90)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      </details>
    </>
  )
}

/**
 * @since 0.1.0
 * @category routes
 */
export const appRoutes = (pages: Hono<PagesEnv>, host: Host) => {
  pages.get("/connections/:id/apps", async (c) => {
    const id = c.req.param("id")
    const outcome = await runOperation(
      host,
      Effect.all({
        connection: Connections.get(id),
        products: Accounts.products(id),
        totals: Accounts.totals(id),
        trend: Accounts.trend(id, TREND_RUNS),
        savings: Reclaim.savings(id)
      })
    )
    if (outcome._tag === "Failure") return errorPage(c, outcome.error, "Connection not found")
    const { connection, products, savings, totals, trend } = outcome.value
    const p = paths.connection(id)
    const unlicensed = products.filter((a) => !a.licensed).length
    return renderPage(
      c,
      <Layout title={`${connection.name}: products`} session={c.get("session")}>
        <p class="crumbs">
          <a href={paths.dashboard}>Dashboard</a> / {connection.name}
        </p>
        <h1>{connection.name}</h1>
        <ConnectionTabs id={id} current="apps" session={c.get("session")} />
        {products.length === 0
          ? <p class="muted">No products yet. Sync the connection to load them.</p>
          : (
            <>
              <p>
                <CountLink n={totals.seats} href={p.seats} label="seats" />
                {` billable seats on ${formatCount(products.length)} product instances (a product on a site). `}
                {unlicensed === 0
                  ? null
                  : `${formatCount(unlicensed)} of them hold seats but no licence was reported. `}
              </p>
              <p class="muted small">
                {`${seatDefinition} Assigned: accounts that hold the product and are not deprovisioned, suspended and `}
                {"unbilled ones included. Purchased and in use (under Licence): the provider's figures, where it reports them."}
              </p>
              <ProductsTable connectionId={id} products={products} />
              <SavingsPanel connectionId={id} savings={savings} session={c.get("session")} headingLevel={2} />
              <h2>Trend</h2>
              <Trend trend={trend} products={products} />
            </>
          )}
      </Layout>
    )
  })
}
