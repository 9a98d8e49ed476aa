/**
 * Issue 8, defect 3, and the hygiene of what upstream sends (DESIGN invariants 2 and 4): an absent field is
 * not an empty value (a page without `product_access` keeps its accounts' products; only an explicit `[]`
 * removes them); a timestamp that cannot be read is dropped, never guessed (`last_active: "1"` does not make
 * an account look decades idle); control characters are removed (a NUL in a name does not break a
 * PostgreSQL sync); entitlement keys use the site's full host (two sites with the same first label stay two
 * product instances); and a `links.next` that is not an absolute http(s) URL of the configured origin fails
 * the run with `InvalidResponse`, sending nothing anywhere.
 *
 * Through the host's API against the sandbox, on SQLite and PostgreSQL.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import * as LogLevel from "effect/LogLevel"
import type * as Http from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { captureConsole, type OpenedStore, recordingServer, storeTargets } from "../support/Guarantees.js"
import { type AccountJson, connect, listAccounts, makeSandbox, snapshot, sync, UNPACED } from "../support/Org.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"

const PAGE = 50
const YEAR_2000 = Date.parse("2000-01-01T00:00:00Z")

describe.each(await storeTargets("the upstream data tests"))("what upstream sends ($name)", (target) => {
  let store: OpenedStore
  let t: TestHost
  let sandbox: AtlassianSandbox
  let id: string

  beforeAll(async () => {
    store = await target.open()
    t = await makeTestHost({ env: store.env })
    sandbox = await makeSandbox({ users: 150, pageSize: PAGE, seed: 5 })
    id = await connect(t.request, sandbox, { rateLimit: UNPACED })
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
  })
  afterAll(async () => {
    await t?.close()
    await sandbox?.close()
    await store?.close()
  })

  const account = async (externalId: string): Promise<AccountJson & Record<string, any>> =>
    (await t.request("GET", `/api/connections/${id}/accounts/${encodeURIComponent(externalId)}`)).body
  const liveEntitlements = (a: AccountJson) =>
    a.entitlements.filter((e) => e.status === "active").map((e) => e.key).sort()

  it("Should keep the products of a page whose users lack product_access, and remove them only on an explicit []", async () => {
    const page2 = sandbox.users().slice(PAGE, 2 * PAGE)
    const holders = page2.filter((u) => (u.product_access?.length ?? 0) > 0 && u.account_status === "active")
    expect(holders.length).toBeGreaterThan(10)
    const before = await snapshot(t.request, id, {
      historyOf: (accounts) => accounts.filter((a) => holders.some((h) => h.account_id === a.externalId))
    })
    // Page 2 comes back without the field at all.
    sandbox.injectFault({ kind: "missingFields", fields: ["product_access"] }, { on: "users", afterRequests: 1 })
    const run = (await sync(t.request, id)).body
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded")
    expect(run.stats).toMatchObject({ entitlementsDeprovisioned: 0, deprovisioned: 0 })
    const after = await snapshot(t.request, id, {
      historyOf: (accounts) => accounts.filter((a) => holders.some((h) => h.account_id === a.externalId))
    })
    expect(after.accounts.map((a) => [a.externalId, liveEntitlements(a)])).toEqual(
      before.accounts.map((a) => [a.externalId, liveEntitlements(a)])
    )
    expect(after.products).toEqual(before.products)

    // An explicit empty list is the source saying "no products": those go.
    const emptied = holders[0]!
    sandbox.updateUser(emptied.account_id, { product_access: [] })
    const next = (await sync(t.request, id)).body
    expect(next.stats.entitlementsDeprovisioned).toBe(emptied.product_access!.length)
    const a = await account(emptied.account_id)
    expect(a.status).toBe("active")
    expect(liveEntitlements(a)).toEqual([])
    expect(a.entitlements.every((e) => e.status === "deprovisioned")).toBe(true)
  })

  it("Should drop a last_active of \"1\" instead of reading it as a date decades ago", async () => {
    const user = sandbox.users().find((u) =>
      u.account_status === "active" && u.last_active !== undefined && (u.product_access?.length ?? 0) > 0
    )!
    const before = await account(user.account_id)
    const activity = (
      a: Record<string, any>
    ) => [a.lastActiveAt, a.entitlements.map((e: Record<string, any>) => [e.key, e.lastActiveAt])]
    sandbox.updateUser(user.account_id, {
      last_active: "1",
      product_access: user.product_access!.map((p, i) => (i === 0 ? { ...p, last_active: "1" } : p))
    })
    const run = (await sync(t.request, id)).body
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded")
    // The unreadable values are dropped: what was known stays, nothing is guessed from "1" (year 1, 1970,
    // or one millisecond after the epoch).
    const after = await account(user.account_id)
    expect(activity(after)).toEqual(activity(before))
    for (const at of [after.lastActiveAt, ...after.entitlements.map((e: Record<string, any>) => e.lastActiveAt)]) {
      if (at !== null) expect(Date.parse(at), at).toBeGreaterThan(YEAR_2000)
    }
    // So it is not counted idle for ten years.
    expect(await listAccounts(t.request, id, `&inactiveDays=3650&q=${encodeURIComponent(user.account_id)}`)).toEqual([])
  })

  it("Should remove control characters from names, so that a NUL does not break the sync", async () => {
    const [nul, bell] = sandbox.users().filter((u) => u.account_status === "active").slice(5, 7)
    sandbox.updateUser(nul!.account_id, { name: "Ann\u0000Lee" })
    sandbox.updateUser(bell!.account_id, { name: "Bo\u0007b\u001b[31m Red" })
    const run = (await sync(t.request, id)).body
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded")
    expect((await account(nul!.account_id)).displayName).toBe("AnnLee")
    const cleaned: string = (await account(bell!.account_id)).displayName
    expect(cleaned).not.toMatch(/[\u0000-\u001f\u007f]/)
    expect(cleaned).toContain("Bob")
    // Searchable as stored.
    expect((await listAccounts(t.request, id, "&q=AnnLee")).map((x) => x.externalId)).toEqual([nul!.account_id])
  })

  it("Should keep two sites with the same first label as two product instances, keyed by full host", async () => {
    const user = sandbox.users().find((u) => u.account_status === "active")!
    sandbox.updateUser(user.account_id, {
      product_access: [
        { key: "confluence", name: "Confluence", url: "https://acme.atlassian.net/wiki" },
        { key: "confluence", name: "Confluence", url: "https://acme.jira-dev.com/wiki" }
      ]
    })
    const run = (await sync(t.request, id)).body
    expect(run.status, JSON.stringify(run.error)).toBe("succeeded")
    const a = await account(user.account_id)
    expect(
      a.entitlements.filter((e) => e.status === "active").map((
        e: Record<string, any>
      ) => [e.key, e.name, e.site, e.siteHost]).sort()
    ).toEqual([
      ["confluence:acme.atlassian.net", "Confluence (acme)", "acme", "acme.atlassian.net"],
      ["confluence:acme.jira-dev.com", "Confluence (acme)", "acme", "acme.jira-dev.com"]
    ])
    const products = (await t.request("GET", `/api/connections/${id}/products`)).body.data.map((p: { key: string }) =>
      p.key
    )
    expect(products).toEqual(expect.arrayContaining(["confluence:acme.atlassian.net", "confluence:acme.jira-dev.com"]))
    const seats = await t.request(
      "GET",
      `/api/connections/${id}/seats?license=${encodeURIComponent("confluence:acme.jira-dev.com")}`
    )
    expect(seats.body.data.map((s: { account: { externalId: string } }) => s.account.externalId)).toContain(
      user.account_id
    )
  })
})

describe("a next link that is not an absolute http(s) URL of the configured origin", () => {
  let t: TestHost
  let upstream: Awaited<ReturnType<typeof recordingServer>>
  let next = ""
  const capture = { restore: () => {} }

  beforeAll(async () => {
    t = await makeTestHost({ listen: true, requestLog: true, logLevel: LogLevel.Info })
    // A minimal Atlassian organisation: one page of two users whose next link is whatever the case sets.
    upstream = await recordingServer((req: Http.IncomingMessage, res: Http.ServerResponse) => {
      res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({
        data: [1, 2].map((n) => ({
          account_id: `u-${n}`,
          account_type: "atlassian",
          account_status: "active",
          name: `User ${n}`,
          picture: "https://x.example/p.png"
        })),
        meta: { total: 4 },
        links: { self: req.url, next }
      }))
    })
  })
  afterAll(async () => {
    capture.restore()
    await t?.close()
    await upstream?.close()
  })

  it("Should fail the run with InvalidResponse and send the next request nowhere, not even to the host itself", async () => {
    const created = await t.request("POST", "/api/connections", {
      body: {
        provider: "atlassian",
        name: "Fake org",
        config: {
          organizationId: "org-1",
          apiKey: "a-key-for-the-fake-org-0001",
          adminEmail: "a@b.example",
          baseUrl: upstream.url,
          rateLimit: UNPACED
        }
      }
    })
    expect(created.status, created.text).toBe(201)
    const id: string = created.body.id
    const own = new URL(t.url!)
    const cases = [
      "/admin/v1/orgs/org-1/users?cursor=relative",
      "users?cursor=relative-no-slash",
      `//${own.host}/probe-protocol-relative`,
      `${t.url}/probe-own-origin`,
      "ftp://127.0.0.1/users",
      "javascript:alert(1)",
      "data:application/json,{}",
      "file:///etc/passwd",
      "http://[::1",
      " "
    ]
    const console_ = captureConsole()
    capture.restore = console_.restore
    try {
      for (const c of cases) {
        next = c
        const seenBefore = upstream.seen.length
        const run = (await sync(t.request, id, { audited: true })).body
        expect(run.status, c).toBe("failed")
        expect(run.error.reason, `${c}: ${run.error.message}`).toBe("InvalidResponse")
        expect(run.error.hint, c).toMatch(/\w/)
        // Only the first page was asked for: the bad link was not followed, anywhere.
        expect(upstream.seen.length - seenBefore, c).toBe(1)
      }
    } finally {
      console_.restore()
    }
    // The host's own request log shows the API requests of this test and nothing sent to it by its client.
    const probes = console_.lines.filter((l) => l.includes(`"message":"request"`) && l.includes("probe-"))
    expect(console_.lines.filter((l) => l.includes(`"message":"request"`)).length).toBeGreaterThan(cases.length)
    expect(probes).toEqual([])
    expect((await listAccounts(t.request, id)).length).toBe(0)
    console.log(
      `[next-link] ${cases.length} next links that are not absolute http(s) URLs of the origin: ${cases.length} runs failed InvalidResponse, 0 requests followed them`
    )
  })
})
