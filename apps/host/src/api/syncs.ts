/**
 * `/api/connections/:id/syncs` and `/api/syncs/:id`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { Hono } from "hono"
import { type Host, respond } from "../http/Host.js"
import { decodeQuery, PageQuery } from "../inputs.js"
import { use } from "../Seatkeeper.js"

/**
 * @since 0.1.0
 * @category routes
 */
export const syncRoutes = (host: Host) =>
  new Hono()
    .post("/connections/:id/syncs", (c) => respond(c, host, use((s) => s.startSync(c.req.param("id"), "admin")), 202))
    .get("/connections/:id/syncs", (c) =>
      respond(
        c,
        host,
        decodeQuery(PageQuery, c.req.query()).pipe(
          Effect.flatMap((query) => use((s) => s.listSyncs(c.req.param("id"), query.limit))),
          Effect.map((data) => ({ data }))
        )
      ))
    .get("/syncs/:id", (c) => respond(c, host, use((s) => s.getSync(c.req.param("id")))))
