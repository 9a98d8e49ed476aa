/**
 * `/`: every connection with its last sync, its accounts by status, the active accounts nobody has used
 * for 30/60/90 days, and its seats per product.
 *
 * @since 0.1.0
 */
import type { AppSummary } from "@seatkeeper/core/LicenseStore"
import * as Effect from "effect/Effect"
import type { Hono } from "hono"
import type { FC } from "hono/jsx"
import type { Host } from "../../http/Host.js"
import { runOperation } from "../../http/Host.js"
import type { AccountFilters } from "../../inputs.js"
import { use } from "../../Seatkeeper.js"
import type { ConnectionView, SyncView } from "../../views.js"
import { formatCount } from "../format.js"
import { Badge, CsrfField, Layout, When } from "../layout.js"
import { paths, withQuery } from "../paths.js"
import { errorPage, renderPage } from "../render.js"
import type { PagesEnv } from "../security.js"
import type { Session } from "../Sessions.js"

interface ConnectionSummary {
  readonly connection: ConnectionView
  readonly apps: ReadonlyArray<AppSummary>
  readonly counts: {
    readonly total: number
    readonly active: number
    readonly suspended: number
    readonly inactive30: number
    readonly inactive60: number
    readonly inactive90: number
  }
}

const INACTIVE_DAYS = [30, 60, 90] as const

const summaries = use((s) =>
  Effect.flatMap(s.listConnections, (connections) =>
    Effect.forEach(connections, (connection) => {
      const count = (filters: Omit<AccountFilters, "limit">) =>
        Effect.map(s.listAccounts(connection.id, { ...filters, limit: 1 }), (page) => page.total)
      return Effect.all({
        apps: s.listApps(connection.id),
        counts: Effect.all({
          total: count({}),
          active: count({ status: "active" }),
          suspended: count({ status: "suspended" }),
          inactive30: count({ status: "active", inactiveDays: 30 }),
          inactive60: count({ status: "active", inactiveDays: 60 }),
          inactive90: count({ status: "active", inactiveDays: 90 })
        })
      }).pipe(Effect.map(({ apps, counts }): ConnectionSummary => ({ connection, apps, counts })))
    }))
)

/**
 * A sync's outcome in one line, with its error and hint when it failed.
 *
 * @since 0.1.0
 * @category components
 */
export const SyncOutcome: FC<{ sync: SyncView | null }> = ({ sync }) => {
  if (sync === null) return <p class="muted">Never synced. Sync now to load its accounts.</p>
  return (
    <div>
      <p>
        Last sync <Badge status={sync.status} />{" "}
        {sync.status === "running"
          ? <>started <When at={sync.startedAt} ageOnly /></>
          : <>finished <When at={sync.finishedAt} ageOnly />, {formatCount(sync.stats.accounts)} accounts read</>}
      </p>
      {sync.error === undefined ? null : (
        <div class="alert" role="status">
          <p>{sync.error.message}</p>
          {sync.error.hint === undefined ? null : <p><span class="muted">What to do:</span> {sync.error.hint}</p>}
        </div>
      )}
    </div>
  )
}

const Card: FC<{ label: string; value: number; href: string }> = ({ label, value, href }) => (
  <div class="card">
    <a href={href}>
      <div class="label">{label}</div>
      <div class="value">{formatCount(value)}</div>
    </a>
  </div>
)

const ConnectionSection: FC<{ summary: ConnectionSummary; session: Session }> = ({ summary, session }) => {
  const { connection, apps, counts } = summary
  const p = paths.connection(connection.id)
  const accounts = (params: Record<string, string | number>) => withQuery(p.accounts, params)
  return (
    <section class="connection" aria-labelledby={`conn-${connection.id}`}>
      <h2 id={`conn-${connection.id}`}>
        <a href={p.accounts}>{connection.name}</a> <span class="muted small">{connection.provider}</span>
      </h2>
      <div class="actions">
        <form method="post" action={p.syncs} class="inline">
          <CsrfField session={session} />
          <button type="submit" class="small primary">Sync now</button>
        </form>
        <a href={p.syncs}>Sync history</a>
        <a href={p.apps}>Products</a>
        <a href={p.settings}>Settings</a>
        <span class="muted small">
          {connection.syncIntervalMinutes === 0 ? "Manual syncs only" : `Syncs every ${connection.syncIntervalMinutes} min`}
        </span>
      </div>
      <SyncOutcome sync={connection.lastSync} />
      <div class="cards">
        <Card label="Accounts" value={counts.total} href={p.accounts} />
        <Card label="Active" value={counts.active} href={accounts({ status: "active" })} />
        <Card label="Suspended" value={counts.suspended} href={accounts({ status: "suspended" })} />
        <Card label="Unused 30+ days" value={counts.inactive30} href={accounts({ status: "active", inactiveDays: 30 })} />
        <Card label="Unused 60+ days" value={counts.inactive60} href={accounts({ status: "active", inactiveDays: 60 })} />
        <Card label="Unused 90+ days" value={counts.inactive90} href={accounts({ status: "active", inactiveDays: 90 })} />
      </div>
      <p class="muted small">Unused: active accounts with no recorded activity for at least that long (never used counts as unused).</p>
      {apps.length === 0 ? <p class="muted">No products yet.</p> : <SeatsTable apps={apps} connectionId={connection.id} caption="Seats per product" />}
    </section>
  )
}

/**
 * One row per product and site: seats held, unused ones, removed ones, last use.
 *
 * @since 0.1.0
 * @category components
 */
export const SeatsTable: FC<{ apps: ReadonlyArray<AppSummary>; connectionId: string; caption: string; showKeys?: boolean }> = (
  { apps, connectionId, caption, showKeys }
) => {
  const p = paths.connection(connectionId)
  return (
    <table>
      <caption>{caption}</caption>
      <thead>
        <tr>
          <th scope="col">Product (site)</th>
          {showKeys === true ? <th scope="col">Key</th> : null}
          <th scope="col" class="num">Active seats</th>
          {INACTIVE_DAYS.map((d) => <th scope="col" class="num">{`Unused ${d}+ days`}</th>)}
          <th scope="col" class="num">Removed</th>
          <th scope="col">Last used</th>
        </tr>
      </thead>
      <tbody>
        {apps.map((app) => (
          <tr>
            <th scope="row" class="nowrap"><a href={withQuery(p.accounts, { product: app.key })}>{app.name}</a></th>
            {showKeys === true ? <td class="mono nowrap">{app.key}</td> : null}
            <td class="num">{formatCount(app.active)}</td>
            {INACTIVE_DAYS.map((d) => (
              <td class="num">
                <a href={withQuery(p.accounts, { product: app.key, inactiveDays: d })}>
                  {formatCount(d === 30 ? app.inactive30 : d === 60 ? app.inactive60 : app.inactive90)}
                </a>
              </td>
            ))}
            <td class="num">{formatCount(app.deprovisioned)}</td>
            <td><When at={app.lastActiveAt} /></td>
          </tr>
        ))}
      </tbody>
    </table>
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
      <Layout title="Dashboard" session={session} section="dashboard" refreshSeconds={running ? 5 : undefined}>
        <h1>Dashboard</h1>
        {list.length === 0
          ? (
            <div class="notice">
              <strong>No connections yet</strong>
              <p>
                Connect an organisation to see who holds which product. <a href={paths.newConnection}>Add a connection</a>
              </p>
            </div>
          )
          : list.map((summary) => <ConnectionSection summary={summary} session={session} />)}
      </Layout>
    )
  })
}
