/**
 * Issue 8, defect 2, and DESIGN invariant 10: a sync that would change a lot at once is held, not applied.
 * An organisation that suddenly lists nobody (`200 {"data": []}`: a lapsed domain verification) is always
 * held; so is a run that would deprovision more than the connection's share of active accounts (default
 * 10 %, `holdThresholdPercent`), and one with more absentees than it may look up (`maxLookups`). A held run
 * shows its counts, applies nothing, releases the lock, and waits for an admin: `POST /api/syncs/:id/apply`
 * or `/discard`, each audited with the actor. The next run supersedes it.
 *
 * Through the host's API against the sandbox, on SQLite and PostgreSQL.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { isDeepStrictEqual } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type OpenedStore, storeTargets } from "../support/Guarantees.js"
import { connect, listAccounts, makeSandbox, snapshot, statusOf, sync, UNPACED } from "../support/Org.js"
import { type ApiResponse, makeTestHost, type TestHost } from "../support/TestHost.js"

const figures = { held: 0, applied: 0, discarded: 0, superseded: 0, changedWhileHeld: 0 }
afterAll(() => {
  console.log(
    `[holds] ${figures.held} runs held (threshold, lookup cap, empty roster), ${figures.applied} applied and ` +
      `${figures.discarded} discarded by an admin, ${figures.superseded} superseded; ${figures.changedWhileHeld} changed data while held`
  )
})

describe.each(await storeTargets("the held-run tests"))("runs held for an admin ($name)", (target) => {
  let store: OpenedStore
  let t: TestHost
  let sandbox: AtlassianSandbox
  let id: string

  beforeAll(async () => {
    store = await target.open()
    t = await makeTestHost({ env: store.env })
    sandbox = await makeSandbox({ users: 100, pageSize: 50, seed: 3 })
    id = await connect(t.request, sandbox, { rateLimit: UNPACED })
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
  })
  afterAll(async () => {
    await t?.close()
    await sandbox?.close()
    await store?.close()
  })

  const activeCount = async () =>
    (await t.request("GET", `/api/connections/${id}/totals`)).body.byStatus.active as number
  /** `n` accounts active upstream, removed from the roster. */
  const removeActive = (n: number) => {
    const gone = sandbox.users().filter((u) => u.account_status === "active").slice(0, n).map((u) => u.account_id)
    for (const g of gone) sandbox.removeUser(g)
    return gone
  }
  const auditOf = async (runId: string) =>
    (await t.request("GET", `/api/audit?connectionId=${id}&limit=500`)).body.data.filter((e: { target: string }) =>
      e.target === runId
    )
  /** A held run: nothing it read changed what a user sees. */
  const expectHeld = async (run: ApiResponse, before: Awaited<ReturnType<typeof snapshot>>) => {
    expect(run.body.status, run.text).toBe("held")
    expect(run.body.error).toBeNull()
    expect(run.body.decision).toBeNull()
    expect(run.body.finishedAt).toEqual(expect.any(String))
    const after = await snapshot(t.request, id)
    if (!isDeepStrictEqual(after, before)) figures.changedWhileHeld++
    expect(after).toEqual(before)
    figures.held++
  }

  it("Should hold a run over the default 10 % threshold with its numbers, release the lock, and apply it when asked", async () => {
    const active = await activeCount()
    const n = Math.floor(active / 10) + 1
    const gone = removeActive(n)
    const before = await snapshot(t.request, id)
    const held = await sync(t.request, id, { audited: true })
    await expectHeld(held, before)
    expect(held.body.hold).toEqual({
      reason: "threshold",
      wouldDeprovision: n,
      absent: n,
      activeAccounts: active,
      thresholdPercent: 10,
      message: `applying it would deprovision ${n} accounts, more than 10 % of the ${active} active accounts`
    })
    // Every absentee was confirmed gone by a lookup before the run was held.
    expect(held.body.stats).toMatchObject({ lookups: n, absentConfirmed: n, deprovisioned: 0 })
    expect((await t.request("GET", `/api/connections/${id}`)).body.lastSync).toMatchObject({
      id: held.body.id,
      status: "held"
    })
    expect(await auditOf(held.body.id)).toContainEqual(
      expect.objectContaining({ action: "sync.finish", outcome: "held" })
    )

    // A held run does not keep the lock: the next run starts at once, and supersedes it.
    const again = await sync(t.request, id, { audited: true })
    await expectHeld(again, before)
    const superseded = (await t.request("GET", `/api/syncs/${held.body.id}`)).body
    expect(superseded).toMatchObject({
      status: "superseded",
      decision: { decision: "supersede", actor: "system", at: expect.any(String) }
    })
    figures.superseded++
    // A superseded run cannot be applied any more.
    const stale = await t.request("POST", `/api/syncs/${held.body.id}/apply`)
    expect(stale.status).toBe(409)

    const applied = await t.request("POST", `/api/syncs/${again.body.id}/apply`)
    expect(applied.status, applied.text).toBe(200)
    expect(applied.body).toMatchObject({
      status: "succeeded",
      decision: { decision: "apply", actor: "admin", at: expect.any(String) },
      stats: { deprovisioned: n, absentConfirmed: n }
    })
    figures.applied++
    for (const g of gone) expect(await statusOf(t.request, id, g)).toBe("deprovisioned")
    expect(await auditOf(again.body.id)).toContainEqual(expect.objectContaining({
      action: "sync.apply",
      actor: "admin",
      outcome: "ok",
      detail: expect.stringContaining(`applied: ${n} deprovisioned`)
    }))
    // Applied once: a second apply is refused, and audited as refused.
    expect((await t.request("POST", `/api/syncs/${again.body.id}/apply`)).status).toBe(409)
    expect(
      (await auditOf(again.body.id)).filter((e: { action: string; outcome: string }) =>
        e.action === "sync.apply" && e.outcome === "error"
      ).length
    ).toBe(1)
  })

  it("Should apply the same change unreviewed under a threshold the connection raised", async () => {
    expect(
      (await t.request("PATCH", `/api/connections/${id}`, { body: { holdThresholdPercent: 50 } })).body
        .holdThresholdPercent
    ).toBe(50)
    const active = await activeCount()
    const n = Math.floor(active / 10) + 1
    const gone = removeActive(n)
    const run = await sync(t.request, id)
    expect(run.body).toMatchObject({ status: "succeeded", hold: null, stats: { deprovisioned: n } })
    for (const g of gone) expect(await statusOf(t.request, id, g)).toBe("deprovisioned")
  })

  it("Should hold a run with more absentees than its lookup cap, and discard it when asked", async () => {
    expect((await t.request("PATCH", `/api/connections/${id}`, { body: { maxLookups: 2 } })).status).toBe(200)
    const gone = removeActive(3)
    const before = await snapshot(t.request, id)
    const held = await sync(t.request, id, { audited: true })
    await expectHeld(held, before)
    // Three absentees, two lookups allowed: none is looked up, the admin decides.
    expect(held.body.hold).toMatchObject({ reason: "lookupCap", absent: 3 })
    expect(held.body.hold.message).toContain("more than the 2 a run confirms one by one")
    expect(held.body.stats.lookups).toBe(0)
    expect(sandbox.requests.filter((r) => r.route === "profile" && r.at >= Date.parse(held.body.startedAt))).toEqual([])

    const discarded = await t.request("POST", `/api/syncs/${held.body.id}/discard`)
    expect(discarded.status, discarded.text).toBe(200)
    expect(discarded.body).toMatchObject({ status: "discarded", decision: { decision: "discard", actor: "admin" } })
    figures.discarded++
    expect(await snapshot(t.request, id)).toEqual(before)
    expect(await auditOf(held.body.id)).toContainEqual(
      expect.objectContaining({ action: "sync.discard", actor: "admin", outcome: "ok" })
    )
    // A discarded run is decided: neither apply nor discard again.
    expect((await t.request("POST", `/api/syncs/${held.body.id}/apply`)).status).toBe(409)
    expect((await t.request("POST", `/api/syncs/${held.body.id}/discard`)).status).toBe(409)

    // With the cap raised, the next run confirms them one by one and applies.
    expect((await t.request("PATCH", `/api/connections/${id}`, { body: { maxLookups: 1000 } })).status).toBe(200)
    const next = await sync(t.request, id)
    expect(next.body).toMatchObject({
      status: "succeeded",
      stats: { lookups: 3, absentConfirmed: 3, deprovisioned: 3 }
    })
    for (const g of gone) expect(await statusOf(t.request, id, g)).toBe("deprovisioned")
  })

  it("Should always hold an empty roster after a non-empty one, whatever the threshold, until an admin decides", async () => {
    expect((await t.request("PATCH", `/api/connections/${id}`, { body: { holdThresholdPercent: 100 } })).status).toBe(
      200
    )
    const live = (await listAccounts(t.request, id)).filter((a) => a.status !== "deprovisioned").length
    const before = await snapshot(t.request, id)
    // The organisation's domain verification lapsed: the v1 listing answers `200 {"data": []}`.
    sandbox.setEmptyOrg(true)
    try {
      const held = await sync(t.request, id, { audited: true })
      await expectHeld(held, before)
      expect(held.body.stats).toMatchObject({ accounts: 0, created: 0, updated: 0, deprovisioned: 0, totalAtEnd: 0 })
      // The accounts still answer a lookup (their profiles are there): applying would deprovision none, yet the
      // run is held, for an admin to look at what happened to the listing.
      expect(held.body.hold).toMatchObject({
        reason: "emptyRoster",
        absent: live,
        wouldDeprovision: 0,
        thresholdPercent: 100
      })
      expect(held.body.stats).toMatchObject({ lookups: live, absentButPresent: live, absentConfirmed: 0 })
      expect(held.body.hold.message).toContain(`the listing returned no accounts where ${live} accounts were`)
      // Not wiped: every account keeps its status and entitlements.
      expect((await listAccounts(t.request, id)).filter((a) => a.status !== "deprovisioned").length).toBe(live)
      const discarded = await t.request("POST", `/api/syncs/${held.body.id}/discard`)
      expect(discarded.body.status).toBe("discarded")
      figures.discarded++
      expect(await snapshot(t.request, id)).toEqual(before)
    } finally {
      sandbox.setEmptyOrg(false)
    }
    // The organisation is back: an ordinary run, nothing changed.
    const back = await sync(t.request, id)
    expect(back.body).toMatchObject({ status: "succeeded", stats: { deprovisioned: 0, created: 0 } })
  })
})
