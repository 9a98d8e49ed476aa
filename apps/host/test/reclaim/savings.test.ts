/**
 * Issue 11, "savings are counted only after the confirming sync": with prices per seat (monthly and annual,
 * per product), the potential savings per inactivity bucket are the priced unused seats the seats list
 * shows; a plan says what it frees; once executed, nothing is realised yet (it awaits confirmation) until
 * the next sync reads the seats gone, and then exactly the freed seats' cost is. A seat without a price is
 * counted apart, never as 0.
 *
 * Through the host's API against the sandbox, on SQLite.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connect, makeSandbox, sync, UNPACED } from "../support/Org.js"
import {
  approveAndExecute,
  CONFLUENCE,
  createPolicy,
  expectStatus,
  JIRA,
  makePlan,
  person,
  planItems
} from "../support/Reclaim.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"

const JSM = { key: "jira-service-desk", name: "Jira Service Management", url: "https://acme.atlassian.net/" } as const
const people = [
  person("p-1", "Pat One", [[JIRA, 200], [CONFLUENCE, 100]]),
  person("p-2", "Pat Two", [[JIRA, 45]]),
  person("p-3", "Pat Three", [[JIRA, 75], [CONFLUENCE, 10]]),
  person("p-4", "Pat Four", [[JIRA, null]]),
  person("p-5", "Pat Five", [[JIRA, 2]]),
  person("p-6", "Pat Six", [[CONFLUENCE, 400]]),
  person("p-7", "Pat Seven", [[JSM as never, 200]])
]
const prices = [
  { product: "jira-software", amount: 8.6, currency: "USD", period: "monthly" },
  { product: "confluence", amount: 69, currency: "USD", period: "annual" }
]
const monthly: Record<string, number> = { "jira-software": 8.6, confluence: 5.75 }
const cents = (n: number) => Math.round(n * 100) / 100

describe("savings", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let id: string
  const savings = async () =>
    expectStatus(await t.request("GET", `/api/connections/${id}/savings`), 200, "savings").body

  /** The potential of a bucket from the seats list itself: its unused seats, priced. */
  const pricedUnusedSeats = async (days: number) => {
    const seats = expectStatus(
      await t.request("GET", `/api/connections/${id}/seats?unusedDays=${days}&limit=500`),
      200,
      "seats"
    ).body.data as Array<any>
    let usd = 0
    let unpriced = 0
    for (const s of seats) {
      const price = monthly[s.entitlement.product]
      if (price === undefined) unpriced++
      else usd = cents(usd + price)
    }
    return { usd, unpriced }
  }

  beforeAll(async () => {
    sandbox = await makeSandbox({ users: people })
    t = await makeTestHost()
    id = await connect(t.request, sandbox, { rateLimit: UNPACED, config: { includeUnmanaged: true } })
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
    expectStatus(await t.request("PUT", `/api/connections/${id}/prices`, { body: { prices } }), 200, "setting prices")
  })
  afterAll(async () => {
    await t?.close()
    await sandbox?.close()
  })

  it("Should price each inactivity bucket as the unused seats it lists", async () => {
    const s = await savings()
    for (const [bucket, days] of [["unused30", 30], ["unused60", 60], ["unused90", 90]] as const) {
      const listed = await pricedUnusedSeats(days)
      expect(s.potential[bucket], bucket).toEqual({ USD: listed.usd })
      expect(s.unpriced[bucket], bucket).toBe(listed.unpriced)
    }
    // By hand: 4 Jira and 2 Confluence seats unused 30 days; 3 and 2 for 60; 2 and 2 for 90; JSM has no price.
    expect(s.potential).toEqual({ unused30: { USD: 45.9 }, unused60: { USD: 37.3 }, unused90: { USD: 28.7 } })
    expect(s.unpriced).toEqual({ unused30: 1, unused60: 1, unused90: 1 })
    expect(s).toMatchObject({ realised: {}, awaitingConfirmation: {} })
  })

  it("Should count a plan's savings as realised only once the next sync confirms the seats are gone", async () => {
    const policy = await createPolicy(t.request, id, { name: "Idle 90", scope: { _tag: "accounts" }, inactiveDays: 90 })
    const plan = await makePlan(t.request, policy.id)
    // What it frees: Pat One (Jira and Confluence), Four (Jira), Six (Confluence), Seven (JSM, no price).
    expect(plan).toMatchObject({ accounts: 4, seats: 5, monthly: { USD: 28.7 }, unpriced: 1 })
    const items = await planItems(t.request, plan.id)
    expect(Object.fromEntries(items.map((i) => [i.externalId, i.monthly]))).toEqual({
      "p-1": { USD: 14.35 },
      "p-4": { USD: 8.6 },
      "p-6": { USD: 5.75 },
      "p-7": {}
    })
    expect((await approveAndExecute(t.request, plan.id)).status).toBe("done")

    // Executed, not confirmed: nothing realised yet.
    const executed = await savings()
    expect(executed.realised).toEqual({})
    expect(executed.awaitingConfirmation).toEqual({ USD: 28.7 })

    // The next sync reads the seats gone: realised is exactly what the plan freed.
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
    const confirmed = await savings()
    expect(confirmed.realised).toEqual({ USD: 28.7 })
    expect(confirmed.awaitingConfirmation).toEqual({})
    // And the freed seats are no longer potential savings.
    for (const [bucket, days] of [["unused30", 30], ["unused60", 60], ["unused90", 90]] as const) {
      const listed = await pricedUnusedSeats(days)
      expect(confirmed.potential[bucket], bucket).toEqual(listed.usd === 0 ? {} : { USD: listed.usd })
    }
    expect(confirmed.potential.unused90).toEqual({})

    // A regression: the confirming sync was looked for among the newest 50 runs only, so 51 runs that were not
    // applied (here failed: the key was revoked) turned every realised saving back into "awaiting".
    sandbox.injectFault({ kind: "status", status: 401, shape: "empty" }, { on: "directoryUsers", times: 51 })
    for (let i = 0; i < 51; i++) expect((await sync(t.request, id)).body.status).toBe("failed")
    const later = await savings()
    expect([later.realised, later.awaitingConfirmation]).toEqual([{ USD: 28.7 }, {}])

    // A regression: an account restored outside a plan and reclaimed by the next plan was counted twice.
    const restored = await t.request("POST", `/api/connections/${id}/accounts/p-4/restore`, { body: {} })
    expectStatus(restored, 200, "restoring Pat Four outside any plan")
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
    const back = await savings()
    expect([back.realised, back.awaitingConfirmation]).toEqual([{ USD: 20.1 }, { USD: 8.6 }])
    const again = await makePlan(t.request, policy.id)
    expect((await planItems(t.request, again.id)).map((i) => i.externalId)).toEqual(["p-4"])
    expect((await approveAndExecute(t.request, again.id)).status).toBe("done")
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
    const once = await savings()
    expect([once.realised, once.awaitingConfirmation], "Pat Four's seat counts once").toEqual([{ USD: 28.7 }, {}])
    console.log(
      `[savings] potential 30/60/90: 45.9/37.3/28.7 USD; plan frees 28.7 USD/month; after execution realised 0 ` +
        `(28.7 awaiting confirmation); after the next sync realised 28.7`
    )
  })
})
