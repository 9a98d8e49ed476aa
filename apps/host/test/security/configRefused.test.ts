/**
 * Config that cannot work is refused when the connection is created (and when it is edited), with one
 * field error per problem, at the field's path, and without echoing the API key; nothing is stored.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import * as fc from "fast-check"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { distinctiveSecret, findSecrets } from "../support/Guarantees.js"
import { makeSandbox } from "../support/Org.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"
import { badConfig } from "./fuzz.js"

interface Issue {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
}

const issuesOf = (body: any): ReadonlyArray<Issue> => body?.error?.details?.issues ?? []
const byPath = (issues: ReadonlyArray<Issue>) => Object.fromEntries(issues.map((i) => [i.path.join("."), i.message]))

describe("config that cannot work is refused at creation", () => {
  let sandbox: AtlassianSandbox
  let t: TestHost
  let valid: Record<string, unknown>
  let existing: string
  const apiKey = distinctiveSecret("ATCONFIGKEY")
  let inputs = 0

  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 5, apiKey })
    t = await makeTestHost()
    valid = { organizationId: sandbox.orgId, apiKey, adminEmail: "admin@acme.example", baseUrl: sandbox.url }
    const created = await t.request("POST", "/api/connections", {
      body: { provider: "atlassian", name: "Existing", config: valid }
    })
    expect(created.status).toBe(201)
    existing = created.body.id
  })
  afterAll(async () => {
    console.log(`[config] ${inputs} refused configs tried, all 400 with field errors`)
    await t.close()
    await sandbox.close()
  })

  const create = async (config: unknown) => {
    inputs++
    return t.request("POST", "/api/connections", { body: { provider: "atlassian", name: "Refused", config } })
  }

  it.each([
    ["baseUrl", "ftp://api.example.com", "must use https, not ftp"],
    ["baseUrl", "javascript:alert(1)", "must use https, not javascript"],
    ["baseUrl", "file:///etc/passwd", "must use https, not file"],
    ["baseUrl", "data:text/plain,hello", "must use https, not data"],
    ["baseUrl", "ws://api.example.com", "must use https, not ws"],
    // Plain HTTP would carry the key across the network readable: only a loopback host may use it.
    ["baseUrl", "http://api.example.com", "must use https: http:// is only accepted for a loopback host"],
    ["baseUrl", "http://10.0.0.7:8080", "must use https: http:// is only accepted for a loopback host"],
    ["baseUrl", "http://127.0.0.1.nip.io", "must use https: http:// is only accepted for a loopback host"],
    ["baseUrl", "api.atlassian.com", "must be an absolute URL"],
    ["baseUrl", "", "must be an absolute URL"],
    ["baseUrl", "https://user:secret@api.example.com", "must not carry credentials"],
    ["baseUrl", "https://api.example.com/?org=1", "must not have a query string"],
    ["organizationId", "", "must not be empty"],
    ["organizationId", "   ", "must not be empty"],
    ["organizationId", "../../admin", "must be the organization ID"],
    ["adminEmail", "not-an-email", "must be an email address"],
    ["adminEmail", "admin@", "must be an email address"],
    ["adminEmail", "@example.com", "must be an email address"],
    ["adminEmail", "ad min@example.com", "must be an email address"],
    ["adminEmail", "admin@example", "must be an email address"],
    ["apiKey", "", "must not be empty"]
  ])("Should refuse %s %j with a field error saying %j", async (field, value, message) => {
    const res = await create({ ...valid, [field]: value })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe("invalid_request")
    const issues = byPath(issuesOf(res.body))
    expect(Object.keys(issues)).toEqual([`config.${field}`])
    expect(issues[`config.${field}`]).toContain(message)
    expect(res.body.error.message).toContain(`config.${field}: ${message}`)
  })

  it.each([
    [{ requests: 0, windowSeconds: 60 }, "config.rateLimit.requests", "between 1 and 100000"],
    [{ requests: -5, windowSeconds: 60 }, "config.rateLimit.requests", "between 1 and 100000"],
    [{ requests: 1.5, windowSeconds: 60 }, "config.rateLimit.requests", "whole number"],
    [{ requests: "NaN", windowSeconds: 60 }, "config.rateLimit.requests", "Expected number"],
    [{ requests: "100", windowSeconds: 60 }, "config.rateLimit.requests", "Expected number"],
    [{ requests: "Infinity", windowSeconds: 60 }, "config.rateLimit.requests", "Expected number"],
    [{ requests: null, windowSeconds: 60 }, "config.rateLimit.requests", "Expected number"],
    [{ requests: 100, windowSeconds: 0 }, "config.rateLimit.windowSeconds", "more than 0 seconds"],
    [{ requests: 100, windowSeconds: -60 }, "config.rateLimit.windowSeconds", "more than 0 seconds"],
    [{ requests: 100, windowSeconds: "NaN" }, "config.rateLimit.windowSeconds", "Expected number"],
    [{ requests: 100 }, "config.rateLimit.windowSeconds", "is missing"]
  ])("Should refuse the budget %j with a field error at %s", async (rateLimit, path, message) => {
    const res = await create({ ...valid, rateLimit })
    expect(res.status).toBe(400)
    const issues = byPath(issuesOf(res.body))
    expect(Object.keys(issues)).toEqual([path])
    expect(issues[path]).toContain(message)
  })

  it("Should refuse a budget of zero requests in a zero-second window with both field errors at once", async () => {
    const res = await create({ ...valid, rateLimit: { requests: 0, windowSeconds: 0 } })
    expect(res.status).toBe(400)
    expect(Object.keys(byPath(issuesOf(res.body))).sort()).toEqual([
      "config.rateLimit.requests",
      "config.rateLimit.windowSeconds"
    ])
  })

  it("Should refuse any config with one bad field at that field, without echoing the key (property)", async () => {
    await fc.assert(
      fc.asyncProperty(badConfig(valid), async ({ config, field }) => {
        const res = await create(config)
        expect(res.status, JSON.stringify(config).slice(0, 300)).toBe(400)
        const paths = issuesOf(res.body).map((i) => i.path.join("."))
        expect(paths.length).toBeGreaterThan(0)
        // Every issue is about the field that was broken (a nested budget field counts as its field).
        expect(
          paths.every((p) => p === `config.${field}` || p.startsWith(`config.${field}.`)),
          `${field}: ${paths.join(", ")}`
        ).toBe(true)
        expect(findSecrets(res.text, { apiKey })).toEqual([])
      }),
      { numRuns: 300 }
    )
  })

  it("Should never echo the key when it is sent in a shape the API key field refuses", async () => {
    const wrapped = fc.oneof(
      fc.constant<unknown>([apiKey]),
      fc.constant<unknown>({ value: apiKey }),
      fc.constant<unknown>({ secret: { apiKey } }),
      fc.constant<unknown>([[apiKey, 1], { k: apiKey }]),
      fc.jsonValue({ maxDepth: 2 }).map((v) => [v, apiKey])
    )
    await fc.assert(
      fc.asyncProperty(wrapped, async (apiKeyValue) => {
        const res = await create({ ...valid, apiKey: apiKeyValue })
        expect(res.status).toBe(400)
        expect(issuesOf(res.body).map((i) => i.path.join("."))).toEqual(["config.apiKey"])
        expect(findSecrets(res.text, { apiKey })).toEqual([])
        // The same through an edit of an existing connection.
        inputs++
        const edit = await t.request("PATCH", `/api/connections/${existing}`, {
          body: { config: { apiKey: apiKeyValue } }
        })
        expect(edit.status).toBe(400)
        expect(findSecrets(edit.text, { apiKey })).toEqual([])
      }),
      { numRuns: 50 }
    )
  })

  it("Should refuse the same broken fields on an edit, keeping the stored config", async () => {
    const before = await t.request("GET", `/api/connections/${existing}`)
    for (
      const config of [
        // A new destination needs the key entered again; with it, the destination itself is checked.
        { baseUrl: "javascript:alert(1)", apiKey },
        { baseUrl: "http://api.example.com", apiKey },
        { organizationId: "", apiKey },
        { adminEmail: "nope" },
        { rateLimit: { requests: 0, windowSeconds: 60 } },
        { rateLimit: { requests: 100, windowSeconds: 0 } }
      ]
    ) {
      inputs++
      const res = await t.request("PATCH", `/api/connections/${existing}`, { body: { config } })
      expect(res.status, JSON.stringify(config)).toBe(400)
      const path = issuesOf(res.body)[0]!.path.join(".")
      expect(path.startsWith(`config.${Object.keys(config)[0]}`), path).toBe(true)
    }
    expect((await t.request("GET", `/api/connections/${existing}`)).body).toEqual(before.body)
  })

  it("Should refuse prototype keys as unknown fields and providers, on create and on edit", async () => {
    const before = await t.request("GET", `/api/connections/${existing}`)
    const json = { "content-type": "application/json" }
    for (const provider of ["__proto__", "constructor", "toString", "hasOwnProperty"]) {
      inputs++
      const res = await t.request("POST", "/api/connections", { body: { provider, name: "Proto", config: valid } })
      expect(res.status, provider).toBe(400)
      expect(issuesOf(res.body)[0]).toEqual({
        path: ["provider"],
        message: expect.stringContaining(`unknown provider "${provider}"`)
      })
    }
    for (
      const config of [
        `{"__proto__":[]}`,
        `{"__proto__":{"apiKey":"from-the-prototype"}}`,
        `{"rateLimit":{"__proto__":{"requests":1}}}`
      ]
    ) {
      for (
        const [method, path, body] of [
          ["PATCH", `/api/connections/${existing}`, `{"config":${config}}`],
          [
            "POST",
            "/api/connections",
            `{"provider":"atlassian","name":"Proto","config":${
              JSON.stringify({ ...valid, x: 1 }).replace(`"x":1`, config.slice(1, -1))
            }}`
          ]
        ] as const
      ) {
        inputs++
        const res = await t.request(method, path, { rawBody: body, headers: json })
        expect(res.status, `${method} ${body}`).toBe(400)
        expect(
          issuesOf(res.body).map((i) => i.path.join(".")).some((p) => p.endsWith("__proto__")),
          `${method} ${body}: ${res.text}`
        ).toBe(true)
      }
    }
    expect((await t.request("GET", `/api/connections/${existing}`)).body).toEqual(before.body)
  })

  it("Should have stored nothing and audited nothing for any refused config", async () => {
    const list = await t.request("GET", "/api/connections")
    expect(list.body.data.map((c: { id: string }) => c.id)).toEqual([existing])
    const audit = await t.request("GET", "/api/audit?limit=500")
    expect(audit.body.data.map((e: { action: string }) => e.action)).toEqual(["connection.create"])
  })
})
