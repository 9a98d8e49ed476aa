/**
 * `/api/audit`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { Hono } from "hono"
import { type Host, respond } from "../http/Host.js"
import { AuditQuery, decodeQuery } from "../inputs.js"
import { use } from "../Seatkeeper.js"

/**
 * @since 0.1.0
 * @category routes
 */
export const auditRoutes = (host: Host) =>
  new Hono().get("/audit", (c) =>
    respond(c, host, decodeQuery(AuditQuery, c.req.query()).pipe(Effect.flatMap((query) => use((s) => s.listAudit(query))))))
