import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { findSecrets } from "./support/Guarantees.js"
import { atlassianConfig, makeSandbox } from "./support/Org.js"
import { makeTestHost, type TestHost } from "./support/TestHost.js"

describe("connections", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 20 })
    t = await makeTestHost()
  })
  afterAll(async () => {
    await t.close()
    await sandbox.close()
  })

  it("Should list the providers with their capabilities and config fields", async () => {
    const res = await t.request("GET", "/api/providers")
    expect(res.status).toBe(200)
    const atlassian = res.body.data.find((p: { id: string }) => p.id === "atlassian")
    expect(atlassian.displayName).toBeTypeOf("string")
    expect(atlassian.capabilities).toEqual(expect.arrayContaining(["accounts", "suspend", "restore"]))
    const fields = Object.fromEntries(atlassian.configFields.map((f: { name: string }) => [f.name, f]))
    expect(Object.keys(fields)).toEqual(
      expect.arrayContaining(["organizationId", "apiKey", "adminEmail", "baseUrl", "rateLimit"])
    )
    expect(fields.apiKey).toMatchObject({ secret: true, optional: false, title: "API key" })
    expect(fields.organizationId.description).toContain("admin.atlassian.com")
    expect(fields.baseUrl.optional).toBe(true)
    expect(fields.rateLimit.fields.map((f: { name: string }) => f.name)).toEqual(["requests", "windowSeconds"])
  })

  it("Should create a connection (201) and show its secret only as set, with its last 4 characters", async () => {
    const res = await t.request("POST", "/api/connections", {
      body: { provider: "atlassian", name: "  Acme  ", config: atlassianConfig(sandbox), syncIntervalMinutes: 60 }
    })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({
      provider: "atlassian",
      name: "Acme",
      syncIntervalMinutes: 60,
      // The sync settings' defaults: hold a run that would deprovision more than 10 % of the active accounts.
      holdThresholdPercent: 10,
      maxLookups: expect.any(Number),
      deadlineMinutes: expect.any(Number),
      lastSync: null,
      config: {
        organizationId: sandbox.orgId,
        adminEmail: "admin@acme.example",
        baseUrl: sandbox.url,
        apiKey: { set: true, last4: sandbox.apiKey.slice(-4) }
      }
    })
    const list = await t.request("GET", "/api/connections")
    expect(list.body.data.map((c: { id: string }) => c.id)).toContain(res.body.id)
    const one = await t.request("GET", `/api/connections/${res.body.id}`)
    expect(one.body.config.apiKey).toEqual({ set: true, last4: sandbox.apiKey.slice(-4) })
  })

  it("Should reject a bad config with 400 and every field error at once", async () => {
    const res = await t.request("POST", "/api/connections", {
      body: {
        provider: "atlassian",
        name: "Bad",
        config: {
          organizationId: "",
          apiKey: "k".repeat(30),
          adminEmail: "not-an-email",
          baseUrl: "ftp://api.example.com",
          rateLimit: { requests: 0, windowSeconds: 60 }
        }
      }
    })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe("invalid_request")
    const issues: Array<{ path: Array<string>; message: string }> = res.body.error.details.issues
    const byPath = Object.fromEntries(issues.map((i) => [i.path.join("."), i.message]))
    expect(Object.keys(byPath).sort()).toEqual(
      ["config.adminEmail", "config.baseUrl", "config.organizationId", "config.rateLimit.requests"]
    )
    expect(byPath["config.baseUrl"]).toContain("must use https")
    expect(byPath["config.organizationId"]).toContain("must not be empty")
    expect(byPath["config.adminEmail"]).toContain("email")
    expect(res.text).not.toContain("k".repeat(30))
  })

  it("Should reject an unknown provider, an unknown field, a missing secret and a bad interval", async () => {
    const unknown = await t.request("POST", "/api/connections", { body: { provider: "nope", name: "x", config: {} } })
    expect(unknown.status).toBe(400)
    expect(unknown.body.error.details.issues[0]).toMatchObject({ path: ["provider"] })
    expect(unknown.body.error.details.issues[0].message).toContain("atlassian")

    const extra = await t.request("POST", "/api/connections", {
      body: { provider: "atlassian", name: "x", config: { ...atlassianConfig(sandbox), apiToken: "x" } }
    })
    expect(extra.status).toBe(400)
    expect(extra.body.error.details.issues.map((i: { path: Array<string> }) => i.path.join("."))).toEqual([
      "config.apiToken"
    ])

    const { apiKey: _, ...noKey } = atlassianConfig(sandbox)
    const missing = await t.request("POST", "/api/connections", {
      body: { provider: "atlassian", name: "x", config: noKey }
    })
    expect(missing.status).toBe(400)
    expect(missing.body.error.details.issues.map((i: { path: Array<string> }) => i.path.join("."))).toEqual([
      "config.apiKey"
    ])

    const interval = await t.request("POST", "/api/connections", {
      body: { provider: "atlassian", name: "", config: atlassianConfig(sandbox), syncIntervalMinutes: -5 }
    })
    expect(interval.status).toBe(400)
    expect(interval.body.error.details.issues.map((i: { path: Array<string> }) => i.path.join(".")).sort()).toEqual(
      ["name", "syncIntervalMinutes"]
    )
  })

  it("Should verify a connection against the organisation", async () => {
    const created = await t.request("POST", "/api/connections", {
      body: { provider: "atlassian", name: "Verify me", config: atlassianConfig(sandbox) }
    })
    const res = await t.request("POST", `/api/connections/${created.body.id}/verify`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ ok: true })
  })

  it("Should keep the stored API key when an update omits it, and use a new one when given", async () => {
    const created = await t.request("POST", "/api/connections", {
      body: { provider: "atlassian", name: "Patch me", config: atlassianConfig(sandbox) }
    })
    const id = created.body.id
    const renamed = await t.request("PATCH", `/api/connections/${id}`, {
      body: { name: "Patched", config: { adminEmail: "other@acme.example", apiKey: "" }, syncIntervalMinutes: 15 }
    })
    expect(renamed.status).toBe(200)
    expect(renamed.body).toMatchObject({
      name: "Patched",
      syncIntervalMinutes: 15,
      config: { adminEmail: "other@acme.example", apiKey: { set: true, last4: sandbox.apiKey.slice(-4) } }
    })
    // The kept key still works upstream.
    expect((await t.request("POST", `/api/connections/${id}/verify`)).status).toBe(200)

    const rekeyed = await t.request("PATCH", `/api/connections/${id}`, {
      body: { config: { apiKey: "wrong-key-0000000000000000wxyz" } }
    })
    expect(rekeyed.body.config.apiKey).toEqual({ set: true, last4: "wxyz" })
    const verify = await t.request("POST", `/api/connections/${id}/verify`)
    expect(verify.status).toBe(502)
    expect(verify.body.error.code).toBe("provider_unauthorized")
    expect(verify.body.error.hint).toEqual(expect.any(String))
    expect(verify.body.error.details).toMatchObject({ provider: "atlassian", upstreamStatus: 401 })

    // A new destination for the key needs the key typed again; with it, the destination is checked.
    const invalid = await t.request("PATCH", `/api/connections/${id}`, {
      body: { config: { baseUrl: "file:///etc", apiKey: sandbox.apiKey } }
    })
    expect(invalid.status).toBe(400)
    expect(invalid.body.error.details.issues[0].path).toEqual(["config", "baseUrl"])

    // Removing the base URL sends the key to api.atlassian.com: a new destination too.
    const unkeyed = await t.request("PATCH", `/api/connections/${id}`, { body: { config: { baseUrl: null } } })
    expect(unkeyed.status).toBe(400)
    expect(unkeyed.body.error.details.issues.map((i: { path: Array<string> }) => i.path.join("."))).toEqual([
      "config.apiKey"
    ])
    const cleared = await t.request("PATCH", `/api/connections/${id}`, {
      body: { config: { baseUrl: null, apiKey: sandbox.apiKey } }
    })
    expect(cleared.status).toBe(200)
    expect(cleared.body.config.baseUrl).toBeUndefined()
  })

  it("Should test a config before it is saved (the settings form's button), auditing the outcome", async () => {
    const run = (config: unknown) =>
      t.request("POST", "/api/connections/verify", { body: { provider: "atlassian", config } })
    const ok = await run(atlassianConfig(sandbox))
    expect(ok.status).toBe(200)
    expect(ok.body).toEqual({ ok: true })
    const wrong = await run({ ...atlassianConfig(sandbox), apiKey: "another-wrong-key-000000000000" })
    expect(wrong.status).toBe(502)
    expect(wrong.body.error).toMatchObject({
      code: "provider_unauthorized",
      details: { reason: "Unauthorized", upstreamStatus: 401 }
    })
    const invalid = await run({ ...atlassianConfig(sandbox), adminEmail: "nope" })
    expect(invalid.status).toBe(400)
    expect(invalid.body.error.details.issues.map((i: { path: Array<string> }) => i.path.join("."))).toEqual([
      "config.adminEmail"
    ])
    const audit = await t.request("GET", "/api/audit?limit=500")
    const tests = audit.body.data.filter((e: { action: string; connectionId: string | null }) =>
      e.action === "connection.verify" && e.connectionId === null
    )
    expect(tests.map((e: { outcome: string }) => e.outcome).sort()).toEqual(["error", "ok"])
    expect(JSON.stringify(tests)).not.toContain("another-wrong-key-000000000000")
  })

  it("Should answer 404 for a connection that does not exist", async () => {
    for (
      const [method, path] of [["GET", "/api/connections/nope"], ["PATCH", "/api/connections/nope"], [
        "DELETE",
        "/api/connections/nope"
      ], ["POST", "/api/connections/nope/verify"]] as const
    ) {
      const res = await t.request(method, path, method === "PATCH" ? { body: { name: "x" } } : {})
      expect(res.status, `${method} ${path}`).toBe(404)
      expect(res.body.error.code).toBe("connection_not_found")
    }
  })

  it("Should delete a connection (204)", async () => {
    const created = await t.request("POST", "/api/connections", {
      body: { provider: "atlassian", name: "Delete me", config: atlassianConfig(sandbox) }
    })
    const res = await t.request("DELETE", `/api/connections/${created.body.id}`)
    expect(res.status).toBe(204)
    expect(res.text).toBe("")
    expect((await t.request("GET", `/api/connections/${created.body.id}`)).status).toBe(404)
  })

  it("Should never have sent the API key in any response", () => {
    expect(t.responses.length).toBeGreaterThan(10)
    const all = t.responses.map((r) => `${r.headers} ${r.text}`).join("\n")
    expect(
      findSecrets(all, {
        apiKey: sandbox.apiKey,
        wrong: "wrong-key-0000000000000000wxyz",
        other: "another-wrong-key-000000000000"
      })
    ).toEqual([])
  })
})
