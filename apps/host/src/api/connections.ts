/**
 * `/api/providers` and `/api/connections`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { Hono } from "hono"
import { type Host, readJson, respond } from "../http/Host.js"
import { use } from "../Seatkeeper.js"

/**
 * @since 0.1.0
 * @category routes
 */
export const connectionRoutes = (host: Host) =>
  new Hono()
    .get("/providers", (c) => respond(c, host, use((s) => Effect.map(s.listProviders, (data) => ({ data })))))
    .get("/connections", (c) => respond(c, host, use((s) => Effect.map(s.listConnections, (data) => ({ data })))))
    .post("/connections", async (c) => {
      const body = await readJson(c)
      return respond(c, host, use((s) => s.createConnection(body, "admin")), 201)
    })
    .get("/connections/:id", (c) => respond(c, host, use((s) => s.getConnection(c.req.param("id")))))
    .patch("/connections/:id", async (c) => {
      const body = await readJson(c)
      return respond(c, host, use((s) => s.updateConnection(c.req.param("id"), body ?? {}, "admin")))
    })
    .delete("/connections/:id", async (c) => {
      const res = await respond(c, host, use((s) => s.deleteConnection(c.req.param("id"), "admin")))
      return res.ok ? c.body(null, 204) : res
    })
    .post("/connections/:id/verify", (c) => respond(c, host, use((s) => s.verifyConnection(c.req.param("id"), "admin"))))
