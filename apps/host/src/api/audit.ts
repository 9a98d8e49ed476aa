/**
 * `/api/audit` and its CSV export.
 *
 * @since 0.1.0
 */
import { AuditEvent, type AuditEvent as AuditEventType } from "@seatkeeper/core/Audit"
import type { StoreError } from "@seatkeeper/core/StoreError"
import { csvResponse } from "../csv.js"
import type { InvalidInput } from "../errors.js"
import { AuditQuery } from "../inputs.js"
import { AuditLog } from "../services/AuditLog.js"
import { PageView } from "../views.js"
import { route } from "./Route.js"

const list = (query: AuditQuery) => AuditLog.use((audit) => audit.list(query))

/**
 * @since 0.2.0
 * @category routes
 */
export const auditRoutes = [
  route({
    method: "get",
    path: "/audit",
    tag: "audit",
    summary: "The audit trail, newest first: who did what, when, with which input and outcome",
    query: AuditQuery,
    response: { status: 200, schema: PageView(AuditEvent.annotations({ identifier: "AuditEvent" })) },
    errors: [400, 503],
    handler: ({ query }) => list(query)
  }),
  route({
    method: "get",
    path: "/audit.csv",
    tag: "audit",
    summary: "The audit trail as CSV (every event the filters match)",
    query: AuditQuery,
    response: { status: 200, mediaType: "text/csv" },
    errors: [400, 503],
    raw: true,
    handler: ({ query }) =>
      csvResponse<AuditEventType, InvalidInput | StoreError, AuditLog>({
        filename: "seatkeeper-audit.csv",
        columns: [
          { header: "at", cell: (e) => e.at },
          { header: "actor", cell: (e) => e.actor },
          { header: "action", cell: (e) => e.action },
          { header: "connectionId", cell: (e) => e.connectionId },
          { header: "target", cell: (e) => e.target },
          { header: "outcome", cell: (e) => e.outcome },
          { header: "detail", cell: (e) => e.detail },
          { header: "input", cell: (e) => JSON.stringify(e.input) }
        ],
        fetch: (cursor) => list({ ...query, limit: 500, cursor })
      })
  })
]
