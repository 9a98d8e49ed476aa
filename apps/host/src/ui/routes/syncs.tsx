/**
 * `/connections/:id/syncs`: the sync history, "Sync now" (a running sync is said so, not an error), and the
 * decisions on a held run (`/syncs/:runId/apply` and `/discard`, invariant 10).
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { Context, Hono } from "hono"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import type { ErrorDescription } from "../../errors.js"
import { NotFound } from "../../errors.js"
import { type Host, runOperation } from "../../http/Host.js"
import { Connections } from "../../services/Connections.js"
import { Syncs } from "../../services/Syncs.js"
import type { SyncView } from "../../views.js"
import { formatAge, formatCount, formatDuration } from "../format.js"
import { Badge, ConnectionTabs, CsrfField, ErrorBox, Layout, Notice, TableBox, When } from "../layout.js"
import { paths, withQuery } from "../paths.js"
import { errorPage, noticeOf, renderPage } from "../render.js"
import { can } from "../roles.js"
import { decidedText, Decision, HeldRun, holdReasonText } from "../runs.js"
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

interface Banner {
  readonly running?: string | undefined
  readonly error?: ErrorDescription | undefined
  readonly errorTitle?: string | undefined
}

const RunRows = ({ run }: { run: SyncView }) => (
  <>
    <tr>
      <td>
        <When at={run.startedAt} />
      </td>
      <td>
        <Badge status={run.status} />
        {run.decision === null && run.status !== "superseded" ? null : (
          <div>
            <Decision run={run} />
          </div>
        )}
      </td>
      <td class="num">{run.finishedAt === null ? "…" : formatDuration(run.startedAt, run.finishedAt)}</td>
      {statColumns.map(([key]) => <td class="num">{formatCount(run.stats[key])}</td>)}
    </tr>
    {run.hold === null ? null : (
      <tr>
        <td></td>
        <td colspan={statColumns.length + 2} class="small">
          {`${run.status === "held" ? "Held" : "Was held"} because ${
            holdReasonText(run)
          }: applying would deprovision ` +
            `${formatCount(run.hold.wouldDeprovision)} of ${formatCount(run.hold.activeAccounts)} active accounts ` +
            `(${formatCount(run.hold.absent)} missing from the listing, threshold ${run.hold.thresholdPercent} %).`}
        </td>
      </tr>
    )}
    {run.error == null ? null : (
      <tr>
        <td></td>
        <td colspan={statColumns.length + 2}>
          <span class="error">{run.error.message}</span>
          {run.error.hint === undefined ? null : <div class="muted small">{`What to do: ${run.error.hint}`}</div>}
        </td>
      </tr>
    )}
  </>
)

/**
 * @since 0.1.0
 * @category routes
 */
export const syncRoutes = (pages: Hono<PagesEnv>, host: Host) => {
  const page = async (c: Context<PagesEnv>, id: string, banner: Banner = {}, status?: ContentfulStatusCode) => {
    const outcome = await runOperation(
      host,
      Effect.all({ connection: Connections.get(id), runs: Syncs.list(id, HISTORY) })
    )
    if (outcome._tag === "Failure") return errorPage(c, outcome.error, "Connection not found")
    const { connection, runs } = outcome.value
    const running = runs.find((r) => r.status === "running")
    const held = runs.filter((r) => r.status === "held")
    const session = c.get("session")
    // After Apply or Discard: what the decision did, read from the run itself (nothing of the query is shown).
    const notice = c.req.query("notice")
    const decided = notice === "run-applied" || notice === "run-discarded"
      ? runs.find((r) => r.id === c.req.query("run"))
      : undefined
    const decidedNotice = decided === undefined ? undefined : decidedText(decided)
    return renderPage(
      c,
      <Layout
        title={`${connection.name}: syncs`}
        session={session}
        // "Sync started" is stale once the run has ended (the page reloads itself onto the same address).
        notice={decidedNotice ?? (running === undefined && notice === "sync-started" ? undefined : noticeOf(c))}
        refreshSeconds={running === undefined ? undefined : 2}
      >
        <p class="crumbs">
          <a href={paths.dashboard}>Dashboard</a> / {connection.name}
        </p>
        <h1>{connection.name}</h1>
        <ConnectionTabs id={id} current="syncs" session={c.get("session")} />
        {banner.running === undefined ? null : (
          <Notice tone="warn">
            <strong>A sync is already running</strong>
            <p>{`It started ${banner.running}. Wait for it to finish; this page reloads until it does.`}</p>
          </Notice>
        )}
        {banner.error === undefined
          ? null
          : <ErrorBox error={banner.error} title={banner.errorTitle ?? "The sync did not start"} />}
        {held.map((run) => <HeldRun run={run} session={session} headingLevel={2} />)}
        {can(session, "operator")
          ? (
            <form method="post" action={paths.connection(id).syncs} class="actions">
              <CsrfField session={session} />
              <button type="submit" class="primary">Sync now</button>
              <span class="muted small">
                {connection.syncIntervalMinutes === 0
                  ? "This connection syncs only when you press Sync now."
                  : `This connection also syncs every ${connection.syncIntervalMinutes} minutes.`}
              </span>
            </form>
          )
          : null}
        {runs.length === 0 ? <p class="muted">No syncs yet.</p> : (
          <TableBox label="Sync history">
            <table>
              <caption>
                {runs.length === 1 ? "The only sync so far" : `The last ${runs.length} syncs, newest first`}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Started</th>
                  <th scope="col">Status</th>
                  <th scope="col" class="num">Took</th>
                  {statColumns.map(([, label]) => <th scope="col" class="num">{label}</th>)}
                </tr>
              </thead>
              <tbody>
                {runs.map((run) => <RunRows run={run} />)}
              </tbody>
            </table>
          </TableBox>
        )}
      </Layout>,
      status ?? (banner.error?.status ?? (banner.running === undefined ? 200 : 409)) as ContentfulStatusCode
    )
  }

  pages.get("/connections/:id/syncs", (c) => page(c, c.req.param("id")))

  pages.post("/connections/:id/syncs", async (c) => {
    const id = c.req.param("id")
    const session = c.get("session")
    const outcome = await runOperation(
      host,
      Syncs.start(id, session.principal)
    )
    if (outcome._tag === "Success") {
      return c.redirect(withQuery(paths.connection(id).syncs, { notice: "sync-started" }), 303)
    }
    if (outcome.error.code === "sync_running") {
      const runId = (outcome.error.details as { runId?: string } | undefined)?.runId
      const run = runId === undefined ? undefined : await runOperation(host, Syncs.get(runId))
      return page(c, id, { running: run?._tag === "Success" ? formatAge(run.value.startedAt) : "a moment ago" })
    }
    if (outcome.error.status === 404) return errorPage(c, outcome.error, "Connection not found")
    if (outcome.error.status === 403) return errorPage(c, outcome.error, "Not allowed")
    return page(c, id, { error: outcome.error })
  })

  for (const decision of ["apply", "discard"] as const) {
    pages.post(`/connections/:id/syncs/:runId/${decision}`, async (c) => {
      const id = c.req.param("id")
      const runId = c.req.param("runId")
      const session = c.get("session")
      // The run must be this connection's: the address says which connection the admin is looking at.
      const own = Syncs.get(runId).pipe(
        Effect.filterOrFail((run) => run.connectionId === id, () => new NotFound({ resource: "sync", id: runId }))
      )
      const outcome = await runOperation(
        host,
        own.pipe(
          Effect.zipRight(
            decision === "apply"
              ? Syncs.applyHeld(runId, session.principal)
              : Syncs.discardHeld(runId, session.principal)
          )
        )
      )
      if (outcome._tag === "Success") {
        const notice = decision === "apply" ? "run-applied" : "run-discarded"
        return c.redirect(withQuery(paths.connection(id).syncs, { notice, run: runId }), 303)
      }
      if (outcome.error.status === 404) return errorPage(c, outcome.error, "Sync not found")
      if (outcome.error.status === 403) return errorPage(c, outcome.error, "Not allowed")
      // 409: another run holds the connection's lock, or the run is no longer held (decided already). The
      // API's hint names an API call; a page says what to do on the page.
      const error = outcome.error.code === "sync_running"
        ? { ...outcome.error, hint: "wait for the running sync to finish (the history shows it), then decide again" }
        : outcome.error
      return page(c, id, { error, errorTitle: decision === "apply" ? "Not applied" : "Not discarded" })
    })
  }
}
