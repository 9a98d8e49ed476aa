/**
 * Issue 11, "refusals (SCIM-managed accounts) are reported, not retried forever": Atlassian refuses to
 * deactivate an account synced from an identity provider. The plan says so beforehand (the preflight): the
 * execution reports each such account `refused` with the reason in words, without asking Atlassian again,
 * and goes on with the others. Accounts an identity provider took over after the review are refused when
 * the execution asks, once each; five such refusals in a row stop the plan, with the reason, and resuming
 * it carries on with the accounts not yet tried.
 *
 * Through the host's API against the sandbox (directory mode), on SQLite.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connect, makeSandbox, sync, UNPACED } from "../support/Org.js"
import {
  approveAndExecute,
  createPolicy,
  expectStatus,
  JIRA,
  makePlan,
  person,
  planItems,
  waitForPlan
} from "../support/Reclaim.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"

const scim = { managedBy: "scim" } as const
// Mixed: refusals never come five in a row.
const mixed = [
  person("a-1", "Alpha One", [[JIRA, 200]]),
  person("a-2", "Alpha Two", [[JIRA, 200]], scim),
  person("a-3", "Alpha Three", [[JIRA, 200]]),
  person("a-4", "Alpha Four", [[JIRA, 200]], scim)
]
// Six accounts an identity provider takes over after the review (first in execution order, by name), then
// two accounts Atlassian deactivates.
const streak = [
  ...Array.from({ length: 6 }, (_, i) => person(`b-${i + 1}`, `Beta S${i + 1}`, [[JIRA, 200]])),
  person("g-1", "Gamma 1", [[JIRA, 200]]),
  person("g-2", "Gamma 2", [[JIRA, 200]])
]
const ids = (people: ReadonlyArray<{ readonly account_id?: string }>) => people.map((p) => p.account_id!)

describe("accounts the provider refuses to deactivate", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let id: string

  beforeAll(async () => {
    sandbox = await makeSandbox({ users: [...mixed, ...streak] })
    t = await makeTestHost()
    id = await connect(t.request, sandbox, { rateLimit: UNPACED, config: { includeUnmanaged: true } })
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
  })
  afterAll(async () => {
    await t?.close()
    await sandbox?.close()
  })

  /** Deactivations the sandbox received, per account. */
  const disables = () => {
    const n = new Map<string, number>()
    for (const r of sandbox.requests) {
      const m = /^\/users\/([^/]+)\/manage\/lifecycle\/disable$/.exec(r.path)
      if (m !== null) n.set(decodeURIComponent(m[1]!), (n.get(decodeURIComponent(m[1]!)) ?? 0) + 1)
    }
    return n
  }

  it("Should report SCIM-managed accounts refused, with the reason, and act on the others", async () => {
    const policy = await createPolicy(t.request, id, {
      name: "Idle (mixed)",
      scope: { _tag: "accounts" },
      inactiveDays: 90,
      exclude: { accounts: ids(streak) }
    })
    const plan = await makePlan(t.request, policy.id)
    // The plan says beforehand which ones Atlassian will refuse, and why.
    const planned = await planItems(t.request, plan.id)
    for (const item of planned) {
      const refused = item.externalId === "a-2" || item.externalId === "a-4"
      expect(item.preflight, item.externalId).toMatchObject(
        refused ? { allowed: false, reason: expect.stringMatching(/SCIM|identity provider/i) } : { allowed: true }
      )
    }
    sandbox.resetLog()
    const done = await approveAndExecute(t.request, plan.id)
    expect(done).toMatchObject({
      status: "done",
      stoppedBecause: null,
      progress: { done: 2, refused: 2, failed: 0, pending: 0 }
    })
    const items = await planItems(t.request, plan.id)
    const refusedItems = items.filter((i) => i.state === "refused")
    expect(refusedItems.map((i) => i.externalId).sort()).toEqual(["a-2", "a-4"])
    for (const item of refusedItems) {
      // In words a person can act on, not a code.
      expect(item.result, item.externalId).toMatch(/SCIM|identity provider|external directory/i)
      expect(item.result!.length).toBeGreaterThan(30)
    }
    expect(sandbox.user("a-2")!.account_status).toBe("active")
    expect(sandbox.user("a-1")!.account_status).toBe("inactive")
    // The refusals the review showed are not asked again; the others once each.
    expect(Object.fromEntries(disables())).toEqual({ "a-1": 1, "a-3": 1 })
    expect(refusedItems[0]!.result).toMatch(/^refused at review: /)
    console.log(`[refusals] mixed plan: 2 done, 2 refused (SCIM): "${refusedItems[0]!.result}"`)
  })

  it("Should stop after five refusals in a row, with the reason, and resume with the accounts not yet tried", async () => {
    const policy = await createPolicy(t.request, id, {
      name: "Idle (streak)",
      scope: { _tag: "accounts" },
      inactiveDays: 90,
      exclude: { accounts: ids(mixed) }
    })
    const plan = await makePlan(t.request, policy.id)
    expect((await planItems(t.request, plan.id)).map((i) => i.externalId)).toEqual(ids(streak))
    // After the review, the identity provider takes the six Beta accounts over.
    for (const u of ids(streak).slice(0, 6)) sandbox.updateUser(u, { managedBy: "scim" })
    sandbox.resetLog()
    const stopped = await approveAndExecute(t.request, plan.id)
    expect(stopped.status).toBe("stopped")
    expect(stopped.stoppedBecause).toMatch(/^5 refusals in a row; the last: .*(SCIM|identity provider)/i)
    expect(stopped.progress).toMatchObject({ refused: 5, pending: 3, done: 0 })
    expect(Object.fromEntries(disables())).toEqual({ "b-1": 1, "b-2": 1, "b-3": 1, "b-4": 1, "b-5": 1 })

    // Resumed: the refused ones are not asked again; the rest are tried once.
    expectStatus(await t.request("POST", `/api/plans/${plan.id}/execute`), 202, "resuming")
    const done = await waitForPlan(t.request, plan.id, ["done", "stopped"])
    expect(done).toMatchObject({ status: "done", progress: { refused: 6, done: 2, pending: 0 } })
    const asked = disables()
    for (const u of ids(streak)) expect(asked.get(u), u).toBe(1)
    expect(sandbox.user("g-1")!.account_status).toBe("inactive")
    const total = [...asked.values()].reduce((a, b) => a + b, 0)
    console.log(
      `[refusals] streak plan: stopped after 5 refusals ("${stopped.stoppedBecause.slice(0, 80)}..."); resumed: ` +
        `${done.progress.refused} refused, ${done.progress.done} done, ${total} deactivations sent for ${streak.length} accounts (none twice)`
    )
  })
})
