// Scenarios the adapter and host must survive, each reproducible in process and over /__sandbox/:
// version-checked cursors, a roster that changes under a listing, an org that lists nobody, a page that
// drops product access, and error bodies that quote the request's Authorization header.
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { parseCli } from "../src/sandbox/CliOptions.js"
import type { AtlassianSandbox } from "../src/sandbox/index.js"
import { generateUsers, startSandbox } from "../src/sandbox/index.js"

type Json = Record<string, any>

const authed = (sandbox: AtlassianSandbox, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { authorization: `Bearer ${sandbox.apiKey}`, "content-type": "application/json" }
})
const usersUrl = (sandbox: AtlassianSandbox) => `${sandbox.url}/admin/v1/orgs/${sandbox.orgId}/users`
const searchUrl = (sandbox: AtlassianSandbox) =>
  `${sandbox.url}/admin/v2/orgs/${sandbox.orgId}/directories/-/users/search`

const get = async (sandbox: AtlassianSandbox, url: string): Promise<{ status: number; body: Json }> => {
  const res = await fetch(url, authed(sandbox))
  return { status: res.status, body: (await res.json()) as Json }
}
const search = async (sandbox: AtlassianSandbox, body: unknown): Promise<{ status: number; body: Json }> => {
  const res = await fetch(searchUrl(sandbox), authed(sandbox, { method: "POST", body: JSON.stringify(body) }))
  return { status: res.status, body: (await res.json()) as Json }
}
const control = async (sandbox: AtlassianSandbox, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${sandbox.url}/__sandbox${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
  })
  const text = await res.text()
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) : undefined }
}

/** Pages a v1 listing like a client does; the ids it saw, the totals each page reported. */
const listV1 = async (sandbox: AtlassianSandbox) => {
  const seen: Array<string> = []
  const totals: Array<number> = []
  let url: string | undefined = usersUrl(sandbox)
  while (url !== undefined) {
    const page = await get(sandbox, url)
    assert.strictEqual(page.status, 200)
    seen.push(...page.body.data.map((u: Json) => u.account_id))
    totals.push(page.body.meta.total)
    url = page.body.links.next
  }
  return { seen, totals }
}

const listV2 = async (sandbox: AtlassianSandbox, limit: number) => {
  const seen: Array<string> = []
  let cursor: string | undefined
  do {
    const page = await search(sandbox, cursor === undefined ? { limit } : { cursor })
    assert.strictEqual(page.status, 200, JSON.stringify(page.body))
    seen.push(...page.body.data.map((u: Json) => u.accountId))
    cursor = page.body.links.next
  } while (cursor !== undefined)
  return seen
}

describe("version-checked cursors", () => {
  it("offset mode (default) serves a stale cursor by position and logs it as stale", async () => {
    const sandbox = await startSandbox({ users: 30, pageSize: 10 })
    try {
      const first = await get(sandbox, usersUrl(sandbox))
      const before = sandbox.users().map((u) => u.account_id)
      sandbox.removeUser(before[0]!)
      const second = await get(sandbox, first.body.links.next)
      assert.strictEqual(second.status, 200)
      // Offset 10 of the shorter roster: the account that moved up to position 9 is skipped.
      assert.strictEqual(second.body.data[0].account_id, before[11])
      assert.isTrue(sandbox.requests.at(-1)!.staleCursor)
      const third = await get(sandbox, second.body.links.next)
      assert.strictEqual(third.status, 200)
      assert.isFalse(sandbox.requests.at(-1)!.staleCursor, "a cursor issued after the change is fresh")
      assert.isUndefined(sandbox.requests[0]!.staleCursor, "no cursor, nothing to judge")
    } finally {
      await sandbox.close()
    }
  })

  it("strict mode refuses a cursor issued before the roster changed with 400 ADMIN-400-1 (v1 and v2)", async () => {
    const sandbox = await startSandbox({ users: 30, pageSize: 10, cursorMode: "strict" })
    try {
      const v1 = await get(sandbox, usersUrl(sandbox))
      const v2 = await search(sandbox, { limit: 10 })
      sandbox.addUsers(1)
      const staleV1 = await get(sandbox, v1.body.links.next)
      assert.strictEqual(staleV1.status, 400)
      assert.strictEqual(staleV1.body.errors[0].code, "ADMIN-400-1")
      assert.isTrue(sandbox.requests.at(-1)!.staleCursor)
      const staleV2 = await search(sandbox, { cursor: v2.body.links.next })
      assert.strictEqual(staleV2.status, 400)
      assert.strictEqual(staleV2.body.errors[0].code, "ADMIN-400-1")
      // Starting again works, and the mode can be switched back over HTTP.
      assert.strictEqual((await listV1(sandbox)).seen.length, 31)
      const settings = await control(sandbox, "PATCH", "/settings", { cursorMode: "offset" })
      assert.deepStrictEqual(settings.body, { cursorMode: "offset", emptyOrg: false })
      assert.strictEqual((await get(sandbox, v1.body.links.next)).status, 200)
      assert.strictEqual((await control(sandbox, "PATCH", "/settings", { cursorMode: "lenient" })).status, 400)
    } finally {
      await sandbox.close()
    }
  })
})

describe("rosterChange: the roster shifts under a listing", () => {
  it("(a) one account leaves an earlier page and one joins: a present account is skipped, meta.total unchanged", async () => {
    const sandbox = await startSandbox({ users: 30, pageSize: 10 })
    try {
      const before = sandbox.users().map((u) => u.account_id)
      sandbox.injectFault({ kind: "rosterChange", afterPage: 1, remove: 1, add: 1 })
      const { seen, totals } = await listV1(sandbox)
      const present = sandbox.users().map((u) => u.account_id)
      const skipped = present.filter((id) => !seen.includes(id))
      // The account at position 10 moved up to 9 after page 1 was served: nobody returned it.
      assert.deepStrictEqual(skipped, [before[10]])
      assert.deepStrictEqual(totals, [30, 30, 30])
      assert.strictEqual(seen.length, 30, "as many accounts as meta.total, yet one present account is missing")
      const change = sandbox.requests[0]!.rosterChange!
      assert.deepStrictEqual(change.removed, [before[9]])
      assert.strictEqual(change.added.length, 1)
      assert.include(seen, change.added[0])
    } finally {
      await sandbox.close()
    }
  })

  it("(b) removals alone: meta.total falls by the number of accounts skipped", async () => {
    const sandbox = await startSandbox({ users: 30, pageSize: 10 })
    try {
      const before = sandbox.users().map((u) => u.account_id)
      sandbox.injectFault({ kind: "rosterChange", afterPage: 2, remove: [before[0]!, before[1]!] })
      const { seen, totals } = await listV1(sandbox)
      assert.deepStrictEqual(totals, [30, 30, 28])
      const skipped = sandbox.users().map((u) => u.account_id).filter((id) => !seen.includes(id))
      assert.deepStrictEqual(skipped, [before[20], before[21]])
      assert.strictEqual(totals[0]! - totals.at(-1)!, skipped.length)
    } finally {
      await sandbox.close()
    }
  })

  it("applies to the v2 search too, and can be queued over HTTP", async () => {
    const sandbox = await startSandbox({ users: 30, pageSize: 10 })
    try {
      const before = sandbox.users().map((u) => u.account_id)
      const queued = await control(sandbox, "POST", "/faults", {
        fault: { kind: "rosterChange", afterPage: 1, remove: 1, add: 1 },
        on: "directoryUsers"
      })
      assert.strictEqual(queued.status, 201)
      assert.strictEqual(queued.body.faults[0].on, "directoryUsers")
      const seen = await listV2(sandbox, 10)
      const skipped = sandbox.users().map((u) => u.account_id).filter((id) => !seen.includes(id))
      assert.deepStrictEqual(skipped, [before[10]])
      assert.isTrue(sandbox.requests[1]!.staleCursor, "the second page's cursor predates the change")
      const bad = await control(sandbox, "POST", "/faults", { kind: "rosterChange", afterPage: 0 })
      assert.strictEqual(bad.status, 400)
      assert.match(bad.body.error, /afterPage as a whole number >= 1/)
    } finally {
      await sandbox.close()
    }
  })
})

describe("empty-org mode", () => {
  it("lists nobody on v1 while profiles, last-active dates and v2 search still answer", async () => {
    const sandbox = await startSandbox({ users: 12, emptyOrg: true })
    try {
      const page = await get(sandbox, usersUrl(sandbox))
      assert.deepStrictEqual(page.body, { data: [], meta: { total: 0 }, links: { self: usersUrl(sandbox) } })
      const id = sandbox.users()[0]!.account_id
      const profile = await get(sandbox, `${sandbox.url}/users/${encodeURIComponent(id)}/manage/profile`)
      assert.strictEqual(profile.status, 200)
      assert.strictEqual(profile.body.account.account_id, id)
      assert.strictEqual((await search(sandbox, {})).body.data.length, 12)
      assert.deepStrictEqual((await control(sandbox, "PATCH", "/settings", { emptyOrg: false })).body.emptyOrg, false)
      assert.strictEqual((await get(sandbox, usersUrl(sandbox))).body.data.length, 12)
      sandbox.setEmptyOrg(true)
      assert.strictEqual((await get(sandbox, usersUrl(sandbox))).body.meta.total, 0)
    } finally {
      await sandbox.close()
    }
  })
})

describe("missingFields drops product access from every user of exactly one page", () => {
  let sandbox: AtlassianSandbox
  beforeAll(async () => {
    sandbox = await startSandbox({ users: 30, pageSize: 10 })
  })
  afterAll(() => sandbox.close())

  it("v1: product_access", async () => {
    sandbox.injectFault({ kind: "missingFields", fields: ["product_access"] }, { afterRequests: 1 })
    const pages: Array<Json> = []
    let url: string | undefined = usersUrl(sandbox)
    while (url !== undefined) {
      const page = await get(sandbox, url)
      pages.push(page.body)
      url = page.body.links.next
    }
    assert.deepStrictEqual(
      pages.map((p) => p.data.every((u: Json) => "product_access" in u)),
      [true, false, true]
    )
    assert.isTrue(pages[1]!.data.every((u: Json) => !("product_access" in u) && typeof u.account_id === "string"))
  })

  it("v2: productAccess (with expand)", async () => {
    sandbox.injectFault({ kind: "missingFields", fields: ["productAccess"] }, { on: "directoryUsers" })
    const first = await search(sandbox, { limit: 10, expand: ["productAccess"] })
    assert.isTrue(first.body.data.every((u: Json) => !("productAccess" in u) && typeof u.accountId === "string"))
    // The cursor carries the search's expand, so it can travel alone.
    const second = await search(sandbox, { cursor: first.body.links.next })
    assert.isTrue(second.body.data.every((u: Json) => Array.isArray(u.productAccess)))
  })
})

describe("echoHeaders: error bodies that quote the request's secret", () => {
  let sandbox: AtlassianSandbox
  beforeAll(async () => {
    sandbox = await startSandbox({ users: 3, apiKey: "echo-secret-key-123" })
  })
  afterAll(() => sandbox.close())

  it("plain: Authorization: Bearer <key> inside an Atlassian error envelope", async () => {
    sandbox.injectFault({ kind: "echoHeaders" })
    const res = await fetch(usersUrl(sandbox), authed(sandbox))
    assert.strictEqual(res.status, 500)
    assert.strictEqual(res.headers.get("x-sandbox-fault"), "echoHeaders")
    const body = (await res.json()) as Json
    assert.strictEqual(body.errors[0].code, "ADMIN-500-1")
    assert.include(body.errors[0].detail, "authorization: Bearer echo-secret-key-123")
  })

  it("url, base64 and json variants, other shapes and statuses, also over HTTP", async () => {
    const queued = await control(sandbox, "POST", "/faults", [
      { kind: "echoHeaders", encoding: "url", status: 400 },
      { kind: "echoHeaders", encoding: "base64", shape: "gateway", status: 502 },
      { kind: "echoHeaders", encoding: "json", shape: "user", status: 403 },
      { kind: "echoHeaders", shape: "text" }
    ])
    assert.strictEqual(queued.status, 201)
    const url = await fetch(usersUrl(sandbox), authed(sandbox))
    assert.strictEqual(url.status, 400)
    assert.include(await url.text(), encodeURIComponent("authorization: Bearer echo-secret-key-123"))
    const b64 = await fetch(usersUrl(sandbox), authed(sandbox))
    assert.strictEqual(b64.status, 502)
    const message: string = ((await b64.json()) as Json).message
    const encoded = message.slice(message.lastIndexOf(" ") + 1)
    assert.include(Buffer.from(encoded, "base64").toString("utf8"), "Bearer echo-secret-key-123")
    const json = await fetch(usersUrl(sandbox), authed(sandbox))
    const raw = await json.text()
    assert.include(raw, "\\\"authorization\\\":\\\"Bearer echo-secret-key-123\\\"", "quotes escaped inside the string")
    assert.strictEqual(JSON.parse(raw).key, "forbidden")
    const text = await fetch(usersUrl(sandbox), authed(sandbox))
    assert.match(text.headers.get("content-type")!, /text\/plain/)
    assert.include(await text.text(), "Bearer echo-secret-key-123")
  })
})

describe("unmanaged accounts", () => {
  it("the option adds them after the unchanged default roster; v1 lists managed ones only, v2 all", async () => {
    const sandbox = await startSandbox({ unmanaged: 7, referenceTime: Date.UTC(2026, 0, 1) })
    try {
      const managed = sandbox.users({ claimStatus: "managed" })
      assert.deepStrictEqual(
        managed.map((u) => u.account_id),
        generateUsers(50, 1, 0, Date.UTC(2026, 0, 1)).map((u) => u.account_id)
      )
      const unmanaged = sandbox.users({ claimStatus: "unmanaged" })
      assert.strictEqual(unmanaged.length, 7)
      assert.isTrue(unmanaged.some((u) => (u.product_access?.length ?? 0) > 0))
      assert.isTrue(unmanaged.every((u) => u.email !== undefined && !u.email.endsWith("@acme.com")))
      const v1 = await listV1(sandbox)
      assert.strictEqual(v1.seen.length, 50)
      assert.deepStrictEqual(v1.totals, [50])
      const v2 = await search(sandbox, { limit: 100 })
      assert.strictEqual(v2.body.data.length, 57)
      assert.strictEqual(v2.body.data.filter((u: Json) => u.claimStatus === "unmanaged").length, 7)
      const added = await control(sandbox, "POST", "/users", { count: 2, claimStatus: "unmanaged" })
      assert.isTrue(added.body.users.every((u: Json) => u.claimStatus === "unmanaged"))
      assert.strictEqual((await control(sandbox, "GET", "")).body.unmanagedUsers, 9)
      const again = await startSandbox({ unmanaged: 7, referenceTime: Date.UTC(2026, 0, 1) })
      assert.deepStrictEqual(again.users(), sandbox.users().slice(0, 57), "deterministic from the seed")
      await again.close()
    } finally {
      await sandbox.close()
    }
  })
})

describe("CLI flags for the scenarios", () => {
  it("--unmanaged and --cursor-mode (and their environment variables)", () => {
    assert.deepStrictEqual(parseCli(["--unmanaged", "25", "--cursor-mode", "strict"], {}), {
      _tag: "Start",
      options: { unmanaged: 25, cursorMode: "strict" }
    })
    assert.deepStrictEqual(parseCli([], { ATLASSIAN_SANDBOX_UNMANAGED: "3" }), {
      _tag: "Start",
      options: { unmanaged: 3 }
    })
    assert.throws(() => parseCli(["--cursor-mode", "loose"], {}), /--cursor-mode must be offset or strict/)
  })
})
