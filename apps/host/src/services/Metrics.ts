/**
 * Metrics in Prometheus' text format (`GET /metrics`, through prom-client): counters kept by this process
 * (sync runs by outcome and their durations, provider requests, retries and 429s, HTTP requests by route)
 * and gauges read from the store at each scrape (accounts per status, seats and unused seats per product
 * instance), so every host sharing a store reports the same inventory.
 *
 * @since 0.2.0
 */
import { ConnectionStore } from "@seatkeeper/core/Connection"
import { InventoryStore } from "@seatkeeper/core/Inventory"
import type { StoreError } from "@seatkeeper/core/StoreError"
import type { SyncRun } from "@seatkeeper/core/SyncRun"
import * as Effect from "effect/Effect"
import * as Prometheus from "prom-client"

/**
 * @since 0.2.0
 * @category services
 */
export class Metrics extends Effect.Service<Metrics>()("app/Metrics", {
  effect: Effect.gen(function*() {
    const connections = yield* ConnectionStore
    const inventory = yield* InventoryStore
    const registry = new Prometheus.Registry()
    const registers = [registry]

    const runs = new Prometheus.Counter({
      name: "seatkeeper_sync_runs_total",
      help: "Sync runs finished in this process, by connection and outcome",
      labelNames: ["connection", "provider", "status"] as const,
      registers
    })
    const durations = new Prometheus.Histogram({
      name: "seatkeeper_sync_duration_seconds",
      help: "How long sync runs took, from start to their end (applied, held, failed or interrupted)",
      labelNames: ["connection", "status"] as const,
      buckets: [1, 5, 15, 30, 60, 120, 300, 900, 1800],
      registers
    })
    const requests = new Prometheus.Counter({
      name: "seatkeeper_provider_requests_total",
      help: "Requests sync runs sent to their provider",
      labelNames: ["connection", "provider"] as const,
      registers
    })
    const retries = new Prometheus.Counter({
      name: "seatkeeper_provider_retries_total",
      help: "Retries sync runs made after a 429, a 5xx, a timeout or a reset connection",
      labelNames: ["connection", "provider"] as const,
      registers
    })
    const rateLimited = new Prometheus.Counter({
      name: "seatkeeper_provider_rate_limited_total",
      help: "429 answers sync runs got from their provider",
      labelNames: ["connection", "provider"] as const,
      registers
    })
    const http = new Prometheus.Counter({
      name: "seatkeeper_http_requests_total",
      help: "HTTP requests this host answered, by route and status",
      labelNames: ["method", "route", "status"] as const,
      registers
    })
    const accounts = new Prometheus.Gauge({
      name: "seatkeeper_accounts",
      help: "Accounts per connection and status, as the last applied sync left them",
      labelNames: ["connection", "status"] as const,
      registers
    })
    const seats = new Prometheus.Gauge({
      name: "seatkeeper_seats",
      help: "Seats (active entitlements of active, billable accounts) per product instance",
      labelNames: ["connection", "product", "site", "plan"] as const,
      registers
    })
    const unused = new Prometheus.Gauge({
      name: "seatkeeper_seats_unused",
      help: "Seats without product activity for at least `days` days, per product instance",
      labelNames: ["connection", "product", "site", "days"] as const,
      registers
    })
    const purchased = new Prometheus.Gauge({
      name: "seatkeeper_seats_purchased",
      help: "Seats bought, where the provider says, per product instance",
      labelNames: ["connection", "product", "site", "plan"] as const,
      registers
    })

    /** Records a finished run (called once per run, when it ends). */
    const recordRun = (run: SyncRun, provider: string) =>
      Effect.sync(() => {
        const labels = { connection: run.connectionId, provider }
        runs.inc({ ...labels, status: run.status })
        if (run.finishedAt !== null) {
          durations.observe(
            { connection: run.connectionId, status: run.status },
            Math.max(0, (Date.parse(run.finishedAt) - Date.parse(run.startedAt)) / 1000)
          )
        }
        requests.inc(labels, run.stats.requests)
        retries.inc(labels, run.stats.retries)
        rateLimited.inc(labels, run.stats.rateLimited)
      })

    const recordRequest = (method: string, route: string, status: number) =>
      Effect.sync(() => http.inc({ method, route, status: String(status) }))

    /** The text exposition, with the gauges read from the store now. */
    const scrape: Effect.Effect<string, StoreError> = Effect.gen(function*() {
      accounts.reset()
      seats.reset()
      unused.reset()
      purchased.reset()
      for (const connection of yield* connections.list) {
        const totals = yield* inventory.totals(connection.id)
        for (const [status, n] of Object.entries(totals.byStatus)) {
          accounts.set({ connection: connection.id, status }, n)
        }
        for (const p of yield* inventory.listProducts(connection.id)) {
          const site = p.siteHost ?? p.site ?? ""
          const plan = p.plan ?? ""
          seats.set({ connection: connection.id, product: p.product, site, plan }, p.seats)
          unused.set({ connection: connection.id, product: p.product, site, days: "30" }, p.unused30)
          unused.set({ connection: connection.id, product: p.product, site, days: "90" }, p.unused90)
          if (p.seatsPurchased !== null) {
            purchased.set({ connection: connection.id, product: p.product, site, plan }, p.seatsPurchased)
          }
        }
      }
      return yield* Effect.promise(() => registry.metrics())
    }).pipe(Effect.withSpan("Metrics.scrape"))

    return { recordRun, recordRequest, scrape, contentType: registry.contentType } as const
  })
}) {}
