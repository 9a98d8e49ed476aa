/**
 * Issue 11, "undo restores each account's status and products": a plan deactivates managed accounts
 * (lifecycle) and suspends an unmanaged one in the directory; undo, of one account and then of the whole
 * plan, within the grace period, restores each with the method its journal names. The provider has every
 * account back as it was (status, membership, products), the inventory shows them active at once, and
 * after a re-sync it still does, with the same products. Past the grace period undo is refused.
 *
 * Through the host's API against the sandbox (directory mode), on SQLite.
 */
import type { AtlassianSandbox, SandboxUser } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connect, eventually, listAccounts, makeSandbox, sync, UNPACED } from "../support/Org.js"
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

const people = [
  person("m-1", "Ann Managed", [[JIRA, 150], [CONFLUENCE, 140]]),
  person("m-2", "Ben Managed", [[JIRA, 200]]),
  person("m-3", "Cat Managed", [[JIRA, 100], [CONFLUENCE, null]]),
  person("m-4", "Dan Managed", [[CONFLUENCE, 365]]),
  person("x-1", "Eli Partner", [[JIRA, 180]], { claimStatus: "unmanaged", email: "eli@partner.example" }),
  person("busy", "Fay Busy", [[JIRA, 1]])
]
const reclaimed = ["m-1", "m-2", "m-3", "m-4", "x-1"]

/** What the provider holds of an account: what undo must give back. */
const upstream = (u: SandboxUser | undefined) => ({
  status: u?.account_status,
  membership: u?.membershipStatus ?? "active",
  products: (u?.product_access ?? []).map((p) => `${p.key} ${p.url} ${p.last_active ?? "-"}`).sort()
})

describe("undoing a reclaim plan", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let id: string
  let plan: any
  let before: Record<string, ReturnType<typeof upstream>>
  let inventoryBefore: Record<string, { status: string; products: Array<string> }>

  const inventory = async () =>
    Object.fromEntries(
      (await listAccounts(t.request, id)).filter((a) => reclaimed.includes(a.externalId)).map((a) => [
        a.externalId,
        { status: a.status, products: a.entitlements.filter((e) => e.status === "active").map((e) => e.key).sort() }
      ])
    )

  beforeAll(async () => {
    sandbox = await makeSandbox({ users: people })
    t = await makeTestHost()
    id = await connect(t.request, sandbox, { rateLimit: UNPACED, config: { includeUnmanaged: true } })
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
    before = Object.fromEntries(reclaimed.map((u) => [u, upstream(sandbox.user(u))]))
    inventoryBefore = await inventory()
    const policy = await createPolicy(t.request, id, {
      name: "Idle accounts",
      scope: { _tag: "accounts" },
      inactiveDays: 90
    })
    plan = await makePlan(t.request, policy.id)
    expect((await planItems(t.request, plan.id)).map((i) => i.externalId).sort()).toEqual(reclaimed)
    const done = await approveAndExecute(t.request, plan.id)
    expect(done.status, done.stoppedBecause).toBe("done")
  })
  afterAll(async () => {
    await t?.close()
    await sandbox?.close()
  })

  it("Should have journaled what each account had before it acted: status, products, method", async () => {
    const items = await planItems(t.request, plan.id)
    for (const item of items) {
      expect(item.state, item.externalId).toBe("done")
      expect(item.journal, item.externalId).toMatchObject({
        statusBefore: "active",
        productsBefore: inventoryBefore[item.externalId]!.products,
        method: item.externalId === "x-1" ? "directory" : "lifecycle"
      })
    }
    // Upstream: the managed accounts deactivated, the unmanaged one suspended in the directory.
    for (const u of reclaimed.filter((u) => u !== "x-1")) expect(sandbox.user(u)!.account_status, u).toBe("inactive")
    expect(sandbox.user("x-1")!.membershipStatus).toBe("suspended")
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
    for (const [u, a] of Object.entries(await inventory())) expect(a.status, u).toBe("suspended")
  })

  it("Should restore one account, then the rest of the plan, exactly as they were", async () => {
    sandbox.resetLog()
    const one = expectStatus(
      await t.request("POST", `/api/plans/${plan.id}/undo`, { body: { externalId: "m-1" } }),
      200,
      "undoing m-1"
    ).body
    expect(one.undone).toBe(1)
    expect(one.items[0]).toMatchObject({ externalId: "m-1", state: "undone", undoneAt: expect.any(String) })
    expect(upstream(sandbox.user("m-1"))).toEqual(before["m-1"])
    expect(sandbox.user("m-2")!.account_status).toBe("inactive")
    // Undoing it twice is refused: there is nothing left to undo.
    const again = await t.request("POST", `/api/plans/${plan.id}/undo`, { body: { externalId: "m-1" } })
    expect(again.status).toBe(409)
    expect(again.body.error.message).toBe("Ann Managed is undone: only a done action can be undone")

    const rest =
      expectStatus(await t.request("POST", `/api/plans/${plan.id}/undo`, { body: {} }), 200, "undoing the plan").body
    expect(rest.undone).toBe(4)
    for (const u of reclaimed) expect(upstream(sandbox.user(u)), u).toEqual(before[u])
    // Each with the method its journal named, once.
    const restores = sandbox.requests.map((r) => `${r.route} ${r.path.split("/").pop()}`).filter((r) =>
      /enable|restore/.test(r)
    )
    expect(restores.sort()).toEqual([...Array(4).fill("lifecycle enable"), "directorySuspend restore"].sort())
    expect((await planItems(t.request, plan.id)).map((i) => i.state)).toEqual(Array(5).fill("undone"))
    expect((await t.request("GET", `/api/plans/${plan.id}`)).body.progress).toMatchObject({ undone: 5, done: 0 })
    // Once all is undone, another undo says there is nothing to undo, rather than "0 undone".
    const nothing = await t.request("POST", `/api/plans/${plan.id}/undo`, { body: {} })
    expect(nothing.status).toBe(409)
    expect(nothing.body.error.message).toMatch(/has no done action to undo$/)
    expect(nothing.body.error.hint).toBe("its actions are undone already, or failed")

    // The inventory shows them active at once, and a sync reads them so, with the same products.
    expect(await inventory()).toEqual(inventoryBefore)
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
    expect(await inventory()).toEqual(inventoryBefore)

    // Every restore is audited, by the person who asked.
    const audit = await eventually("the undo in the audit log", async () => {
      const data = (await t.request("GET", `/api/audit?connectionId=${id}&limit=200`)).body.data as Array<any>
      return data.filter((e) => e.action === "plan.undo").length === 2 ? data : undefined
    })
    expect(audit.filter((e) => e.action === "account.restore").map((e) => [e.target, e.actor, e.outcome]).sort())
      .toEqual(
        reclaimed.map((u) => [u, "admin", "ok"]).sort()
      )
    console.log(
      `[undo] ${reclaimed.length} accounts restored (1, then the other 4): status, membership and products as before; re-sync agrees`
    )
  })

  it("Should refuse undo once the policy's grace period is over", async () => {
    const policy = await createPolicy(t.request, id, {
      name: "No grace",
      scope: { _tag: "accounts" },
      inactiveDays: 90,
      undoDays: 0
    })
    const p = await makePlan(t.request, policy.id)
    // A plan that has not acted has nothing to undo.
    const early = await t.request("POST", `/api/plans/${p.id}/undo`, { body: {} })
    expect(early.status).toBe(409)
    expect(early.body.error.hint).toBe("execute an approved plan first; only what it did can be undone")
    expect((await approveAndExecute(t.request, p.id)).status).toBe("done")
    const late = await t.request("POST", `/api/plans/${p.id}/undo`, { body: {} })
    expect(late.status).toBe(409)
    expect(late.body.error.message).toMatch(/^the grace period of 0 days to undo .+ is over$/)
    expect(late.body.error.hint).toBe("restore the account by hand from its page")
    for (const u of reclaimed) {
      expect(upstream(sandbox.user(u)).status === "inactive" || sandbox.user(u)!.membershipStatus === "suspended", u)
        .toBe(true)
    }
  })
})
