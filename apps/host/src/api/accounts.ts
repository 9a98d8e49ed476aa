/**
 * `/api/connections/:id/accounts`, `/apps` and the suspend and restore actions. `externalId` and the
 * app key arrive URL-encoded (Atlassian ids contain `:`); the router decodes them.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import { Hono } from "hono"
import { type Host, readJson, respond } from "../http/Host.js"
import { AccountFilters, decodeQuery } from "../inputs.js"
import { use } from "../Seatkeeper.js"

/**
 * @since 0.1.0
 * @category routes
 */
export const accountRoutes = (host: Host) =>
  new Hono()
    .get("/connections/:id/accounts", (c) =>
      respond(
        c,
        host,
        decodeQuery(AccountFilters, c.req.query()).pipe(
          Effect.flatMap((filters) => use((s) => s.listAccounts(c.req.param("id"), filters)))
        )
      ))
    .get("/connections/:id/accounts/:externalId", (c) =>
      respond(c, host, use((s) => s.getAccount(c.req.param("id"), c.req.param("externalId")))))
    .post("/connections/:id/accounts/:externalId/suspend", async (c) => {
      const body = await readJson(c)
      return respond(c, host, use((s) => s.suspend(c.req.param("id"), c.req.param("externalId"), body, "admin")))
    })
    .post("/connections/:id/accounts/:externalId/restore", async (c) => {
      const body = await readJson(c)
      return respond(c, host, use((s) => s.restore(c.req.param("id"), c.req.param("externalId"), body, "admin")))
    })
    .get("/connections/:id/apps", (c) =>
      respond(c, host, use((s) => Effect.map(s.listApps(c.req.param("id")), (data) => ({ data })))))
    .get("/connections/:id/apps/:key/accounts", (c) =>
      respond(
        c,
        host,
        decodeQuery(AccountFilters, c.req.query()).pipe(
          Effect.flatMap((filters) => use((s) => s.listAppAccounts(c.req.param("id"), c.req.param("key"), filters)))
        )
      ))
