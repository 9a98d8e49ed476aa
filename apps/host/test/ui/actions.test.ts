/**
 * The pages that act on a synced organisation, over HTTP against the Atlassian sandbox: suspend and
 * restore through their forms (a dry run shows the provider's preflight answer, a refusal its hint), every
 * count of the dashboard and the products page against the list it opens, the seats and accounts lists
 * (sorting, previous and next, page size, per-product activity), the account page, testing a saved
 * connection, "Sync now" while a sync runs, the audit log, and held runs applied and discarded through
 * their forms.
 */
import type { AtlassianSandbox, SandboxUser } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connect, eventually, makeSandbox, sync, UNPACED } from "../support/Org.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"
import {
  apiPathOf,
  type Browser,
  browserSession,
  countLinks,
  linkTo,
  rowIdsOf,
  totalOf,
  unescapeHtml
} from "./pageTools.js"

describe("web pages acting on a synced organisation", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let b: Browser
  let connectionId: string
  const scimId = "557058:scim-managed-0001"
  const p = () => `/connections/${encodeURIComponent(connectionId)}`
  const accountPath = (id: string) => `${p()}/accounts/${encodeURIComponent(id)}`
  const accountApi = (id: string) => `/api/connections/${connectionId}/accounts/${encodeURIComponent(id)}`
  const api = async (path: string) => {
    const res = await t.request("GET", path)
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.text}`)
    return res.body
  }

  /** Every count link of a page leads to a list whose total, on the page and in the API, is the count shown. */
  const expectCountsAddUp = async (html: string) => {
    const links = countLinks(html)
    expect(links.length).toBeGreaterThan(0)
    for (const link of links) {
      const list = await b.get(link.href)
      expect(list.status, link.href).toBe(200)
      const expected = { href: link.href, total: link.shown }
      expect({ href: link.href, total: totalOf(list.text) }).toEqual(expected)
      expect({ href: link.href, total: (await api(apiPathOf(link.href))).total }).toEqual(expected)
    }
    return links
  }

  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 120, pageSize: 50, seed: 3 })
    sandbox.addUsers([
      {
        account_id: scimId,
        name: "Scim Managed",
        email: "scim@acme.example",
        account_status: "active",
        managedBy: "scim"
      }
    ])
    t = await makeTestHost({ pages: true })
    b = await browserSession(t.request, t.login)
    connectionId = await connect(t.request, sandbox, {
      name: "Sandbox",
      rateLimit: UNPACED,
      settings: { holdThresholdPercent: 5 }
    })
    const run = await sync(t.request, connectionId, { audited: true })
    if (run.body.status !== "succeeded") throw new Error(`first sync: ${run.text}`)
  }, 120_000)
  afterAll(async () => {
    await t?.close()
    await sandbox?.close()
  })

  it("Should answer a dry run with the provider's preflight on the confirmation, and show the refusal's hint", async () => {
    const confirm = await b.get(`${accountPath(scimId)}/suspend`)
    expect(confirm.status).toBe(200)
    expect(confirm.text).toContain("Suspend Scim Managed?")
    expect(confirm.text).toMatch(/<textarea id="reason" name="reason" maxlength="500"/)
    expect(confirm.text).toMatch(/<button type="submit" name="dryRun" value="on"[^>]*>Dry run<\/button>/)

    const dry = await b.post(`${accountPath(scimId)}/suspend`, { reason: "offboarding", dryRun: "on" })
    expect(dry.status).toBe(200)
    expect(dry.text).toContain("Dry run: the provider would refuse this")
    expect(dry.text).toMatch(/<p class="dry-run-summary">Would be refused: [^<]*SCIM[^<]*<\/p>/)
    // Still the confirmation, with the reason kept: the admin can go on or cancel.
    expect(dry.text).toContain("Suspend Scim Managed?")
    expect(dry.text).toMatch(/<textarea[^>]*>offboarding<\/textarea>/)
    expect(sandbox.requests.filter((r) => r.route === "lifecycle")).toEqual([])

    const res = await b.post(`${accountPath(scimId)}/suspend`, { reason: "offboarding" })
    expect(res.status).toBe(409)
    expect(res.text).toContain("Not suspended")
    expect(res.text).toContain(
      "This account is provisioned by SCIM from your identity provider: suspend or deactivate it there."
    )
    expect(res.text).toMatch(/<textarea[^>]*>offboarding<\/textarea>/)
    expect((await api(`/api/connections/${connectionId}/accounts/${encodeURIComponent(scimId)}`)).status).toBe("active")
  })

  it("Should refuse a reason longer than 500 characters next to the field", async () => {
    const user = sandbox.users().find((u) => u.account_status === "active" && u.managedBy === undefined)!
    const res = await b.post(`${accountPath(user.account_id)}/suspend`, { reason: "x".repeat(501) })
    expect(res.status).toBe(400)
    expect(res.text).toContain(`<p class="error" id="reason-error">reason must be at most 500 characters</p>`)
    expect(
      sandbox.requests.filter((r) => r.route === "lifecycle" && r.path.includes(encodeURIComponent(user.account_id)))
    ).toEqual([])
  })

  it("Should offer Restore for a suspended account and restore it through the form", async () => {
    const user = sandbox.users().find((u) => u.account_status === "inactive" && u.managedBy === undefined)!
    const list = await b.get(`${p()}/accounts?status=suspended&q=${encodeURIComponent(user.account_id)}`)
    expect(list.status).toBe(200)
    expect(list.text).toContain(`href="${accountPath(user.account_id)}/restore"`)
    expect(list.text).not.toContain(`href="${accountPath(user.account_id)}/suspend"`)

    const res = await b.post(`${accountPath(user.account_id)}/restore`, { reason: "came back" })
    expect(res.status).toBe(200)
    expect(res.text).toContain("Account restored")
    expect(res.text).toContain("suspended → active")
    expect(sandbox.user(user.account_id)?.account_status).toBe("active")
    const calls = sandbox.requests.filter((r) => r.route === "lifecycle")
    expect(calls.at(-1)).toMatchObject({
      path: `/users/${encodeURIComponent(user.account_id)}/manage/lifecycle/enable`,
      status: 204
    })
    expect((await api(`/api/connections/${connectionId}/accounts/${encodeURIComponent(user.account_id)}`)).status).toBe(
      "active"
    )
  })

  it("Should show every product count as the API counts it, each opening a list of exactly that many", async () => {
    const page = await b.get(`${p()}/apps`)
    expect(page.status).toBe(200)
    const products = (await api(`/api/connections/${connectionId}/products`)).data as ReadonlyArray<Record<string, any>>
    expect(products.length).toBeGreaterThan(2)
    const links = await expectCountsAddUp(page.text)
    const shown = new Map(links.map((l) => [l.href, l.shown]))
    const seats = (q: string) => `${p()}/seats?${q}`
    for (const a of products) {
      const license = `license=${encodeURIComponent(a.key)}`
      expect(shown.get(seats(license)), a.key).toBe(a.seats)
      for (const d of [30, 60, 90]) {
        expect(shown.get(seats(`${license}&usedDays=${d}`)), `${a.key} used${d}`).toBe(a[`used${d}`])
        expect(shown.get(seats(`${license}&unusedDays=${d}`)), `${a.key} unused${d}`).toBe(a[`unused${d}`])
      }
      expect(shown.get(`${p()}/accounts?product=${encodeURIComponent(a.key)}`), `${a.key} assigned`).toBe(a.assigned)
      // Plans and unknown products verbatim; a missing licence said so.
      expect(unescapeHtml(page.text)).toContain(a.name)
      expect(unescapeHtml(page.text)).toContain(a.product)
      if (a.plan !== null) expect(unescapeHtml(page.text)).toContain(a.plan)
    }
    const totals = await api(`/api/connections/${connectionId}/totals`)
    expect(shown.get(`${p()}/seats`)).toBe(totals.seats)
    expect(products.reduce((n, a) => n + a.seats, 0)).toBe(totals.seats)
    // The trend: one applied sync so far, its numbers those of the trend API.
    const trend = (await api(`/api/connections/${connectionId}/products/trend`)).data as ReadonlyArray<
      Record<string, any>
    >
    expect(trend.length).toBeGreaterThan(0)
    for (const s of trend) {
      const name = products.find((a) => a.key === s.key)?.name ?? s.key
      expect(page.text).toContain(`<tr><th scope="row">${name}</th><td><svg class="spark"`)
    }
    expect(page.text).toContain("One applied sync so far")
    expect(page.text).toMatch(
      /<svg class="spark"[^>]* role="img" aria-label="[^"]*: seats per sync \d+; unused 90\+ days \d+"/
    )
  })

  it("Should show the dashboard's counts from the totals, each opening a list of exactly that many", async () => {
    const page = await b.get("/")
    expect(page.status).toBe(200)
    const links = await expectCountsAddUp(page.text)
    const totals = await api(`/api/connections/${connectionId}/totals`)
    const shown = new Map(links.map((l) => [l.href, l.shown]))
    expect(shown.get(`${p()}/accounts`)).toBe(totals.accounts)
    expect(shown.get(`${p()}/accounts?status=active`)).toBe(totals.byStatus.active)
    expect(shown.get(`${p()}/accounts?status=suspended`)).toBe(totals.byStatus.suspended)
    expect(shown.get(`${p()}/accounts?billable=true`)).toBe(totals.billableAccounts)
    expect(shown.get(`${p()}/seats`)).toBe(totals.seats)
    for (const d of [30, 60, 90]) expect(shown.get(`${p()}/seats?unusedDays=${d}`)).toBe(totals[`unused${d}`])
  })

  it("Should count no seat of a suspended account, an app, a portal customer or an account without products", async () => {
    const seats = (await api(`/api/connections/${connectionId}/seats?unusedDays=30&limit=500`)).data as ReadonlyArray<
      any
    >
    expect(seats.length).toBeGreaterThan(0)
    for (const seat of seats) {
      expect(seat.account.status).toBe("active")
      expect(["app", "customer"]).not.toContain(seat.account.accountType)
      expect(seat.entitlement.status).toBe("active")
    }
    const page = await b.get(`${p()}/seats?unusedDays=30&limit=500`)
    expect(new Set(rowIdsOf(page.text))).toEqual(new Set(seats.map((s) => s.account.externalId)))
    expect(page.text).toContain("Seats unused for 30+ days")
  })

  it("Should lower the seat counts when an account is suspended", async () => {
    const before = await api(`/api/connections/${connectionId}/totals`)
    const candidates = (await api(`/api/connections/${connectionId}/seats?limit=500`)).data as ReadonlyArray<any>
    const target =
      candidates.find((s) => s.account.managed !== false && !s.account.externalId.includes("scim"))!.account
    const held = candidates.filter((s) => s.account.externalId === target.externalId).length
    expect(held).toBeGreaterThan(0)
    const res = await b.post(`${accountPath(target.externalId)}/suspend`, { reason: "seat reclaimed" })
    expect(res.status).toBe(200)
    expect(res.text).toContain("Account suspended")
    const page = await b.get("/")
    const seatsCard = countLinks(page.text).find((l) => l.href === `${p()}/seats`)!
    expect(seatsCard.shown).toBe(before.seats - held)
    expect(rowIdsOf((await b.get(`${p()}/seats?q=${encodeURIComponent(target.externalId)}`)).text)).toEqual([])
  })

  it("Should sort the accounts by a column header, reverse it on a second click, and keep the filters", async () => {
    const first = await b.get(`${p()}/accounts?status=active&limit=500`)
    expect(first.status).toBe(200)
    // Least recently active first, by default.
    const byActivity =
      (await api(`/api/connections/${connectionId}/accounts?status=active&limit=500&sort=lastActive&order=asc`)).data
    expect(rowIdsOf(first.text)).toEqual(byActivity.map((a: any) => a.externalId))
    expect(first.text).toMatch(/<th scope="col" aria-sort="ascending"><a class="sort" href="[^"]*"[^>]*>Last active/)

    const nameHeader = linkTo(first.text, /^Name/)!
    expect(new URL(nameHeader, "http://x").searchParams.get("status")).toBe("active")
    const byName = await b.get(nameHeader)
    const apiByName =
      (await api(`/api/connections/${connectionId}/accounts?status=active&limit=500&sort=name&order=asc`)).data
    expect(rowIdsOf(byName.text)).toEqual(apiByName.map((a: any) => a.externalId))
    expect(byName.text).toMatch(/<th scope="col" aria-sort="ascending"><a class="sort"[^>]*>Name/)

    const reversed = await b.get(linkTo(byName.text, /^Name/)!)
    expect(rowIdsOf(reversed.text)).toEqual([...apiByName].reverse().map((a: any) => a.externalId))
    expect(reversed.text).toMatch(/<th scope="col" aria-sort="descending"><a class="sort"[^>]*>Name/)
    // The filter form carries the sort, so filtering again keeps it.
    expect(reversed.text).toContain(
      `<input type="hidden" name="sort" value="name"/><input type="hidden" name="order" value="desc"/>`
    )
  })

  it("Should page forwards and back with the page size chosen, the caption counting the rows", async () => {
    const all = (await api(`/api/connections/${connectionId}/accounts?limit=500&sort=name&order=asc`)).data.map((
      a: any
    ) => a.externalId)
    const one = await b.get(`${p()}/accounts?sort=name&order=asc&limit=25`)
    expect(one.text).toMatch(/<select id="filter-limit" name="limit">.*<option value="25" selected="">25<\/option>/s)
    expect(rowIdsOf(one.text)).toEqual(all.slice(0, 25))
    expect(one.text).toContain(`1–25 of <span class="total">${all.length}</span> accounts`)
    expect(linkTo(one.text, "‹ Previous page")).toBeUndefined()

    const two = await b.get(linkTo(one.text, "Next page ›")!)
    expect(rowIdsOf(two.text)).toEqual(all.slice(25, 50))
    expect(two.text).toContain(`26–50 of <span class="total">${all.length}</span> accounts`)
    const three = await b.get(linkTo(two.text, "Next page ›")!)
    expect(rowIdsOf(three.text)).toEqual(all.slice(50, 75))
    expect(linkTo(three.text, "« First page")).toBeDefined()

    const back = await b.get(linkTo(three.text, "‹ Previous page")!)
    expect(rowIdsOf(back.text)).toEqual(all.slice(25, 50))
    expect(back.text).toContain(`26–50 of <span class="total">${all.length}</span> accounts`)
    const start = await b.get(linkTo(back.text, "‹ Previous page")!)
    expect(rowIdsOf(start.text)).toEqual(all.slice(0, 25))
    expect(start.text).toContain("1–25 of")
    expect(linkTo(start.text, "‹ Previous page")).toBeUndefined()
  })

  it("Should show each account's type, billing and management, and its activity in the product filtered on", async () => {
    const products = (await api(`/api/connections/${connectionId}/products`)).data as ReadonlyArray<any>
    const product = products.find((a) => a.assigned > 5)!
    const page = await b.get(`${p()}/accounts?product=${encodeURIComponent(product.key)}&limit=500`)
    expect(page.text).toContain(`<th scope="col" class="wrap">Last active in ${product.name}</th>`)
    const listed =
      (await api(`/api/connections/${connectionId}/accounts?product=${encodeURIComponent(product.key)}&limit=500`)).data
    expect(rowIdsOf(page.text)).toHaveLength(listed.length)
    const customers = await b.get(`${p()}/accounts?accountType=customer&billable=false`)
    const apiCustomers = await api(
      `/api/connections/${connectionId}/accounts?accountType=customer&billable=false&limit=1`
    )
    expect(totalOf(customers.text)).toBe(apiCustomers.total)
    if (apiCustomers.total > 0) expect(customers.text).toContain("<strong>not billed</strong>")
    const unmanaged = await b.get(`${p()}/accounts?managed=false`)
    expect(totalOf(unmanaged.text)).toBe(
      (await api(`/api/connections/${connectionId}/accounts?managed=false&limit=1`)).total
    )
  })

  it("Should show where an account's activity dates come from, its management, roles and groups", async () => {
    const seat = (await api(`/api/connections/${connectionId}/seats?usedDays=90&limit=1`)).data[0]
    const account = await api(
      `/api/connections/${connectionId}/accounts/${encodeURIComponent(seat.account.externalId)}`
    )
    const page = await b.get(accountPath(account.externalId))
    expect(page.status).toBe(200)
    expect(account.activitySources.length).toBeGreaterThan(0)
    expect(page.text).toContain("Where the activity dates come from")
    for (const source of account.activitySources) {
      expect(page.text).toContain(source.label)
      expect(unescapeHtml(page.text)).toContain(`${source.definition}; may lag up to ${source.maxLagHours} h.`)
    }
    expect(unescapeHtml(page.text)).toContain("page view of 2 s or more")
    expect(page.text).toMatch(/<dt>Managed<\/dt><dd>(managed|unmanaged|not said)/)
    expect(page.text).toMatch(/<dt>Roles<\/dt><dd>/)
    expect(page.text).toMatch(/<dt>Groups<\/dt><dd>/)
  })

  it("Should test the saved settings when the key is left blank, and ask for the key when other settings changed", async () => {
    const base = {
      intent: "test",
      name: "Sandbox",
      "config.organizationId": sandbox.orgId,
      "config.apiKey": "",
      "config.adminEmail": "admin@acme.example",
      "config.baseUrl": sandbox.url,
      "config.rateLimit.requests": String(UNPACED.requests),
      "config.rateLimit.windowSeconds": String(UNPACED.windowSeconds),
      syncIntervalMinutes: "0"
    }
    const same = await b.post(`${p()}/settings`, base)
    expect(same.status).toBe(200)
    expect(same.text).toContain("Connection works")
    expect(same.text).toContain("with the saved settings")

    const changed = await b.post(`${p()}/settings`, { ...base, "config.organizationId": "another-org" })
    expect(changed.text).toContain("Enter the API key to test these settings")

    const wrongKey = await b.post(`${p()}/settings`, { ...base, "config.apiKey": "wrong-key-0000000000" })
    expect(wrongKey.text).toContain("Connection test failed")
    expect(wrongKey.text).toContain("Check the API key")
    // A test saves nothing.
    expect((await api(`/api/connections/${connectionId}`)).config.apiKey.last4).toBe(sandbox.apiKey.slice(-4))
  })

  it("Should answer Sync now with 409 and say a sync is already running", async () => {
    sandbox.injectFault({ kind: "slow", delayMs: 500 }, { on: "users", times: 3 })
    const first = await b.post(`${p()}/syncs`)
    expect(first.status).toBe(303)
    expect(first.location).toBe(`${p()}/syncs?notice=sync-started`)
    const second = await b.post(`${p()}/syncs`)
    expect(second.status).toBe(409)
    expect(second.text).toContain("A sync is already running")
    // While it runs the page reloads itself.
    expect(second.text).toMatch(/<meta http-equiv="refresh" content="2"/)
    await eventually(
      "the sync to end",
      async () => (await api(`/api/connections/${connectionId}`)).lastSync.status === "running" ? undefined : true
    )
    const after = await b.get(`${p()}/syncs?notice=sync-started`)
    expect(after.text).not.toContain("http-equiv=\"refresh\"")
    expect(after.text).not.toContain("Sync started")
    sandbox.clearFaults()
  })

  it("Should page through the audit log and filter it by connection", async () => {
    const rowsOf = (html: string) => [...html.matchAll(/<tr><td><time datetime="([^"]+)"/g)].map((m) => m[1]!)
    const other = await t.request("POST", "/api/connections", {
      body: {
        provider: "atlassian",
        name: "Other",
        config: { organizationId: "o", apiKey: "k-0123456789-abcd", adminEmail: "a@b.example" }
      }
    })
    expect(other.status).toBe(201)
    const all = (await api("/api/audit?limit=500")).data as ReadonlyArray<{ id: string; connectionId: string | null }>
    expect(all.length).toBeGreaterThan(4)

    const first = await b.get("/audit?limit=2")
    expect(first.status).toBe(200)
    expect(rowsOf(first.text)).toHaveLength(2)
    const older = /<a href="(\/audit\?[^"]*cursor=[^"]+)">\s*Older »/.exec(first.text)
    expect(older).not.toBeNull()
    const second = await b.get(unescapeHtml(older![1]!))
    expect(second.status).toBe(200)
    expect(rowsOf(second.text)).toHaveLength(2)
    expect(second.text).toContain("« Newest")
    // Newest first, and the second page goes on where the first stopped.
    const times = [...rowsOf(first.text), ...rowsOf(second.text)]
    expect([...times].sort().reverse()).toEqual(times)

    const mine = await b.get(`/audit?connectionId=${encodeURIComponent(connectionId)}&limit=500`)
    const expected = all.filter((e) => e.connectionId === connectionId).length
    expect(expected).toBeLessThan(all.length)
    expect(mine.text).toContain(`<caption>${expected} events</caption>`)
    expect(rowsOf(mine.text)).toHaveLength(expected)

    const forged = await b.get("/audit?cursor=forged")
    expect(forged.status).toBe(400)
    expect(forged.text).toContain("Start from the newest")
    await t.request("DELETE", `/api/connections/${other.body.id}`)
  })

  describe("held runs", () => {
    /** Removes `n` active accounts from the organisation, so the next sync would deprovision them. */
    const removeActive = (n: number): ReadonlyArray<SandboxUser> => {
      const gone = sandbox.users().filter((u) => u.account_status === "active" && u.managedBy === undefined).slice(-n)
      for (const u of gone) sandbox.removeUser(u.account_id)
      return gone
    }
    const heldRun = async () => {
      const run = await sync(t.request, connectionId, { audited: true })
      expect(run.body.status).toBe("held")
      return run.body
    }

    it("Should show a held run's numbers with Apply and Discard on the dashboard and the history, and apply it", async () => {
      const gone = removeActive(10)
      const run = await heldRun()
      const active = (await api(`/api/connections/${connectionId}/totals`)).byStatus.active
      for (const page of [await b.get("/"), await b.get(`${p()}/syncs`)]) {
        expect(page.text).toContain("A sync is waiting for your decision")
        expect(page.text).toContain("because it would deprovision more than 5 % of the active accounts")
        expect(page.text).toMatch(
          new RegExp(`<strong class="would-deprovision">10</strong> of ${active} active accounts`)
        )
        expect(page.text).toContain("<dt>Missing from the listing</dt><dd>10 accounts</dd>")
        expect(page.text).toContain("<dt>Threshold</dt><dd>5 % of the active accounts")
        for (const action of ["apply", "discard"]) {
          const form = `<form method="post" action="${p()}/syncs/${run.id}/${action}" class="inline">`
          expect(page.text).toContain(`${form}<input type="hidden" name="_csrf" value="${b.csrf}"/>`)
        }
      }
      expect((await b.get(`${p()}/syncs`)).text).toMatch(/<span class="badge b-amber">held<\/span>/)

      // Without the session's token nothing happens.
      const forged = await t.request("POST", `${p()}/syncs/${run.id}/apply`, { cookie: b.cookie, form: {} })
      expect(forged.status).toBe(403)
      expect((await api(`/api/syncs/${run.id}`)).status).toBe("held")

      const applied = await b.post(`${p()}/syncs/${run.id}/apply`)
      expect(applied.status).toBe(303)
      expect(applied.location).toBe(`${p()}/syncs?notice=run-applied&run=${run.id}`)
      const after = await b.get(applied.location!)
      expect(after.text).toContain("Sync applied: 10 accounts deprovisioned")
      expect(after.text).not.toContain("A sync is waiting for your decision")
      expect(after.text).toContain("applied by admin")
      expect(await api(`/api/syncs/${run.id}`)).toMatchObject({
        status: "succeeded",
        decision: { decision: "apply", actor: "admin" }
      })
      for (const u of gone) {
        expect((await api(accountApi(u.account_id))).status).toBe("deprovisioned")
      }
      const audit = (await api(`/api/audit?connectionId=${connectionId}&limit=50`)).data
      expect(audit.find((e: any) => e.action === "sync.apply")).toMatchObject({
        actor: "admin",
        outcome: "ok",
        target: run.id
      })

      // Decided already: 409 with the store's message, shown on the page.
      const again = await b.post(`${p()}/syncs/${run.id}/apply`)
      expect(again.status).toBe(409)
      expect(again.text).toContain("Not applied")
      expect(again.text).toContain(`sync run ${run.id} is succeeded, not held`)
    })

    it("Should discard a held run through its form, and label discarded and superseded runs in the history", async () => {
      const gone = removeActive(10)
      const discarded = await heldRun()
      const res = await b.post(`${p()}/syncs/${discarded.id}/discard`)
      expect(res.status).toBe(303)
      const page = await b.get(res.location!)
      expect(page.text).toContain("Sync discarded: nothing of it was applied")
      expect(page.text).toContain("discarded by admin")
      expect(page.text).toMatch(/<span class="badge b-grey">discarded<\/span>/)
      for (const u of gone) {
        expect((await api(accountApi(u.account_id))).status).toBe("active")
      }

      // A held run the next sync supersedes is no longer there to apply.
      const older = await heldRun()
      const newer = await heldRun()
      expect((await api(`/api/syncs/${older.id}`)).status).toBe("superseded")
      const history = await b.get(`${p()}/syncs`)
      expect(history.text).toMatch(/<span class="badge b-grey">superseded<\/span>/)
      expect(history.text).toContain("superseded by a later sync")
      const late = await b.post(`${p()}/syncs/${older.id}/apply`)
      expect(late.status).toBe(409)
      expect(late.text).toContain(`sync run ${older.id} is superseded, not held`)
      expect((await b.post(`${p()}/syncs/${newer.id}/discard`)).status).toBe(303)
    })

    it("Should not decide a run through another connection's address", async () => {
      removeActive(10)
      const run = await heldRun()
      const other = await connect(t.request, sandbox, { name: "Other org", rateLimit: UNPACED })
      const res = await b.post(`/connections/${encodeURIComponent(other)}/syncs/${run.id}/apply`)
      expect(res.status).toBe(404)
      expect((await api(`/api/syncs/${run.id}`)).status).toBe("held")
      expect((await b.post(`${p()}/syncs/${run.id}/discard`)).status).toBe(303)
    })
  })
})
