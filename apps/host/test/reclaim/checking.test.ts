/**
 * Making a plan does not wait for the provider's answers about each account: at Atlassian's ~200 requests a
 * minute, a plan of 18,000 accounts takes an hour and a half to check, longer than any request waits. The
 * plan is saved `checking` and answered at once; a job asks the provider about each account (ahead of
 * syncs' pages in the budget) and the plan goes to review when every account has its answer. Meanwhile it
 * cannot be approved, its progress is in `GET /api/plans/:id`, and it can be cancelled. A host stopped mid-
 * check resumes it when it starts again; a provider that refuses the credentials cancels it, saying why.
 *
 * Through the host's API against the sandbox (each preflight slowed down), on SQLite.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connect, eventually, makeSandbox, sync, UNPACED } from "../support/Org.js"
import { createPolicy, expectStatus, JIRA, person, planItems, waitForPlan } from "../support/Reclaim.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"

// A short lease, so that a host started after another stopped takes its plans over within a second.
const LEASE_MS = 1_000
const env = { SEATKEEPER_LEASE_MS: String(LEASE_MS) }
const people = Array.from({ length: 24 }, (_, i) => person(`c-${i + 1}`, `Casey ${i + 1}`, [[JIRA, 200]]))
// Four preflights at a time, each a second: 6 s for the 24, twice what making a plan waits (3 s).
const slowPreflights = (sandbox: AtlassianSandbox) => {
  sandbox.clearFaults()
  sandbox.injectFault({ kind: "slow", delayMs: 1_000 }, { on: "manage", times: 10_000 })
}

describe("a plan checked with the provider after it is saved", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let id: string
  const dataDir = mkdtempSync(join(tmpdir(), "seatkeeper-checking-"))
  const policy = async (name: string) =>
    createPolicy(t.request, id, { name, scope: { _tag: "accounts" }, inactiveDays: 90, fourEyesAbove: 1_000 })
  const post = async (policyId: string) =>
    expectStatus(await t.request("POST", `/api/policies/${policyId}/plans`), 201, "making a plan").body

  beforeAll(async () => {
    sandbox = await makeSandbox({ users: people })
    t = await makeTestHost({ dataDir, env })
    id = await connect(t.request, sandbox, { rateLimit: UNPACED })
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
  })
  afterAll(async () => {
    await t?.close()
    await sandbox?.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it("Should answer at once, refuse approval while checking, show its progress, and go to review with every account's answer", async () => {
    slowPreflights(sandbox)
    const made = await post((await policy("Idle 90")).id)
    expect(made.status).toBe("checking")
    expect(made.accounts).toBe(24)
    expect(made.progress.unchecked).toBeGreaterThan(0)

    const early = await t.request("POST", `/api/plans/${made.id}/approve`)
    expect(early.status).toBe(409)
    expect(early.body.error.message).toMatch(/still being asked about the plan's accounts \(\d+ of 24 checked\)/)

    // The answers are written as they come (every 2 s at the latest), not once all 24 are in: the progress
    // moves while the provider is slow.
    const unchecked = new Set<number>()
    const reviewed = await eventually(
      "the plan to be in review",
      async () => {
        const plan = expectStatus(await t.request("GET", `/api/plans/${made.id}`), 200, "reading the plan").body
        if (plan.status === "checking") unchecked.add(plan.progress.unchecked)
        return plan.status === "review" ? plan : undefined
      },
      60_000,
      100
    )
    expect(reviewed.progress.unchecked).toBe(0)
    expect([...unchecked].some((n) => n > 0 && n < 24)).toBe(true)
    const items = await planItems(t.request, made.id)
    expect(items.map((i) => i.preflight?.method)).toEqual(Array(24).fill("lifecycle"))
    expect(expectStatus(await t.request("POST", `/api/plans/${made.id}/approve`), 200, "approving").body.status)
      .toBe("approved")
  })

  it("Should stop checking a plan that is cancelled", async () => {
    slowPreflights(sandbox)
    const made = await post((await policy("Idle 90, cancelled")).id)
    expect(made.status).toBe("checking")
    const cancelled = expectStatus(await t.request("POST", `/api/plans/${made.id}/cancel`), 200, "cancelling")
    expect(cancelled.body.status).toBe("cancelled")
    const asked = () => sandbox.requests.filter((r) => r.route === "manage").length
    const askedThen = asked()
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    // The preflights already sent when it was cancelled may answer; none is sent after them.
    expect(asked() - askedThen).toBeLessThanOrEqual(4)
    const after = expectStatus(await t.request("GET", `/api/plans/${made.id}`), 200, "reading the plan").body
    expect(after.status).toBe("cancelled")
  })

  it("Should resume the check after a restart or an outage, and cancel it, saying why, when the provider refuses the key", async () => {
    slowPreflights(sandbox)
    const made = await post((await policy("Idle 90, restarted")).id)
    expect(made.status).toBe("checking")
    await t.close({ keepData: true })
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 300))
    t = await makeTestHost({ dataDir, env })
    const resumed = await waitForPlan(t.request, made.id, ["review"])
    expect(resumed.progress.unchecked).toBe(0)
    expect((await planItems(t.request, made.id)).every((i) => i.preflight !== null)).toBe(true)

    // Atlassian unavailable (503 past the retries): the check pauses, the plan stays checking, and a start
    // after the outage resumes it.
    sandbox.clearFaults()
    sandbox.injectFault({ kind: "status", status: 503, shape: "empty" }, { on: "manage", times: 10_000 })
    const paused = await post((await policy("Idle 90, outage")).id)
    await eventually(
      "the check to give up for now",
      async () =>
        sandbox.requests.filter((r) => r.route === "manage" && r.status === 503).length >= 5 ? true : undefined,
      30_000,
      100
    )
    await new Promise((resolve) => setTimeout(resolve, 500))
    const during = expectStatus(await t.request("GET", `/api/plans/${paused.id}`), 200, "reading the plan").body
    expect([during.status, during.progress.unchecked]).toEqual(["checking", 24])
    sandbox.clearFaults()
    await t.close({ keepData: true })
    await new Promise((resolve) => setTimeout(resolve, LEASE_MS + 300))
    t = await makeTestHost({ dataDir, env })
    expect((await waitForPlan(t.request, paused.id, ["review"])).progress.unchecked).toBe(0)

    sandbox.clearFaults()
    sandbox.injectFault({ kind: "status", status: 401, shape: "empty" }, { on: "manage", times: 10_000 })
    const refused = await post((await policy("Idle 90, key revoked")).id)
    const ended = await waitForPlan(t.request, refused.id, ["cancelled"])
    expect(ended.cancelledBy).toBe("system")
    expect(ended.stoppedBecause).toMatch(/^the provider could not be asked about the accounts: /)
  })
})
