/**
 * Concurrency in one host: simultaneous sync requests for one connection, and suspends issued while a
 * sync runs, which must share the organisation's one request budget with it.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { connect, eventually, makeSandbox, sync, UNPACED, waitForSync } from "../support/Org.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"

describe("concurrency in one host", () => {
  let host: TestHost
  const sandboxes: Array<AtlassianSandbox> = []
  beforeAll(async () => {
    host = await makeTestHost()
  })
  afterEach(async () => {
    for (const s of sandboxes.splice(0)) await s.close()
  })
  afterAll(async () => {
    await host?.close()
  })

  it("Should give two simultaneous sync requests one run and one 409", async () => {
    const sandbox = await makeSandbox()
    sandboxes.push(sandbox)
    const id = await connect(host.request, sandbox, { rateLimit: UNPACED })
    // Slow pages: the run is certainly still going when the second request is looked at.
    sandbox.injectFault({ kind: "slow", delayMs: 300 }, { on: "users", times: 3 })
    const answers = await Promise.all([
      host.request("POST", `/api/connections/${id}/syncs`),
      host.request("POST", `/api/connections/${id}/syncs`)
    ])
    expect(answers.map((a) => a.status).sort()).toEqual([202, 409])
    const started = answers.find((a) => a.status === 202)!
    const refused = answers.find((a) => a.status === 409)!
    expect(refused.body.error).toMatchObject({ code: "sync_running", details: { runId: started.body.id } })
    expect((await waitForSync(host.request, started.body.id)).body.status).toBe("succeeded")
    const runs = await host.request("GET", `/api/connections/${id}/syncs`)
    expect(runs.body.data.map((r: { id: string }) => r.id)).toEqual([started.body.id])
    // One run's worth of listing: the first page was asked for once.
    expect(sandbox.requests.filter((r) => r.route === "users" && r.query === "").length).toBe(1)
  })

  it("Should pace suspends issued during a sync within the organisation's one budget", async () => {
    // A 10 s window: the budget's jitter margin (50 ms + 1 % of the window) is then 150 ms, which a
    // loaded test machine needs; with 1 s windows (60 ms) arrival jitter alone can bunch six requests.
    // Six a window: the sync's five pages, its product instances and its directory search, with the four
    // suspends, take the same windows five did before the directory search.
    const budget = { requests: 6, windowSeconds: 10 }
    const sandbox = await makeSandbox({ users: 240, pageSize: 50 })
    sandboxes.push(sandbox)
    const id = await connect(host.request, sandbox, { rateLimit: UNPACED })
    expect((await sync(host.request, id)).body.status).toBe("succeeded")
    const targets = sandbox.users().filter((u) => u.account_status === "active" && u.managedBy === undefined).slice(
      0,
      4
    )
    expect(targets.length).toBe(4)

    // From now on the connection's budget is the organisation's limit, which the sandbox enforces: one
    // request too many in a window is a 429.
    const patched = await host.request("PATCH", `/api/connections/${id}`, { body: { config: { rateLimit: budget } } })
    expect(patched.status, patched.text).toBe(200)
    sandbox.setRateLimit({ ...budget, resetFormat: "seconds" })
    sandbox.resetLog()
    // The third page answers slowly, so the suspends surely ask for the budget while the sync still
    // needs it (on a loaded machine the sync could otherwise take the whole window before they arrive).
    sandbox.injectFault({ kind: "slow", delayMs: 2_000 }, { on: "users", afterRequests: 2 })
    const started = await host.request("POST", `/api/connections/${id}/syncs`)
    expect(started.status).toBe(202)
    // Three users pages asked for (the directory search for suspended members does not count): page 1 is
    // read, so the sync's reading of the targets is older than their suspends.
    await eventually(
      "the sync to be under way",
      () => sandbox.requests.filter((r) => r.route === "users").length >= 3 ? true : undefined
    )
    const suspends = await Promise.all(
      targets.map((u) =>
        host.request("POST", `/api/connections/${id}/accounts/${encodeURIComponent(u.account_id)}/suspend`, {
          body: { reason: "left the company" }
        })
      )
    )
    const run = await waitForSync(host.request, started.body.id)
    expect(run.body.status).toBe("succeeded")
    for (const s of suspends) expect(s.status, s.text).toBe(200)

    const log = sandbox.requests
    const users = log.filter((r) => r.route === "users")
    const lifecycle = log.filter((r) => r.route === "lifecycle")
    expect(users.length).toBe(5)
    expect(lifecycle.length).toBe(targets.length)
    // The suspends really overlapped the sync: they went out between its first and last page.
    expect(lifecycle[0]!.at).toBeGreaterThan(users[0]!.at)
    expect(lifecycle[0]!.at).toBeLessThan(users[users.length - 1]!.at)
    // Together they never exceeded the budget, so the sandbox never had to refuse one.
    const windowMs = budget.windowSeconds * 1000
    expect(sandbox.maxRequestsInAnyWindow(windowMs)).toBe(budget.requests)
    expect(log.filter((r) => r.status === 429)).toEqual([])
    expect(run.body.stats.rateLimited).toBe(0)
    // And the sync, which read these accounts (page 1) before they were suspended, did not undo the
    // suspends (invariant 11).
    expect(run.body.stats.adminActionsKept).toBe(targets.length)
    for (const u of targets) {
      const account = await host.request("GET", `/api/connections/${id}/accounts/${encodeURIComponent(u.account_id)}`)
      expect(account.body.status).toBe("suspended")
    }
    console.log(
      `[budget] sync + ${targets.length} suspends: ${log.length} requests, at most ` +
        `${
          sandbox.maxRequestsInAnyWindow(windowMs)
        } in any ${budget.windowSeconds} s (budget ${budget.requests}), 0 429s`
    )
  }, 60_000)
})
