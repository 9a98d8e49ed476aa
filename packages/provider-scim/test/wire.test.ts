// Wire-level quirks of real SCIM services that SCIMMY does not show, with msw: cursor paging (RFC 9865),
// servers that cap `count`, totals that do not add up, services without PATCH, `add` vs `replace`, absent
// and null attributes, timestamps that do not read, lookups answered by a proxy, and the error bodies
// services send.
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import { assert, describe, it } from "@effect/vitest"
import * as RequestBudget from "@seatkeeper/core/RequestBudget"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { http, HttpResponse } from "msw"
import { setupServer } from "msw/node"
import { afterAll, afterEach, beforeAll } from "vitest"
import type { ScimConfig } from "../src/ScimConfig.js"
import { classify, parseErrorBody } from "../src/ScimError.js"
import { connect } from "../src/ScimProvider.js"

const BASE = "https://scim.example.test/scim/v2"
const server = setupServer()
beforeAll(() => server.listen({ onUnhandledRequest: "error" }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

const Env = Layer.merge(FetchHttpClient.layer, RequestBudget.layerUnlimited)
const connectWith = (overrides: Partial<ScimConfig> = {}) =>
  connect({
    appName: "Acme Chat",
    baseUrl: BASE,
    bearerToken: Redacted.make("tok-123"),
    ...overrides
  }).pipe(Effect.provide(Env))

const user = (id: string, active = true) => ({
  schemas: ["urn:ietf:params:scim:schemas:core:2.0:User"],
  id,
  userName: `${id}@acme.test`,
  active
})
const users = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => user(`u${from + i}`))
const list = (body: Record<string, unknown>) =>
  HttpResponse.json({ schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"], ...body }, {
    headers: { "content-type": "application/scim+json" }
  })
const spc = (features: Record<string, unknown>) =>
  http.get(
    `${BASE}/ServiceProviderConfig`,
    () => HttpResponse.json({ schemas: ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"], ...features })
  )
const scimError = (status: number, detail: string, scimType?: string) =>
  HttpResponse.json({
    schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
    status: String(status),
    scimType,
    detail
  }, { status })

const ids = (accounts: Chunk.Chunk<{ readonly externalId: string }>) =>
  Chunk.toReadonlyArray(accounts).map((a) => a.externalId)

describe("paging", () => {
  it.effect("follows RFC 9865 cursors when the ServiceProviderConfig offers them, past an empty page, to the last one", () =>
    Effect.gen(function*() {
      const seen: Array<string> = []
      server.use(
        spc({ patch: { supported: true }, pagination: { cursor: true, index: true, maxPageSize: 3 } }),
        http.get(`${BASE}/Users`, ({ request }) => {
          const params = new URL(request.url).searchParams
          seen.push(
            `cursor=${params.get("cursor")} count=${params.get("count")} startIndex=${params.get("startIndex")}`
          )
          switch (params.get("cursor")) {
            case "":
              return list({ totalResults: 7, itemsPerPage: 3, Resources: users(1, 3), nextCursor: "c2" })
            case "c2":
              // A page may be empty and still not be the last: only a missing nextCursor ends the listing.
              return list({ totalResults: 7, itemsPerPage: 0, Resources: [], nextCursor: "c3" })
            case "c3":
              return list({ totalResults: 7, itemsPerPage: 3, Resources: users(4, 6), nextCursor: "c4" })
            default:
              return list({ totalResults: 7, itemsPerPage: 1, Resources: users(7, 7) })
          }
        })
      )
      const accounts = yield* Stream.runCollect((yield* connectWith()).accounts)
      assert.deepStrictEqual(ids(accounts), ["u1", "u2", "u3", "u4", "u5", "u6", "u7"])
      assert.deepStrictEqual(seen, [
        "cursor= count=3 startIndex=null",
        "cursor=c2 count=3 startIndex=null",
        "cursor=c3 count=3 startIndex=null",
        "cursor=c4 count=3 startIndex=null"
      ])
    }))

  it.effect("fails a cursor listing shorter than its totalResults, and a cursor that repeats, as Incomplete", () =>
    Effect.gen(function*() {
      server.use(
        spc({ pagination: { cursor: true } }),
        http.get(`${BASE}/Users`, ({ request }) =>
          new URL(request.url).searchParams.get("cursor") === ""
            ? list({ totalResults: 5, Resources: users(1, 2), nextCursor: "c2" })
            : list({ totalResults: 5, Resources: users(3, 4) }))
      )
      const short = yield* Effect.flip(Stream.runDrain((yield* connectWith()).accounts))
      assert.strictEqual(short.reason, "Incomplete")
      assert.include(short.description, "reported 5 accounts but returned 4")
      assert.include(short.hint ?? "", "Acme Chat returned fewer users")

      server.use(http.get(`${BASE}/Users`, () => list({ totalResults: 9, Resources: users(1, 2), nextCursor: "same" })))
      const repeated = yield* Effect.flip(Stream.runDrain((yield* connectWith()).accounts))
      assert.strictEqual(repeated.reason, "Incomplete")
      assert.include(repeated.description, "repeated a page cursor")
    }))

  it.effect("gets every user from a server that returns fewer than asked, advancing by what it really returned", () =>
    Effect.gen(function*() {
      const asked: Array<[string | null, string | null]> = []
      server.use(
        spc({ patch: { supported: true } }),
        http.get(`${BASE}/Users`, ({ request }) => {
          const params = new URL(request.url).searchParams
          asked.push([params.get("startIndex"), params.get("count")])
          const start = Number(params.get("startIndex"))
          // Asked for 100, the server caps pages at 7 (and says so only in itemsPerPage).
          const end = Math.min(start + 6, 20)
          return list({ totalResults: 20, startIndex: start, itemsPerPage: 7, Resources: users(start, end) })
        })
      )
      const accounts = yield* Stream.runCollect((yield* connectWith()).accounts)
      assert.deepStrictEqual(ids(accounts), users(1, 20).map((u) => u.id))
      assert.deepStrictEqual(asked, [["1", "100"], ["8", "100"], ["15", "100"]])
    }))

  it.effect("goes on after a short page while totalResults is not reached", () =>
    Effect.gen(function*() {
      server.use(
        spc({}),
        http.get(`${BASE}/Users`, ({ request }) => {
          const start = Number(new URL(request.url).searchParams.get("startIndex"))
          return start === 1
            ? list({ totalResults: 5, Resources: users(1, 2) })
            : list({ totalResults: 5, Resources: users(start, 5) })
        })
      )
      assert.deepStrictEqual(ids(yield* Stream.runCollect((yield* connectWith()).accounts)), [
        "u1",
        "u2",
        "u3",
        "u4",
        "u5"
      ])
    }))

  it.effect("fails as Incomplete when a page comes back empty before totalResults is reached", () =>
    Effect.gen(function*() {
      let requests = 0
      server.use(
        spc({}),
        http.get(`${BASE}/Users`, ({ request }) => {
          requests++
          const start = Number(new URL(request.url).searchParams.get("startIndex"))
          // Claims 250 users but has 120.
          return list({ totalResults: 250, Resources: start > 120 ? [] : users(start, Math.min(start + 99, 120)) })
        })
      )
      const error = yield* Effect.flip(Stream.runDrain((yield* connectWith()).accounts))
      assert.strictEqual(error.reason, "Incomplete")
      assert.include(error.description, "empty page at startIndex 121 while it reports 250 users")
      assert.include(error.hint ?? "", "nothing was changed")
      assert.strictEqual(requests, 3)
    }))

  it.effect("fails as InvalidResponse when an index-paged list has no totalResults", () =>
    Effect.gen(function*() {
      server.use(spc({}), http.get(`${BASE}/Users`, () => list({ Resources: users(1, 2) })))
      const error = yield* Effect.flip(Stream.runDrain((yield* connectWith()).accounts))
      assert.strictEqual(error.reason, "InvalidResponse")
      assert.include(error.description, "no totalResults")
    }))

  it.effect("lists with index paging and PATCH when the service serves no ServiceProviderConfig", () =>
    Effect.gen(function*() {
      server.use(
        http.get(`${BASE}/ServiceProviderConfig`, () => scimError(404, "Not found")),
        http.get(`${BASE}/Users`, () => list({ totalResults: 2, Resources: users(1, 2) }))
      )
      const connection = yield* connectWith()
      assert.deepStrictEqual(ids(yield* Stream.runCollect(connection.accounts)), ["u1", "u2"])
      assert.deepStrictEqual(yield* connection.serviceFeatures, {
        advertised: false,
        patch: true,
        cursor: false,
        maxPageSize: undefined
      })
    }))
})

/** Runs `effect` with a logger that records every warning's text and annotations. */
const withWarnings = <A, E>(effect: Effect.Effect<A, E>) =>
  Effect.suspend(() => {
    const warnings: Array<{ readonly text: string; readonly annotations: Record<string, unknown> }> = []
    const logger = Logger.make(({ annotations, logLevel, message }) => {
      if (logLevel._tag !== "Warning") return
      warnings.push({
        text: (Array.isArray(message) ? message : [message]).map(String).join(" "),
        annotations: Object.fromEntries(annotations)
      })
    })
    return Effect.map(Effect.provide(effect, Logger.add(logger)), (value) => ({ value, warnings }))
  })

describe("absent is not empty", () => {
  it.effect("gives undefined entitlements to a user without groups, roles and entitlements, [] to empty ones", () =>
    Effect.gen(function*() {
      server.use(
        spc({}),
        http.get(`${BASE}/Users`, () =>
          list({
            totalResults: 5,
            Resources: [
              user("absent"),
              { ...user("nulls"), groups: null, roles: null, entitlements: null },
              { ...user("empty"), groups: [], roles: [], entitlements: [] },
              { ...user("groups-only"), groups: [{ value: "g1", display: "Ops" }] },
              { ...user("mixed"), groups: [], entitlements: [{ value: "seat" }] }
            ]
          }))
      )
      const accounts = Chunk.toReadonlyArray(yield* Stream.runCollect((yield* connectWith()).accounts))
      const read = accounts.map((a) => [a.externalId, a.entitlements?.map((e) => e.key), a.groups, a.roles])
      assert.deepStrictEqual(read, [
        ["absent", undefined, undefined, undefined],
        // null says no more than absence does: nothing is removed on it.
        ["nulls", undefined, undefined, undefined],
        ["empty", [], [], []],
        ["groups-only", ["group:g1"], ["Ops"], undefined],
        ["mixed", ["entitlement:seat"], [], undefined]
      ])
    }))
})

describe("timestamps", () => {
  const activity = "urn:ietf:params:scim:schemas:extension:acme:2.0:User:lastLoginAt"
  const withActivity = (id: string, lastLoginAt: unknown, created: unknown) => ({
    ...user(id),
    "urn:ietf:params:scim:schemas:extension:acme:2.0:User": { lastLoginAt },
    meta: { resourceType: "User", created, lastModified: "2026-11-01T00:00:00Z" }
  })

  it.effect("reads instants strictly, drops what does not read, and warns once per page with the count", () =>
    Effect.gen(function*() {
      server.use(
        spc({}),
        http.get(`${BASE}/Users`, ({ request }) => {
          const start = Number(new URL(request.url).searchParams.get("startIndex"))
          return start === 1
            ? list({
              totalResults: 4,
              Resources: [
                // No offset means UTC; minutes without seconds read too.
                withActivity("ok", "2026-10-30T08:15", "2025-01-02T03:04:05+02:00"),
                // Date.parse would read "1" as 2001 and 2026-02-30 as March the 2nd: neither is read.
                withActivity("bad", "1", "2026-02-30T00:00:00Z"),
                withActivity("epoch", 1_761_812_100, "yesterday")
              ]
            })
            : list({ totalResults: 4, Resources: [withActivity("later", "2026-10-31T00:00:00Z", null)] })
        })
      )
      const { value, warnings } = yield* withWarnings(
        Effect.flatMap(
          connectWith({ dialect: { lastActivityAttribute: activity } }),
          (connection) => Stream.runCollect(connection.accounts)
        )
      )
      const read = Chunk.toReadonlyArray(value).map((a) => [a.externalId, a.lastActiveAt, a.addedAt, a.activitySource])
      assert.deepStrictEqual(read, [
        ["ok", "2026-10-30T08:15:00.000Z", "2025-01-02T01:04:05.000Z", "scim-last-sign-in"],
        ["bad", undefined, undefined, undefined],
        ["epoch", undefined, undefined, undefined],
        ["later", "2026-10-31T00:00:00.000Z", undefined, "scim-last-sign-in"]
      ])
      // One warning, for the first page only, counting its four drops and naming the attributes, not the values.
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0]!.text, "4 timestamp(s) from Acme Chat do not read as ISO-8601")
      assert.deepStrictEqual(warnings[0]!.annotations.dropped, 4)
      assert.strictEqual(warnings[0]!.annotations.attributes, `${activity}, meta.created`)
      assert.notInclude(JSON.stringify(warnings), "yesterday")
    }))
})

describe("lookup", () => {
  it.effect("maps the user as a listing does, None on the service's 404, and refuses a 404 web page", () =>
    Effect.gen(function*() {
      server.use(
        http.get(`${BASE}/Users/u1`, () => HttpResponse.json({ ...user("u1", false), groups: [] })),
        http.get(`${BASE}/Users/gone`, () => scimError(404, "User gone not found")),
        http.get(`${BASE}/Users/bare`, () => new HttpResponse(null, { status: 404 })),
        http.get(`${BASE}/Users/proxied`, () =>
          new HttpResponse("<html><body>404 Not Found</body></html>", {
            status: 404,
            headers: { "content-type": "text/html" }
          })),
        http.get(`${BASE}/Users/other`, () => HttpResponse.json(user("someone-else")))
      )
      const connection = yield* connectWith()
      const found = Option.getOrThrow(yield* connection.lookup("u1"))
      assert.deepStrictEqual([found.externalId, found.status, found.sourceStatus, found.entitlements], [
        "u1",
        "suspended",
        "active=false",
        []
      ])
      assert.isTrue(Option.isNone(yield* connection.lookup("gone")))
      assert.isTrue(Option.isNone(yield* connection.lookup("bare")))

      const proxied = yield* Effect.flip(connection.lookup("proxied"))
      assert.deepStrictEqual([proxied.reason, proxied.status, proxied.operation], ["InvalidResponse", 404, "lookup"])
      assert.include(proxied.hint ?? "", "not taken as the user being gone")
      const other = yield* Effect.flip(connection.lookup("other"))
      assert.strictEqual(other.reason, "InvalidResponse")
      assert.include(other.description, "with user someone-else")
    }))

  it.effect("fails a lookup the service refuses instead of calling the user gone", () =>
    Effect.gen(function*() {
      server.use(http.get(`${BASE}/Users/:id`, () => scimError(401, "Token revoked")))
      const error = yield* Effect.flip((yield* connectWith()).lookup("u1"))
      assert.deepStrictEqual([error.reason, error.operation], ["Unauthorized", "lookup"])
    }))
})

describe("suspend and restore", () => {
  it.effect("sends the PATCH as application/scim+json with the dialect's op and the bearer token", () =>
    Effect.gen(function*() {
      const seen: Array<{ type: string | null; auth: string | null; body: unknown }> = []
      server.use(
        spc({ patch: { supported: true } }),
        http.patch(`${BASE}/Users/:id`, async ({ request }) => {
          seen.push({
            type: request.headers.get("content-type"),
            auth: request.headers.get("authorization"),
            body: await request.json()
          })
          return new HttpResponse(null, { status: 204 })
        })
      )
      yield* (yield* connectWith({ dialect: { patchOp: "add" } })).suspend("u 1/x")
      yield* (yield* connectWith()).restore("u2")
      assert.deepStrictEqual(seen, [
        {
          type: "application/scim+json",
          auth: "Bearer tok-123",
          body: {
            schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            Operations: [{ op: "add", path: "active", value: false }]
          }
        },
        {
          type: "application/scim+json",
          auth: "Bearer tok-123",
          body: {
            schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            Operations: [{ op: "replace", path: "active", value: true }]
          }
        }
      ])
    }))

  it.effect("falls back to GET and PUT of the whole user when the service does not support PATCH", () =>
    Effect.gen(function*() {
      const puts: Array<{ path: string; body: Record<string, unknown> }> = []
      const stored = {
        schemas: [
          "urn:ietf:params:scim:schemas:core:2.0:User",
          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        id: "u7",
        userName: "u7@acme.test",
        active: true,
        emails: [{ value: "u7@acme.test", primary: true }],
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { department: "Sales" },
        meta: { resourceType: "User", version: "W/\"3\"", location: `${BASE}/Users/u7` }
      }
      let patched = 0
      server.use(
        spc({ patch: { supported: false } }),
        http.patch(`${BASE}/Users/:id`, () => {
          patched++
          return scimError(501, "PATCH not implemented")
        }),
        http.get(`${BASE}/Users/u7`, () => HttpResponse.json(stored)),
        http.put(`${BASE}/Users/u7`, async ({ request }) => {
          const body = await request.json() as Record<string, unknown>
          puts.push({ path: new URL(request.url).pathname, body })
          return HttpResponse.json({ ...stored, active: body.active })
        })
      )
      const connection = yield* connectWith()
      const preflight = yield* connection.preflight("u7", "suspend")
      const viaPut = "Set active=false over SCIM (GET + PUT of the whole user)"
      assert.deepStrictEqual([preflight.allowed, preflight.methodLabel], [true, viaPut])
      assert.strictEqual(puts.length, 0, "a preflight changes nothing")
      const receipt = yield* connection.suspend("u7")
      assert.deepStrictEqual({ ...receipt }, { method: "scim-active", methodLabel: viaPut })
      assert.strictEqual(patched, 0)
      const { meta: _meta, ...withoutMeta } = stored
      assert.deepStrictEqual(puts, [{ path: "/scim/v2/Users/u7", body: { ...withoutMeta, active: false } }])
    }))

  it.effect("switches to PUT for good when a PATCH is refused with 405", () =>
    Effect.gen(function*() {
      let patched = 0
      const put: Array<unknown> = []
      server.use(
        spc({ patch: { supported: true } }),
        http.patch(`${BASE}/Users/:id`, () => {
          patched++
          return new HttpResponse(null, { status: 405 })
        }),
        http.get(`${BASE}/Users/:id`, ({ params }) => HttpResponse.json(user(String(params.id), false))),
        http.put(`${BASE}/Users/:id`, async ({ request }) => {
          const body = await request.json() as Record<string, unknown>
          put.push(body.active)
          return HttpResponse.json({ ...body })
        })
      )
      const connection = yield* connectWith()
      yield* connection.restore("u1")
      yield* connection.restore("u2")
      assert.strictEqual(patched, 1)
      assert.deepStrictEqual(put, [true, true])
      assert.isFalse((yield* connection.serviceFeatures).patch)
    }))

  it.effect("says to change the user in the app when the service rejects the PUT", () =>
    Effect.gen(function*() {
      server.use(
        spc({ patch: { supported: false } }),
        http.get(`${BASE}/Users/:id`, ({ params }) => HttpResponse.json(user(String(params.id)))),
        http.put(`${BASE}/Users/:id`, () => scimError(400, "Attribute 'password' is required", "invalidValue"))
      )
      const error = yield* Effect.flip((yield* connectWith()).suspend("u1"))
      assert.deepStrictEqual([error.reason, error.status, error.code], ["InvalidResponse", 400, "invalidValue"])
      assert.include(error.description, "Attribute 'password' is required")
      assert.include(error.hint ?? "", "does not support PATCH")
    }))

  it.effect("does not take a 200 that leaves active unchanged for a suspension", () =>
    Effect.gen(function*() {
      server.use(
        spc({ patch: { supported: true } }),
        http.patch(`${BASE}/Users/:id`, () => HttpResponse.json(user("u1", true)))
      )
      const error = yield* Effect.flip((yield* connectWith()).suspend("u1"))
      assert.strictEqual(error.reason, "InvalidResponse")
      assert.include(error.description, "still reports active=true")
      assert.include(error.hint ?? "", "\"add\"")
    }))

  it.effect("suggests the other PATCH op when the service rejects the PATCH body", () =>
    Effect.gen(function*() {
      server.use(
        spc({ patch: { supported: true } }),
        http.patch(`${BASE}/Users/:id`, () =>
          scimError(400, "Unsupported operation 'replace' for path active", "invalidPath"))
      )
      const error = yield* Effect.flip((yield* connectWith()).suspend("u1"))
      assert.deepStrictEqual([error.reason, error.status, error.code], ["InvalidConfig", 400, "invalidPath"])
      assert.include(error.description, "invalidPath: Unsupported operation 'replace' for path active")
      assert.include(error.hint ?? "", "set the dialect's PATCH operation to \"add\"")
    }))
})

describe("error bodies", () => {
  const cases: ReadonlyArray<{
    readonly name: string
    readonly operation: string
    readonly status: number
    readonly body: string
    readonly reason: string
    readonly text: string
    readonly hint: string
  }> = [
    {
      name: "401 SCIM error",
      operation: "accounts",
      status: 401,
      body: JSON.stringify({
        schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
        status: "401",
        detail: "Invalid token"
      }),
      reason: "Unauthorized",
      text: "HTTP 401: Invalid token",
      hint: "bearer token"
    },
    {
      name: "403 with a numeric status",
      operation: "accounts",
      status: 403,
      body: JSON.stringify({
        schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
        status: 403,
        detail: "SCIM is not enabled for this plan"
      }),
      reason: "Forbidden",
      text: "SCIM is not enabled for this plan",
      hint: "provisioning rights"
    },
    {
      name: "403 refusing to deactivate an owner",
      operation: "suspend",
      status: 403,
      body: JSON.stringify({
        schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
        status: "403",
        detail: "Cannot deactivate the account owner"
      }),
      reason: "Forbidden",
      text: "Cannot deactivate the account owner",
      hint: "protect owners"
    },
    {
      name: "404 on restore",
      operation: "restore",
      status: 404,
      body: JSON.stringify({
        schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
        status: "404",
        detail: "User not found"
      }),
      reason: "NotFound",
      text: "User not found",
      hint: "no such user"
    },
    {
      name: "409 uniqueness",
      operation: "suspend",
      status: 409,
      body: JSON.stringify({
        schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
        status: "409",
        scimType: "uniqueness",
        detail: "userName taken"
      }),
      reason: "InvalidResponse",
      text: "uniqueness: userName taken",
      hint: "uniqueness"
    },
    {
      name: "400 mutability on suspend",
      operation: "suspend",
      status: 400,
      body: JSON.stringify({
        schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
        status: "400",
        scimType: "mutability",
        detail: "active is read-only"
      }),
      reason: "Unsupported",
      text: "mutability: active is read-only",
      hint: "does not let its SCIM clients change active"
    },
    {
      name: "400 expiredCursor",
      operation: "accounts",
      status: 400,
      body: JSON.stringify({
        schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
        status: "400",
        scimType: "expiredCursor",
        detail: "Cursor expired"
      }),
      reason: "Incomplete",
      text: "expiredCursor: Cursor expired",
      hint: "cursor expired"
    },
    {
      name: "400 tooMany",
      operation: "accounts",
      status: 400,
      body: JSON.stringify({
        schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
        status: "400",
        scimType: "tooMany",
        detail: "count too large"
      }),
      reason: "InvalidConfig",
      text: "tooMany: count too large",
      hint: "page size cap"
    },
    {
      name: "a non-SCIM {message} body",
      operation: "accounts",
      status: 429,
      body: JSON.stringify({ message: "Slow down" }),
      reason: "RateLimited",
      text: "HTTP 429: Slow down",
      hint: "request budget"
    },
    {
      name: "HTML",
      operation: "accounts",
      status: 502,
      body: "<html><body><h1>502 Bad Gateway</h1></body></html>",
      reason: "Unavailable",
      text: "HTTP 502: 502 Bad Gateway",
      hint: "temporary"
    },
    {
      name: "empty",
      operation: "verify",
      status: 503,
      body: "",
      reason: "Unavailable",
      text: "Acme Chat answered HTTP 503",
      hint: "temporary"
    },
    {
      name: "truncated JSON",
      operation: "accounts",
      status: 500,
      body: "{\"schemas\":[\"urn:",
      reason: "Unavailable",
      text: "{\"schemas\":[\"urn:",
      hint: "temporary"
    }
  ]

  for (const c of cases) {
    it(`reads ${c.name}`, () => {
      const error = classify({ app: "Acme Chat", operation: c.operation, status: c.status, body: c.body })
      assert.strictEqual(error.reason, c.reason)
      assert.strictEqual(error.status, c.status)
      assert.strictEqual(error.provider, "scim")
      assert.include(error.description, c.text)
      assert.include(error.hint ?? "", c.hint)
      assert.isAtMost(error.description.length, 300)
    })
  }

  it("keeps scimType and detail apart", () => {
    assert.deepStrictEqual(
      parseErrorBody(
        JSON.stringify({
          schemas: ["urn:ietf:params:scim:api:messages:2.0:Error"],
          status: "400",
          scimType: "invalidValue",
          detail: "bad"
        })
      ),
      { scimType: "invalidValue", detail: "bad" }
    )
    assert.deepStrictEqual(parseErrorBody(JSON.stringify({ Errors: [{ description: "Azure-style" }] })), {
      scimType: undefined,
      detail: "Azure-style"
    })
  })

  it.effect("maps a 401 on the wire, and fails the listing at once without retrying", () =>
    Effect.gen(function*() {
      let calls = 0
      server.use(
        http.get(`${BASE}/ServiceProviderConfig`, () => {
          calls++
          return scimError(401, "Token revoked")
        })
      )
      const connection = yield* connectWith()
      const error = yield* Effect.flip(Stream.runDrain(connection.accounts))
      assert.deepStrictEqual([error.reason, error.status, error.operation], ["Unauthorized", 401, "accounts"])
      assert.include(error.description, "Token revoked")
      assert.strictEqual(calls, 1)
    }))
})
