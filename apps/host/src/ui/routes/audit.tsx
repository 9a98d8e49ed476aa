/**
 * `/audit`: who did what, when, with what input and outcome; filtered by connection, paged.
 *
 * @since 0.1.0
 */
import type { AuditEvent } from "@seatkeeper/core/Audit"
import * as Effect from "effect/Effect"
import type { Hono } from "hono"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import { type Host, runOperation } from "../../http/Host.js"
import { AuditQuery, decodeQuery } from "../../inputs.js"
import { AuditLog } from "../../services/AuditLog.js"
import { Connections } from "../../services/Connections.js"
import { Badge, ErrorBox, Layout, TableBox, When } from "../layout.js"
import { paths, withQuery } from "../paths.js"
import { errorPage, fieldIssues, renderPage } from "../render.js"
import type { PagesEnv } from "../security.js"

/** An event's input in one line: `reason: "left the company", dryRun: false`. */
const describeInput = (input: unknown): string => {
  if (input === null || input === undefined) return ""
  if (typeof input !== "object") return String(input)
  return Object.entries(input as Record<string, unknown>)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
    .join(", ")
}

/**
 * @since 0.1.0
 * @category routes
 */
export const auditRoutes = (pages: Hono<PagesEnv>, host: Host) => {
  pages.get(paths.audit, async (c) => {
    const query = c.req.query()
    const connections = await runOperation(host, Connections.list)
    if (connections._tag === "Failure") return errorPage(c, connections.error)
    const names = new Map(connections.value.map((conn) => [conn.id, conn.name]))
    const outcome = await runOperation(
      host,
      decodeQuery(AuditQuery, query).pipe(
        // A cursor the log did not give out is a 400 at the field (AuditLog.list says so).
        Effect.flatMap((q) => AuditLog.use((audit) => audit.list(q)))
      )
    )
    const errors = outcome._tag === "Failure" ? fieldIssues(outcome.error) : new Map<string, string>()
    const connectionLabel = (event: AuditEvent) => {
      if (event.connectionId === null) return <span class="muted">none</span>
      const name = names.get(event.connectionId)
      return name === undefined
        ? <span class="muted mono">{event.connectionId}</span>
        : <a href={paths.connection(event.connectionId).accounts}>{name}</a>
    }
    const targetLink = (event: AuditEvent) => {
      if (event.target === null || event.target === event.connectionId) return null
      if (event.action.startsWith("account.") && event.connectionId !== null && names.has(event.connectionId)) {
        return <a class="mono" href={paths.connection(event.connectionId).account(event.target)}>{event.target}</a>
      }
      if (event.action.startsWith("sync.") && event.connectionId !== null && names.has(event.connectionId)) {
        return (
          <a class="mono" href={paths.connection(event.connectionId).syncs} title={event.target}>
            {`run ${event.target.slice(0, 8)}`}
          </a>
        )
      }
      if (event.action.startsWith("plan.") && event.connectionId !== null && names.has(event.connectionId)) {
        return (
          <a class="mono" href={paths.connection(event.connectionId).plan(event.target)} title={event.target}>
            {`plan ${event.target.slice(0, 8)}`}
          </a>
        )
      }
      if (event.action.startsWith("policy.") && event.connectionId !== null && names.has(event.connectionId)) {
        return (
          <a class="mono" href={paths.connection(event.connectionId).policy(event.target)} title={event.target}>
            {`policy ${event.target.slice(0, 8)}`}
          </a>
        )
      }
      return <span class="mono">{event.target}</span>
    }
    return renderPage(
      c,
      <Layout title="Audit log" session={c.get("session")} section="audit">
        <h1>Audit log</h1>
        <p class="muted">
          Every connection change, connection test, sync, suspend and restore (dry runs included), reclaim policy, plan
          and decision on it, and change to users, prices and webhooks, with who did it, newest first.
        </p>
        <form method="get" action={paths.audit} class="filters" aria-label="Filter the audit log">
          <div class="field">
            <label for="audit-connection">Connection</label>
            <select id="audit-connection" name="connectionId">
              <option value="">All</option>
              {connections.value.map((conn) => (
                <option value={conn.id} selected={query.connectionId === conn.id}>{conn.name}</option>
              ))}
            </select>
          </div>
          <button type="submit" class="primary">Show</button>
        </form>
        {outcome._tag === "Failure"
          ? (
            <>
              <ErrorBox error={outcome.error} title="Cannot show this page of the log" />
              {errors.has("cursor")
                ? (
                  <p>
                    <a href={withQuery(paths.audit, { connectionId: query.connectionId })}>Start from the newest</a>
                  </p>
                )
                : null}
            </>
          )
          : outcome.value.data.length === 0
          ? <p class="muted">Nothing recorded yet.</p>
          : (
            <>
              <TableBox label="Audit events">
                <table>
                  <caption>{`${outcome.value.total} events`}</caption>
                  <thead>
                    <tr>
                      <th scope="col">When</th>
                      <th scope="col">Action</th>
                      <th scope="col">Connection</th>
                      <th scope="col">Target</th>
                      <th scope="col">Input</th>
                      <th scope="col">Outcome</th>
                    </tr>
                  </thead>
                  <tbody>
                    {outcome.value.data.map((event) => (
                      <tr>
                        <td>
                          <When at={event.at} />
                        </td>
                        <td>
                          <span class="nowrap">{event.action}</span>
                          <div class="muted small">{`by ${event.actor}`}</div>
                        </td>
                        <td>{connectionLabel(event)}</td>
                        <td class="id">{targetLink(event)}</td>
                        <td class="small anywhere">{describeInput(event.input)}</td>
                        <td>
                          <Badge status={event.outcome} />
                          {event.detail === null ? null : <div class="small anywhere">{event.detail}</div>}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </TableBox>
              <nav class="pager" aria-label="Pages">
                {query.cursor === undefined || query.cursor === "" ?
                  null :
                  (
                    <a href={withQuery(paths.audit, { connectionId: query.connectionId, limit: query.limit })}>
                      « Newest
                    </a>
                  )}
                {outcome.value.nextCursor === null ?
                  null :
                  (
                    <a
                      href={withQuery(paths.audit, {
                        connectionId: query.connectionId,
                        limit: query.limit,
                        cursor: outcome.value.nextCursor
                      })}
                    >
                      Older »
                    </a>
                  )}
              </nav>
            </>
          )}
      </Layout>,
      outcome._tag === "Failure" ? outcome.error.status as ContentfulStatusCode : 200
    )
  })
}
