/**
 * `/connections/:id/syncs`: the sync history and "Sync now" (a running sync is said so, not an error).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { Context, Hono } from "hono"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import { type Host, runOperation } from "../../http/Host.js"
import { use } from "../../Seatkeeper.js"
import type { SyncView } from "../../views.js"
import type { ErrorDescription } from "../../errors.js"
import { formatAge, formatCount, formatDuration } from "../format.js"
import { Badge, ConnectionTabs, CsrfField, ErrorBox, Layout, Notice, When } from "../layout.js"
import { paths, withQuery } from "../paths.js"
import { errorPage, noticeOf, renderPage } from "../render.js"
import type { PagesEnv } from "../security.js"

const HISTORY = 50

const statColumns = [
  ["accounts", "Accounts"],
  ["created", "New"],
  ["updated", "Changed"],
  ["deprovisioned", "Removed"],
  ["entitlementsDeprovisioned", "Seats removed"],
  ["requests", "Requests"],
  ["retries", "Retries"],
  ["rateLimited", "Rate limited"]
] as const

/**
 * @since 0.1.0
 * @category routes
 */
export const syncRoutes = (pages: Hono<PagesEnv>, host: Host) => {
  const page = async (c: Context<PagesEnv>, id: string, banner?: { readonly running?: string; readonly error?: ErrorDescription }) => {
    const outcome = await runOperation(host, use((s) => Effect.all({ connection: s.getConnection(id), runs: s.listSyncs(id, HISTORY) })))
    if (outcome._tag === "Failure") return errorPage(c, outcome.error, "Connection not found")
    const { connection, runs } = outcome.value
    const running = runs.find((r) => r.status === "running")
    const session = c.get("session")
    return renderPage(
      c,
      <Layout
        title={`${connection.name}: syncs`}
        session={session}
        // "Sync started" is stale once the run has ended (the page reloads itself onto the same address).
        notice={running === undefined && c.req.query("notice") === "sync-started" ? undefined : noticeOf(c)}
        refreshSeconds={running === undefined ? undefined : 2}
      >
        <p class="crumbs"><a href={paths.dashboard}>Dashboard</a> / {connection.name}</p>
        <h1>{connection.name}</h1>
        <ConnectionTabs id={id} current="syncs" />
        {banner?.running === undefined ? null : (
          <Notice tone="warn">
            <strong>A sync is already running</strong>
            <p>{`It started ${banner.running}. Wait for it to finish; this page reloads until it does.`}</p>
          </Notice>
        )}
        {banner?.error === undefined ? null : <ErrorBox error={banner.error} title="The sync did not start" />}
        <form method="post" action={paths.connection(id).syncs} class="actions">
          <CsrfField session={session} />
          <button type="submit" class="primary">Sync now</button>
          <span class="muted small">
            {connection.syncIntervalMinutes === 0
              ? "This connection syncs only when you press Sync now."
              : `This connection also syncs every ${connection.syncIntervalMinutes} minutes.`}
          </span>
        </form>
        {runs.length === 0 ? <p class="muted">No syncs yet.</p> : (
          <table>
            <caption>{runs.length === 1 ? "The only sync so far" : `The last ${runs.length} syncs, newest first`}</caption>
            <thead>
              <tr>
                <th scope="col">Started</th>
                <th scope="col">Status</th>
                <th scope="col" class="num">Took</th>
                {statColumns.map(([, label]) => <th scope="col" class="num">{label}</th>)}
              </tr>
            </thead>
            <tbody>
              {runs.map((run: SyncView) => (
                <>
                  <tr>
                    <td><When at={run.startedAt} /></td>
                    <td><Badge status={run.status} /></td>
                    <td class="num">{run.finishedAt === null ? "…" : formatDuration(run.startedAt, run.finishedAt)}</td>
                    {statColumns.map(([key]) => <td class="num">{formatCount(run.stats[key])}</td>)}
                  </tr>
                  {run.error === undefined ? null : (
                    <tr>
                      <td></td>
                      <td colspan={statColumns.length + 2}>
                        <span class="error">{run.error.message}</span>
                        {run.error.hint === undefined ? null : <div class="muted small">{`What to do: ${run.error.hint}`}</div>}
                      </td>
                    </tr>
                  )}
                </>
              ))}
            </tbody>
          </table>
        )}
      </Layout>,
      (banner?.error?.status ?? (banner?.running === undefined ? 200 : 409)) as ContentfulStatusCode
    )
  }

  pages.get("/connections/:id/syncs", (c) => page(c, c.req.param("id")))

  pages.post("/connections/:id/syncs", async (c) => {
    const id = c.req.param("id")
    const outcome = await runOperation(host, use((s) => s.startSync(id, "admin")))
    if (outcome._tag === "Success") return c.redirect(withQuery(paths.connection(id).syncs, { notice: "sync-started" }), 303)
    if (outcome.error.code === "sync_running") {
      const runId = (outcome.error.details as { runId?: string } | undefined)?.runId
      const run = runId === undefined ? undefined : await runOperation(host, use((s) => s.getSync(runId)))
      return page(c, id, { running: run?._tag === "Success" ? formatAge(run.value.startedAt) : "a moment ago" })
    }
    if (outcome.error.status === 404) return errorPage(c, outcome.error, "Connection not found")
    return page(c, id, { error: outcome.error })
  })
}
