import { afterAll, describe, expect, it } from "vitest"
import { apiRoutes, fillPath } from "./support/Guarantees.js"
import { makeTestHost, type TestHost } from "./support/TestHost.js"

// Every route of the API as the app lists them, with placeholder ids (auth is checked before anything
// else is looked up), and one that does not exist.
const routesOf = (t: TestHost): ReadonlyArray<readonly [string, string]> => [
  ...apiRoutes(t.host.app).map((r) =>
    [
      r.method,
      fillPath(r, Object.fromEntries(r.params.map((p) => [p, p === "externalId" ? "557058%3Aabc" : `x-${p}`])))
    ] as const
  ),
  ["GET", "/api/no-such-route"]
]

describe("HTTP surface", async () => {
  const t = await makeTestHost()
  const routes = routesOf(t)
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
