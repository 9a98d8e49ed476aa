/**
 * Issue 11, "a policy with an expiring exemption produces the expected plan": an org whose people have
 * known activity per product, a policy that reclaims Jira seats idle for 90 days with every kind of
 * exclusion, and the plan it makes: exactly who is reclaimed, with what action and evidence, and who is
 * spared, with the reason. The CSV export lists the same accounts; a second plan after the roster changed
 * names who is new and who dropped out. A plan on data that is too old, or when the last sync is held or
 * failed, is refused at execution with a message that says why and what to do.
 *
 * Through the host's API against the sandbox (directory mode: roles, groups and join dates), on SQLite.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest"
import { connect, makeSandbox, sync, UNPACED } from "../support/Org.js"
import {
  CONFLUENCE,
  CONFLUENCE_KEY,
  createPolicy,
  csvObjects,
  daysAgo,
  expectStatus,
  JIRA,
  JIRA_KEY,
  makePlan,
  person,
  planItems
} from "../support/Reclaim.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"

const day = (iso: string) => iso.slice(0, 10)
const YESTERDAY = day(daysAgo(1))
const NEXT_MONTH = day(daysAgo(-31))

const people = [
  person("u-idle", "Ada Idle", [[JIRA, 200]]),
  person("u-both", "Bea Both", [[JIRA, 120], [CONFLUENCE, 150]]),
  person("u-never", "Cy Never", [[JIRA, null]]),
  person("u-wiki", "Dee Wiki", [[JIRA, 200], [CONFLUENCE, 3]]),
  person("u-recent", "Eve Recent", [[JIRA, 5]]),
  person("u-admin", "Fay Admin", [[JIRA, 300]], { platformRoles: ["atlassian/org-admin"], groups: ["org-admins"] }),
  person("u-listed", "Gus Listed", [[JIRA, 300]]),
  person("u-contractor", "Hal Contractor", [[JIRA, 300]], { groups: ["contractors"] }),
  person("u-new", "Ivy New", [[JIRA, null]], { addedToOrg: daysAgo(100) }),
  person("u-returned", "Jo Returned", [[JIRA, 200]]),
  person("u-leave", "Kim Leave", [[JIRA, 200]]),
  person("u-suspended", "Lou Gone", [[JIRA, 300]], { account_status: "inactive" }),
  person("u-wiki-only", "Max Wiki", [[CONFLUENCE, 200]])
]

const policy = {
  name: "Idle Jira seats",
  scope: { _tag: "seats", products: ["jira-software"], plans: [] },
  inactiveDays: 90,
  exclude: {
    admins: true,
    accounts: ["u-listed"],
    groups: ["contractors"],
    newerThanDays: 120,
    exemptions: [
      { externalId: "u-returned", reason: "parental leave", until: YESTERDAY },
      { externalId: "u-leave", reason: "parental leave", until: NEXT_MONTH }
    ]
  }
}

describe("a reclaim policy's plan", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let id: string
  let policyId: string
  let plan: any

  beforeAll(async () => {
    sandbox = await makeSandbox({ users: people })
    t = await makeTestHost()
    id = await connect(t.request, sandbox, { rateLimit: UNPACED, config: { includeUnmanaged: true } })
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
    policyId = (await createPolicy(t.request, id, policy)).id
    plan = await makePlan(t.request, policyId)
  })
  afterAll(async () => {
    await t?.close()
    await sandbox?.close()
  })

  it("Should reclaim exactly the idle accounts, each with its action and evidence", async () => {
    const items = await planItems(t.request, plan.id)
    expect(items.map((i) => i.externalId)).toEqual(["u-idle", "u-both", "u-never", "u-returned"])
    expect(plan).toMatchObject({
      status: "review",
      accounts: 4,
      seats: 5,
      blockedBecause: null,
      createdBy: "admin",
      policyName: policy.name
    })
    for (const item of items) {
      expect(item.action, item.externalId).toBe("suspend")
      expect(item.state, item.externalId).toBe("pending")
      // The provider's read-only answer: Atlassian would deactivate each (lifecycle), none refused.
      expect(item.preflight, item.externalId).toMatchObject({ allowed: true, method: "lifecycle", reason: null })
    }
    const evidence = Object.fromEntries(items.map((i) => [
      i.externalId,
      i.seats.map((s) => [s.key, s.lastActiveAt === null ? null : day(s.lastActiveAt)]).sort((a, b) =>
        a[0]! < b[0]! ? 1 : -1
      )
    ]))
    const at = (u: string, product: typeof JIRA | typeof CONFLUENCE) =>
      day(people.find((p) => p.account_id === u)!.product_access!.find((p) => p.key === product.key)!.last_active!)
    expect(evidence).toEqual({
      "u-idle": [[JIRA_KEY, at("u-idle", JIRA)]],
      // Suspending the account frees every seat it holds: both are idle, both are listed.
      "u-both": [[JIRA_KEY, at("u-both", JIRA)], [CONFLUENCE_KEY, at("u-both", CONFLUENCE)]],
      "u-never": [[JIRA_KEY, null]],
      // Its exemption ended yesterday: reclaimed like anyone else.
      "u-returned": [[JIRA_KEY, at("u-returned", JIRA)]]
    })
    for (const item of items) {
      for (const s of item.seats) {
        if (s.lastActiveAt !== null) expect(item.seats[0]!).toHaveProperty("activitySource", "atlassian.product")
      }
    }
  })

  it("Should list whom the policy spares, each with its reason in words", () => {
    const excluded = Object.fromEntries(plan.excluded.map((e: any) => [e.externalId, [e.reason, e.detail]]))
    expect(excluded).toEqual({
      "u-wiki": [
        "inUse",
        expect.stringMatching(
          /^uses Confluence \(acme\), last active \d{4}-\d{2}-\d{2}; suspending the account would take that seat too$/
        )
      ],
      "u-admin": ["admin", "holds the administrative role atlassian/org-admin"],
      "u-listed": ["listed", "excluded by name in the policy"],
      "u-contractor": ["group", "member of contractors, which the policy excludes"],
      "u-new": ["new", `joined ${day(daysAgo(100))}, less than 120 days ago`],
      "u-leave": ["exempt", `exempt until ${NEXT_MONTH}: parental leave`]
    })
    // Accounts the policy never selects are in neither list: a seat in use, no seat in scope, no seat at all.
    const named = new Set([...Object.keys(excluded), "u-idle", "u-both", "u-never", "u-returned"])
    for (const u of ["u-recent", "u-suspended", "u-wiki-only"]) expect(named.has(u), u).toBe(false)
    console.log(
      `[plan] ${people.length} accounts: 4 in the plan (5 seats), ${plan.excluded.length} spared with a reason, 3 not selected`
    )
  })

  it("Should export the same accounts as CSV", async () => {
    const res = expectStatus(await t.request("GET", `/api/plans/${plan.id}/items.csv`), 200, "the CSV export")
    expect(res.headers.get("content-type")).toMatch(/^text\/csv/)
    const rows = csvObjects(res.text)
    const items = await planItems(t.request, plan.id)
    expect(rows.map((r) => [r.externalId, r.displayName, r.action, r.state])).toEqual(
      items.map((i) => [i.externalId, i.displayName, i.action, i.state])
    )
    const both = rows.find((r) => r.externalId === "u-both")!
    const seats = items.find((i) => i.externalId === "u-both")!.seats
    expect(both.seats).toBe(seats.map((s) => s.name).join("; "))
    expect(both.seats.split("; ").sort()).toEqual(["Confluence (acme)", "Jira Software (acme)"])
    expect(both.lastActive).toBe(seats.map((s) => `${s.product}: ${s.lastActiveAt}`).join("; "))
  })

  // A regression: the previous plan was looked for among the policy's newest 50 plans, so an older plan was
  // compared with nothing, as if it were the policy's first.
  it("Should compare a plan with the one made before it, however many plans the policy has since", async () => {
    const many = (await createPolicy(t.request, id, { ...policy, name: "Idle Jira seats, made often" })).id
    const first = await makePlan(t.request, many)
    const second = await makePlan(t.request, many)
    for (let i = 0; i < 55; i++) await makePlan(t.request, many)
    const diff = expectStatus(await t.request("GET", `/api/plans/${second.id}/compare`), 200, "comparing").body
    expect(diff).toEqual({ previousPlanId: first.id, added: [], dropped: [] })
    const none = expectStatus(await t.request("GET", `/api/plans/${first.id}/compare`), 200, "comparing").body
    expect(none.previousPlanId).toBeNull()
  })

  it("Should compare a new plan of the policy with the previous one: who is new, who dropped out", async () => {
    const first = expectStatus(await t.request("GET", `/api/plans/${plan.id}/compare`), 200, "comparing").body
    expect(first).toEqual({
      previousPlanId: null,
      added: ["u-idle", "u-both", "u-never", "u-returned"].sort(),
      dropped: []
    })
    // Ada used Jira today; Eve's last use turns out to be long ago (the product's activity was corrected).
    sandbox.updateUser("u-idle", { product_access: [{ ...JIRA, last_active: daysAgo(0) }], last_active: daysAgo(0) })
    sandbox.updateUser("u-recent", {
      product_access: [{ ...JIRA, last_active: daysAgo(400) }],
      last_active: daysAgo(400)
    })
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
    const second = await makePlan(t.request, policyId)
    const diff = expectStatus(await t.request("GET", `/api/plans/${second.id}/compare`), 200, "comparing").body
    expect(diff).toEqual({ previousPlanId: plan.id, added: ["u-recent"], dropped: ["u-idle"] })
    // The first plan is immutable: its accounts and evidence stay as they were.
    expect((await planItems(t.request, plan.id)).map((i) => i.externalId)).toEqual([
      "u-idle",
      "u-both",
      "u-never",
      "u-returned"
    ])
  })
})

describe("a plan on data too old to act on", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let id: string
  let policyId: string
  afterEach(() => {
    vi.useRealTimers()
  })
  beforeAll(async () => {
    sandbox = await makeSandbox({ users: people })
    t = await makeTestHost()
    id = await connect(t.request, sandbox, { rateLimit: UNPACED, config: { includeUnmanaged: true } })
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
    policyId = (await createPolicy(t.request, id, { ...policy, maxDataAgeHours: 1, fourEyesAbove: 100 })).id
  })
  afterAll(async () => {
    await t?.close()
    await sandbox?.close()
  })

  const approved = async () => {
    const p = await makePlan(t.request, policyId)
    expectStatus(await t.request("POST", `/api/plans/${p.id}/approve`), 200, "approving")
    return p
  }
  const execute = (planId: string) => t.request("POST", `/api/plans/${planId}/execute`)

  it("Should refuse to execute a plan whose data grew older than maxDataAgeHours, saying to sync first", async () => {
    const fresh = await approved()
    // Two hours later, with no sync in between.
    vi.setSystemTime(Date.now() + 2 * 3_600_000)
    const late = await execute(fresh.id)
    expect(late.status).toBe(409)
    expect(late.body.error.message).toMatch(/data is 2 hours old, more than the policy's 1/)
    expect(late.body.error.hint).toMatch(/sync/)
    // A plan made now, on the same data, says so itself and is refused the same way.
    const stale = await makePlan(t.request, policyId)
    expect(stale.blockedBecause).toMatch(/the data is 2 hours old, more than the policy's 1; sync first/)
    expectStatus(await t.request("POST", `/api/plans/${stale.id}/approve`), 200, "approving")
    const refused = await execute(stale.id)
    expect(refused.status).toBe(409)
    expect(refused.body.error.message).toContain("this plan cannot be executed: the data is 2 hours old")
    vi.useRealTimers()
    expect((await t.request("GET", `/api/plans/${fresh.id}`)).body.status).toBe("approved")
    expect(sandbox.requests.filter((r) => r.route === "lifecycle")).toEqual([])
  })
})

describe("a plan while the last sync is held or failed", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let id: string
  let policyId: string
  beforeAll(async () => {
    sandbox = await makeSandbox({ users: people })
    t = await makeTestHost()
    id = await connect(t.request, sandbox, { rateLimit: UNPACED, config: { includeUnmanaged: true } })
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
    policyId = (await createPolicy(t.request, id, { ...policy, maxDataAgeHours: 1, fourEyesAbove: 100 })).id
  })
  afterAll(async () => {
    await t?.close()
    await sandbox?.close()
  })

  const approved = async () => {
    const p = await makePlan(t.request, policyId)
    expectStatus(await t.request("POST", `/api/plans/${p.id}/approve`), 200, "approving")
    return p
  }
  const execute = (planId: string) => t.request("POST", `/api/plans/${planId}/execute`)

  it("Should refuse to execute when the last sync is held or failed, saying what to do", async () => {
    // A plan made on good data; then the next sync fails (the key was revoked).
    const before = await approved()
    sandbox.injectFault({ kind: "status", status: 401, shape: "gateway" }, { on: "any", times: Infinity })
    expect((await sync(t.request, id)).body.status).toBe("failed")
    sandbox.clearFaults()
    const afterFailed = await makePlan(t.request, policyId)
    expect(afterFailed.blockedBecause).toMatch(
      /the latest sync \(.+\) failed: its data is not confirmed; fix what made it fail, sync again/
    )
    expectStatus(await t.request("POST", `/api/plans/${afterFailed.id}/approve`), 200, "approving")
    for (const p of [afterFailed, before]) {
      const res = await execute(p.id)
      expect(res.status, p.id).toBe(409)
      expect(res.body.error.message, p.id).toMatch(/latest sync .* failed/)
      expect(res.body.error.hint, p.id).toMatch(/sync again/)
    }

    // A sync that would deprovision most of the org is held.
    const gone = people.slice(0, 6).map((p) => p.account_id!)
    for (const g of gone) sandbox.removeUser(g)
    const held = (await sync(t.request, id)).body
    expect(held.status).toBe("held")
    const afterHeld = await makePlan(t.request, policyId)
    expect(afterHeld.blockedBecause).toContain(`the latest sync (${held.id}) is held`)
    // Made on the last applied data, the plan still names the accounts gone upstream, each with the
    // provider's answer: no such account (one account's answer never fails the whole plan).
    const missing = (await planItems(t.request, afterHeld.id)).filter((i) => gone.includes(i.externalId))
    expect(missing.length).toBeGreaterThan(0)
    for (const item of missing) {
      expect(item.preflight, item.externalId).toMatchObject({ allowed: false, reason: expect.stringContaining("404") })
    }
    expectStatus(await t.request("POST", `/api/plans/${afterHeld.id}/approve`), 200, "approving")
    for (const p of [afterHeld, before]) {
      const res = await execute(p.id)
      expect(res.status, p.id).toBe(409)
      expect(res.body.error.message, p.id).toMatch(/latest sync .* is held/)
      expect(`${res.body.error.message} ${res.body.error.hint ?? ""}`, p.id).toMatch(/apply or discard/)
    }
    expect(sandbox.requests.filter((r) => r.route === "lifecycle")).toEqual([])
  })
})
