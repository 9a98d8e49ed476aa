// The sandbox against Atlassian's own OpenAPI documents: every covered endpoint, happy and error paths,
// driven through the validating proxy of test/openapi, with no violation. The proxy is the tool for
// running a whole client flow (the adapter's) against the documents.
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import type { AtlassianSandbox } from "../src/sandbox/index.js"
import { startSandbox } from "../src/sandbox/index.js"
import type { ValidatingProxy } from "./openapi/Contract.js"
import { loadContract, SPEC_DIR, specsAvailable, startValidatingProxy } from "./openapi/Contract.js"
import { overrides } from "./openapi/overrides.js"

const why = specsAvailable ? "" : ` (skipped: no OpenAPI documents in ${SPEC_DIR})`

describe.skipIf(!specsAvailable)(`the sandbox conforms to Atlassian's OpenAPI documents${why}`, () => {
  let sandbox: AtlassianSandbox
  let proxy: ValidatingProxy
  beforeAll(async () => {
    sandbox = await startSandbox({ users: 230, unmanaged: 3, pageSize: 100 })
    proxy = await startValidatingProxy({ target: sandbox.url })
  })
  afterAll(async () => {
    await proxy.close()
    await sandbox.close()
  })

  const send = async (method: string, path: string, options: { body?: string; key?: string | null } = {}) => {
    const key = options.key === undefined ? sandbox.apiKey : options.key
    const res = await fetch(proxy.url + path, {
      method,
      headers: {
        ...(key === null ? {} : { authorization: `Bearer ${key}` }),
        ...(options.body === undefined ? {} : { "content-type": "application/json" })
      },
      ...(options.body === undefined ? {} : { body: options.body })
    })
    const text = await res.text()
    return { status: res.status, text }
  }
  const org = () => `/admin/v1/orgs/${sandbox.orgId}`
  /** No violation so far; a failure lists them one a line. */
  const conforms = () => {
    const seen = proxy.violations().map((v) =>
      `${v.kind} ${v.method} ${v.path} ${v.status ?? ""}: ${v.problems.join("; ")}`
    )
    assert.deepStrictEqual(seen, [])
  }
  const id = (i: number) => encodeURIComponent(sandbox.users()[i]!.account_id)

  it("v1 orgs, users (every page), last-active dates: happy and error paths", async () => {
    const expect = async (
      method: string,
      path: string,
      status: number,
      options?: { body?: string; key?: string | null }
    ) => assert.strictEqual((await send(method, path, options)).status, status, `${method} ${path}`)
    await expect("GET", "/admin/v1/orgs", 200)
    await expect("GET", org(), 200)
    await expect("GET", "/admin/v1/orgs/no-such-org", 404)
    await expect("GET", org(), 401, { key: null })
    // Follow links.next through the proxy: it rewrites the sandbox's origin to its own.
    let next: string | undefined = proxy.url + org() + "/users"
    let pages = 0
    while (next !== undefined) {
      assert.isTrue(next.startsWith(proxy.url), next)
      const page = await fetch(next, { headers: { authorization: `Bearer ${sandbox.apiKey}` } })
      next = ((await page.json()) as { links: { next?: string } }).links.next
      pages++
    }
    assert.strictEqual(pages, 3)
    await expect("GET", `${org()}/users?cursor=garbled`, 400)
    await expect("GET", `${org()}/users`, 401, { key: "wrong" })
    await expect("GET", "/admin/v1/orgs/no-such-org/users", 404)
    await expect("GET", `${org()}/directory/users/${id(4)}/last-active-dates`, 200)
    await expect("GET", `${org()}/directory/users/nobody/last-active-dates`, 404)
    await expect("GET", `${org()}/directory/users/${id(4)}/last-active-dates`, 401, { key: null })
    conforms()
  })

  it("v2 workspaces: listing, query, sort, cursor, and its 400s", async () => {
    const ws = `/admin/v2/orgs/${sandbox.orgId}/workspaces`
    assert.strictEqual((await send("POST", ws)).status, 200)
    const first = await send("POST", ws, {
      body: JSON.stringify({ limit: 4, sort: [{ field: "attributes.name", order: "asc" }] })
    })
    assert.strictEqual(first.status, 200)
    const cursor = (JSON.parse(first.text) as { links: { next: string } }).links.next
    assert.strictEqual((await send("POST", ws, { body: JSON.stringify({ cursor }) })).status, 200)
    const query = {
      query: { and: [{ field: { name: "attributes.typeKey", values: ["confluence"] } }, { searchWorkspaces: "acme" }] }
    }
    assert.strictEqual((await send("POST", ws, { body: JSON.stringify(query) })).status, 200)
    assert.strictEqual((await send("POST", ws, { body: JSON.stringify({ cursor, limit: 4 }) })).status, 400)
    assert.strictEqual((await send("POST", ws, { body: JSON.stringify({ cursor: "garbled" }) })).status, 400)
    assert.strictEqual((await send("POST", "/admin/v2/orgs/nope/workspaces")).status, 404)
    assert.strictEqual((await send("POST", ws, { key: null })).status, 401)
    conforms()
  })

  it("user management: profile, manage and lifecycle, happy and error paths", async () => {
    const scim = sandbox.users()[7]!.account_id
    sandbox.updateUser(scim, { managedBy: "scim" })
    const closed = sandbox.addUsers([{ account_status: "closed", email: "closed@acme.com" }])[0]!.account_id
    const guest = encodeURIComponent(sandbox.users({ claimStatus: "unmanaged" })[0]!.account_id)
    const target = encodeURIComponent(
      sandbox.users().find((u) => u.account_status === "active" && u.managedBy === undefined)!.account_id
    )
    const cases: ReadonlyArray<readonly [string, string, number, { body?: string; key?: string | null }?]> = [
      ["GET", `/users/${id(0)}/manage/profile`, 200],
      ["GET", `/users/${encodeURIComponent(closed)}/manage/profile`, 200],
      ["GET", `/users/557058%3Anobody/manage/profile`, 404],
      ["GET", `/users/${guest}/manage/profile`, 403],
      ["GET", `/users/${id(0)}/manage/profile`, 401, { key: null }],
      ["GET", `/users/${id(0)}/manage?privileges=lifecycle.enablement`, 200],
      [
        "GET",
        `/users/${encodeURIComponent(scim)}/manage?privileges=lifecycle.enablement&privileges=profile.write`,
        200
      ],
      ["GET", `/users/${id(0)}/manage`, 200],
      ["GET", `/users/${guest}/manage`, 403],
      ["GET", `/users/nobody/manage`, 404],
      ["POST", `/users/${target}/manage/lifecycle/disable`, 204, { body: "{}" }],
      ["POST", `/users/${target}/manage/lifecycle/disable`, 204, { body: JSON.stringify({ message: "On leave" }) }],
      ["POST", `/users/${target}/manage/lifecycle/enable`, 204],
      ["POST", `/users/${encodeURIComponent(scim)}/manage/lifecycle/disable`, 403, { body: "{}" }],
      ["POST", `/users/${guest}/manage/lifecycle/enable`, 403],
      ["POST", `/users/557058%3Anobody/manage/lifecycle/disable`, 404, { body: "{}" }],
      ["POST", `/users/${target}/manage/lifecycle/disable`, 401, { body: "{}", key: "wrong" }]
    ]
    for (const [method, path, status, options] of cases) {
      assert.strictEqual((await send(method, path, options)).status, status, `${method} ${path}`)
    }
    conforms()
  })

  it("the gateway's 429 on every covered operation, and faults pass unchecked", async () => {
    sandbox.setRateLimit({ requests: 1, windowSeconds: 3600 })
    try {
      for (
        const [method, path] of [["GET", `${org()}/users`], ["GET", `/users/${id(1)}/manage/profile`], [
          "POST",
          `/admin/v2/orgs/${sandbox.orgId}/workspaces`
        ]]
      ) {
        await send(method!, path!)
      }
      assert.isTrue(proxy.checked().slice(-2).every((c) => c.status === 429))
    } finally {
      sandbox.setRateLimit(false)
    }
    sandbox.injectFault({ kind: "missingFields" })
    sandbox.injectFault({ kind: "status", status: 503, shape: "html" })
    await send("GET", `${org()}/users`)
    await send("GET", `${org()}/users`)
    assert.deepStrictEqual(proxy.checked().slice(-2).map((c) => c.fault), ["status", "missingFields"])
    conforms()
  })

  it("an injected fault's error body, which the proxy passes unchecked, has the shape the documents give it", async () => {
    const contract = await loadContract()
    const getUsers = contract.match("GET", `${org()}/users`)!
    const direct = async () => {
      const res = await fetch(`${sandbox.url}${org()}/users`, {
        headers: { authorization: `Bearer ${sandbox.apiKey}` }
      })
      return { status: res.status, contentType: res.headers.get("content-type") ?? undefined, body: await res.text() }
    }
    sandbox.injectFault({ kind: "status", status: 500, shape: "org" })
    const internal = await direct()
    assert.strictEqual(internal.status, 500)
    assert.deepStrictEqual(contract.checkResponse(getUsers, internal), [])
    // No users operation lists a 403: the gateway's `NoPermsError` is checked against its schema.
    sandbox.injectFault({ kind: "status", status: 403, shape: "noperms" })
    const noPerms = await direct()
    assert.strictEqual(noPerms.status, 403)
    assert.deepStrictEqual(contract.checkSchema("organization", "NoPermsError", JSON.parse(noPerms.body)), [])
    // The same checks fail on a body of the wrong shape.
    assert.isNotEmpty(contract.checkSchema("organization", "NoPermsError", { status: 401, message: 7 }))
    assert.isNotEmpty(contract.checkResponse(getUsers, { ...internal, body: JSON.stringify({ errors: "x" }) }))
    assert.throws(() => contract.checkSchema("organization", "NoSuchSchema", {}), /no component schema NoSuchSchema/)
  })

  it("v2 directory endpoints pass through (the 2023 documents do not cover them)", async () => {
    const v2 = `/admin/v2/orgs/${sandbox.orgId}/directories`
    assert.strictEqual((await send("GET", v2)).status, 200)
    assert.strictEqual((await send("POST", `${v2}/-/users/search`, { body: "{}" })).status, 200)
    assert.strictEqual((await send("POST", `${v2}/-/users/${id(2)}/suspend`)).status, 204)
    assert.strictEqual((await send("POST", `${v2}/-/users/${id(2)}/restore`)).status, 204)
    assert.isTrue(proxy.checked().slice(-4).every((c) => c.operation === undefined))
    conforms()
  })

  it("catches what does not conform: bad requests, a bad response, an undocumented status", async () => {
    proxy.reset()
    await send("POST", `/admin/v2/orgs/${sandbox.orgId}/workspaces`, { body: JSON.stringify({ limit: 5000 }) })
    await send("POST", `/users/${id(3)}/manage/lifecycle/disable`)
    await send("POST", `/users/${id(3)}/manage/lifecycle/disable`, { body: JSON.stringify({ message: 7 }) })
    const odd = sandbox.addUsers([{ account_status: "pending_deletion" }])[0]!
    await send("GET", `/users/${encodeURIComponent(odd.account_id)}/manage/profile`)
    sandbox.removeUser(odd.account_id)
    const seen = proxy.violations().map((v) => `${v.kind} ${v.status ?? ""} ${v.problems.join("; ")}`)
    assert.strictEqual(seen.length, 4, seen.join("\n"))
    assert.match(seen[0]!, /^request .*limit must be <= 1000/)
    assert.match(seen[1]!, /^request .*requires a request body/)
    assert.match(seen[2]!, /^request .*message must be string/)
    assert.match(seen[3]!, /^response 200 .*account_status must be equal to one of the allowed values/)
    const contract = await loadContract()
    const getUsers = contract.match("GET", `${org()}/users`)!
    assert.deepStrictEqual(
      contract.checkResponse(getUsers, { status: 418, contentType: "application/json", body: "{}" }),
      [
        "status 418 is not documented for this operation"
      ]
    )
    assert.isUndefined(contract.match("POST", `${org()}/users`), "a method the documents do not have is not covered")
    proxy.reset()
  })

  it("every override says what it changes and why", () => {
    assert.isAbove(overrides.length, 0)
    for (const o of overrides) {
      assert.isAbove(o.what.length, 10)
      assert.isAbove(o.why.length, 10)
    }
  })
})
