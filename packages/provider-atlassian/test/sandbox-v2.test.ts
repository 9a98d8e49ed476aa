// The v2 directory API, workspaces and last-active dates of the sandbox, through HTTP.
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import type { AtlassianSandbox } from "../src/sandbox/index.js"
import { compositeStatus, hostOf, startSandbox } from "../src/sandbox/index.js"

type Json = Record<string, any>

const call = async (sandbox: AtlassianSandbox, method: string, path: string, body?: unknown, raw?: string) => {
  const res = await fetch(sandbox.url + path, {
    method,
    headers: { authorization: `Bearer ${sandbox.apiKey}`, "content-type": "application/json" },
    ...(raw !== undefined ? { body: raw } : body === undefined ? {} : { body: JSON.stringify(body) })
  })
  const text = await res.text()
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) as Json : undefined }
}

const v2 = (sandbox: AtlassianSandbox) => `/admin/v2/orgs/${sandbox.orgId}`

describe("v2 directories and user search", () => {
  let sandbox: AtlassianSandbox
  let directoryId: string
  beforeAll(async () => {
    sandbox = await startSandbox({ users: 120, unmanaged: 10, seed: 3 })
    directoryId = sandbox.directories()[0]!.directoryId
  })
  afterAll(() => sandbox.close())

  it("searches one directory by its id as well as all of them with -", async () => {
    const res = await call(sandbox, "POST", `${v2(sandbox)}/directories/${directoryId}/users/search`, { limit: 100 })
    assert.strictEqual(res.status, 200)
    assert.strictEqual(res.body!.data.length, 100)
  })

  it("lists the directory with bare cursors", async () => {
    const res = await call(sandbox, "GET", `${v2(sandbox)}/directories`)
    assert.strictEqual(res.status, 200)
    assert.deepStrictEqual(res.body!.data, [{
      directoryId,
      name: sandbox.orgName,
      icon: sandbox.directories()[0]!.icon
    }])
    assert.isString(res.body!.links.self)
    assert.notInclude(res.body!.links.self, "http")
    assert.isUndefined(res.body!.links.next)
  })

  it("pages managed and unmanaged users in MultiDirectoryUser shape, 50 by default, links.next a bare cursor", async () => {
    const first = await call(sandbox, "POST", `${v2(sandbox)}/directories/-/users/search`, {})
    assert.strictEqual(first.status, 200)
    assert.strictEqual(first.body!.data.length, 50)
    const user = first.body!.data[0]
    const roster = sandbox.users()[0]!
    assert.hasAllKeys(user, [
      "accountId",
      "accountType",
      "status",
      "accountStatus",
      "membershipStatus",
      "claimStatus",
      "addedToOrg",
      "name",
      "nickname",
      ...(roster.email === undefined ? [] : ["email"]),
      "emailVerified",
      "picture",
      "managementSource",
      "mfaEnabled",
      "links"
    ])
    assert.strictEqual(user.accountId, roster.account_id)
    assert.strictEqual(user.status, compositeStatus(roster))
    assert.notProperty(user, "productAccess", "only with expand")
    const seen: Array<string> = first.body!.data.map((u: Json) => u.accountId)
    let cursor: string | undefined = first.body!.links.next
    assert.notMatch(cursor!, /^https?:/)
    while (cursor !== undefined) {
      const page = await call(sandbox, "POST", `${v2(sandbox)}/directories/-/users/search`, { cursor })
      seen.push(...page.body!.data.map((u: Json) => u.accountId))
      cursor = page.body!.links.next
    }
    assert.deepStrictEqual(seen, sandbox.users().map((u) => u.account_id))
  })

  it("expands productAccess (ARI ids on the workspace's host), groups and platformRoles", async () => {
    const holder = sandbox.users().find((u) => (u.product_access?.length ?? 0) > 0 && (u.groups?.length ?? 0) > 0)!
    const res = await call(sandbox, "POST", `${v2(sandbox)}/directories/-/users/search`, {
      accountIds: [holder.account_id],
      expand: ["productAccess", "groups", "platformRoles"]
    })
    const [user] = res.body!.data
    assert.strictEqual(user.productAccess.length, holder.product_access!.length)
    for (const access of user.productAccess) {
      assert.match(access.id, /^ari:cloud:[a-z-]+::site\/[0-9a-f-]{36}$/)
      const workspace = sandbox.workspaces().find((w) => w.id === access.id)!
      assert.isDefined(workspace, `a workspace for ${access.id}`)
      assert.strictEqual(workspace.key, access.key)
    }
    assert.deepStrictEqual(user.groups.map((g: Json) => g.name), holder.groups)
    assert.match(user.groups[0].id, /^ari:cloud:identity::group\//)
    assert.deepStrictEqual(user.platformRoles, holder.platformRoles ?? [])
  })

  it("filters by status, accountStatus, membershipStatus, claimStatus and searchTerm", async () => {
    const search = async (body: Json) =>
      (await call(sandbox, "POST", `${v2(sandbox)}/directories/-/users/search`, { limit: 100, ...body })).body!
        .data as Array<Json>
    const inactive = await search({ accountStatus: ["inactive"] })
    assert.isAbove(inactive.length, 0)
    assert.isTrue(inactive.every((u) => u.accountStatus === "inactive" && u.status === "deactivated"))
    assert.strictEqual((await search({ claimStatus: "unmanaged" })).length, 10)
    const name = sandbox.users()[5]!.name.split(" ")[1]!
    assert.isTrue((await search({ searchTerm: name })).every((u) => u.name.includes(name)))
    const target = sandbox.users().find((u) => u.account_status === "active")!
    sandbox.updateUser(target.account_id, { membershipStatus: "no_membership" })
    const notInvited = await search({ status: ["not_invited"] })
    assert.deepStrictEqual(notInvited.map((u) => u.accountId), [target.account_id])
    assert.deepStrictEqual((await search({ membershipStatus: ["no_membership"] })).map((u) => u.accountId), [
      target.account_id
    ])
    sandbox.updateUser(target.account_id, { membershipStatus: undefined, forDeletion: true })
    assert.strictEqual((await search({ accountIds: [target.account_id] }))[0]!.status, "for_deletion")
    sandbox.updateUser(target.account_id, { forDeletion: undefined })
  })

  it("refuses limit above 100, unknown fields, bad enums and emails with searchTerm: 400 ADMIN-UAM-400-1", async () => {
    for (
      const body of [{ limit: 101 }, { limit: 0 }, { color: "blue" }, { status: ["asleep"] }, {
        emails: ["a@b"],
        searchTerm: "a"
      }]
    ) {
      const res = await call(sandbox, "POST", `${v2(sandbox)}/directories/-/users/search`, body)
      assert.strictEqual(res.status, 400, JSON.stringify(body))
      assert.strictEqual(res.body!.errors[0].code, "ADMIN-UAM-400-1")
      assert.strictEqual(res.body!.errors[0].status, "400")
    }
    const garbled = await call(sandbox, "POST", `${v2(sandbox)}/directories/-/users/search`, { cursor: "nope" })
    assert.strictEqual(garbled.body!.errors[0].code, "ADMIN-400-1")
    const missing = await call(sandbox, "POST", `${v2(sandbox)}/directories/not-a-directory/users/search`, {})
    assert.strictEqual(missing.status, 404)
    assert.strictEqual(missing.body!.errors[0].code, "ADMIN-UAM-404-2")
  })
})

describe("v2 suspend and restore", () => {
  let sandbox: AtlassianSandbox
  beforeAll(async () => {
    sandbox = await startSandbox({ users: 40 })
  })
  afterAll(() => sandbox.close())

  const path = (sandbox: AtlassianSandbox, id: string, action: string, directory = "-") =>
    `${v2(sandbox)}/directories/${directory}/users/${encodeURIComponent(id)}/${action}`

  it("suspend takes no body, answers 204 and sets membershipStatus; accountStatus stays; restore undoes it", async () => {
    const user = sandbox.users().find((u) => u.account_status === "active" && u.platformRoles === undefined)!
    const res = await fetch(sandbox.url + path(sandbox, user.account_id, "suspend"), {
      method: "POST",
      headers: { authorization: `Bearer ${sandbox.apiKey}` }
    })
    assert.strictEqual(res.status, 204)
    assert.strictEqual(await res.text(), "")
    assert.strictEqual(sandbox.user(user.account_id)!.membershipStatus, "suspended")
    assert.strictEqual(sandbox.user(user.account_id)!.account_status, "active")
    const found = await call(sandbox, "POST", `${v2(sandbox)}/directories/-/users/search`, {
      accountIds: [user.account_id]
    })
    assert.strictEqual(found.body!.data[0].status, "suspended")
    assert.strictEqual(found.body!.data[0].accountStatus, "active")
    const directory = sandbox.directories()[0]!.directoryId
    assert.strictEqual(
      (await call(sandbox, "POST", path(sandbox, user.account_id, "restore", directory), {})).status,
      204
    )
    assert.strictEqual(sandbox.user(user.account_id)!.membershipStatus, "active")
  })

  it("deactivated (v1 disable) reads as status deactivated on v2", async () => {
    const user = sandbox.users().find((u) => u.account_status === "active")!
    await call(sandbox, "POST", `/users/${encodeURIComponent(user.account_id)}/manage/lifecycle/disable`, {})
    const found = await call(sandbox, "POST", `${v2(sandbox)}/directories/-/users/search`, {
      accountIds: [user.account_id]
    })
    assert.strictEqual(found.body!.data[0].status, "deactivated")
    await call(sandbox, "POST", `/users/${encodeURIComponent(user.account_id)}/manage/lifecycle/enable`)
  })

  it("refuses an org admin with 403 ADMIN-UAM-403-2 and an unknown user with 404 ADMIN-UAM-404-1", async () => {
    const admin = sandbox.users().find((u) => u.platformRoles?.includes("atlassian/org-admin"))!
    assert.isDefined(admin, "the generated roster has an org admin")
    const refused = await call(sandbox, "POST", path(sandbox, admin.account_id, "suspend"))
    assert.strictEqual(refused.status, 403)
    assert.strictEqual(refused.body!.errors[0].code, "ADMIN-UAM-403-2")
    assert.strictEqual(sandbox.user(admin.account_id)!.membershipStatus, undefined)
    const unknown = await call(sandbox, "POST", path(sandbox, "557058:nobody", "suspend"))
    assert.strictEqual(unknown.status, 404)
    assert.strictEqual(unknown.body!.errors[0].code, "ADMIN-UAM-404-1")
    const withBody = await call(sandbox, "POST", path(sandbox, sandbox.users()[0]!.account_id, "suspend"), { why: 1 })
    assert.strictEqual(withBody.status, 400)
  })
})

describe("v2 workspaces", () => {
  let sandbox: AtlassianSandbox
  beforeAll(async () => {
    sandbox = await startSandbox({ users: 300 })
  })
  afterAll(() => sandbox.close())

  const list = (body?: unknown) => call(sandbox, "POST", `${v2(sandbox)}/workspaces`, body)

  it("serves one workspace per product and site, with plans, seats and hosts matching users' product URLs", async () => {
    const res = await list()
    assert.strictEqual(res.status, 200)
    const data: Array<Json> = res.body!.data
    assert.strictEqual(data.length, 12)
    assert.deepStrictEqual(res.body!.meta, { pageSize: 20, startIndex: 0, endIndex: 11, total: 12 })
    const plans = data.map((w) => w.relationships.entitlements[0].attributes.plan)
    assert.includeMembers(plans, ["Free", "Standard", "Premium", "Enterprise", "Business"])
    assert.include(data.map((w) => w.attributes.typeKey), "compass", "a product type no enum knows")
    assert.include(data.map((w) => w.attributes.status), "deprecated")
    for (const user of sandbox.users()) {
      for (const p of user.product_access ?? []) {
        const ws = data.find((w) => w.attributes.typeKey === p.key && hostOf(w.attributes.hostUrl) === hostOf(p.url!))
        assert.isDefined(ws, `${p.key} on ${p.url}`)
      }
    }
    const jira = data.find((w) =>
      w.attributes.typeKey === "jira-software" && w.attributes.hostUrl === "acme.atlassian.net"
    )!
    const holding = sandbox.users().filter((u) =>
      u.account_status === "active" &&
      (u.product_access ?? []).some((p) => p.key === "jira-software" && hostOf(p.url!) === "acme.atlassian.net")
    ).length
    assert.strictEqual(jira.attributes.usage, holding)
    assert.isAtLeast(jira.attributes.capacity, holding)
    assert.strictEqual(jira.relationships.entitlements[0].attributes.key, "jira-software")
  })

  it("pages with limit and a cursor that must travel alone; limit is 1 to 1000", async () => {
    const first = await list({ limit: 5 })
    assert.strictEqual(first.body!.data.length, 5)
    const next = first.body!.links.next
    const second = await list({ cursor: next })
    assert.strictEqual(second.body!.data.length, 5)
    assert.strictEqual(second.body!.meta.startIndex, 5)
    const mixed = await list({ cursor: next, limit: 5 })
    assert.strictEqual(mixed.status, 400)
    assert.match(mixed.body!.errors[0].detail, /no other properties may be present/)
    assert.strictEqual((await list({ limit: 1001 })).status, 400)
    assert.strictEqual((await list({ colour: "red" })).status, 400)
  })

  it("filters by attributes.typeKey and searchWorkspaces, sorts, and follows control changes", async () => {
    const confluence = await list({ query: { field: { name: "attributes.typeKey", values: ["confluence"] } } })
    assert.deepStrictEqual(confluence.body!.data.map((w: Json) => w.attributes.hostUrl).sort(), [
      "acme-eu.atlassian.net",
      "acme.atlassian.net"
    ])
    const eu = await list({
      query: { and: [{ searchWorkspaces: "acme-eu" }] },
      sort: [{ field: "attributes.typeKey", order: "desc" }]
    })
    assert.deepStrictEqual(eu.body!.data.map((w: Json) => w.attributes.typeKey), [
      "jira-software",
      "jira-core",
      "confluence"
    ])
    const [added] = sandbox.addWorkspaces([{
      key: "loom",
      hostUrl: "loom.com/acme",
      plan: "Business+",
      capacity: 5,
      usage: 3
    }])
    const updated = sandbox.updateWorkspace(added!.id, { plan: "Enterprise" })
    assert.strictEqual(updated.plan, "Enterprise")
    const loom = (await list({ query: { field: { name: "attributes.typeKey", values: ["loom"] } } })).body!.data[0]
    assert.strictEqual(loom.attributes.usage, 3)
    assert.strictEqual(loom.relationships.entitlements[0].attributes.plan, "Enterprise")
    const removed = await fetch(`${sandbox.url}/__sandbox/workspaces/${encodeURIComponent(added!.id)}`, {
      method: "DELETE"
    })
    assert.strictEqual(removed.status, 204)
    assert.strictEqual((await list()).body!.meta.total, 12)
  })

  it("the workspaces option replaces the defaults", async () => {
    const custom = await startSandbox({
      users: 5,
      workspaces: [{ key: "jira-software", hostUrl: "solo.atlassian.net", plan: "Free" }]
    })
    try {
      const res = await call(custom, "POST", `${v2(custom)}/workspaces`)
      assert.strictEqual(res.body!.data.length, 1)
      assert.strictEqual(res.body!.data[0].attributes.name, "solo")
    } finally {
      await custom.close()
    }
  })
})

describe("last-active dates", () => {
  it("lists the products a user used with dates, and 404 ADMIN-404-8 for an unknown user", async () => {
    const sandbox = await startSandbox({ users: 60 })
    try {
      const user = sandbox.users().find((u) => u.product_access?.some((p) => p.last_active !== undefined))!
      const res = await call(
        sandbox,
        "GET",
        `/admin/v1/orgs/${sandbox.orgId}/directory/users/${encodeURIComponent(user.account_id)}/last-active-dates`
      )
      assert.strictEqual(res.status, 200)
      const used = user.product_access!.filter((p) => p.last_active !== undefined)
      assert.deepStrictEqual(res.body!.data.product_access.map((p: Json) => p.key), used.map((p) => p.key))
      assert.match(res.body!.data.product_access[0].last_active, /^\d{4}-\d{2}-\d{2}$/)
      assert.match(res.body!.data.added_to_org, /^\d{4}-\d{2}-\d{2}$/)
      const unknown = await call(
        sandbox,
        "GET",
        `/admin/v1/orgs/${sandbox.orgId}/directory/users/nobody/last-active-dates`
      )
      assert.strictEqual(unknown.status, 404)
      assert.strictEqual(unknown.body!.errors[0].code, "ADMIN-404-8")
    } finally {
      await sandbox.close()
    }
  })
})
