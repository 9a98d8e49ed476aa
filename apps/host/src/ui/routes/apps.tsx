/**
 * `/connections/:id/apps`: one row per product and site, with its seats.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type { Hono } from "hono"
import { type Host, runOperation } from "../../http/Host.js"
import { use } from "../../Seatkeeper.js"
import { formatCount } from "../format.js"
import { ConnectionTabs, Layout } from "../layout.js"
import { paths } from "../paths.js"
import { errorPage, renderPage } from "../render.js"
import type { PagesEnv } from "../security.js"
import { SeatsTable } from "./dashboard.js"

/**
 * @since 0.1.0
 * @category routes
 */
export const appRoutes = (pages: Hono<PagesEnv>, host: Host) => {
  pages.get("/connections/:id/apps", async (c) => {
    const id = c.req.param("id")
    const outcome = await runOperation(host, use((s) => Effect.all({ connection: s.getConnection(id), apps: s.listApps(id) })))
    if (outcome._tag === "Failure") return errorPage(c, outcome.error, "Connection not found")
    const { apps, connection } = outcome.value
    const seats = apps.reduce((n, a) => n + a.active, 0)
    return renderPage(
      c,
      <Layout title={`${connection.name}: products`} session={c.get("session")}>
        <p class="crumbs"><a href={paths.dashboard}>Dashboard</a> / {connection.name}</p>
        <h1>{connection.name}</h1>
        <ConnectionTabs id={id} current="apps" />
        {apps.length === 0
          ? <p class="muted">No products yet. Sync the connection to load them.</p>
          : (
            <>
              <p>{`${formatCount(seats)} active seats across ${formatCount(apps.length)} products and sites. Unused counts are active seats with no activity for that long (never used counts as unused).`}</p>
              <SeatsTable apps={apps} connectionId={id} caption="Seats per product and site" showKeys />
            </>
          )}
      </Layout>
    )
  })
}
