/**
 * Issue 11, "the author cannot approve it under four eyes": people with their own tokens and roles. Alice
 * (operator) writes a policy and makes a plan larger than `fourEyesAbove`; she may not approve it, not as an
 * operator (the role) and not once made an approver (she is its author); Bob (approver) approves, Alice
 * executes. Every decision in the audit log carries the person's name, never "admin". A plan within the
 * size needs no second person.
 *
 * Through the host's API against the sandbox, on SQLite.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connect, eventually, makeSandbox, sync, UNPACED } from "../support/Org.js"
import {
  as,
  CONFLUENCE,
  createPolicy,
  expectStatus,
  JIRA,
  makePlan,
  makeUser,
  person,
  waitForPlan
} from "../support/Reclaim.js"
import { makeTestHost, type Request, type TestHost } from "../support/TestHost.js"

const people = [
  ...Array.from({ length: 6 }, (_, i) => person(`idle-${i}`, `Idle ${i}`, [[JIRA, 120 + i]])),
  person("busy", "Busy Bee", [[JIRA, 2], [CONFLUENCE, 1]])
]

describe("four eyes", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let id: string
  let alice: Request
  let bob: Request
  let aliceId: string

  beforeAll(async () => {
    sandbox = await makeSandbox({ users: people })
    t = await makeTestHost()
    id = await connect(t.request, sandbox, { rateLimit: UNPACED, config: { includeUnmanaged: true } })
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
    const a = await makeUser(t.request, "Alice", "operator")
    aliceId = a.id
    alice = as(t.request, a.token)
    bob = as(t.request, (await makeUser(t.request, "Bob", "approver")).token)
  })
  afterAll(async () => {
    await t?.close()
    await sandbox?.close()
  })

  it("Should keep the author of a large plan from approving it, and let another approver do it", async () => {
    expect((await alice("GET", "/api/me")).body).toEqual({ name: "Alice", role: "operator", userId: aliceId })
    const policy = await createPolicy(alice, id, {
      name: "Idle Jira",
      scope: { _tag: "accounts" },
      inactiveDays: 90,
      fourEyesAbove: 3
    })
    expect(policy.createdBy).toBe("Alice")
    const plan = await makePlan(alice, policy.id)
    expect(plan).toMatchObject({ accounts: 6, fourEyes: true, createdBy: "Alice", status: "review" })

    // An operator may not approve at all.
    const asOperator = await alice("POST", `/api/plans/${plan.id}/approve`)
    expect(asOperator.status).toBe(403)
    expect(asOperator.body.error).toMatchObject({
      code: "forbidden",
      message: expect.stringContaining("needs the approver role")
    })
    // Made an approver, she still may not: she wrote the plan.
    expectStatus(
      await t.request("PATCH", `/api/users/${aliceId}`, { body: { role: "approver" } }),
      200,
      "promoting Alice"
    )
    const asAuthor = await alice("POST", `/api/plans/${plan.id}/approve`)
    expect(asAuthor.status).toBe(403)
    expect(asAuthor.body.error.message).toBe("four eyes: Alice made this plan and cannot approve it too")
    expect(asAuthor.body.error.hint).toBe("ask another approver")
    expect((await t.request("GET", `/api/plans/${plan.id}`)).body).toMatchObject({ status: "review", approvedBy: null })
    // Nor can she run it unapproved.
    const early = await alice("POST", `/api/plans/${plan.id}/execute`)
    expect(early.status).toBe(409)
    expect(early.body.error).toMatchObject({
      message: "the plan is not approved yet",
      hint: "an approver approves it first"
    })
    expect(sandbox.requests.filter((r) => r.route === "lifecycle")).toEqual([])

    // Bob approves; Alice executes.
    const approved = expectStatus(await bob("POST", `/api/plans/${plan.id}/approve`), 200, "Bob approving").body
    expect(approved).toMatchObject({ status: "approved", approvedBy: "Bob", approvedAt: expect.any(String) })
    expectStatus(await alice("POST", `/api/plans/${plan.id}/execute`), 202, "Alice executing")
    const done = await waitForPlan(t.request, plan.id, ["done", "stopped"])
    expect(done).toMatchObject({ status: "done", progress: { done: 6 } })

    // Every decision, with the person who made it.
    // (The end is audited just after the plan is marked done.)
    const events = await eventually("the plan's end in the audit log", async () => {
      const data = expectStatus(await t.request("GET", `/api/audit?connectionId=${id}&limit=200`), 200, "the audit")
        .body.data as Array<any>
      return data.some((e) => e.action === "plan.finish") ? data : undefined
    })
    const decisions = events.filter((e) => /^(policy|plan)\./.test(e.action))
    expect(decisions.map((e) => [e.action, e.actor]).reverse()).toEqual([
      ["policy.create", "Alice"],
      ["plan.create", "Alice"],
      ["plan.approve", "Bob"],
      ["plan.execute", "Alice"],
      ["plan.finish", "Alice"]
    ])
    // The accounts' own trail names who acted too (the plan's executor), not the bootstrap admin.
    const suspends = events.filter((e) => e.action === "account.suspend")
    expect(suspends.map((e) => [e.target, e.actor, e.outcome]).sort()).toEqual(
      people.slice(0, 6).map((p) => [p.account_id, "Alice", "ok"]).sort()
    )
    expect(
      events.every((e) =>
        e.actor !== "admin" || e.action === "connection.create" || e.action.startsWith("sync.") ||
        e.action.startsWith("user.")
      )
    ).toBe(true)
    console.log(
      `[four-eyes] plan of ${plan.accounts} accounts by Alice: 2 approvals by her refused (role, author), approved by Bob; ${decisions.length} decisions audited by name`
    )
  })

  it("Should let an approver approve a plan of their own within the policy's size", async () => {
    const carolUser = await makeUser(t.request, "Carol", "approver")
    const carol = as(t.request, carolUser.token)
    const policy = await createPolicy(carol, id, {
      name: "Idle Jira (small)",
      scope: { _tag: "accounts" },
      inactiveDays: 90,
      fourEyesAbove: 100
    })
    // Everyone was reclaimed by the first plan, so this one is empty: a plan of 0 accounts is within any size.
    const plan = await makePlan(carol, policy.id)
    expect(plan).toMatchObject({ fourEyes: false, createdBy: "Carol" })
    expect(expectStatus(await carol("POST", `/api/plans/${plan.id}/approve`), 200, "Carol approving").body.approvedBy)
      .toBe("Carol")
  })

  it("Should refuse a disabled person's token at once", async () => {
    const dave = await makeUser(t.request, "Dave", "approver")
    expect((await as(t.request, dave.token)("GET", "/api/me")).status).toBe(200)
    expectStatus(await t.request("PATCH", `/api/users/${dave.id}`, { body: { disabled: true } }), 200, "disabling Dave")
    const res = await as(t.request, dave.token)("GET", "/api/me")
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe("unauthorized")
  })
})
