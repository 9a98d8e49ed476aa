// The Atlassian licence inventory through the host's API against the sandbox: products with plans and
// seats bought, seat counts that add up (every total equals the list its filters give), what Atlassian
// does not bill left out, and every user (managed and unmanaged) listed, labelled and suspended the way
// that fits it.
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connect, listAccounts, makeSandbox, sync, UNPACED } from "./support/Org.js"
import { makeTestHost, type TestHost } from "./support/TestHost.js"

const DAY = 86_400_000

describe("licence inventory", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let id: string
  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 400, pageSize: 100, unmanaged: 60 })
    t = await makeTestHost()
    id = await connect(t.request, sandbox, {
      name: "Every user",
      rateLimit: UNPACED,
      config: { includeUnmanaged: true }
    })
    const run = await sync(t.request, id)
    expect(run.body.status, run.text).toBe("succeeded")
    expect(run.body.stats.licenses).toBe(sandbox.workspaces().length)
  })
  afterAll(async () => {
    await t.close()
    await sandbox.close()
  })

  it("lists every product instance with its plan (unknown ones verbatim), seats bought and seats held", async () => {
    const products = (await t.request("GET", `/api/connections/${id}/products`)).body.data as Array<any>
    const workspaces = sandbox.workspaces()
    for (const w of workspaces) {
      const host = w.hostUrl.split("/")[0]
      const product = products.find((p) => p.product === w.key && p.siteHost === host)
      expect(product, `${w.key} on ${host}`).toBeDefined()
      expect(product.licensed).toBe(true)
      expect(product.plan).toBe(w.plan)
      expect(product.seatsPurchased).toBe(w.capacity ?? null)
    }
    expect(products.some((p) => p.plan === "Business" && p.edition === null)).toBe(true)
    expect(products.some((p) => p.product === "compass")).toBe(true)
    expect(products.some((p) => p.edition === "premium")).toBe(true)
  })

  it("counts seats so that every number equals the list it opens", async () => {
    const totals = (await t.request("GET", `/api/connections/${id}/totals`)).body
    const total = async (path: string) => (await t.request("GET", `/api/connections/${id}/${path}`)).body.total
    expect(await total("seats?limit=1")).toBe(totals.seats)
    for (const days of [30, 60, 90]) {
      expect(await total(`seats?limit=1&unusedDays=${days}`)).toBe(totals[`unused${days}`])
    }
    for (const status of ["active", "suspended", "deprovisioned"]) {
      expect(await total(`accounts?limit=1&status=${status}`)).toBe(totals.byStatus[status])
    }
    expect(await total("accounts?limit=1&billable=true")).toBe(totals.billableAccounts)
    const products = (await t.request("GET", `/api/connections/${id}/products`)).body.data as Array<any>
    for (const p of products.filter((p) => p.seats > 0).slice(0, 6)) {
      const license = encodeURIComponent(p.key)
      expect(await total(`seats?limit=1&license=${license}`), p.key).toBe(p.seats)
      expect(await total(`seats?limit=1&license=${license}&unusedDays=90`), p.key).toBe(p.unused90)
      expect(await total(`seats?limit=1&license=${license}&usedDays=30`), p.key).toBe(p.used30)
    }
    expect(products.reduce((n, p) => n + p.seats, 0)).toBe(totals.seats)
  })

  it("never counts a seat Atlassian does not bill: apps, portal customers, suspended accounts", async () => {
    const seats: Array<any> = []
    let cursor: string | null = null
    do {
      const page: any = (await t.request(
        "GET",
        `/api/connections/${id}/seats?limit=500${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`
      )).body
      seats.push(...page.data)
      cursor = page.nextCursor
    } while (cursor !== null)
    expect(seats.length).toBeGreaterThan(0)
    for (const s of seats) {
      expect(s.account.status).toBe("active")
      expect(s.account.billable).toBe(true)
      expect(["app", "customer"]).not.toContain(s.account.accountType)
      expect(s.entitlement.status).toBe("active")
    }
    // And an unused seat is one whose product-level activity is old (or absent on an old account).
    const now = Date.now()
    const unused = (await t.request("GET", `/api/connections/${id}/seats?limit=500&unusedDays=90`)).body.data as Array<
      any
    >
    for (const s of unused) {
      const last = s.entitlement.lastActiveAt
      if (last !== null) expect(Date.parse(last)).toBeLessThan(now - 90 * DAY + 60_000)
      else expect(Date.parse(s.account.addedAt ?? s.account.firstSeenAt)).toBeLessThan(now - 90 * DAY + 60_000)
    }
  })

  it("lists unmanaged accounts, labelled, and a suspend among them uses the directory", async () => {
    const accounts = await listAccounts(t.request, id)
    const unmanaged = accounts.filter((a) => a.managed === false)
    expect(unmanaged.length).toBe(sandbox.users({ claimStatus: "unmanaged" }).length)
    expect(accounts.filter((a) => a.managed === true).length).toBe(sandbox.users({ claimStatus: "managed" }).length)
    const unmanagedOnly = (await t.request("GET", `/api/connections/${id}/accounts?managed=false&limit=1`)).body.total
    expect(unmanagedOnly).toBe(unmanaged.length)
    const target = unmanaged.find((a) => a.status === "active" && (a.roles as Array<string>).length === 0)!
    const path = `/api/connections/${id}/accounts/${encodeURIComponent(target.externalId)}`
    const dry = await t.request("POST", `${path}/suspend`, { body: { dryRun: true } })
    expect(dry.status).toBe(200)
    expect(dry.body.action.method).toBe("directory")
    sandbox.resetLog()
    const done = await t.request("POST", `${path}/suspend`, { body: { reason: "left" } })
    expect(done.status, done.text).toBe(200)
    expect(done.body.action.method).toBe("directory")
    expect(sandbox.requests.filter((r) => r.route === "directorySuspend").length).toBe(1)
    expect(sandbox.requests.filter((r) => r.route === "lifecycle").length).toBe(0)
    expect(sandbox.user(target.externalId)?.membershipStatus).toBe("suspended")
    // Restoring with the suspend's method undoes exactly that.
    const back = await t.request("POST", `${path}/restore`, { body: { method: done.body.action.method } })
    expect(back.status).toBe(200)
    expect(sandbox.user(target.externalId)?.membershipStatus).toBe("active")
  })

  it("shows where each activity value comes from and how fresh Atlassian says it is", async () => {
    const accounts = await listAccounts(t.request, id, "&status=active")
    const withActivity = accounts.find((a) => a.lastActiveAt !== null)!
    const detail =
      (await t.request("GET", `/api/connections/${id}/accounts/${encodeURIComponent(withActivity.externalId)}`)).body
    expect(detail.activitySources.length).toBeGreaterThan(0)
    expect(detail.activitySources[0]).toMatchObject({ maxLagHours: 24 })
    expect(detail.activitySources[0].definition).toContain("2 s")
  })
})
