/**
 * Executing a plan, as issue 11 asks: one job per plan however many times "execute" is pressed (each account
 * acted on once), and within the organisation's shared request budget with the person's actions served
 * before a running sync's pages: a plan executed while a sync pages through a large roster finishes long
 * before the sync does, each action waiting for at most the page or two already holding the budget's turn.
 *
 * Through the host's API against the sandbox, on SQLite.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterEach, describe, expect, it } from "vitest"
import { connect, eventually, makeSandbox, startSync, sync, UNPACED, waitForSync } from "../support/Org.js"
import { createPolicy, expectStatus, JIRA, makePlan, person, waitForPlan } from "../support/Reclaim.js"
import { makeTestHost } from "../support/TestHost.js"

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

const idle = Array.from({ length: 5 }, (_, i) => person(`idle-${i}`, `Idle ${i}`, [[JIRA, 200]]))
const policy = {
  name: "Idle",
  scope: { _tag: "accounts" },
  inactiveDays: 90,
  exclude: { newerThanDays: 0 },
  fourEyesAbove: 100
}

const setUp = async (rateLimit: { readonly requests: number; readonly windowSeconds: number }) => {
  const sandbox: AtlassianSandbox = await makeSandbox({ users: idle, pageSize: 10 })
  cleanups.push(() => sandbox.close())
  const t = await makeTestHost()
  cleanups.push(() => t.close())
  const id = await connect(t.request, sandbox, { rateLimit })
  expect((await sync(t.request, id)).body.status).toBe("succeeded")
  const plan = await makePlan(t.request, (await createPolicy(t.request, id, policy)).id)
  expect(plan.accounts).toBe(idle.length)
  expectStatus(await t.request("POST", `/api/plans/${plan.id}/approve`), 200, "approving")
  return { sandbox, t, id, plan }
}

const lifecycleOf = (sandbox: AtlassianSandbox) => sandbox.requests.filter((r) => r.route === "lifecycle")

describe("executing a plan", () => {
  it("Should start one job however many times execute is pressed at once", async () => {
    const { sandbox, t, plan } = await setUp(UNPACED)
    sandbox.injectFault({ kind: "slow", delayMs: 50 }, { on: "lifecycle", times: Infinity })
    const answers = await Promise.all(
      Array.from({ length: 4 }, () => t.request("POST", `/api/plans/${plan.id}/execute`))
    )
    const statuses = answers.map((a) => a.status).sort()
    expect(statuses).toEqual([202, 409, 409, 409])
    // The one that started it already says so; the others say why not.
    expect(answers.find((a) => a.status === 202)!.body.status).toBe("running")
    for (const a of answers.filter((a) => a.status === 409)) {
      expect(a.body.error.message).toMatch(/being executed by another job|is running/)
    }
    const done = await waitForPlan(t.request, plan.id, ["done", "stopped"])
    expect(done).toMatchObject({ status: "done", progress: { done: idle.length } })
    const perAccount = new Map<string, number>()
    for (const r of lifecycleOf(sandbox)) perAccount.set(r.path, (perAccount.get(r.path) ?? 0) + 1)
    expect([...perAccount.values()]).toEqual(Array(idle.length).fill(1))
    // And once done, it is done.
    const again = await t.request("POST", `/api/plans/${plan.id}/execute`)
    expect(again.status).toBe(409)
    expect(again.body.error.message).toBe("the plan is done")
  })

  it("Should serve the plan's actions before a running sync's pages, within the shared budget", async () => {
    const budget = { requests: 5, windowSeconds: 1 }
    const { sandbox, t, id, plan } = await setUp(budget)
    // A large roster now: its sync pages for several seconds at 5 requests a second.
    sandbox.addUsers(290)
    sandbox.resetLog()
    const run = await startSync(t.request, id)
    await eventually(
      "the sync to be paging",
      () => sandbox.requests.filter((r) => r.route === "users").length >= 4 ? true : undefined,
      30_000
    )
    expectStatus(await t.request("POST", `/api/plans/${plan.id}/execute`), 202, "executing")
    const done = await waitForPlan(t.request, plan.id, ["done", "stopped"])
    expect(done.status).toBe("done")
    const log = sandbox.requests.slice()
    const actions = log.filter((r) => r.route === "lifecycle")
    expect(actions.length).toBe(idle.length)
    const first = log.indexOf(actions[0]!)
    const last = log.indexOf(actions.at(-1)!)
    const pagesBetween = log.slice(first, last).filter((r) => r.route === "users").length
    // Each action waits at most for the page that already holds the budget's turn (and, rarely, one more
    // that took a slot while the action was in flight). The job sends one action at a time, so the sync's
    // next page takes the turn between two actions: the plan gets about half the budget, not all of it.
    expect(pagesBetween).toBeLessThanOrEqual(2 * (actions.length - 1))
    const finished = (await waitForSync(t.request, run.body.id, { timeoutMs: 60_000 })).body
    expect(finished.status).toBe("succeeded")
    const pagesAfter = sandbox.requests.slice(last).filter((r) => r.route === "users").length
    expect(pagesAfter).toBeGreaterThan(5)
    // The plan's actions drew on the sync's budget: together they went no faster than it allows. (Its
    // window-by-window pacing has its own tests, in test/trust/budget.test.ts.)
    const all = sandbox.requests
    const spanSeconds = (all.at(-1)!.at - all[0]!.at) / 1000
    expect(all.length).toBeLessThanOrEqual(budget.requests * (Math.ceil(spanSeconds / budget.windowSeconds) + 1))
    expect(all.filter((r) => r.status === 429)).toEqual([])
    console.log(
      `[priority] plan of ${actions.length} actions during a ${
        sandbox.requests.filter((r) => r.route === "users").length
      }-page sync at ` +
        `${budget.requests}/s: ${pagesBetween} pages between its first and last action, ${pagesAfter} pages still to come when it was done`
    )
  }, 60_000)
})
