// Wire-level edge cases with msw: exact headers and bodies the sandbox does not produce on its own, and
// waits measured on the TestClock rather than the wall clock.
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as RequestBudget from "@seatkeeper/core/RequestBudget"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import * as TestClock from "effect/TestClock"
import { http, HttpResponse } from "msw"
import { setupServer } from "msw/node"
import { afterAll, afterEach, beforeAll } from "vitest"
import { classify, parseErrorBody } from "../src/AtlassianError.js"
import { connect } from "../src/AtlassianProvider.js"

const BASE = "https://admin.example.test"
const ORG = "org-1"
// The directory search a v1 listing starts with (accounts suspended in the directory): none here.
const noSuspendedMembers = http.post(
  `${BASE}/admin/v2/orgs/${ORG}/directories/-/users/search`,
  () => HttpResponse.json({ data: [], links: {} })
)
const server = setupServer(noSuspendedMembers)
beforeAll(() => server.listen({ onUnhandledRequest: "error" }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

const Env = Layer.merge(FetchHttpClient.layer, RequestBudget.layerUnlimited)
const connection = connect({
  organizationId: ORG,
  apiKey: Redacted.make("k-123"),
  adminEmail: "admin@example.test",
  baseUrl: BASE
}).pipe(Effect.provide(Env))

const user = (id: string) => ({
  account_id: id,
  account_type: "atlassian",
  account_status: "active",
  name: `User ${id}`,
  picture: "https://avatar.example.test/x.png"
})

describe("Atlassian wire behaviour", () => {
  it.effect("waits until a minute-precision X-RateLimit-Reset (no seconds) before asking again", () =>
    Effect.gen(function*() {
      // The TestClock starts at the epoch; the server says the window resets at 00:02 (120 s later).
      const arrivals: Array<number> = []
      let calls = 0
      server.use(
        http.get(`${BASE}/admin/v1/orgs/${ORG}/users`, ({ request }) => {
          calls++
          arrivals.push(calls)
          const cursor = new URL(request.url).searchParams.get("cursor")
          if (cursor === null) {
            const next = `${BASE}/admin/v1/orgs/${ORG}/users?cursor=p2`
            return HttpResponse.json({ data: [user("a")], meta: { total: 2 }, links: { next } })
          }
          if (calls === 2) {
            return HttpResponse.json({ code: 429, message: "Too many requests" }, {
              status: 429,
              headers: {
                "X-RateLimit-Limit": "100",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": "1970-01-01T00:02Z"
              }
            })
          }
          return HttpResponse.json({ data: [user("b")], meta: { total: 2 }, links: {} })
        })
      )
      const conn = yield* connection
      const fiber = yield* Effect.fork(Stream.runCollect(conn.accounts))
      // Advance the clock a second at a time, letting the real HTTP round trips happen in between.
      let retriedAt: number | undefined
      for (let second = 1; second <= 200 && retriedAt === undefined; second++) {
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
        yield* TestClock.adjust("1 second")
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
        if (calls >= 3) retriedAt = second
      }
      const accounts = yield* Fiber.join(fiber)
      assert.deepStrictEqual(Chunk.toReadonlyArray(accounts).map((a) => a.externalId), ["a", "b"])
      assert.isDefined(retriedAt)
      assert.isAtLeast(retriedAt!, 120 - 2, "asked again before the reset time")
      assert.isAtMost(retriedAt!, 125, "waited far longer than the reset time")
      // The three users pages and the directory search for suspended members.
      assert.deepStrictEqual(yield* conn.requestStats, { requests: 4, retries: 1, rateLimited: 1 })
    }))

  it.effect("sends the key as a Bearer token, and nothing but the key", () =>
    Effect.gen(function*() {
      const seen: Array<string | null> = []
      server.use(
        http.get(`${BASE}/admin/v1/orgs/${ORG}`, ({ request }) => {
          seen.push(request.headers.get("authorization"))
          return HttpResponse.json({ data: { id: ORG, type: "orgs", attributes: { name: "Acme" } } })
        })
      )
      yield* (yield* connection).verify
      assert.deepStrictEqual(seen, ["Bearer k-123"])
    }))

  it.effect("continues past an empty page that still has a next link", () =>
    Effect.gen(function*() {
      server.use(
        http.get(`${BASE}/admin/v1/orgs/${ORG}/users`, ({ request }) => {
          const cursor = new URL(request.url).searchParams.get("cursor")
          const next = (c: string) => ({ next: `${BASE}/admin/v1/orgs/${ORG}/users?cursor=${c}` })
          if (cursor === null) return HttpResponse.json({ data: [user("a")], links: next("2") })
          if (cursor === "2") return HttpResponse.json({ data: [], links: next("3") })
          return HttpResponse.json({ data: [user("c")], links: { self: "x" } })
        })
      )
      const accounts = yield* Stream.runCollect((yield* connection).accounts)
      assert.deepStrictEqual(Chunk.toReadonlyArray(accounts).map((a) => a.externalId), ["a", "c"])
    }))
})

describe("error bodies", () => {
  const cases: ReadonlyArray<[string, number, string, { code?: string; text: string; restriction?: string }]> = [
    [
      "org ApplicationError",
      404,
      JSON.stringify({
        errors: [{ id: "x", status: "404", code: "ADMIN-404-2", title: "Not Found", detail: "Organization not found" }]
      }),
      { code: "ADMIN-404-2", text: "Not Found: Organization not found" }
    ],
    [
      "v2 user API error",
      400,
      JSON.stringify({ errors: [{ status: "400", code: "ADMIN-UAM-400-2", title: "Inactive user", detail: null }] }),
      { code: "ADMIN-UAM-400-2", text: "Inactive user" }
    ],
    [
      "gateway ProxyError",
      429,
      JSON.stringify({ code: 429, message: "Rate limit exceeded" }),
      { code: "429", text: "Rate limit exceeded" }
    ],
    [
      "403 NoPerms",
      403,
      JSON.stringify({
        timestamp: "2025-06-06T06:03:27.122+00:00",
        path: "/api/admin/v1/orgs/o/users",
        status: 403,
        error: "Forbidden",
        message: "User has no permission to access resource.",
        requestId: "b4fce632-202784"
      }),
      { code: "Forbidden", text: "User has no permission to access resource." }
    ],
    [
      "user-management forbidden.action",
      403,
      JSON.stringify({
        key: "forbidden.action",
        context: { allowed: false, reason: { key: "externalDirectory.google" } }
      }),
      { code: "forbidden.action", text: "forbidden.action", restriction: "externalDirectory.google" }
    ],
    ["HTML", 502, "<html><body><h1>502 Bad Gateway</h1></body></html>", { text: "502 Bad Gateway" }],
    ["empty", 503, "", { text: "HTTP 503" }],
    ["truncated JSON", 500, "{\"errors\":[{\"code\":", { text: "{\"errors\":[{\"code\":" }]
  ]

  for (const [name, status, body, expected] of cases) {
    it(`reads the ${name} shape`, () => {
      const parsed = parseErrorBody(body)
      assert.strictEqual(parsed.code, expected.code)
      assert.strictEqual(parsed.restriction, expected.restriction)
      const error = classify({ operation: "accounts", status, body })
      assert.strictEqual(error.status, status)
      assert.include(error.description, expected.text)
      assert.isAtMost(error.description.length, 300)
    })
  }
})

describe("hints by shape and operation", () => {
  const uam = (status: number, code: string) =>
    JSON.stringify({ errors: [{ id: "x", status: String(status), code, title: "Forbidden", detail: "Refused" }] })

  it("names the admin rule for a refused directory suspend, and the key without scopes for lifecycle", () => {
    const admin = classify({ operation: "suspend", status: 403, body: uam(403, "ADMIN-UAM-403-2") })
    assert.include(admin.hint ?? "", "does not suspend organization admins")
    const lifecycle = classify({ operation: "restore", status: 403, body: JSON.stringify({ key: "forbidden" }) })
    assert.include(lifecycle.hint ?? "", "WITHOUT scopes")
    // A profile read (lookup) refused by the user-management API, and the org API refusing a listing.
    const profile = classify({ operation: "lookup", status: 403, body: JSON.stringify({ key: "forbidden" }) })
    assert.include(profile.hint ?? "", "user-management API")
    assert.strictEqual(parseErrorBody(JSON.stringify({ key: "forbidden" })).shape, "userManagement")
    const listing = classify({ operation: "accounts", status: 403, body: uam(403, "ADMIN-403-3") })
    assert.include(listing.hint ?? "", "organization admin rights")
  })

  it("tells an unknown account from an unknown organization or directory", () => {
    const hint = (operation: string, code: string) =>
      classify({ operation, status: 404, body: uam(404, code) }).hint ?? ""
    assert.include(hint("suspend", "ADMIN-UAM-404-1"), "no such account")
    assert.include(hint("suspend", "ADMIN-UAM-404-2"), "no such directory")
    assert.include(hint("verify", "ADMIN-404-2"), "organization ID")
  })

  it("says to sync again when Atlassian refuses a page cursor, and keeps long upstream text short", () => {
    const stale = classify({ operation: "accounts", status: 400, body: uam(400, "ADMIN-400-1") })
    assert.include(stale.hint ?? "", "sync again")
    const body = uam(500, "ADMIN-500-1").replace("Refused", "x".repeat(5000))
    const long = classify({ operation: "accounts", status: 500, body })
    assert.isAtMost(long.description.length, 300)
  })
})
