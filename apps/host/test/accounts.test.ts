import type { AtlassianSandbox, SandboxUser } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { findSecrets } from "./support/Guarantees.js"
import { connect, makeSandbox, sync } from "./support/Org.js"
import { makeTestHost, type TestHost } from "./support/TestHost.js"

const DAY_MS = 86_400_000

interface Account {
  readonly externalId: string
  readonly email: string | null
  readonly status: string
  readonly sourceStatus: string
  readonly lastActiveAt: string | null
  readonly entitlements: ReadonlyArray<
    { key: string; product: string; site: string | null; siteHost: string | null; name: string; status: string }
  >
}

const hostOf = (url: string | undefined) => (url === undefined ? undefined : new URL(url).hostname)
const siteOf = (url: string | undefined) => hostOf(url)?.split(".")[0]
/** The entitlement key of a product on a site: the product key and the site's full host. */
const keyOf = (p: { readonly key: string; readonly url?: string }) => `${p.key}:${hostOf(p.url)}`
const isBillable = (u: SandboxUser) => u.account_type !== "customer" && u.account_type !== "app"

/** A host with one connection to a new sandbox, synced once. */
const syncedOrg = async (options: Parameters<typeof makeSandbox>[0]) => {
  const sandbox = await makeSandbox(options)
  const t = await makeTestHost()
  const connectionId = await connect(t.request, sandbox)
  const done = await sync(t.request, connectionId)
  if (done.body.status !== "succeeded") throw new Error(`first sync ${done.text}`)
  return { connectionId, sandbox, t }
}

describe("accounts, products, seats, suspend and restore", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let connectionId: string
  const base = () => `/api/connections/${connectionId}`
  const accountPath = (id: string) => `${base()}/accounts/${encodeURIComponent(id)}`
  const lifecycleCalls = () => sandbox.requests.filter((r) => r.route === "lifecycle")

  beforeAll(async () => {
    ;({ connectionId, sandbox, t } = await syncedOrg({ users: 240, pageSize: 50, seed: 11 }))
  })
  afterAll(async () => {
    await t.close()
    await sandbox.close()
  })

  it("Should page through every account with limit and cursor", async () => {
    const seen: Array<string> = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res = await t.request(
        "GET",
        `${base()}/accounts?limit=100${cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`}`
      )
      expect(res.status).toBe(200)
      expect(res.body.total).toBe(240)
      expect(res.body.data.length).toBeLessThanOrEqual(100)
      seen.push(...res.body.data.map((a: Account) => a.externalId))
      cursor = res.body.nextCursor
      pages++
    } while (cursor !== null)
    expect(pages).toBe(3)
    expect(new Set(seen).size).toBe(240)
    expect(new Set(seen)).toEqual(new Set(sandbox.users().map((u) => u.account_id)))
  })

  it("Should show accounts in the documented shape", async () => {
    const user = sandbox.users().find((u) => u.account_status === "active" && (u.product_access?.length ?? 0) > 0)!
    const res = await t.request("GET", `${base()}/accounts?q=${encodeURIComponent(user.account_id)}`)
    const account = res.body.data[0]
    expect(Object.keys(account).sort()).toEqual([
      "accountType",
      "activitySource",
      "addedAt",
      "adminActionAt",
      "billable",
      "displayName",
      "email",
      "entitlements",
      "externalId",
      "firstSeenAt",
      "groups",
      "lastActiveAt",
      "lastSeenAt",
      "managed",
      "roles",
      "sourceStatus",
      "status"
    ])
    expect(account).toMatchObject({
      externalId: user.account_id,
      displayName: user.name,
      status: "active",
      sourceStatus: "active",
      billable: isBillable(user),
      adminActionAt: null
    })
    expect(Object.keys(account.entitlements[0]).sort()).toEqual([
      "activitySource",
      "billable",
      "firstSeenAt",
      "key",
      "lastActiveAt",
      "lastSeenAt",
      "name",
      "product",
      "role",
      "site",
      "siteHost",
      "status"
    ])
    const first = user.product_access![0]!
    expect(account.entitlements).toContainEqual(expect.objectContaining({
      key: keyOf(first),
      product: first.key,
      site: siteOf(first.url),
      siteHost: hostOf(first.url),
      name: `${first.name} (${siteOf(first.url)})`,
      status: "active"
    }))
  })

  it("Should filter by status, product, inactivity and search", async () => {
    const users = sandbox.users()
    const suspended = await t.request("GET", `${base()}/accounts?status=suspended&limit=500`)
    expect(suspended.body.total).toBe(users.filter((u) => u.account_status === "inactive").length)
    expect(suspended.body.data.every((a: Account) => a.status === "suspended" && a.sourceStatus === "inactive")).toBe(
      true
    )

    const confluence = await t.request("GET", `${base()}/accounts?product=confluence&limit=500`)
    expect(confluence.body.total).toBe(
      users.filter((u) => u.product_access?.some((p) => p.key === "confluence")).length
    )
    expect(confluence.body.data.every((a: Account) => a.entitlements.some((e) => e.product === "confluence"))).toBe(
      true
    )

    const now = Date.now()
    const inactive = await t.request("GET", `${base()}/accounts?inactiveDays=90&limit=500`)
    const expected = users.filter((u) => u.last_active === undefined || Date.parse(u.last_active) <= now - 90 * DAY_MS)
    expect(inactive.body.total).toBe(expected.length)
    expect(
      inactive.body.data.every((a: Account) =>
        a.lastActiveAt === null || Date.parse(a.lastActiveAt) <= now - 90 * DAY_MS
      )
    ).toBe(true)

    const withEmail = users.find((u) => u.email !== undefined)!
    const found = await t.request("GET", `${base()}/accounts?q=${encodeURIComponent(withEmail.email!.toUpperCase())}`)
    expect(found.body.data.map((a: Account) => a.externalId)).toContain(withEmail.account_id)

    // Empty parameters, as a form left blank sends them, mean "no filter".
    const blank = await t.request("GET", `${base()}/accounts?status=&product=&inactiveDays=&q=&limit=`)
    expect(blank.status).toBe(200)
    expect(blank.body.total).toBe(240)
    expect(blank.body.data.length).toBe(50)
  })

  it.each([
    ["limit=0", "limit"],
    ["limit=501", "limit"],
    ["limit=ten", "limit"],
    // Number("0x10") is 16 and Number("1e2") 100: a whole number here is written in digits.
    ["limit=0x10", "limit"],
    ["limit=1e2", "limit"],
    ["limit=%2B5", "limit"],
    ["inactiveDays=1e1", "inactiveDays"],
    // A filter given twice is refused, not read as its first value.
    ["status=active&status=suspended", "status"],
    ["inactiveDays=-1", "inactiveDays"],
    ["inactiveDays=1.5", "inactiveDays"],
    ["status=gone", "status"],
    ["sort=size", "sort"],
    ["order=up", "order"],
    ["billable=yes", "billable"],
    ["managed=1", "managed"],
    ["cursor=forged-cursor", "cursor"]
  ])("Should refuse ?%s with 400 naming %s", async (query, field) => {
    const res = await t.request("GET", `${base()}/accounts?${query}`)
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe("invalid_request")
    expect(res.body.error.details.issues.map((i: { path: Array<string> }) => i.path[0])).toEqual([field])
  })

  it("Should name the parameter and its range for every number in a query, on every list", async () => {
    for (
      const [path, message] of [
        [`${base()}/products/trend?runs=abc`, "runs must be a whole number from 1 to 100, in digits"],
        ["/api/plans?limit=abc", "limit must be a whole number from 1 to 200, in digits"],
        [`${base()}/accounts?limit=1e2`, "limit must be a whole number from 1 to 500, in digits"],
        // Nor the input echoed back, however long.
        [`${base()}/accounts?accountType=${"x".repeat(101)}`, "accountType must be at most 100 characters"]
      ] as const
    ) {
      const res = await t.request("GET", path)
      expect(res.status, path).toBe(400)
      expect(res.body.error.details.issues.map((i: { message: string }) => i.message), path).toEqual([message])
    }
  })

  it("Should name the field and what it must be for a bad role or a fraction of minutes, once each", async () => {
    const role = await t.request("POST", "/api/users", { body: { name: "Robin", role: "god" } })
    expect(role.status).toBe(400)
    expect(role.body.error.details.issues).toEqual([
      { path: ["role"], message: "role must be one of viewer, operator, approver, admin" }
    ])
    const minutes = await t.request("PATCH", base(), { body: { syncIntervalMinutes: 1.5, maxLookups: -1 } })
    expect(minutes.status).toBe(400)
    expect(minutes.body.error.details.issues.map((i: { message: string }) => i.message)).toEqual([
      "syncIntervalMinutes must be a whole number of minutes from 0 (manual only) to 43200 (30 days)",
      "maxLookups must be a whole number from 0 to 100000"
    ])
  })

  it("Should show one account, its id URL-encoded, with its status history", async () => {
    const user = sandbox.users().find((u) => u.account_id.includes(":"))!
    const res = await t.request("GET", accountPath(user.account_id))
    expect(res.status).toBe(200)
    expect(res.body.externalId).toBe(user.account_id)
    expect(res.body.history).toEqual(expect.any(Array))
    const missing = await t.request("GET", accountPath("557058:no-such-account"))
    expect(missing.status).toBe(404)
    expect(missing.body.error.code).toBe("account_not_found")
  })

  it("Should list one product instance per product and site, with counts its seats list agrees with", async () => {
    const res = await t.request("GET", `${base()}/products`)
    expect(res.status).toBe(200)
    const users = sandbox.users()
    const holders = (key: string) => users.filter((u) => u.product_access?.some((p) => keyOf(p) === key))
    const held = new Set(users.flatMap((u) => (u.product_access ?? []).map(keyOf)))
    const listed = new Set(res.body.data.map((p: { key: string }) => p.key))
    for (const key of held) expect(listed.has(key), key).toBe(true)

    const key = "confluence:acme.atlassian.net"
    const product = res.body.data.find((p: { key: string }) => p.key === key)
    expect(product).toMatchObject({
      name: "Confluence (acme)",
      product: "confluence",
      site: "acme",
      siteHost: "acme.atlassian.net",
      // Assigned: active entitlements of accounts not deprovisioned. Seats: of active, billable accounts.
      assigned: holders(key).filter((u) => u.account_status !== "closed").length,
      seats: holders(key).filter((u) => u.account_status === "active" && isBillable(u)).length,
      deprovisioned: 0
    })
    expect(product.unused30).toBeGreaterThanOrEqual(product.unused60)
    expect(product.unused60).toBeGreaterThanOrEqual(product.unused90)
    expect(product.used30).toBeLessThanOrEqual(product.used60)
    expect(product.used60).toBeLessThanOrEqual(product.used90)

    // Every count links to the seats list with its filters, and the list's total is the count.
    const seats = await t.request("GET", `${base()}/seats?license=${encodeURIComponent(key)}&limit=500`)
    expect(seats.status).toBe(200)
    expect(seats.body.total).toBe(product.seats)
    expect(
      seats.body.data.every((s: { entitlement: { key: string }; account: { status: string } }) =>
        s.entitlement.key === key && s.account.status === "active"
      )
    ).toBe(true)
    const unused = await t.request("GET", `${base()}/seats?license=${encodeURIComponent(key)}&unusedDays=90&limit=500`)
    expect(unused.body.total).toBe(product.unused90)
    const used = await t.request("GET", `${base()}/seats?license=${encodeURIComponent(key)}&usedDays=30&limit=500`)
    expect(used.body.total).toBe(product.used30)

    // The totals add up the same way.
    const totals = await t.request("GET", `${base()}/totals`)
    expect(totals.body.accounts).toBe(240)
    expect(Object.values(totals.body.byStatus as Record<string, number>).reduce((a, b) => a + b, 0)).toBe(240)
    expect(totals.body.seats).toBe((await t.request("GET", `${base()}/seats?limit=1`)).body.total)
    expect(totals.body.unused90).toBe((await t.request("GET", `${base()}/seats?unusedDays=90&limit=1`)).body.total)
    expect(totals.body.seats).toBe(res.body.data.reduce((n: number, p: { seats: number }) => n + p.seats, 0))
  })

  it("Should export the accounts, seats and products as CSV", async () => {
    const accounts = await t.request("GET", `${base()}/accounts.csv`)
    expect(accounts.status).toBe(200)
    expect(accounts.headers.get("content-type")).toMatch(/^text\/csv/)
    const lines = accounts.text.trim().split(/\r?\n/)
    expect(lines[0]).toMatch(/^externalId,displayName,email,/)
    expect(lines.length).toBe(241)
    const seats = await t.request(
      "GET",
      `${base()}/seats.csv?license=${encodeURIComponent("confluence:acme.atlassian.net")}`
    )
    const product = (await t.request("GET", `${base()}/products`)).body.data.find((p: { key: string }) =>
      p.key === "confluence:acme.atlassian.net"
    )
    expect(seats.text.trim().split(/\r?\n/).length).toBe(product.seats + 1)
    // The products export has every count the products list has, under the same names.
    const products = (await t.request("GET", `${base()}/products.csv`)).text.trim().split(/\r?\n/)
    const header = products[0]!.split(",")
    for (const count of ["seats", "used30", "used60", "used90", "unused30", "unused60", "unused90"]) {
      expect(header, count).toContain(count)
    }
    const row = products.find((line) => line.startsWith("confluence:acme.atlassian.net,"))!.split(",")
    expect(Number(row[header.indexOf("used60")])).toBe(product.used60)
  })

  it("Should suspend as a dry run that asks only the organisation's read-only preflight", async () => {
    const user = sandbox.users().find((u) => u.account_status === "active" && u.managedBy === undefined)!
    sandbox.resetLog()
    const res = await t.request("POST", `${accountPath(user.account_id)}/suspend`, {
      body: { reason: "left", dryRun: true }
    })
    expect(res.status).toBe(200)
    expect(res.body.action).toEqual({
      name: "suspend",
      dryRun: true,
      from: "active",
      to: "suspended",
      reason: "left",
      method: "lifecycle",
      methodLabel: expect.any(String),
      preflight: { allowed: true, reason: null, code: null, hint: null },
      summary: `would change active → suspended (${res.body.action.methodLabel})`
    })
    expect(res.body.account.status).toBe("active")
    // One GET of the account's privileges; nothing that changes anything.
    expect(sandbox.requests.map((r) => [r.method, r.route])).toEqual([["GET", "manage"]])
    expect(lifecycleCalls().length).toBe(0)
    expect(sandbox.user(user.account_id)!.account_status).toBe("active")
    expect((await t.request("GET", accountPath(user.account_id))).body.status).toBe("active")
  })

  it("Should suspend upstream and change the local status at once, then restore", async () => {
    const user = sandbox.users().find((u) => u.account_status === "active" && u.managedBy === undefined)!
    const calls = lifecycleCalls().length
    const res = await t.request("POST", `${accountPath(user.account_id)}/suspend`, {
      body: { reason: "Left the company" }
    })
    expect(res.status).toBe(200)
    expect(res.body.action).toMatchObject({ name: "suspend", dryRun: false, from: "active", to: "suspended" })
    expect(res.body.account.status).toBe("suspended")
    const sent = lifecycleCalls().slice(calls)
    expect(sent.map((r) => [r.method, r.path, r.status])).toEqual([
      ["POST", `/users/${encodeURIComponent(user.account_id)}/manage/lifecycle/disable`, 204]
    ])
    expect(sent[0]!.body).toEqual({ message: "Left the company" })
    expect(sandbox.user(user.account_id)!.account_status).toBe("inactive")
    expect(res.body.account.adminActionAt).toEqual(expect.any(String))
    const detail = await t.request("GET", accountPath(user.account_id))
    expect(detail.body.status).toBe("suspended")
    expect(detail.body.history).toContainEqual(
      expect.objectContaining({ from: "active", to: "suspended", cause: "suspend" })
    )

    // No body at all is a restore without a reason; Atlassian's enable takes no body, and gets none.
    const before = lifecycleCalls().length
    const restored = await t.request("POST", `${accountPath(user.account_id)}/restore`)
    expect(restored.status).toBe(200)
    expect(restored.body.account.status).toBe("active")
    expect(sandbox.user(user.account_id)!.account_status).toBe("active")
    const enable = lifecycleCalls().slice(before)
    expect(enable.map((r) => [r.method, r.path, r.status])).toEqual([
      ["POST", `/users/${encodeURIComponent(user.account_id)}/manage/lifecycle/enable`, 204]
    ])
    expect(enable[0]!.body).toBeUndefined()
  })

  it("Should answer a refusal of the organisation with 409, its reason and hint, changing nothing", async () => {
    const user = sandbox.users().find((u) =>
      u.account_status === "active" && u.managedBy === undefined && u.account_id.includes(":")
    )!
    sandbox.updateUser(user.account_id, { managedBy: "scim" })
    const res = await t.request("POST", `${accountPath(user.account_id)}/suspend`, { body: {} })
    expect(res.status).toBe(409)
    expect(res.body.error.code).toBe("provider_refused")
    expect(res.body.error.message).toMatch(/SCIM/i)
    expect(res.body.error.hint).toEqual(expect.any(String))
    expect(res.body.error.details).toMatchObject({ provider: "atlassian", operation: "suspend", upstreamStatus: 403 })
    expect((await t.request("GET", accountPath(user.account_id))).body.status).toBe("active")
  })

  it("Should refuse a bad action body with 400 and an unknown account with 404, calling nothing", async () => {
    const user = sandbox.users()[0]!
    const calls = lifecycleCalls().length
    const bad = await t.request("POST", `${accountPath(user.account_id)}/suspend`, {
      body: { dryRun: "yes", force: true }
    })
    expect(bad.status).toBe(400)
    expect(bad.body.error.details.issues.map((i: { path: Array<string> }) => i.path.join(".")).sort()).toEqual([
      "dryRun",
      "force"
    ])
    const missing = await t.request("POST", `${accountPath("557058:nobody")}/suspend`, { body: {} })
    expect(missing.status).toBe(404)
    expect(lifecycleCalls().length).toBe(calls)
  })

  it("Should keep an audit trail of the session", async () => {
    const res = await t.request("GET", `/api/audit?connectionId=${connectionId}&limit=500`)
    expect(res.status).toBe(200)
    const events: Array<
      { action: string; actor: string; outcome: string; target: string | null; input: unknown; at: string }
    > = res.body.data
    const summary = events.map((e) => `${e.action}:${e.outcome}`)
    for (
      const expected of [
        "connection.create:ok",
        "sync.start:ok",
        "sync.finish:ok",
        "account.suspend:dry-run",
        "account.suspend:ok",
        "account.restore:ok",
        "account.suspend:error"
      ]
    ) expect(summary).toContain(expected)
    expect(events.every((e) => e.actor === "admin" && typeof e.at === "string")).toBe(true)
    const dry = events.find((e) => e.outcome === "dry-run")!
    expect(dry.input).toEqual({ reason: "left", dryRun: true, method: "lifecycle" })
    expect(JSON.stringify(events)).not.toContain(sandbox.apiKey)

    const paged = await t.request("GET", `/api/audit?connectionId=${connectionId}&limit=2`)
    expect(paged.body.data.length).toBe(2)
    expect(paged.body.nextCursor).toEqual(expect.any(String))
    const next = await t.request(
      "GET",
      `/api/audit?connectionId=${connectionId}&limit=2&cursor=${encodeURIComponent(paged.body.nextCursor)}`
    )
    expect(next.body.data[0].id).not.toBe(paged.body.data[0].id)
    expect((await t.request("GET", "/api/audit?limit=0")).status).toBe(400)
  })

  it("Should never have sent the API key in any response", () => {
    expect(findSecrets(t.responses.map((r) => `${r.headers} ${r.text}`).join("\n"), { apiKey: sandbox.apiKey }))
      .toEqual([])
  })
})

describe("suspend and restore: what the answer says is what happens upstream", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let connectionId: string
  const accountPath = (id: string) => `/api/connections/${connectionId}/accounts/${encodeURIComponent(id)}`
  const upstreamActions = () =>
    sandbox.requests.filter((r) => r.route === "lifecycle" || r.route === "directorySuspend").length
  const managedActive = (n: number) =>
    sandbox.users().filter((u) => u.account_status === "active" && u.managedBy === undefined)[n]!.account_id

  beforeAll(async () => {
    ;({ connectionId, sandbox, t } = await syncedOrg({ users: 60, pageSize: 50, seed: 5 }))
  })
  afterAll(async () => {
    await t.close()
    await sandbox.close()
  })

  it("Should keep a directory suspend through the next sync, and undo it in the directory by default", async () => {
    const id = managedActive(0)
    const suspended = await t.request("POST", `${accountPath(id)}/suspend`, { body: { method: "directory" } })
    expect(suspended.status).toBe(200)
    expect(suspended.body.action).toMatchObject({ method: "directory", to: "suspended" })
    // Upstream the account stays `active` (the v1 listing says so); its directory access is suspended.
    expect([sandbox.user(id)!.account_status, sandbox.user(id)!.membershipStatus]).toEqual(["active", "suspended"])

    expect((await sync(t.request, connectionId)).body.status).toBe("succeeded")
    const after = await t.request("GET", accountPath(id))
    expect([after.body.status, after.body.sourceStatus]).toEqual(["suspended", "suspended"])

    // A restore that names no method undoes the directory suspend the sync read back.
    const restored = await t.request("POST", `${accountPath(id)}/restore`, { body: {} })
    expect(restored.status).toBe(200)
    expect(restored.body.action).toMatchObject({ method: "directory", to: "active" })
    expect(sandbox.user(id)!.membershipStatus).toBe("active")
    expect((await sync(t.request, connectionId)).body.status).toBe("succeeded")
    expect((await t.request("GET", accountPath(id))).body.status).toBe("active")
    // Nothing of the lifted suspension lingers: a later suspend picks a managed account's default again.
    const again = await t.request("POST", `${accountPath(id)}/suspend`, { body: { dryRun: true } })
    expect(again.body.action).toMatchObject({ dryRun: true, method: "lifecycle" })
  })

  it("Should preview the method asked for, and refuse an unknown one with 400 naming the methods", async () => {
    const id = managedActive(1)
    const preview = await t.request("POST", `${accountPath(id)}/suspend`, {
      body: { dryRun: true, method: "directory" }
    })
    expect(preview.status).toBe(200)
    expect(preview.body.action).toMatchObject({ dryRun: true, method: "directory" })
    const audit = await t.request("GET", "/api/audit?limit=1")
    expect(audit.body.data[0]).toMatchObject({ action: "account.suspend", outcome: "dry-run" })
    expect(audit.body.data[0].input.method).toBe("directory")

    const calls = upstreamActions()
    for (const dryRun of [true, false]) {
      const unknown = await t.request("POST", `${accountPath(id)}/suspend`, { body: { dryRun, method: "nope" } })
      expect(unknown.status).toBe(400)
      expect(unknown.body.error.details.issues).toEqual([
        expect.objectContaining({ path: ["method"], message: expect.stringContaining("one of lifecycle, directory") })
      ])
    }
    expect(upstreamActions()).toBe(calls)
    expect((await t.request("GET", accountPath(id))).body.status).toBe("active")
  })

  it("Should answer 409 to suspending a suspended account or restoring an active one, calling nothing", async () => {
    const id = managedActive(2)
    expect((await t.request("POST", `${accountPath(id)}/suspend`, { body: {} })).status).toBe(200)
    const calls = upstreamActions()
    const audited = (await t.request("GET", "/api/audit?limit=200")).body.data.length
    for (const dryRun of [false, true]) {
      const again = await t.request("POST", `${accountPath(id)}/suspend`, { body: { dryRun } })
      expect(again.status).toBe(409)
      expect(again.body.error.message).toContain("is already suspended")
      expect(again.body.error.hint).toContain("restore it first")
    }
    const active = managedActive(3)
    const restore = await t.request("POST", `${accountPath(active)}/restore`, { body: {} })
    expect(restore.status).toBe(409)
    expect(restore.body.error.message).toContain("is already active")
    expect(upstreamActions()).toBe(calls)
    expect((await t.request("GET", "/api/audit?limit=200")).body.data.length).toBe(audited)
  })

  it("Should refuse a null body like any other body that is not an object; no body is the defaults", async () => {
    const id = managedActive(4)
    const calls = upstreamActions()
    const nulled = await t.request("POST", `${accountPath(id)}/suspend`, {
      rawBody: "null",
      headers: { "content-type": "application/json" }
    })
    expect(nulled.status).toBe(400)
    expect(upstreamActions()).toBe(calls)
    const openapi = await t.request("GET", "/api/openapi.json")
    const operation = openapi.body.paths["/api/connections/{id}/accounts/{externalId}/suspend"].post
    expect(operation.requestBody.required).toBe(false)
    expect(operation.description).toContain("Without a body it is a real suspend")
  })
})
