/**
 * Who gets in: every `/api` route (as the app lists them, so a new route cannot slip by) needs the admin
 * token or a user's own token; each route needs a role, and every role is refused (403) on every route
 * above it; a disabled user's token and a replaced token are refused like any wrong one; tokens are kept
 * only as hashes; pages need a session; the token comparison is constant-time; responses carry secure
 * headers; a host reachable from other machines will not start without a chosen token.
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as fc from "fast-check"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Module from "node:module"
import * as Path from "node:path"
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest"
import { apiRoutes as routeTable } from "../../src/api/index.js"
import { openApiPath, roleOf } from "../../src/api/Route.js"
import { loadHostConfig } from "../../src/config.js"
import { type Host, isAdminToken } from "../../src/http/Host.js"
import { apiRoutes, fillPath, pageRoutes, type Route } from "../support/Guarantees.js"
import { launchHost, requireBuilt, tempDir } from "../support/Process.js"
import { ADMIN_TOKEN, makeTestHost, type RequestOptions, type TestHost } from "../support/TestHost.js"

const placeholders = (route: Route) =>
  Object.fromEntries(route.params.map((p) => [p, p === "externalId" ? "557058%3Aabc" : `x-${p}`]))

// What an attacker might send instead of `Authorization: Bearer <admin token>`.
const badCredentials: ReadonlyArray<readonly [string, Record<string, string>, string?]> = [
  ["no header", {}],
  ["an empty bearer", { authorization: "Bearer " }],
  ["the scheme alone", { authorization: "Bearer" }],
  ["the token without a scheme", { authorization: ADMIN_TOKEN }],
  ["Basic with the token", { authorization: `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString("base64")}` }],
  ["the token with a character more", { authorization: `Bearer ${ADMIN_TOKEN}x` }],
  ["the token with a character less", { authorization: `Bearer ${ADMIN_TOKEN.slice(0, -1)}` }],
  ["the token in upper case", { authorization: `Bearer ${ADMIN_TOKEN.toUpperCase()}` }],
  ["the token twice", { authorization: `Bearer ${ADMIN_TOKEN} ${ADMIN_TOKEN}` }],
  ["the token in another header", { "x-admin-token": ADMIN_TOKEN, "x-api-key": ADMIN_TOKEN }],
  ["the token as a cookie", { cookie: `seatkeeper_session=${ADMIN_TOKEN}; token=${ADMIN_TOKEN}` }],
  ["the token in the query string", {}, `token=${ADMIN_TOKEN}&access_token=${ADMIN_TOKEN}`]
]

describe("authentication", () => {
  let t: TestHost
  let routes: ReadonlyArray<Route>
  beforeAll(async () => {
    t = await makeTestHost({ pages: true })
    routes = apiRoutes(t.host.app)
  })
  afterAll(() => t.close())

  it("Should find the API's routes in the app itself", () => {
    // A sanity check of the enumeration: the routes every client relies on are among them.
    const names = routes.map((r) => `${r.method} ${r.path}`)
    expect(names).toEqual(expect.arrayContaining([
      "GET /api/connections",
      "POST /api/connections",
      "DELETE /api/connections/:id",
      "POST /api/connections/:id/syncs",
      "POST /api/connections/:id/accounts/:externalId/suspend",
      "POST /api/connections/:id/accounts/:externalId/restore",
      "POST /api/syncs/:id/apply",
      "POST /api/syncs/:id/discard",
      "GET /api/connections/:id/seats",
      "GET /api/connections/:id/products",
      "GET /api/connections/:id/totals",
      "GET /api/audit"
    ]))
    expect(routes.length).toBeGreaterThanOrEqual(27)
  })

  it("Should answer every API route with 401 JSON for every kind of missing or wrong credential", async () => {
    let checked = 0
    for (const route of routes) {
      for (const [what, headers, query] of badCredentials) {
        const path = fillPath(route, placeholders(route)) + (query === undefined ? "" : `?${query}`)
        const res = await t.request(route.method, path, {
          token: null,
          headers,
          body: route.method === "GET" ? undefined : {}
        })
        const label = `${route.method} ${route.path} with ${what}`
        expect(res.status, label).toBe(401)
        expect(res.headers.get("content-type"), label).toMatch(/^application\/json/)
        expect(res.headers.get("www-authenticate"), label).toBe(`Bearer realm="seatkeeper"`)
        expect(res.body.error.code, label).toBe("unauthorized")
        expect(res.body.error.message, label).toMatch(/^(this API needs a token|the token is not valid)$/)
        // What to send instead: the admin token, or a user's own.
        expect(res.body.error.hint, label).toMatch(/admin token.*user's token/)
        checked++
      }
    }
    console.log(
      `[auth] ${routes.length} API routes x ${badCredentials.length} bad credentials: ${checked} requests, all 401`
    )
  })

  it("Should refuse a browser session cookie on the API (the API is bearer-only)", async () => {
    const cookie = await t.login()
    // The cookie opens the pages ...
    const page = await t.request("GET", "/", { cookie })
    expect(page.status).toBe(200)
    // ... but not one API route.
    for (const route of routes) {
      const res = await t.request(route.method, fillPath(route, placeholders(route)), {
        token: null,
        headers: { cookie }
      })
      expect(res.status, `${route.method} ${route.path}`).toBe(401)
    }
  })

  it("Should answer /metrics only with the admin or the metrics token, never a session", async () => {
    const cookie = await t.login()
    for (
      const [what, options] of [
        ["no token", { token: null }],
        ["a session cookie", { token: null, headers: { cookie } }],
        ["a wrong token", { token: `${ADMIN_TOKEN}x` }]
      ] as const
    ) {
      const res = await t.request("GET", "/metrics", options)
      expect(res.status, what).toBe(401)
      expect(res.headers.get("www-authenticate"), what).toBe(`Bearer realm="seatkeeper"`)
    }
    expect((await t.request("GET", "/metrics")).status).toBe(200)
  })

  it("Should send every page to the login without a session, and serve none of them", async () => {
    const pages = pageRoutes(t.host.app)
    expect(pages.length).toBeGreaterThan(5)
    const forged = "seatkeeper_session=forged-session-id-0123456789"
    for (const route of pages) {
      const path = fillPath(route, Object.fromEntries(route.params.map((p) => [p, `x-${p}`])))
      for (const cookie of [undefined, forged]) {
        const res = await t.host.app.request(path, {
          method: route.method,
          headers: {
            origin: "http://localhost",
            ...(cookie === undefined ? {} : { cookie }),
            ...(route.method === "POST" ? { "content-type": "application/x-www-form-urlencoded" } : {})
          },
          ...(route.method === "POST" ? { body: "_csrf=x&token=x" } : {})
        }, { incoming: { socket: { remoteAddress: "192.0.2.9" } } })
        const label = `${route.method} ${route.path} (${cookie === undefined ? "no cookie" : "forged cookie"})`
        if (route.path === "/login") {
          // The login page itself is public; a wrong token posted to it is refused.
          expect([200, 401], label).toContain(res.status)
        } else {
          expect(res.status, label).toBe(303)
          expect(res.headers.get("location"), label).toMatch(/^\/login/)
        }
      }
    }
  })

  it("Should answer /healthz without a token and with nothing in it worth a token", async () => {
    const res = await t.request("GET", "/healthz", { token: null })
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ status: "ok" })
  })
})

const ROLES = ["viewer", "operator", "approver", "admin"] as const
type Role = (typeof ROLES)[number]
const rank = (r: Role) => ROLES.indexOf(r)

describe("people: their own tokens and roles", () => {
  let t: TestHost
  const users: Record<Role, { id: string; name: string; token: string }> = {} as never
  beforeAll(async () => {
    t = await makeTestHost()
    for (const role of ROLES) {
      const name = `${role[0]!.toUpperCase()}${role.slice(1)} Person`
      const res = await t.request("POST", "/api/users", { body: { name, role } })
      expect(res.status, res.text).toBe(201)
      users[role] = { id: res.body.id, name, token: res.body.token }
    }
  })
  afterAll(() => t.close())

  /** Every route of the table, filled with ids that exist nowhere. */
  const table = routeTable.map((r) => {
    const route: Route = {
      method: r.method.toUpperCase(),
      path: `/api${r.path}`,
      params: [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]!)
    }
    return { route, role: roleOf(r) as Role, label: `${route.method} ${openApiPath(route.path)}` }
  })
  const send = (route: Route, token: string | null) =>
    t.request(route.method, fillPath(route, placeholders(route)), {
      token,
      body: route.method === "GET" ? undefined : {}
    })

  it("Should know each user by their own token, with their role", async () => {
    for (const role of ROLES) {
      const me = await t.request("GET", "/api/me", { token: users[role].token })
      expect(me.status, role).toBe(200)
      expect(me.body).toEqual({ name: users[role].name, role, userId: users[role].id })
    }
    expect((await t.request("GET", "/api/me")).body).toEqual({ name: "admin", role: "admin", userId: null })
  })

  it("Should refuse every role on every route above it with 403 naming the role needed, and let it through below", async () => {
    // The table lists every route the app serves: none escapes the check.
    expect(table.map((r) => `${r.route.method} ${r.route.path}`).sort()).toEqual(
      apiRoutes(t.host.app).map((r) => `${r.method} ${r.path}`).filter((r) => r !== "GET /api/openapi.json").sort()
    )
    let refused = 0
    let allowed = 0
    for (const role of ROLES) {
      for (const { route, role: needed, label } of table) {
        const res = await send(route, users[role].token)
        if (rank(role) < rank(needed)) {
          expect(res.status, `${role} on ${label}`).toBe(403)
          expect(res.body.error, `${role} on ${label}`).toMatchObject({
            code: "forbidden",
            message: `${users[role].name} (${role}) may not ${route.method} ${route.path}: it needs the ${needed} role`
          })
          refused++
        } else {
          // Allowed in: whatever the fake ids and the empty body make of it, it is not a 401 or a 403.
          expect([401, 403], `${role} on ${label}: ${res.text.slice(0, 200)}`).not.toContain(res.status)
          expect(res.status, `${role} on ${label}: ${res.text.slice(0, 200)}`).toBeLessThan(500)
          allowed++
        }
      }
    }
    // Reading the API's description needs no more than a viewer's token.
    expect((await t.request("GET", "/api/openapi.json", { token: users.viewer.token })).status).toBe(200)
    console.log(
      `[auth] ${table.length} routes x ${ROLES.length} roles: ${refused} refused with 403 (a role below the route's), ${allowed} let through`
    )
  })

  it("Should refuse a disabled user's token on every route, as any wrong token", async () => {
    const res = await t.request("POST", "/api/users", { body: { name: "Leaver", role: "admin" } })
    const leaver = { id: res.body.id as string, token: res.body.token as string }
    expect((await t.request("GET", "/api/me", { token: leaver.token })).status).toBe(200)
    expect((await t.request("PATCH", `/api/users/${leaver.id}`, { body: { disabled: true } })).status).toBe(200)
    for (const { route, label } of table) {
      const refused = await send(route, leaver.token)
      expect(refused.status, label).toBe(401)
      expect(refused.body.error, label).toMatchObject({ code: "unauthorized", message: "the token is not valid" })
    }
    // Enabled again, the same token works again.
    expect((await t.request("PATCH", `/api/users/${leaver.id}`, { body: { disabled: false } })).status).toBe(200)
    expect((await t.request("GET", "/api/me", { token: leaver.token })).status).toBe(200)
  })

  it("Should revoke a user's old token when a new one is issued", async () => {
    const res = await t.request("PATCH", `/api/users/${users.operator.id}`, { body: { newToken: true } })
    expect(res.status).toBe(200)
    const fresh = res.body.token as string
    expect(fresh).toMatch(/^sk_/)
    expect(fresh).not.toBe(users.operator.token)
    expect((await t.request("GET", "/api/me", { token: users.operator.token })).status).toBe(401)
    expect((await t.request("GET", "/api/me", { token: fresh })).body.name).toBe(users.operator.name)
    users.operator.token = fresh
    // A token is shown once: listing users never shows one.
    const listed = await t.request("GET", "/api/users")
    expect(listed.text).not.toContain("sk_")
    expect(Object.keys(listed.body.data[0]).sort()).toEqual([
      "createdAt",
      "createdBy",
      "disabledAt",
      "id",
      "name",
      "role"
    ])
  })

  it("Should keep tokens only as hashes: no token is in the database files", () => {
    const files = Fs.readdirSync(t.dataDir).filter((f) => f.startsWith("seatkeeper.db"))
    expect(files.length).toBeGreaterThan(0)
    const bytes = Buffer.concat(files.map((f) => Fs.readFileSync(Path.join(t.dataDir, f))))
    for (const role of ROLES) {
      const token = users[role].token
      expect(bytes.includes(Buffer.from(token)), role).toBe(false)
      expect(bytes.includes(Buffer.from(token.slice(3, 23))), role).toBe(false)
    }
  })
})

describe("constant-time token comparison", () => {
  const spy = () => {
    // `node:crypto`'s named exports follow its default export once synced: spy on the function the
    // host's `import * as Crypto` sees.
    const cryptoDefault = (Crypto as unknown as { default: typeof Crypto }).default
    const calls: Array<[number, number]> = []
    const original = cryptoDefault.timingSafeEqual
    const mock = vi.spyOn(cryptoDefault, "timingSafeEqual").mockImplementation((a, b) => {
      calls.push([a.byteLength, b.byteLength])
      return original(a, b)
    })
    Module.syncBuiltinESMExports()
    return {
      calls,
      restore: () => {
        mock.mockRestore()
        Module.syncBuiltinESMExports()
      }
    }
  }
  let s: ReturnType<typeof spy> | undefined
  afterEach(() => s?.restore())

  const host = { adminToken: Redacted.make(ADMIN_TOKEN) } as Host

  it("Should compare equal-length digests with crypto.timingSafeEqual, whatever the given token's length", () => {
    s = spy()
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (given) => {
        const before = s!.calls.length
        const result = isAdminToken(host, given)
        expect(result).toBe(given === ADMIN_TOKEN)
        // Exactly one comparison, of two 32-byte digests: no early return on a length or prefix mismatch.
        expect(s!.calls.slice(before)).toEqual([[32, 32]])
      }),
      { numRuns: 300 }
    )
    for (
      const given of [
        "",
        ADMIN_TOKEN,
        `${ADMIN_TOKEN}x`,
        ADMIN_TOKEN.slice(0, -1),
        "x".repeat(100_000),
        `${ADMIN_TOKEN.slice(0, -1)}X`
      ]
    ) {
      const before = s.calls.length
      expect(isAdminToken(host, given)).toBe(given === ADMIN_TOKEN)
      expect(s.calls.slice(before)).toEqual([[32, 32]])
    }
  })

  it("Should compare the admin token the same way on every API request, whatever token is sent", async () => {
    const t = await makeTestHost()
    try {
      const user = (await t.request("POST", "/api/users", { body: { name: "Timing", role: "viewer" } })).body
        .token as string
      s = spy()
      for (
        const given of [
          "",
          "x",
          ADMIN_TOKEN,
          `${ADMIN_TOKEN}x`,
          ADMIN_TOKEN.slice(0, -1),
          user,
          `${user}x`,
          "y".repeat(10_000)
        ]
      ) {
        const before = s.calls.length
        await t.request("GET", "/api/me", { token: given })
        // No token at all is refused before any comparison; any token, one comparison of two 32-byte digests.
        expect(s.calls.slice(before), JSON.stringify(given.slice(0, 20))).toEqual(given === "" ? [] : [[32, 32]])
      }
    } finally {
      await t.close()
    }
  })

  it("Should treat a missing token as not the token, without comparing anything secret", () => {
    s = spy()
    expect(isAdminToken(host, undefined)).toBe(false)
  })
})

describe("secure headers", () => {
  let t: TestHost
  beforeAll(async () => {
    t = await makeTestHost({ pages: true })
  })
  afterAll(() => t.close())

  const expectSecureHeaders = (label: string, headers: Headers) => {
    expect(headers.get("x-content-type-options"), label).toBe("nosniff")
    const frames = headers.get("x-frame-options")
    const csp = headers.get("content-security-policy") ?? ""
    expect(frames === "DENY" || frames === "SAMEORIGIN" || /frame-ancestors 'none'/.test(csp), label).toBe(true)
    expect(headers.get("referrer-policy"), label).toBe("no-referrer")
    expect(headers.get("strict-transport-security"), label).toMatch(/max-age=\d{7,}/)
    expect(headers.get("cross-origin-resource-policy"), label).toBe("same-origin")
    expect(headers.get("x-powered-by"), label).toBeNull()
  }

  it("Should send them on every kind of API answer, over HTTPS (a proxy's) as over HTTP", async () => {
    const cases: ReadonlyArray<readonly [string, string, RequestOptions?]> = [
      ["GET", "/healthz"],
      ["GET", "/api/connections"],
      ["GET", "/api/connections", { token: null }],
      ["GET", "/api/connections/nope"],
      ["GET", "/api/no-such-route"],
      ["POST", "/api/connections", { body: {} }],
      ["POST", "/api/connections", { rawBody: "{", headers: { "content-type": "application/json" } }],
      ["POST", "/api/connections", {
        rawBody: "a=b",
        headers: { "content-type": "application/x-www-form-urlencoded" }
      }],
      ["POST", "/api/connections", { body: { name: "x".repeat(70_000) } }]
    ]
    const statuses = new Set<number>()
    for (const [method, path, options] of cases) {
      for (const proto of ["http", "https"]) {
        const res = await t.request(method, path, {
          ...options,
          headers: { ...options?.headers, "x-forwarded-proto": proto }
        })
        statuses.add(res.status)
        expectSecureHeaders(`${method} ${path} ${res.status} (${proto})`, res.headers)
        if (path.startsWith("/api/")) expect(res.headers.get("cache-control"), `${method} ${path}`).toBe("no-store")
      }
    }
    expect([...statuses].sort()).toEqual([200, 400, 401, 404, 413, 415])
    const direct = await t.host.app.request("https://seatkeeper.example/api/connections", {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` }
    })
    expectSecureHeaders("over https directly", direct.headers)
  })

  it("Should send them on pages, with a policy that forbids framing and scripts", async () => {
    for (const path of ["/login", "/", "/no-such-page"]) {
      const res = await t.host.app.request(path)
      expectSecureHeaders(path, res.headers)
      expect(res.headers.get("content-security-policy"), path).toMatch(/default-src 'none'/)
      expect(res.headers.get("cache-control"), path).toBe("no-store")
    }
  })
})

describe("listening beyond this machine", () => {
  const nonLoopback = fc.oneof(
    fc.ipV4().filter((ip) => !ip.startsWith("127.")),
    fc.ipV6().filter((ip) => ip !== "::1"),
    fc.domain().filter((d) => d !== "localhost"),
    fc.constantFrom("0.0.0.0", "::", "[::]", "0", "localhost.example.com", "127.0.0.1.nip.io", "127.1")
  )

  it("Should refuse a non-loopback HOST without an explicit admin token, and a short explicit one", async () => {
    const dataDir = tempDir("seatkeeper-security-config-")
    try {
      await fc.assert(
        fc.asyncProperty(nonLoopback, fc.constantFrom(undefined, "", "   ", "short-token"), async (host, token) => {
          const result = await Effect.runPromise(
            Effect.either(loadHostConfig({ HOST: host, SEATKEEPER_ADMIN_TOKEN: token, SEATKEEPER_DATA_DIR: dataDir }))
          )
          expect(Either.isLeft(result)).toBe(true)
          if (Either.isLeft(result)) expect(result.left.message).toContain("SEATKEEPER_ADMIN_TOKEN")
          // No token file was generated for it: nothing a network-reachable host would fall back to.
          expect(Fs.existsSync(Path.join(dataDir, "admin-token"))).toBe(false)
        }),
        { numRuns: 200 }
      )
      for (const host of ["127.0.0.1", "127.3.2.1", "localhost", "::1", "[::1]"]) {
        const ok = await Effect.runPromise(Effect.either(loadHostConfig({ HOST: host, SEATKEEPER_DATA_DIR: dataDir })))
        expect(Either.isRight(ok), host).toBe(true)
      }
    } finally {
      Fs.rmSync(dataDir, { recursive: true, force: true })
    }
  })

  it.skipIf(!requireBuilt("the refused start-up test"))(
    "Should exit non-zero with a message saying what to set, before listening",
    async () => {
      const dirs: Array<string> = []
      try {
        const runs = ["0.0.0.0", "::", "192.0.2.10"].map((host) => {
          const dir = tempDir("seatkeeper-security-host-")
          dirs.push(dir)
          return { host, p: launchHost({ HOST: host, PORT: "0", SEATKEEPER_DATA_DIR: dir }) }
        })
        for (const { host, p } of runs) {
          expect((await p.exited).code, host).toBe(1)
          expect(p.stderr(), host).toContain(`HOST=${host} accepts connections from other machines`)
          expect(p.stderr(), host).toContain("SEATKEEPER_ADMIN_TOKEN must be set")
          expect(p.output(), host).not.toContain(`"message":"listening"`)
        }
      } finally {
        for (const dir of dirs) Fs.rmSync(dir, { recursive: true, force: true })
      }
    }
  )
})
