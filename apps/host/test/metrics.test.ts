// GET /metrics: Prometheus' text format, behind the admin token or a metrics-only token.
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connect, makeSandbox, sync } from "./support/Org.js"
import { makeTestHost, type TestHost } from "./support/TestHost.js"

const METRICS_TOKEN = "metrics-only-token-0123456789"

/** The value of one series (`name{labels} value`) in a scrape, matching every given label. */
const valueOf = (text: string, name: string, labels: Record<string, string> = {}): number | undefined => {
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue
    return Number(line.slice(line.lastIndexOf(" ") + 1))
  }
  return undefined
}

describe("/metrics", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let id: string
  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 120, pageSize: 50 })
    t = await makeTestHost({ env: { SEATKEEPER_METRICS_TOKEN: METRICS_TOKEN } })
    id = await connect(t.request, sandbox)
    sandbox.injectFault({ kind: "rateLimited", retryAfterSeconds: 0 }, { on: "users", times: 1 })
    await sync(t.request, id)
  })
  afterAll(async () => {
    await t.close()
    await sandbox.close()
  })

  it("answers 401 without a token, and the metrics token reads only /metrics", async () => {
    expect((await t.request("GET", "/metrics", { token: null })).status).toBe(401)
    expect((await t.request("GET", "/metrics", { token: "wrong-token-0123456789abc" })).status).toBe(401)
    expect((await t.request("GET", "/metrics", { token: METRICS_TOKEN })).status).toBe(200)
    expect((await t.request("GET", "/api/connections", { token: METRICS_TOKEN })).status).toBe(401)
  })

  it("counts sync runs, requests, retries and 429s, and reads accounts and seats from the store", async () => {
    const totals = (await t.request("GET", `/api/connections/${id}/totals`)).body
    // Requests are counted once answered, just after this test got its answer.
    await new Promise((resolve) => setTimeout(resolve, 50))
    const res = await t.request("GET", "/metrics", { token: METRICS_TOKEN })
    expect(res.headers.get("content-type")).toContain("text/plain")
    const text = res.text
    expect(valueOf(text, "seatkeeper_sync_runs_total", { connection: id, status: "succeeded" })).toBe(1)
    expect(valueOf(text, "seatkeeper_sync_duration_seconds_count", { connection: id })).toBe(1)
    const run = (await t.request("GET", `/api/connections/${id}/syncs?limit=1`)).body.data[0]
    expect(valueOf(text, "seatkeeper_provider_requests_total", { connection: id })).toBe(run.stats.requests)
    expect(valueOf(text, "seatkeeper_provider_rate_limited_total", { connection: id })).toBe(1)
    expect(valueOf(text, "seatkeeper_provider_retries_total", { connection: id })).toBe(run.stats.retries)
    for (const status of ["active", "suspended", "deprovisioned"]) {
      expect(valueOf(text, "seatkeeper_accounts", { connection: id, status })).toBe(totals.byStatus[status])
    }
    const products = (await t.request("GET", `/api/connections/${id}/products`)).body.data
    const seats = text.split("\n").filter((l) => l.startsWith("seatkeeper_seats{") && l.includes(id))
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(" ") + 1)), 0)
    expect(seats).toBe(products.reduce((n: number, p: { seats: number }) => n + p.seats, 0))
    // Requests are counted by route, never by id.
    expect(text).toContain(`route="/api/connections/:id/totals"`)
    expect(text).not.toContain(`route="/api/connections/${id}`)
  })
})
