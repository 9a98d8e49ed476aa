/**
 * `/`: every connection with its last sync (a held one with its decision forms), its accounts by status,
 * its seats and unused seats, and its seats per product. Every number is one of `Accounts.totals` or
 * `Accounts.products` and opens the list it counts.
 *
 * @since 0.1.0
 */
import type { InventoryTotals, ProductSummary } from "@seatkeeper/core/Inventory"
import * as Effect from "effect/Effect"
import type { Hono } from "hono"
import type { FC } from "hono/jsx"
import type { Host } from "../../http/Host.js"
import { runOperation } from "../../http/Host.js"
import { Accounts } from "../../services/Accounts.js"
import { Connections } from "../../services/Connections.js"
import { Reclaim, type SavingsView } from "../../services/Reclaim.js"
import { Syncs } from "../../services/Syncs.js"
import type { ConnectionView, SyncView } from "../../views.js"
import { formatCount } from "../format.js"
import { CountLink, CsrfField, Layout, TableBox } from "../layout.js"
import { paths, withQuery } from "../paths.js"
import { SavingsPanel } from "../reclaim.js"
import { errorPage, noticeOf, renderPage } from "../render.js"
import { can } from "../roles.js"
import { HeldRun, SyncOutcome } from "../runs.js"
import type { PagesEnv } from "../security.js"
import type { Session } from "../Sessions.js"

interface ConnectionSummary {
  readonly connection: ConnectionView
  readonly totals: InventoryTotals
  readonly products: ReadonlyArray<ProductSummary>
  readonly held: ReadonlyArray<SyncView>
  readonly savings: SavingsView
}

/** Days of the unused-seat counts, as `Seats` and the store count them. */
export const UNUSED_DAYS = [30, 60, 90] as const

/** A summary's unused count for `days`. */
export const unusedOf = (counts: { unused30: number; unused60: number; unused90: number }, days: 30 | 60 | 90) =>
  days === 30 ? counts.unused30 : days === 60 ? counts.unused60 : counts.unused90

/** What a seat and an unused seat are, in the words the pages use. */
export const seatDefinition =
  "A seat is an active product of an active, billable account: suspended accounts, apps and bots, and portal " +
  "customers hold none. Unused for N days: no activity in that product for N days, or none ever on an account " +
  "older than N days (a newer one is too new to judge)."

// Held runs are the recent ones: a newer run supersedes a held one.
const RECENT_RUNS = 10

const summaries = Effect.flatMap(
  Connections.list,
  (connections) =>
    Effect.forEach(connections, (connection) =>
      Effect.all({
        totals: Accounts.totals(connection.id),
        products: Accounts.products(connection.id),
        held: Effect.map(Syncs.list(connection.id, RECENT_RUNS), (runs) => runs.filter((r) => r.status === "held")),
        savings: Reclaim.savings(connection.id)
      }).pipe(Effect.map((parts): ConnectionSummary => ({ connection, ...parts }))))
)

const Card: FC<{ label: string; value: number; href: string }> = ({ label, value, href }) => (
  <div class="card">
    <a class="count" href={href}>
      <div class="label">{label}</div>
      <div class="value">{formatCount(value)}</div>
    </a>
  </div>
)

const ConnectionSection: FC<{ summary: ConnectionSummary; session: Session }> = ({ summary, session }) => {
  const { connection, held, products, savings, totals } = summary
  const p = paths.connection(connection.id)
  const accounts = (params: Record<string, string | number>) => withQuery(p.accounts, params)
  const seats = (params: Record<string, string | number>) => withQuery(p.seats, params)
  const withSeats = products.filter((a) => a.assigned > 0 || a.seats > 0)
  return (
    <section class="connection" aria-labelledby={`conn-${connection.id}`}>
      <h2 id={`conn-${connection.id}`}>
        <a href={p.accounts}>{connection.name}</a> <span class="muted small">{connection.provider}</span>
      </h2>
      <div class="actions">
        {can(session, "operator")
          ? (
            <form method="post" action={p.syncs} class="inline">
              <CsrfField session={session} />
              <button type="submit" class="small primary">Sync now</button>
            </form>
          )
          : null}
        <a href={p.syncs}>Sync history</a>
        <a href={p.apps}>Products</a>
        <a href={p.reclaim}>Reclaim</a>
        {can(session, "admin") ? <a href={p.settings}>Settings</a> : null}
        <span class="muted small">
          {connection.syncIntervalMinutes === 0
            ? "Manual syncs only"
            : `Syncs every ${connection.syncIntervalMinutes} min`}
        </span>
      </div>
      <SyncOutcome sync={connection.lastSync} />
      {held.map((run) => <HeldRun run={run} session={session} />)}
      <h3>Accounts</h3>
      <div class="cards">
        <Card label="Accounts" value={totals.accounts} href={p.accounts} />
        <Card label="Active" value={totals.byStatus.active} href={accounts({ status: "active" })} />
        <Card label="Suspended" value={totals.byStatus.suspended} href={accounts({ status: "suspended" })} />
        <Card
          label="Deprovisioned"
          value={totals.byStatus.deprovisioned}
          href={accounts({ status: "deprovisioned" })}
        />
        {totals.byStatus.unknown === 0 ?
          null :
          <Card label="Unknown status" value={totals.byStatus.unknown} href={accounts({ status: "unknown" })} />}
        <Card label="Billable, any status" value={totals.billableAccounts} href={accounts({ billable: "true" })} />
      </div>
      <h3>Seats</h3>
      <div class="cards">
        <Card label="Seats" value={totals.seats} href={p.seats} />
        {UNUSED_DAYS.map((d) => (
          <Card label={`Unused ${d}+ days`} value={unusedOf(totals, d)} href={seats({ unusedDays: d })} />
        ))}
      </div>
      <p class="muted small">{seatDefinition}</p>
      {withSeats.length === 0 ?
        <p class="muted">No products yet.</p> :
        (
          <TableBox label={`Seats per product of ${connection.name}`}>
            <table>
              <caption>Seats per product</caption>
              <thead>
                <tr>
                  <th scope="col">Product (site)</th>
                  <th scope="col">Plan</th>
                  <th scope="col" class="num">Seats</th>
                  {UNUSED_DAYS.map((d) => <th scope="col" class="num">{`Unused ${d}+ days`}</th>)}
                </tr>
              </thead>
              <tbody>
                {withSeats.map((a) => (
                  <tr>
                    <th scope="row" class="nowrap">
                      <a href={p.apps}>{a.name}</a>
                    </th>
                    <td>{a.plan ?? <span class="muted">not reported</span>}</td>
                    <td class="num">
                      <CountLink n={a.seats} href={seats({ license: a.key })} label={`seats of ${a.name}`} />
                    </td>
                    {UNUSED_DAYS.map((d) => (
                      <td class="num">
                        <CountLink
                          n={unusedOf(a, d)}
                          href={seats({ license: a.key, unusedDays: d })}
                          label={`seats of ${a.name} unused for ${d} days`}
                        />
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </TableBox>
        )}
      <SavingsPanel connectionId={connection.id} savings={savings} session={session} />
    </section>
  )
}

/**
 * @since 0.1.0
 * @category routes
 */
export const dashboardRoutes = (pages: Hono<PagesEnv>, host: Host) => {
  pages.get(paths.dashboard, async (c) => {
    const session = c.get("session")
    const outcome = await runOperation(host, summaries)
    if (outcome._tag === "Failure") return errorPage(c, outcome.error)
    const list = outcome.value
    const running = list.some((s) => s.connection.lastSync?.status === "running")
    return renderPage(
      c,
      <Layout
        title="Dashboard"
        session={session}
        section="dashboard"
        refreshSeconds={running ? 5 : undefined}
        notice={noticeOf(c)}
      >
        <h1>Dashboard</h1>
        {list.length === 0
          ? (
            <div class="notice">
              <strong>No connections yet</strong>
              <p>
                Connect an organisation to see who holds which product. {can(session, "admin")
                  ? <a href={paths.newConnection}>Add a connection</a>
                  : "An admin adds connections."}
              </p>
            </div>
          )
          : list.map((summary) => <ConnectionSection summary={summary} session={session} />)}
      </Layout>
    )
  })
}
