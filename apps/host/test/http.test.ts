import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeTestHost, type TestHost } from "./harness.js"

// Every route of the API, with placeholder ids: auth is checked before anything else is looked up.
const routes: ReadonlyArray<readonly [string, string]> = [
  ["GET", "/api/providers"],
  ["GET", "/api/connections"],
  ["POST", "/api/connections"],
  ["GET", "/api/connections/c1"],
  ["PATCH", "/api/connections/c1"],
  ["DELETE", "/api/connections/c1"],
  ["POST", "/api/connections/c1/verify"],
  ["POST", "/api/connections/c1/syncs"],
  ["GET", "/api/connections/c1/syncs"],
  ["GET", "/api/syncs/s1"],
  ["GET", "/api/connections/c1/accounts"],
  ["GET", "/api/connections/c1/accounts/557058%3Aabc"],
  ["POST", "/api/connections/c1/accounts/557058%3Aabc/suspend"],
  ["POST", "/api/connections/c1/accounts/557058%3Aabc/restore"],
  ["GET", "/api/connections/c1/apps"],
  ["GET", "/api/connections/c1/apps/confluence%3Aacme/accounts"],
  ["GET", "/api/audit"],
  ["GET", "/api/no-such-route"]
]

describe("HTTP surface", () => {
  let t: TestHost
  beforeAll(async () => {
    t = await makeTestHost()
  })
  afterAll(() => t.close())

  it("Should answer /healthz without a token", async () => {
    const res = await t.request("GET", "/healthz", { token: null })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ status: "ok" })
  })

  it.each(routes)("Should answer %s %s with 401 JSON without the admin token", async (method, path) => {
    const res = await t.request(method, path, { token: null })
    expect(res.status).toBe(401)
    expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/)
    expect(res.body.error.code).toBe("unauthorized")
    expect(res.body.error.hint).toContain("Authorization: Bearer")
  })

  it.each(routes)("Should answer %s %s with 401 JSON for a wrong token", async (method, path) => {
    const res = await t.request(method, path, { token: "test-admin-token-0123456789abcdeX" })
    expect(res.status).toBe(401)
    expect(res.body.error.code).toBe("unauthorized")
  })

  it("Should accept the admin token in any case of the Bearer scheme", async () => {
    const res = await t.request("GET", "/api/connections", {
      token: null,
      headers: { authorization: "bearer test-admin-token-0123456789abcdef" }
    })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ data: [] })
  })

  it("Should send secure headers", async () => {
    const res = await t.request("GET", "/api/connections")
    expect(res.headers.get("x-content-type-options")).toBe("nosniff")
    expect(res.headers.get("x-frame-options")).toBe("SAMEORIGIN")
  })

  it("Should answer 404 JSON for an unknown API route", async () => {
    const res = await t.request("GET", "/api/no-such-route")
    expect(res.status).toBe(404)
    expect(res.body.error.code).toBe("not_found")
  })

  it("Should refuse a body that is not JSON with 415", async () => {
    const res = await t.request("POST", "/api/connections", {
      rawBody: "provider=atlassian",
      headers: { "content-type": "application/x-www-form-urlencoded" }
    })
    expect(res.status).toBe(415)
    expect(res.body.error.code).toBe("unsupported_media_type")
  })

  it("Should refuse malformed JSON with 400 without quoting it", async () => {
    const res = await t.request("POST", "/api/connections", {
      rawBody: `{"provider": "atlassian", "config": {"apiKey": "do-not-echo-me"`,
      headers: { "content-type": "application/json" }
    })
    expect(res.status).toBe(400)
    expect(res.body.error.code).toBe("invalid_json")
    expect(res.text).not.toContain("do-not-echo-me")
  })

  it("Should refuse a body over the limit with 413", async () => {
    const res = await t.request("POST", "/api/connections", {
      body: { provider: "atlassian", name: "x".repeat(70 * 1024), config: {} }
    })
    expect(res.status).toBe(413)
    expect(res.body.error.code).toBe("payload_too_large")
  })
})
