// The user-management API of the sandbox: profile, manage (the lifecycle preflight) and lifecycle calls
// agree on which accounts a key may operate on.
import { afterAll, assert, beforeAll, describe, it } from "vitest"
import type { AtlassianSandbox } from "../src/sandbox/index.js"
import { startSandbox } from "../src/sandbox/index.js"

const call = async (sandbox: AtlassianSandbox, method: string, path: string, body?: string) => {
  const res = await fetch(sandbox.url + path, {
    method,
    headers: {
      authorization: `Bearer ${sandbox.apiKey}`,
      ...(body === undefined ? {} : { "content-type": "application/json" })
    },
    ...(body === undefined ? {} : { body })
  })
  const text = await res.text()
  return { status: res.status, body: text.length > 0 ? JSON.parse(text) : undefined }
}
const at = (id: string, rest = "") => `/users/${encodeURIComponent(id)}/manage${rest}`

describe("user management", () => {
  let sandbox: AtlassianSandbox
  beforeAll(async () => {
    sandbox = await startSandbox({ users: 20, unmanaged: 2 })
  })
  afterAll(() => sandbox.close())

  it("profile: the account with its status, closed ones included; 404 accountNotFound for an unknown id", async () => {
    const closed = sandbox.addUsers([{ account_status: "closed", email: "gone@acme.com", name: "Gone Person" }])[0]!
    const res = await call(sandbox, "GET", at(closed.account_id, "/profile"))
    assert.strictEqual(res.status, 200)
    assert.deepInclude(res.body.account, {
      account_id: closed.account_id,
      account_status: "closed",
      email: "gone@acme.com",
      name: "Gone Person",
      nickname: "Gone"
    })
    assert.deepStrictEqual(await call(sandbox, "GET", at("557058:nobody", "/profile")), {
      status: 404,
      body: { key: "accountNotFound" }
    })
  })

  it("manage: lifecycle.enablement is allowed, or not with the directory that manages the account", async () => {
    const user = sandbox.users()[0]!
    const allowed = await call(sandbox, "GET", at(user.account_id, "?privileges=lifecycle.enablement"))
    assert.deepStrictEqual(allowed, { status: 200, body: { "lifecycle.enablement": { allowed: true } } })
    sandbox.updateUser(user.account_id, { managedBy: "scim" })
    const refused = await call(sandbox, "GET", at(user.account_id, "?privileges=lifecycle.enablement"))
    assert.deepStrictEqual(refused.body, {
      "lifecycle.enablement": { allowed: false, reason: { key: "externalDirectory.scim" } }
    })
    // And the lifecycle call agrees with the preflight.
    const disable = await call(sandbox, "POST", at(user.account_id, "/lifecycle/disable"), "{}")
    assert.strictEqual(disable.status, 403)
    assert.deepStrictEqual(disable.body.context, { allowed: false, reason: { key: "externalDirectory.scim" } })
    sandbox.updateUser(user.account_id, { managedBy: undefined })
    const all = await call(sandbox, "GET", at(user.account_id))
    assert.includeMembers(Object.keys(all.body), ["lifecycle.enablement", "profile.read", "apiToken.read"])
  })

  it("an unmanaged account: 403 forbidden on profile, manage and lifecycle", async () => {
    const guest = sandbox.users({ claimStatus: "unmanaged" })[0]!
    for (
      const [method, rest, body] of [["GET", "/profile"], ["GET", ""], ["POST", "/lifecycle/disable", "{}"], [
        "POST",
        "/lifecycle/enable"
      ]]
    ) {
      const res = await call(sandbox, method!, at(guest.account_id, rest), body)
      assert.deepStrictEqual(res, { status: 403, body: { key: "forbidden" } }, `${method} ${rest}`)
    }
    assert.strictEqual(sandbox.user(guest.account_id)!.account_status, guest.account_status)
  })

  it("enable takes no body at all; disable keeps taking {} or {message}", async () => {
    const user = sandbox.users().find((u) => u.account_status === "active" && u.claimStatus === undefined)!
    const disable = await call(
      sandbox,
      "POST",
      at(user.account_id, "/lifecycle/disable"),
      JSON.stringify({ message: "leave" })
    )
    assert.strictEqual(disable.status, 204)
    const res = await fetch(sandbox.url + at(user.account_id, "/lifecycle/enable"), {
      method: "POST",
      headers: { authorization: `Bearer ${sandbox.apiKey}` }
    })
    assert.strictEqual(res.status, 204)
    assert.strictEqual(sandbox.user(user.account_id)!.account_status, "active")
  })

  it("answers without the key with {key: unauthorized}", async () => {
    const res = await fetch(`${sandbox.url}${at(sandbox.users()[0]!.account_id, "/profile")}`)
    assert.strictEqual(res.status, 401)
    assert.deepStrictEqual(await res.json(), { key: "unauthorized" })
  })
})
