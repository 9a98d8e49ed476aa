/**
 * Issue 8, defect 1 (DESIGN invariant 2): a roster that changes while it is paged must not deprovision
 * present accounts. Atlassian pages with an offset-like cursor, so an account that leaves an earlier page
 * shifts every later one: the account that slides back across the page boundary is never listed. Absence
 * from one listing is evidence, never proof: every absentee is looked up, a present one keeps its state
 * (`stats.absentButPresent`), and only one the lookup confirms gone is deprovisioned (`absentConfirmed`).
 *
 * Through the host's API against the sandbox (its `rosterChange` scenario), on SQLite and PostgreSQL.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { type OpenedStore, storeTargets } from "../support/Guarantees.js"
import { connect, expectMatchesRoster, listAccounts, makeSandbox, statusOf, sync, UNPACED } from "../support/Org.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"

const PAGE = 50

const figures = { listings: 0, skipped: 0, keptPresent: 0, confirmedGone: 0, presentDeprovisioned: 0 }
afterAll(() => {
  console.log(
    `[roster] ${figures.listings} listings shifted while paging: ${figures.skipped} present accounts skipped by the cursor, ` +
      `${figures.keptPresent} kept (absentButPresent), ${figures.confirmedGone} gone accounts confirmed by lookup, ` +
      `${figures.presentDeprovisioned} present accounts deprovisioned`
  )
})

describe.each(await storeTargets("the roster-shift tests"))(
  "a roster that changes while it is paged ($name)",
  (target) => {
    let store: OpenedStore
    let t: TestHost
    let sandbox: AtlassianSandbox
    let id: string
    const removed: Array<string> = []

    beforeAll(async () => {
      store = await target.open()
      t = await makeTestHost({ env: store.env })
      sandbox = await makeSandbox({ users: 240, pageSize: PAGE })
      id = await connect(t.request, sandbox, { rateLimit: UNPACED })
      expect((await sync(t.request, id)).body.status).toBe("succeeded")
    })
    afterAll(async () => {
      await t?.close()
      await sandbox?.close()
      await store?.close()
    })

    /** The managed roster's account at `index`. */
    const at = (index: number) => sandbox.users({ claimStatus: "managed" })[index]!
    /** The first `n` accounts of page `page` (1-based) that are not closed upstream. */
    const liveOnPage = (page: number, n: number) =>
      sandbox.users({ claimStatus: "managed" }).slice((page - 1) * PAGE, page * PAGE).filter((u) =>
        u.account_status !== "closed"
      )
        .slice(0, n).map((u) => u.account_id)

    it("Should keep the account the cursor skipped when one leaves an earlier page and another joins (the total matches)", async () => {
      // After page 2 is served, someone on page 1 leaves and a newcomer joins at the end: the total stays 240,
      // but the account first on page 3 slides back onto page 2, which was already read.
      const leaver = at(10)
      const skipped = at(2 * PAGE)
      expect(skipped.account_status).not.toBe("closed")
      const statusBefore = await statusOf(t.request, id, skipped.account_id)
      sandbox.resetLog()
      sandbox.injectFault({ kind: "rosterChange", afterPage: 2, remove: [leaver.account_id], add: 1 })
      const run = (await sync(t.request, id)).body
      expect(run.status, JSON.stringify(run.error)).toBe("succeeded")
      expect(run.stats).toMatchObject({
        accounts: 240,
        totalAtStart: 240,
        totalAtEnd: 240,
        created: 1,
        lookups: 1,
        absentButPresent: 1,
        absentConfirmed: 0,
        deprovisioned: 0
      })
      // The listing looked complete (as many accounts as the total), yet one present account was missing:
      // the lookup found it, and it keeps its state, with nothing in its history from this run.
      expect(sandbox.requests.filter((r) => r.route === "profile").map((r) => [r.path, r.status])).toEqual([
        [`/users/${encodeURIComponent(skipped.account_id)}/manage/profile`, 200]
      ])
      expect(await statusOf(t.request, id, skipped.account_id)).toBe(statusBefore)
      const detail = await t.request("GET", `/api/connections/${id}/accounts/${encodeURIComponent(skipped.account_id)}`)
      expect(detail.body.history.filter((e: { runId: string | null }) => e.runId === run.id)).toEqual([])
      figures.listings++
      figures.skipped++
      figures.keptPresent += run.stats.absentButPresent

      // The leaver was listed before it left; the next sync finds it gone, confirms it, and deprovisions it.
      removed.push(leaver.account_id)
      const next = (await sync(t.request, id)).body
      expect(next.stats).toMatchObject({ absentConfirmed: 1, absentButPresent: 0, deprovisioned: 1, lookups: 1 })
      figures.confirmedGone += next.stats.absentConfirmed
      expectMatchesRoster(await listAccounts(t.request, id), sandbox, removed)
    })

    it("Should keep the skipped accounts when accounts only leave (the total moves), deprovisioning only those truly gone", async () => {
      // After page 2: three accounts of page 2 leave (already listed), and two of page 4 leave (never listed).
      // The three accounts that open page 3 slide back onto page 2 and are skipped.
      const listedLeavers = liveOnPage(2, 3)
      const unlistedLeavers = liveOnPage(4, 2)
      const skipped = [2 * PAGE, 2 * PAGE + 1, 2 * PAGE + 2].map((i) => at(i))
      const statusesBefore = await Promise.all(skipped.map((u) => statusOf(t.request, id, u.account_id)))
      expect(statusesBefore).not.toContain("deprovisioned")
      const total = sandbox.users({ claimStatus: "managed" }).length
      sandbox.resetLog()
      sandbox.injectFault({ kind: "rosterChange", afterPage: 2, remove: [...listedLeavers, ...unlistedLeavers] })
      const run = (await sync(t.request, id)).body
      expect(run.status, JSON.stringify(run.error)).toBe("succeeded")
      expect(run.stats).toMatchObject({
        totalAtStart: total,
        totalAtEnd: total - 5,
        rosterShifted: true,
        lookups: 5,
        absentButPresent: 3,
        absentConfirmed: 2,
        deprovisioned: 2
      })
      // The cursors after the change were stale, and the sandbox served them as an offset cursor would.
      expect(sandbox.requests.some((r) => r.route === "users" && r.staleCursor === true)).toBe(true)
      expect(await Promise.all(skipped.map((u) => statusOf(t.request, id, u.account_id)))).toEqual(statusesBefore)
      for (const gone of unlistedLeavers) expect(await statusOf(t.request, id, gone)).toBe("deprovisioned")
      // Accounts listed before they left stay until a listing no longer has them.
      for (const listed of listedLeavers) expect(await statusOf(t.request, id, listed)).not.toBe("deprovisioned")
      figures.listings++
      figures.skipped += skipped.length
      figures.keptPresent += run.stats.absentButPresent
      figures.confirmedGone += run.stats.absentConfirmed

      removed.push(...listedLeavers, ...unlistedLeavers)
      const next = (await sync(t.request, id)).body
      expect(next.stats).toMatchObject({ absentConfirmed: 3, absentButPresent: 0, deprovisioned: 3 })
      figures.confirmedGone += next.stats.absentConfirmed
      expectMatchesRoster(await listAccounts(t.request, id), sandbox, removed)
      // No present account was deprovisioned at any point: every deprovisioned one is gone upstream.
      const present = new Set(sandbox.users().map((u) => u.account_id))
      const deprovisionedPresent = (await listAccounts(t.request, id, "&status=deprovisioned"))
        .filter((a) => present.has(a.externalId) && sandbox.user(a.externalId)!.account_status !== "closed")
      expect(deprovisionedPresent).toEqual([])
      figures.presentDeprovisioned += deprovisionedPresent.length
    })
  }
)
