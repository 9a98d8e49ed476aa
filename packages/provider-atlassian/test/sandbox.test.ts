import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import { parseCli } from "../src/sandbox/CliOptions.js"
import type { AtlassianSandbox, SandboxUser } from "../src/sandbox/index.js"
import { DEFAULT_API_KEY, generateUsers, make, startSandbox, validateFault } from "../src/sandbox/index.js"

// ---------------------------------------------------------------------------------------------------
// helpers

interface UsersPage {
  readonly data: ReadonlyArray<Record<string, any>>
  readonly meta: { readonly total: number }
  readonly links: { readonly self: string; readonly next?: string; readonly prev?: string }
}

/** A response's JSON body, loosely typed: tests assert on its shape. */
const json = (res: Response): Promise<any> => res.json()

const usersUrl = (sandbox: AtlassianSandbox) => `${sandbox.url}/admin/v1/orgs/${sandbox.orgId}/users`

const authed = (sandbox: AtlassianSandbox, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { authorization: `Bearer ${sandbox.apiKey}`, ...(init.headers as Record<string, string> | undefined) }
})

const getPage = async (sandbox: AtlassianSandbox, url = usersUrl(sandbox)): Promise<UsersPage> => {
  const res = await fetch(url, authed(sandbox))
  assert.strictEqual(res.status, 200, `GET ${url}`)
  return (await json(res)) as UsersPage
}

/** Follows links.next like a client would, returning every page. */
const allPages = async (sandbox: AtlassianSandbox, maxPages = 10_000): Promise<Array<UsersPage>> => {
  const pages: Array<UsersPage> = []
  let url: string | undefined = usersUrl(sandbox)
  while (url !== undefined) {
    if (pages.length >= maxPages) assert.fail(`more than ${maxPages} pages: paging does not end`)
    const page: UsersPage = await getPage(sandbox, url)
    pages.push(page)
    url = page.links.next
  }
  return pages
}

const ids = (pages: ReadonlyArray<UsersPage>): Array<string> => pages.flatMap((p) => p.data.map((u) => u.account_id))

const lifecycle = (sandbox: AtlassianSandbox, id: string, action: string, body?: string, key = sandbox.apiKey) =>
  fetch(`${sandbox.url}/users/${encodeURIComponent(id)}/manage/lifecycle/${action}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    ...(body === undefined ? {} : { body })
  })

const control = async (sandbox: AtlassianSandbox, method: string, path: string, body?: unknown) => {
  const res = await fetch(`${sandbox.url}/__sandbox${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } })
  })
  const text = await res.text()
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) : undefined }
}

const MINUTE_RESET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/
const SECOND_RESET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/

// ---------------------------------------------------------------------------------------------------

describe("listing", () => {
  let sandbox: AtlassianSandbox
  beforeAll(async () => {
    sandbox = await startSandbox({ users: 250, pageSize: 40, seed: 7 })
  })
  afterAll(() => sandbox.close())

  it("visits every user exactly once, in roster order, with meta.total on every page", async () => {
    const pages = await allPages(sandbox)
    assert.strictEqual(pages.length, 7) // 6 x 40 + 10
    assert.deepStrictEqual(ids(pages), sandbox.users().map((u) => u.account_id))
    assert.strictEqual(new Set(ids(pages)).size, 250)
    for (const page of pages) assert.strictEqual(page.meta.total, 250)
    assert.deepStrictEqual(pages.map((p) => p.data.length), [40, 40, 40, 40, 40, 40, 10])
    assert.isUndefined(pages.at(-1)!.links.next)
  })

  it("gives links.next as an absolute URL on the sandbox with an opaque cursor, and links.self", async () => {
    const first = await getPage(sandbox)
    assert.strictEqual(first.links.self, usersUrl(sandbox))
    const next = new URL(first.links.next!)
    assert.strictEqual(next.origin, sandbox.url)
    assert.strictEqual(next.pathname, `/admin/v1/orgs/${sandbox.orgId}/users`)
    const cursor = next.searchParams.get("cursor")
    assert.isString(cursor)
    assert.notMatch(cursor!, /^\d+$/, "the cursor is not a bare offset")
    const second = await getPage(sandbox, first.links.next!)
    assert.strictEqual(second.links.self, first.links.next)
    assert.strictEqual(second.links.prev, new URL(second.links.prev!).href)
  })

  it("refuses a garbled cursor, and one issued by another org, with 400 ADMIN-400-1", async () => {
    const other = await startSandbox({ orgId: "another-org", users: 200, pageSize: 40 })
    try {
      const foreignCursor = new URL((await getPage(other)).links.next!).searchParams.get("cursor")!
      for (const cursor of ["garbled!!", "bm90LWEtY3Vyc29y", foreignCursor]) {
        const res = await fetch(`${usersUrl(sandbox)}?cursor=${encodeURIComponent(cursor)}`, authed(sandbox))
        assert.strictEqual(res.status, 400, cursor)
        const body = await json(res)
        assert.strictEqual(body.errors[0].code, "ADMIN-400-1")
        assert.strictEqual(body.errors[0].status, "400")
      }
    } finally {
      await other.close()
    }
  })

  it("serves links.self of each user and never the sandbox-only fields", async () => {
    const id = sandbox.users()[3]!.account_id
    sandbox.updateUser(id, { managedBy: "scim" })
    const page = await getPage(sandbox)
    const served = page.data[3]!
    assert.strictEqual(served.account_id, id)
    assert.notProperty(served, "managedBy")
    assert.strictEqual(served.links.self, `${sandbox.url}/users/${encodeURIComponent(id)}/manage`)
    sandbox.updateUser(id, { managedBy: undefined })
  })

  it("defaults to 50 users on one page of up to 100", async () => {
    const small = await startSandbox()
    try {
      const pages = await allPages(small)
      assert.strictEqual(pages.length, 1)
      assert.strictEqual(pages[0]!.data.length, 50)
      assert.strictEqual(small.orgId, "sandbox-org-0001")
      assert.strictEqual(small.apiKey, DEFAULT_API_KEY)
      const big = await startSandbox({ users: 101 })
      try {
        assert.deepStrictEqual((await allPages(big)).map((p) => p.data.length), [100, 1])
      } finally {
        await big.close()
      }
    } finally {
      await small.close()
    }
  })
})

describe("generated roster", () => {
  it("is deterministic per seed, and the same prefix whatever the size", () => {
    const a = generateUsers(300, 42)
    assert.deepStrictEqual(a, generateUsers(300, 42))
    assert.deepStrictEqual(generateUsers(1000, 42).slice(0, 300), a)
    assert.notDeepEqual(generateUsers(300, 43).map((u) => u.name), a.map((u) => u.name))
    assert.strictEqual(new Set(generateUsers(5000, 1).map((u) => u.account_id)).size, 5000)
  })

  it("covers what an adapter must handle: missing email and last_active, all statuses and types, several sites", () => {
    const users = generateUsers(2000, 1)
    assert.isTrue(users.some((u) => u.email === undefined && u.account_type === "atlassian"))
    assert.isTrue(users.some((u) => u.last_active === undefined))
    assert.includeMembers([...new Set(users.map((u) => u.account_status))], ["active", "inactive", "closed"])
    assert.includeMembers([...new Set(users.map((u) => u.account_type))], ["atlassian", "customer", "app"])
    const products = users.flatMap((u) => u.product_access ?? [])
    assert.includeMembers([...new Set(products.map((p) => p.key))], [
      "jira-software",
      "confluence",
      "jira-service-desk",
      "jira-core",
      "opsgenie",
      "statuspage",
      "bitbucket",
      "trello"
    ])
    const hosts = new Set(products.map((p) => new URL(p.url!).hostname))
    assert.includeMembers([...hosts], ["acme.atlassian.net", "acme-eu.atlassian.net"])
    assert.isTrue(products.some((p) => p.url === "https://acme-eu.atlassian.net/wiki"))
    assert.isTrue(products.some((p) => p.last_active === undefined))
    assert.match(users.find((u) => u.account_id.includes(":"))!.account_id, /^\d{6}:[0-9a-f-]{36}$/)
    assert.isTrue(users.some((u) => /^[0-9a-f]{24}$/.test(u.account_id)))
  })
})

// Conformance to Atlassian's OpenAPI documents, bodies and errors, is sandbox-contract.test.ts's, checked
// by a validator library; these pin what the documents leave open.
describe("orgs and open enums", () => {
  let sandbox: AtlassianSandbox
  beforeAll(async () => {
    sandbox = await startSandbox({ users: 600, pageSize: 200 })
  })
  afterAll(() => sandbox.close())

  it("GET /admin/v1/orgs and /admin/v1/orgs/{orgId} describe the sandbox's one org", async () => {
    const res = await fetch(`${sandbox.url}/admin/v1/orgs/${sandbox.orgId}`, authed(sandbox))
    assert.strictEqual(res.status, 200)
    const body = await json(res)
    assert.strictEqual(body.data.id, sandbox.orgId)
    assert.strictEqual(body.data.type, "orgs")
    assert.strictEqual(body.data.attributes.name, sandbox.orgName)
    assert.strictEqual(body.data.links.self, `${sandbox.url}/admin/v1/orgs/${sandbox.orgId}`)
    const list = await json(await fetch(`${sandbox.url}/admin/v1/orgs`, authed(sandbox)))
    assert.strictEqual(list.data.length, 1)
    assert.strictEqual(list.data[0].id, sandbox.orgId)
  })

  it("serves values outside the documented enums verbatim (they are open)", async () => {
    const [added] = sandbox.addUsers([{
      account_status: "pending_deletion",
      product_access: [{ key: "compass", name: "Compass", url: "https://acme.atlassian.net/compass" }]
    }])
    const other = sandbox.users()[0]!
    sandbox.updateUser(other.account_id, { account_status: "suspended_by_robot", account_type: "bot" })
    const served = new Map((await allPages(sandbox)).flatMap((p) => p.data).map((u) => [u.account_id, u]))
    assert.strictEqual(served.get(added!.account_id)!.account_status, "pending_deletion")
    assert.strictEqual(served.get(added!.account_id)!.product_access[0].key, "compass")
    assert.strictEqual(served.get(other.account_id)!.account_status, "suspended_by_robot")
    assert.strictEqual(served.get(other.account_id)!.account_type, "bot")
  })
})

describe("roster control", () => {
  let sandbox: AtlassianSandbox
  beforeAll(async () => {
    sandbox = await startSandbox({ users: 10, pageSize: 4 })
  })
  afterAll(() => sandbox.close())

  it("adds, updates and removes users between syncs", async () => {
    const before = sandbox.users().map((u) => u.account_id)
    const added = sandbox.addUsers(3)
    assert.strictEqual(added.length, 3)
    assert.strictEqual(new Set([...before, ...added.map((u) => u.account_id)]).size, 13)
    const custom = sandbox.addUsers([{ account_id: "custom-1", name: "No Email", account_status: "active" }])[0]!
    assert.strictEqual(custom.account_id, "custom-1")
    assert.notProperty(custom, "email", "optional fields stay absent")
    assert.isString(custom.picture)
    sandbox.removeUser(before[0]!)
    const withEmail = sandbox.users().find((u) => u.email !== undefined)!
    sandbox.updateUser(withEmail.account_id, { name: "Renamed", email: undefined })
    const pages = await allPages(sandbox)
    const served = pages.flatMap((p) => p.data)
    assert.deepStrictEqual(served.map((u) => u.account_id), [
      ...before.slice(1),
      ...added.map((u) => u.account_id),
      "custom-1"
    ])
    assert.strictEqual(pages[0]!.meta.total, 13)
    const renamed = served.find((u) => u.account_id === withEmail.account_id)!
    assert.strictEqual(renamed.name, "Renamed")
    assert.notProperty(renamed, "email")
    assert.isUndefined(sandbox.user(before[0]!))
  })

  it("says what is wrong with bad roster changes", () => {
    assert.throws(() => sandbox.removeUser("nobody"), /no user with account_id nobody/)
    assert.throws(() => sandbox.updateUser("nobody", { name: "x" }), /no user with account_id nobody/)
    assert.throws(() => sandbox.addUsers([{ account_id: "custom-1" }]), /already exists/)
    assert.throws(() => sandbox.addUsers([{ account_id: "bad id with spaces" }]), /account_id must match/)
    assert.throws(() => sandbox.updateUser("custom-1", { account_id: "other" }), /cannot change/)
    assert.throws(() => sandbox.addUsers(-1), /non-negative whole number/)
  })
})

describe("auth and routing", () => {
  let sandbox: AtlassianSandbox
  beforeAll(async () => {
    sandbox = await startSandbox({ users: 5, apiKey: "the-right-key" })
  })
  afterAll(() => sandbox.close())

  it("answers a missing or wrong bearer with the gateway 401, and logs it as unauthorized", async () => {
    sandbox.resetLog()
    for (const headers of [{}, { authorization: "Bearer wrong" }, { authorization: "Basic dGhlLXJpZ2h0LWtleQ==" }]) {
      const res = await fetch(usersUrl(sandbox), { headers })
      assert.strictEqual(res.status, 401)
      assert.deepStrictEqual(await json(res), { code: 401, message: "Unauthorized" })
    }
    const org = await fetch(`${sandbox.url}/admin/v1/orgs/${sandbox.orgId}`)
    assert.strictEqual(org.status, 401)
    assert.deepStrictEqual(sandbox.requests.map((r) => [r.status, r.authorized]), [
      [401, false],
      [401, false],
      [401, false],
      [401, false]
    ])
    const ok = await fetch(usersUrl(sandbox), { headers: { authorization: "bearer the-right-key" } })
    assert.strictEqual(ok.status, 200)
    assert.isTrue(sandbox.requests.at(-1)!.authorized)
  })

  it("answers lifecycle calls without the key with the user-management 401", async () => {
    const id = sandbox.users()[0]!.account_id
    sandbox.updateUser(id, { account_status: "active" })
    const res = await lifecycle(sandbox, id, "disable", "{}", "wrong")
    assert.strictEqual(res.status, 401)
    assert.deepStrictEqual(await json(res), { key: "unauthorized" })
    assert.strictEqual(sandbox.user(id)!.account_status, "active")
  })

  it("answers an unknown org with 404 ADMIN-404-2", async () => {
    for (const path of ["/admin/v1/orgs/no-such-org", "/admin/v1/orgs/no-such-org/users"]) {
      const res = await fetch(sandbox.url + path, authed(sandbox))
      assert.strictEqual(res.status, 404, path)
      const body = await json(res)
      assert.strictEqual(body.errors[0].code, "ADMIN-404-2")
      assert.strictEqual(body.errors[0].status, "404")
    }
  })

  it("answers unknown paths with 404 and wrong methods with 405", async () => {
    assert.strictEqual((await fetch(`${sandbox.url}/nothing/here`, authed(sandbox))).status, 404)
    const post = await fetch(usersUrl(sandbox), authed(sandbox, { method: "POST", body: "{}" }))
    assert.strictEqual(post.status, 405)
    assert.strictEqual((await json(post)).errors[0].code, "ADMIN-405-1")
  })
})

describe("lifecycle", () => {
  let sandbox: AtlassianSandbox
  let target: SandboxUser
  beforeAll(async () => {
    sandbox = await startSandbox({ users: 20 })
    target = sandbox.addUsers([{
      account_id: "557058:0f1e2d3c-aaaa-4bbb-8ccc-000000000001",
      account_status: "active"
    }])[0]!
  })
  afterAll(() => sandbox.close())

  it("disable flips the account to inactive (also in the listing) and records the body; enable flips it back", async () => {
    sandbox.resetLog()
    const res = await lifecycle(sandbox, target.account_id, "disable", JSON.stringify({ message: "On 6-month leave" }))
    assert.strictEqual(res.status, 204)
    assert.strictEqual(await res.text(), "")
    assert.strictEqual(sandbox.user(target.account_id)!.account_status, "inactive")
    const listed = (await allPages(sandbox)).flatMap((p) => p.data).find((u) => u.account_id === target.account_id)!
    assert.strictEqual(listed.account_status, "inactive")
    assert.deepStrictEqual(sandbox.requests[0]!.body, { message: "On 6-month leave" })
    assert.strictEqual(sandbox.requests[0]!.route, "lifecycle")
    assert.strictEqual(
      sandbox.requests[0]!.path,
      `/users/${encodeURIComponent(target.account_id)}/manage/lifecycle/disable`
    )

    const enable = await lifecycle(sandbox, target.account_id, "enable")
    assert.strictEqual(enable.status, 204)
    assert.strictEqual(sandbox.user(target.account_id)!.account_status, "active")
    assert.isUndefined(sandbox.requests.at(-1)!.body)
  })

  it("accepts {} on disable and is idempotent", async () => {
    assert.strictEqual((await lifecycle(sandbox, target.account_id, "disable", "{}")).status, 204)
    assert.strictEqual((await lifecycle(sandbox, target.account_id, "disable", "{}")).status, 204)
    assert.strictEqual(sandbox.user(target.account_id)!.account_status, "inactive")
    assert.strictEqual((await lifecycle(sandbox, target.account_id, "enable", "{}")).status, 204)
    assert.strictEqual(sandbox.user(target.account_id)!.account_status, "active")
  })

  it("refuses a disable without a JSON object body with 400, changing nothing", async () => {
    for (const body of [undefined, "not json", "[1]", "\"text\""]) {
      const res = await lifecycle(sandbox, target.account_id, "disable", body)
      assert.strictEqual(res.status, 400, String(body))
      assert.deepStrictEqual(await json(res), { key: "bodyParseFailure" })
    }
    const wrongType = await lifecycle(sandbox, target.account_id, "disable", JSON.stringify({ message: 5 }))
    assert.strictEqual(wrongType.status, 400)
    assert.strictEqual((await json(wrongType)).key, "fieldConstraintsViolated")
    assert.strictEqual(sandbox.user(target.account_id)!.account_status, "active")
    assert.strictEqual(sandbox.requests.at(-2)!.body, "text", "a JSON body is recorded parsed")
    assert.strictEqual(sandbox.requests.at(-4)!.body, "not json", "anything else is recorded as text")
  })

  it("answers an unknown account with 404 accountNotFound", async () => {
    const res = await lifecycle(sandbox, "557058:does-not-exist", "disable", "{}")
    assert.strictEqual(res.status, 404)
    assert.deepStrictEqual(await json(res), { key: "accountNotFound" })
  })

  it("refuses accounts managed by SCIM or Google with 403 forbidden.action and the directory reason", async () => {
    for (const managedBy of ["scim", "google"] as const) {
      const user = sandbox.addUsers([{ account_status: "active", managedBy }])[0]!
      for (const action of ["disable", "enable"]) {
        const res = await lifecycle(sandbox, user.account_id, action, "{}")
        assert.strictEqual(res.status, 403)
        assert.deepStrictEqual(await json(res), {
          key: "forbidden.action",
          context: { allowed: false, reason: { key: `externalDirectory.${managedBy}` } }
        })
      }
      assert.strictEqual(sandbox.user(user.account_id)!.account_status, "active")
    }
  })
})

describe("faults", () => {
  let sandbox: AtlassianSandbox
  beforeAll(async () => {
    sandbox = await startSandbox({ users: 250, pageSize: 100 })
  })
  afterAll(() => sandbox.close())

  const expectHealthy = async () => {
    const res = await fetch(usersUrl(sandbox), authed(sandbox))
    assert.strictEqual(res.status, 200, "the fault was consumed and the next request is served")
    await json(res)
  }

  it("status faults answer each documented error shape once", async () => {
    sandbox.clearFaults()
    const cases = [
      { status: 500, shape: "org", check: (b: any) => assert.strictEqual(b.errors[0].code, "ADMIN-500-1") },
      { status: 502, shape: "gateway", check: (b: any) => assert.strictEqual(b.code, 502) },
      {
        status: 403,
        shape: "noperms",
        check: (b: any) => {
          assert.strictEqual(b.status, 403)
          assert.strictEqual(b.error, "Forbidden")
          assert.hasAllKeys(b, ["timestamp", "path", "status", "error", "message", "requestId"])
        }
      },
      { status: 404, shape: "user", check: (b: any) => assert.deepStrictEqual(b, { key: "accountNotFound" }) },
      { status: 401, shape: "org", check: (b: any) => assert.strictEqual(b.errors[0].status, "401") },
      {
        status: 400,
        shape: "gateway",
        check: (b: any) => assert.deepStrictEqual(b, { code: 400, message: "Bad Request" })
      }
    ] as const
    for (const c of cases) {
      sandbox.injectFault({ kind: "status", status: c.status, shape: c.shape })
      const res = await fetch(usersUrl(sandbox), authed(sandbox))
      assert.strictEqual(res.status, c.status, `${c.shape} ${c.status}`)
      assert.match(res.headers.get("content-type")!, /application\/json/)
      c.check(await json(res))
      await expectHealthy()
    }
    const org500 = { kind: "status", status: 500, shape: "org" } as const
    sandbox.injectFault(org500)
    const body = await json(await fetch(usersUrl(sandbox), authed(sandbox)))
    assert.strictEqual(body.errors[0].status, "500", "status is a string in the org envelope")
  })

  it("a user-shaped 403 carries forbidden.action with the reason", async () => {
    sandbox.injectFault({ kind: "status", status: 403, shape: "user", reason: "externalDirectory.scim" }, {
      on: "lifecycle"
    })
    const id = sandbox.users()[0]!.account_id
    const res = await lifecycle(sandbox, id, "disable", "{}")
    assert.strictEqual(res.status, 403)
    assert.deepStrictEqual(await json(res), {
      key: "forbidden.action",
      context: { allowed: false, reason: { key: "externalDirectory.scim" } }
    })
  })

  it("html and empty bodies are not JSON", async () => {
    sandbox.injectFault({ kind: "status", status: 503, shape: "html" })
    const html = await fetch(usersUrl(sandbox), authed(sandbox))
    assert.strictEqual(html.status, 503)
    assert.match(html.headers.get("content-type")!, /text\/html/)
    assert.match(await html.text(), /<html>.*503 Service Unavailable/s)
    sandbox.injectFault({ kind: "status", status: 504, shape: "empty" })
    const empty = await fetch(usersUrl(sandbox), authed(sandbox))
    assert.strictEqual(empty.status, 504)
    assert.strictEqual(await empty.text(), "")
    await expectHealthy()
  })

  it("times, on and afterRequests pick which requests a fault hits", async () => {
    sandbox.injectFault({ kind: "status", status: 502, shape: "gateway" }, { times: 2, on: "users" })
    sandbox.injectFault({ kind: "status", status: 500, shape: "org" }, { on: "org", afterRequests: 1 })
    const orgUrl = `${sandbox.url}/admin/v1/orgs/${sandbox.orgId}`
    assert.strictEqual(
      (await fetch(orgUrl, authed(sandbox))).status,
      200,
      "users fault does not hit org; org fault waits one"
    )
    assert.strictEqual((await fetch(usersUrl(sandbox), authed(sandbox))).status, 502)
    assert.strictEqual((await fetch(orgUrl, authed(sandbox))).status, 500)
    assert.strictEqual((await fetch(usersUrl(sandbox), authed(sandbox))).status, 502)
    assert.strictEqual((await fetch(usersUrl(sandbox), authed(sandbox))).status, 200)
    assert.strictEqual((await fetch(orgUrl, authed(sandbox))).status, 200)
    assert.deepStrictEqual(sandbox.faults(), [])

    sandbox.injectFault({ kind: "status", status: 503, shape: "gateway" }, { times: Infinity })
    for (let i = 0; i < 3; i++) assert.strictEqual((await fetch(usersUrl(sandbox), authed(sandbox))).status, 503)
    sandbox.clearFaults()
    await expectHealthy()
  })

  it("rateLimited answers the gateway 429 with a minute-precision reset, and Retry-After only when asked", async () => {
    sandbox.injectFault({ kind: "rateLimited" })
    const res = await fetch(usersUrl(sandbox), authed(sandbox))
    assert.strictEqual(res.status, 429)
    assert.deepStrictEqual(await json(res), { code: 429, message: "Rate limit exceeded" })
    assert.strictEqual(res.headers.get("x-ratelimit-remaining"), "0")
    assert.isString(res.headers.get("x-ratelimit-limit"))
    assert.match(res.headers.get("x-ratelimit-reset")!, MINUTE_RESET)
    assert.isAbove(Date.parse(res.headers.get("x-ratelimit-reset")!), Date.now())
    assert.isNull(res.headers.get("retry-after"))

    sandbox.injectFault({ kind: "rateLimited", retryAfterSeconds: 7, resetFormat: "seconds" })
    const again = await fetch(usersUrl(sandbox), authed(sandbox))
    assert.strictEqual(again.status, 429)
    assert.strictEqual(again.headers.get("retry-after"), "7")
    assert.match(again.headers.get("x-ratelimit-reset")!, SECOND_RESET)
    await expectHealthy()
  })

  it("reset destroys the connection without an answer", async () => {
    sandbox.resetLog()
    sandbox.injectFault({ kind: "reset" })
    const error = await fetch(usersUrl(sandbox), authed(sandbox)).then(() => undefined, (e: unknown) => e)
    assert.instanceOf(error, TypeError, "fetch failed")
    assert.strictEqual(sandbox.requests[0]!.status, 0)
    assert.strictEqual(sandbox.requests[0]!.fault, "reset")
    sandbox.injectFault({ kind: "reset", partial: true })
    const partial = await fetch(usersUrl(sandbox), authed(sandbox)).then((r) => r.text()).then(
      () => undefined,
      (e: unknown) => e
    )
    assert.instanceOf(partial, Error, "the body breaks off")
    await expectHealthy()
  })

  it("slow holds the answer back (the client gives up first) and close() does not wait for it", async () => {
    sandbox.injectFault({ kind: "slow", delayMs: 120_000 })
    const error = await fetch(usersUrl(sandbox), { ...authed(sandbox), signal: AbortSignal.timeout(300) })
      .then(() => undefined, (e: unknown) => e)
    assert.instanceOf(error, Error)
    assert.strictEqual((error as Error).name, "TimeoutError")
    await expectHealthy()
    sandbox.injectFault({ kind: "slow", delayMs: 50 })
    const res = await fetch(usersUrl(sandbox), authed(sandbox))
    assert.strictEqual(res.status, 200, "a short delay still answers normally")
    assert.strictEqual((await json(res)).meta.total, 250)
  })

  it("malformed answers 200 with JSON cut off", async () => {
    sandbox.injectFault({ kind: "malformed" })
    const res = await fetch(usersUrl(sandbox), authed(sandbox))
    assert.strictEqual(res.status, 200)
    const text = await res.text()
    assert.throws(() => JSON.parse(text), SyntaxError)
    assert.match(text, /^\{"data":\[/)
  })

  it("missingFields serves one page whose users lack required fields", async () => {
    sandbox.injectFault({ kind: "missingFields" })
    const page = await getPage(sandbox)
    assert.strictEqual(page.data.length, 100)
    for (const user of page.data) {
      assert.notProperty(user, "account_id")
      assert.notProperty(user, "account_status")
      assert.property(user, "name")
    }
    const next = await getPage(sandbox, page.links.next!)
    assert.isTrue(next.data.every((u) => typeof u.account_id === "string"))
    sandbox.injectFault({ kind: "missingFields", fields: ["name"] })
    assert.isTrue((await getPage(sandbox)).data.every((u) => u.name === undefined && typeof u.account_id === "string"))
  })

  it("truncate leaves out the roster's tail on the page that holds it while meta.total still counts it", async () => {
    sandbox.injectFault({ kind: "truncate", drop: 3 })
    const pages = await allPages(sandbox)
    assert.deepStrictEqual(pages.map((p) => p.data.length), [100, 100, 47])
    assert.isTrue(pages.every((p) => p.meta.total === 250))
    assert.deepStrictEqual(ids(pages), sandbox.users().slice(0, 247).map((u) => u.account_id))
    assert.deepStrictEqual(sandbox.faults(), [])

    // A tail spanning two pages ends paging on the first page that holds part of it.
    sandbox.injectFault({ kind: "truncate", drop: 60 })
    const short = await allPages(sandbox)
    assert.deepStrictEqual(short.map((p) => p.data.length), [100, 90])
    assert.isUndefined(short[1]!.links.next)
    assert.strictEqual((await allPages(sandbox)).flatMap((p) => p.data).length, 250, "consumed once")
  })

  it("repeatCursor makes a page's next link repeat the cursor it was requested with", async () => {
    sandbox.injectFault({ kind: "repeatCursor" })
    const first = await getPage(sandbox)
    assert.notStrictEqual(first.links.next, first.links.self, "the first page has no cursor to repeat")
    const second = await getPage(sandbox, first.links.next!)
    assert.strictEqual(second.links.next, first.links.next)
    assert.strictEqual(
      new URL(second.links.next!).searchParams.get("cursor"),
      new URL(first.links.next!).searchParams.get("cursor")
    )
  })

  it("foreignNext points links.next at another origin", async () => {
    sandbox.injectFault({ kind: "foreignNext", origin: "https://elsewhere.example/ignored-path" })
    const first = await getPage(sandbox)
    const next = new URL(first.links.next!)
    assert.strictEqual(next.origin, "https://elsewhere.example")
    assert.strictEqual(next.pathname, `/admin/v1/orgs/${sandbox.orgId}/users`)
    assert.isString(next.searchParams.get("cursor"))
  })

  it("refuses a malformed fault with a message saying what is wrong", () => {
    assert.throws(() => validateFault({ kind: "explode" }), /unknown fault kind "explode"/)
    assert.throws(() => validateFault({ kind: "status", status: 418, shape: "org" }), /status must be one of/)
    assert.throws(() => validateFault({ kind: "status", status: 500, shape: "xml" }), /shape must be one of/)
    assert.throws(() => validateFault({ kind: "truncate", drop: 0 }), /drop as a whole number >= 1/)
    assert.throws(() => validateFault({ kind: "foreignNext", origin: "not a url" }), /absolute URL/)
    assert.throws(() => sandbox.injectFault({ kind: "malformed" }, { times: 0 }), /times must be/)
  })
})

describe("rate limit", () => {
  it("allows `requests` per fixed window, then answers 429 with X-RateLimit-* and a minute-precision reset", async () => {
    const sandbox = await startSandbox({ users: 5, rateLimit: { requests: 3, windowSeconds: 60 } })
    try {
      const remaining: Array<string | null> = []
      for (let i = 0; i < 3; i++) {
        const res = await fetch(usersUrl(sandbox), authed(sandbox))
        assert.strictEqual(res.status, 200)
        assert.strictEqual(res.headers.get("x-ratelimit-limit"), "3")
        assert.match(res.headers.get("x-ratelimit-reset")!, MINUTE_RESET)
        remaining.push(res.headers.get("x-ratelimit-remaining"))
        await res.arrayBuffer()
      }
      assert.deepStrictEqual(remaining, ["2", "1", "0"])
      const limited = await fetch(usersUrl(sandbox), authed(sandbox))
      assert.strictEqual(limited.status, 429)
      assert.deepStrictEqual(await json(limited), { code: 429, message: "Rate limit exceeded" })
      assert.strictEqual(limited.headers.get("x-ratelimit-remaining"), "0")
      const reset = limited.headers.get("x-ratelimit-reset")!
      assert.match(reset, MINUTE_RESET)
      assert.isAbove(Date.parse(reset), Date.now(), "the reset is in the future (rounded up)")
      assert.isNull(limited.headers.get("retry-after"))
      // Every request counts, authorized or not, lifecycle too.
      assert.strictEqual((await fetch(usersUrl(sandbox))).status, 429)
      assert.strictEqual(sandbox.maxRequestsInAnyWindow(60_000), 5)
      assert.strictEqual(sandbox.maxRequestsInAnyWindow(60_000, { include: "accepted" }), 3)

      sandbox.setRateLimit(false)
      const free = await fetch(usersUrl(sandbox), authed(sandbox))
      assert.strictEqual(free.status, 200)
      assert.isNull(free.headers.get("x-ratelimit-limit"))
    } finally {
      await sandbox.close()
    }
  })

  it("puts the reset at the end of the window given by phaseMs, in seconds when asked", async () => {
    // Windows of 60 s starting at hh:mm:30: the current window ends at the next hh:mm:30.
    const phaseMs = Date.UTC(2026, 0, 1, 0, 0, 30)
    const sandbox = await startSandbox({
      users: 1,
      rateLimit: { requests: 100, windowSeconds: 60, phaseMs, resetFormat: "seconds" }
    })
    try {
      const before = Date.now()
      const res = await fetch(usersUrl(sandbox), authed(sandbox))
      const after = Date.now()
      const end = (t: number) =>
        new Date(phaseMs + (Math.floor((t - phaseMs) / 60_000) + 1) * 60_000).toISOString().slice(0, 19) + "Z"
      assert.include([end(before), end(after)], res.headers.get("x-ratelimit-reset"))
      assert.match(res.headers.get("x-ratelimit-reset")!, /:30Z$/)

      sandbox.setRateLimit({ requests: 100, windowSeconds: 60, phaseMs })
      const minutes = (await fetch(usersUrl(sandbox), authed(sandbox))).headers.get("x-ratelimit-reset")!
      assert.match(minutes, MINUTE_RESET)
      // Rounded up to the minute after the hh:mm:30 window end.
      const expected = (t: number) =>
        new Date(Math.ceil(Date.parse(end(t)) / 60_000) * 60_000).toISOString().slice(0, 16) + "Z"
      assert.include([expected(before), expected(Date.now())], minutes)
    } finally {
      await sandbox.close()
    }
  })

  it("maxRequestsInAnyWindow slides over arrivals", async () => {
    const sandbox = await startSandbox({ users: 1 })
    try {
      for (let i = 0; i < 4; i++) await (await fetch(usersUrl(sandbox), authed(sandbox))).arrayBuffer()
      assert.strictEqual(sandbox.maxRequestsInAnyWindow(60_000), 4)
      assert.isAtLeast(sandbox.maxRequestsInAnyWindow(1), 1)
      sandbox.resetLog()
      assert.strictEqual(sandbox.maxRequestsInAnyWindow(60_000), 0)
      assert.throws(
        () => sandbox.setRateLimit({ requests: 0, windowSeconds: 60 }),
        /requests must be a whole number >= 1/
      )
    } finally {
      await sandbox.close()
    }
  })
})

describe("control API over HTTP", () => {
  let sandbox: AtlassianSandbox
  beforeAll(async () => {
    sandbox = await startSandbox({ users: 6, pageSize: 10, apiKey: "control-test-key" })
  })
  afterAll(() => sandbox.close())

  it("describes the sandbox without revealing the key", async () => {
    const info = await control(sandbox, "GET", "")
    assert.strictEqual(info.status, 200)
    assert.strictEqual(info.body.url, sandbox.url)
    assert.strictEqual(info.body.orgId, sandbox.orgId)
    assert.strictEqual(info.body.users, 6)
    assert.strictEqual(info.body.pageSize, 10)
    assert.notInclude(JSON.stringify(info.body), "control-test-key")
  })

  it("adds, reads, patches and removes users", async () => {
    const added = await control(sandbox, "POST", "/users", { count: 2 })
    assert.strictEqual(added.status, 201)
    assert.strictEqual(added.body.users.length, 2)
    const custom = await control(sandbox, "POST", "/users", {
      users: [{ account_id: "712020:http-added", account_status: "pending_deletion", email: "x@acme.com" }]
    })
    assert.strictEqual(custom.status, 201)
    assert.strictEqual(sandbox.user("712020:http-added")!.account_status, "pending_deletion")

    const patched = await control(sandbox, "PATCH", `/users/${encodeURIComponent("712020:http-added")}`, {
      email: null,
      managedBy: "google"
    })
    assert.strictEqual(patched.status, 200)
    assert.notProperty(patched.body, "email")
    assert.strictEqual(sandbox.user("712020:http-added")!.managedBy, "google")
    const read = await control(sandbox, "GET", `/users/${encodeURIComponent("712020:http-added")}`)
    assert.strictEqual(read.body.managedBy, "google")

    assert.strictEqual(
      (await control(sandbox, "DELETE", `/users/${encodeURIComponent("712020:http-added")}`)).status,
      204
    )
    assert.isUndefined(sandbox.user("712020:http-added"))
    const all = await control(sandbox, "GET", "/users")
    assert.deepStrictEqual(
      all.body.users.map((u: SandboxUser) => u.account_id),
      sandbox.users().map((u) => u.account_id)
    )
    assert.strictEqual((await control(sandbox, "DELETE", "/users/nobody")).status, 404)
    const bad = await control(sandbox, "POST", "/users", { users: [{ account_id: "has spaces" }] })
    assert.strictEqual(bad.status, 400)
    assert.match(bad.body.error, /account_id must match/)
  })

  it("queues, lists and clears faults", async () => {
    const queued = await control(sandbox, "POST", "/faults", [
      { fault: { kind: "status", status: 503, shape: "gateway" }, times: "Infinity", on: "org" },
      { kind: "malformed" }
    ])
    assert.strictEqual(queued.status, 201)
    assert.strictEqual(queued.body.faults.length, 2)
    assert.strictEqual(queued.body.faults[0].on, "org")
    assert.strictEqual(queued.body.faults[0].remaining, null, "Infinity travels as null in JSON")
    const res = await fetch(usersUrl(sandbox), authed(sandbox))
    assert.strictEqual(res.status, 200)
    const text = await res.text()
    assert.throws(() => JSON.parse(text), SyntaxError, undefined, "the malformed fault hit the users page")
    assert.strictEqual((await control(sandbox, "GET", "/faults")).body.faults.length, 1)
    assert.strictEqual((await control(sandbox, "DELETE", "/faults")).status, 204)
    assert.deepStrictEqual(sandbox.faults(), [])

    const bad = await control(sandbox, "POST", "/faults", [{ kind: "malformed" }, { kind: "explode" }])
    assert.strictEqual(bad.status, 400)
    assert.match(bad.body.error, /unknown fault kind "explode"/)
    assert.deepStrictEqual(sandbox.faults(), [], "a bad batch queues nothing")
  })

  it("reads and clears the request log, and is itself neither logged nor rate limited", async () => {
    await control(sandbox, "DELETE", "/requests")
    const limit = await control(sandbox, "POST", "/rate-limit", { requests: 1, windowSeconds: 60 })
    assert.strictEqual(limit.status, 200)
    assert.deepStrictEqual(limit.body.rateLimit, { requests: 1, windowSeconds: 60 })
    assert.strictEqual((await fetch(usersUrl(sandbox), authed(sandbox))).status, 200)
    assert.strictEqual((await fetch(usersUrl(sandbox), authed(sandbox))).status, 429)
    for (let i = 0; i < 3; i++) assert.strictEqual((await control(sandbox, "GET", "/requests")).status, 200)
    const log = await control(sandbox, "GET", "/requests")
    assert.deepStrictEqual(log.body.requests.map((r: { status: number }) => r.status), [200, 429])
    const max = await control(sandbox, "GET", "/requests/max-in-window?windowMs=60000&include=accepted")
    assert.deepStrictEqual(max.body, { max: 1 })
    assert.strictEqual((await control(sandbox, "POST", "/rate-limit", false)).status, 200)
    assert.strictEqual((await fetch(usersUrl(sandbox), authed(sandbox))).status, 200)
    const badLimit = await control(sandbox, "POST", "/rate-limit", { requests: 5 })
    assert.strictEqual(badLimit.status, 400)
    assert.match(badLimit.body.error, /windowSeconds/)
    assert.strictEqual((await control(sandbox, "DELETE", "/requests")).status, 204)
    assert.strictEqual(sandbox.requests.length, 0)
    assert.strictEqual((await control(sandbox, "GET", "/nope")).status, 404)
  })
})

describe("scale", () => {
  it("a 100,000-user sandbox serves every user exactly once", async () => {
    const sandbox = await startSandbox({ users: 100_000 })
    try {
      const seen = new Set<string>()
      let url: string | undefined = usersUrl(sandbox)
      let pages = 0
      while (url !== undefined) {
        const page: UsersPage = await getPage(sandbox, url)
        assert.strictEqual(page.meta.total, 100_000)
        for (const user of page.data) seen.add(user.account_id)
        url = page.links.next
        pages++
      }
      assert.strictEqual(pages, 1000)
      assert.strictEqual(seen.size, 100_000)
    } finally {
      await sandbox.close()
    }
  }, 120_000)
})

describe("Effect and CLI entry points", () => {
  it("make ties the sandbox to a Scope", async () => {
    const url = await Effect.runPromise(Effect.scoped(Effect.gen(function*() {
      const sandbox = yield* make({ users: 3 })
      const res = yield* Effect.promise(() => fetch(usersUrl(sandbox), authed(sandbox)).then(json))
      assert.strictEqual(res.data.length, 3)
      return sandbox.url
    })))
    const after = await fetch(url).then(() => "answered", () => "closed")
    assert.strictEqual(after, "closed")
  })

  it("parses CLI flags and environment, and says what is wrong", () => {
    const command = parseCli(["--users", "2000", "--page-size", "50", "--rate-limit", "100/60", "--api-key", "k"], {
      ATLASSIAN_SANDBOX_ORG_ID: "org-from-env",
      ATLASSIAN_SANDBOX_SEED: "9"
    })
    assert.deepStrictEqual(command, {
      _tag: "Start",
      options: {
        users: 2000,
        pageSize: 50,
        seed: 9,
        apiKey: "k",
        orgId: "org-from-env",
        rateLimit: { requests: 100, windowSeconds: 60 }
      }
    })
    assert.deepStrictEqual(parseCli(["--help"], {}), { _tag: "Help" })
    assert.throws(() => parseCli(["--rate-limit", "lots"], {}), /--rate-limit must look like 100\/60/)
    assert.throws(() => parseCli(["--users", "1.5"], {}), /--users must be a whole number >= 0/)
    assert.throws(() => parseCli(["--bogus"], {}), /--help/)
  })

  const cli = fileURLToPath(new URL("../dist/sandbox/cli.js", import.meta.url))
  it.skipIf(!existsSync(cli))(
    `the built CLI prints one JSON line and stops on SIGTERM${
      existsSync(cli) ? "" : " (skipped: build first, no dist/sandbox/cli.js)"
    }`,
    async () => {
      const child = spawn(process.execPath, [cli, "--users", "12", "--page-size", "5", "--api-key", "cli-key"], {
        stdio: ["ignore", "pipe", "inherit"]
      })
      try {
        const line = await new Promise<string>((resolve, reject) => {
          let out = ""
          child.stdout!.on("data", (chunk: Buffer) => {
            out += chunk.toString()
            if (out.includes("\n")) resolve(out.split("\n")[0]!)
          })
          child.once("exit", (code) => reject(new Error(`cli exited with ${code} before printing`)))
        })
        const started = JSON.parse(line)
        assert.deepStrictEqual(Object.keys(started), ["url", "orgId", "apiKey"])
        assert.strictEqual(started.apiKey, "cli-key")
        const res = await fetch(`${started.url}/admin/v1/orgs/${started.orgId}/users`, {
          headers: { authorization: "Bearer cli-key" }
        })
        const page = await json(res)
        assert.strictEqual(page.meta.total, 12)
        assert.strictEqual(page.data.length, 5)
      } finally {
        const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)))
        child.kill("SIGTERM")
        assert.strictEqual(await exited, 0)
      }
    }
  )
})
