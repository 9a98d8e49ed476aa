import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connect, makeSandbox, sync, waitForSync } from "./support/Org.js"
import { makeTestHost, type TestHost } from "./support/TestHost.js"

describe("syncs", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let connectionId: string
  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 240, pageSize: 50 })
    t = await makeTestHost()
    connectionId = await connect(t.request, sandbox)
  })
  afterAll(async () => {
    await t.close()
    await sandbox.close()
  })

  it("Should start a sync with 202 and report it succeeded with its stats", async () => {
    const started = await t.request("POST", `/api/connections/${connectionId}/syncs`)
    expect(started.status).toBe(202)
    expect(started.body).toMatchObject({ id: expect.any(String), status: "running" })
    const done = await waitForSync(t.request, started.body.id)
    expect(done.body).toMatchObject({
      id: started.body.id,
      connectionId,
      status: "succeeded",
      startedAt: expect.any(String),
      finishedAt: expect.any(String),
      error: null,
      hold: null,
      decision: null,
      stats: {
        accounts: 240,
        created: 240,
        updated: 0,
        unchanged: 0,
        deprovisioned: 0,
        entitlementsDeprovisioned: 0,
        absentConfirmed: 0,
        absentButPresent: 0,
        absentPending: 0,
        lookups: 0,
        adminActionsKept: 0,
        totalAtStart: 240,
        totalAtEnd: 240,
        rosterShifted: false,
        retries: 0,
        rateLimited: 0
      }
    })
    // 240 accounts in pages of 50, and the product instances.
    expect(done.body.stats.requests).toBeGreaterThanOrEqual(6)
    expect(done.body.stats.licenses).toBeGreaterThan(0)
    const accounts = await t.request("GET", `/api/connections/${connectionId}/accounts?limit=1`)
    expect(accounts.body.total).toBe(240)
    const connection = await t.request("GET", `/api/connections/${connectionId}`)
    expect(connection.body.lastSync).toMatchObject({ id: started.body.id, status: "succeeded" })
  })

  it("Should answer 409 with the running run's id while a sync runs", async () => {
    // Slow pages keep the first sync running while the second is asked for.
    sandbox.injectFault({ kind: "slow", delayMs: 400 }, { on: "users", times: 5 })
    const first = await t.request("POST", `/api/connections/${connectionId}/syncs`)
    expect(first.status).toBe(202)
    const second = await t.request("POST", `/api/connections/${connectionId}/syncs`)
    expect(second.status).toBe(409)
    expect(second.body.error).toMatchObject({ code: "sync_running", details: { runId: first.body.id } })
    // Nor can the connection be deleted under a running sync.
    const deleted = await t.request("DELETE", `/api/connections/${connectionId}`)
    expect(deleted.status).toBe(409)
    const done = await waitForSync(t.request, first.body.id)
    expect(done.body.status).toBe("succeeded")
    // Nothing changed upstream: every account read as it was.
    expect(done.body.stats).toMatchObject({ accounts: 240, created: 0, updated: 0, unchanged: 240 })
    sandbox.clearFaults()
  })

  it("Should list a connection's runs, newest first", async () => {
    const res = await t.request("GET", `/api/connections/${connectionId}/syncs`)
    expect(res.status).toBe(200)
    expect(res.body.data.length).toBe(2)
    expect(res.body.data.every((r: { status: string }) => r.status === "succeeded")).toBe(true)
    expect(Date.parse(res.body.data[0].startedAt)).toBeGreaterThanOrEqual(Date.parse(res.body.data[1].startedAt))
    expect(res.body.nextCursor).toBeNull()
    expect((await t.request("GET", `/api/connections/${connectionId}/syncs?limit=0`)).status).toBe(400)
  })

  it("Should page through a history longer than one limit, every run once, and refuse a cursor it did not give", async () => {
    for (let i = 0; i < 3; i++) await sync(t.request, connectionId)
    const all = (await t.request("GET", `/api/connections/${connectionId}/syncs`)).body.data.map((r: { id: string }) =>
      r.id
    )
    expect(all.length).toBe(5)
    const seen: Array<string> = []
    let cursor: string | null = null
    do {
      const query: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`
      const page = await t.request("GET", `/api/connections/${connectionId}/syncs?limit=2${query}`)
      expect(page.status).toBe(200)
      expect(page.body.data.length).toBeLessThanOrEqual(2)
      seen.push(...page.body.data.map((r: { id: string }) => r.id))
      cursor = page.body.nextCursor ?? null
    } while (cursor !== null)
    expect(seen).toEqual(all)
    for (const junk of ["junk", "W10", Buffer.from("[1,2]").toString("base64url")]) {
      const bad = await t.request("GET", `/api/connections/${connectionId}/syncs?cursor=${junk}`)
      expect(bad.status, junk).toBe(400)
      expect(bad.body.error.details.issues[0]).toMatchObject({ path: ["cursor"] })
      expect(bad.body.error.message).toContain("start again without it")
    }
  })

  it("Should leave every account as it was when a sync fails", async () => {
    const before = await t.request("GET", `/api/connections/${connectionId}/accounts?limit=500`)
    // Users gone upstream would be deprovisioned by a complete sync; this one fails on a permanent 403.
    const gone = sandbox.users().slice(0, 10).map((u) => u.account_id)
    for (const id of gone) sandbox.removeUser(id)
    sandbox.injectFault({ kind: "status", status: 403, shape: "noperms" }, {
      on: "users",
      afterRequests: 1,
      times: Infinity
    })
    const failed = await sync(t.request, connectionId)
    sandbox.clearFaults()
    expect(failed.body.status).toBe("failed")
    expect(failed.body.hold).toBeNull()
    expect(failed.body.error).toMatchObject({ reason: "Forbidden", message: expect.any(String) })
    expect(failed.body.error.hint).toEqual(expect.any(String))
    const after = await t.request("GET", `/api/connections/${connectionId}/accounts?limit=500`)
    expect(after.body.total).toBe(before.body.total)
    expect(after.body.data).toEqual(before.body.data)
    for (const id of gone) {
      const account = await t.request("GET", `/api/connections/${connectionId}/accounts/${encodeURIComponent(id)}`)
      const prior = before.body.data.find((a: { externalId: string }) => a.externalId === id)
      expect(account.body.status).toBe(prior.status)
      expect(account.body.history.filter((e: { runId: string | null }) => e.runId === failed.body.id)).toEqual([])
    }

    // The next complete sync does deprovision them, once a lookup of each confirms it is gone.
    const wasLive = gone.filter((id) =>
      before.body.data.find((a: { externalId: string }) => a.externalId === id).status !== "deprovisioned"
    )
    sandbox.resetLog()
    const ok = await sync(t.request, connectionId)
    expect(ok.body.status).toBe("succeeded")
    expect(ok.body.stats).toMatchObject({
      deprovisioned: wasLive.length,
      absentConfirmed: wasLive.length,
      absentButPresent: 0,
      lookups: wasLive.length
    })
    expect(sandbox.requests.filter((r) => r.route === "profile").map((r) => r.status)).toEqual(wasLive.map(() => 404))
    const first = await t.request("GET", `/api/connections/${connectionId}/accounts/${encodeURIComponent(gone[0]!)}`)
    expect(first.body.status).toBe("deprovisioned")
  })

  it("Should answer 404 for an unknown run or connection", async () => {
    expect((await t.request("GET", "/api/syncs/nope")).body.error.code).toBe("sync_not_found")
    expect((await t.request("POST", "/api/connections/nope/syncs")).status).toBe(404)
    expect((await t.request("GET", "/api/connections/nope/syncs")).status).toBe(404)
  })
})
