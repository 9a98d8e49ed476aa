/**
 * Issue 8, defect 5 (DESIGN invariant 11): what an admin did wins over what a sync read before it. A
 * suspend (or restore) issued while a sync is paging is not undone when that sync commits its older reading
 * of the account (`stats.adminActionsKept`); the next run reads the account as it now is and confirms it.
 *
 * Through the host's API against the sandbox, on SQLite and PostgreSQL.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type OpenedStore, storeTargets } from "../support/Guarantees.js"
import { connect, eventually, makeSandbox, startSync, statusOf, sync, UNPACED, waitForSync } from "../support/Org.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"

const PAGE = 50
const figures = { actions: 0, undone: 0 }
afterAll(() => {
  console.log(
    `[admin-actions] ${figures.actions} suspends and restores issued while a sync paged: ${figures.undone} undone by it`
  )
})

describe.each(await storeTargets("the admin-action tests"))("an admin's action during a sync ($name)", (target) => {
  let store: OpenedStore
  let t: TestHost
  let sandbox: AtlassianSandbox
  let id: string

  beforeAll(async () => {
    store = await target.open()
    t = await makeTestHost({ env: store.env })
    sandbox = await makeSandbox({ users: 200, pageSize: PAGE, seed: 9 })
    id = await connect(t.request, sandbox, { rateLimit: UNPACED })
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
  })
  afterAll(async () => {
    await t?.close()
    await sandbox?.close()
    await store?.close()
  })

  const act = (action: "suspend" | "restore", externalId: string) =>
    t.request("POST", `/api/connections/${id}/accounts/${encodeURIComponent(externalId)}/${action}`, {
      body: { reason: "invariant 11" }
    })
  const historyOf = async (externalId: string) =>
    (await t.request("GET", `/api/connections/${id}/accounts/${encodeURIComponent(externalId)}`)).body.history as Array<
      {
        from: string
        to: string
        cause: string
        runId: string | null
      }
    >

  it("Should keep a suspend and a restore issued while the sync pages, and confirm them on the next run", async () => {
    // Two accounts on page 1, which the sync reads before the admin acts: one to suspend, one suspended
    // beforehand and restored during the sync.
    const [toSuspend, toRestore] = sandbox.users().slice(0, PAGE).filter((u) =>
      u.account_status === "active" && u.managedBy === undefined
    )
    expect((await act("suspend", toRestore!.account_id)).status).toBe(200)
    expect(await statusOf(t.request, id, toRestore!.account_id)).toBe("suspended")

    // Later pages answer slowly, so the admin acts after page 1 was read and before the run commits.
    sandbox.resetLog()
    sandbox.injectFault({ kind: "slow", delayMs: 700 }, { on: "users", afterRequests: 1, times: 2 })
    const run = await startSync(t.request, id)
    await eventually(
      "page 1 to be read",
      () => (sandbox.requests.filter((r) => r.route === "users" && r.status === 200).length >= 1 ? true : undefined)
    )
    expect((await act("suspend", toSuspend!.account_id)).status).toBe(200)
    expect((await act("restore", toRestore!.account_id)).status).toBe(200)
    figures.actions += 2
    // Upstream agrees with the admin now, but the run holds the older reading of page 1.
    expect(sandbox.user(toSuspend!.account_id)!.account_status).toBe("inactive")
    expect(sandbox.user(toRestore!.account_id)!.account_status).toBe("active")
    const done = (await waitForSync(t.request, run.body.id)).body
    expect(done.status, JSON.stringify(done.error)).toBe("succeeded")
    expect(done.stats.adminActionsKept).toBe(2)

    const suspended = await statusOf(t.request, id, toSuspend!.account_id)
    const restored = await statusOf(t.request, id, toRestore!.account_id)
    if (suspended !== "suspended") figures.undone++
    if (restored !== "active") figures.undone++
    expect(suspended).toBe("suspended")
    expect(restored).toBe("active")
    // The run wrote no status event over either action.
    for (const acc of [toSuspend!, toRestore!]) {
      expect((await historyOf(acc.account_id)).filter((e) => e.runId === done.id)).toEqual([])
    }

    // The next run reads both as the admin left them: nothing to keep, nothing to change.
    const next = (await sync(t.request, id)).body
    expect(next.status).toBe("succeeded")
    expect(next.stats.adminActionsKept).toBe(0)
    expect(await statusOf(t.request, id, toSuspend!.account_id)).toBe("suspended")
    expect(await statusOf(t.request, id, toRestore!.account_id)).toBe("active")
    // Their histories: created by the first sync, then only what the admin did.
    const events = async (externalId: string) =>
      (await historyOf(externalId)).map((e) => `${e.from}>${e.to}:${e.cause}`).sort()
    expect(await events(toSuspend!.account_id)).toEqual(["active>suspended:suspend", "null>active:sync"])
    expect(await events(toRestore!.account_id)).toEqual([
      "active>suspended:suspend",
      "null>active:sync",
      "suspended>active:restore"
    ])
  })
})
