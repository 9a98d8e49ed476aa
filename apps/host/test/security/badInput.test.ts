/**
 * Bad input through the HTTP API (fast-check): nasty ids in every path parameter, absurd limits, forged
 * cursors, wrong bodies, wrong content types, huge bodies, wrong methods, on every route the app lists.
 * Every answer is a 4xx JSON error naming the problem (or, for a read that happens to be valid, a normal
 * answer); never a 5xx; and afterwards the store holds exactly what it held before.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import * as fc from "fast-check"
import * as Http from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { apiRoutes, fillPath, makePgSchema, type PgSchema, pgSkipReason, type Route } from "../support/Guarantees.js"
import { makeSandbox, sync } from "../support/Org.js"
import { ADMIN_TOKEN, makeTestHost, type TestHost } from "../support/TestHost.js"
import {
  type Answer,
  badActionBody,
  badCreateBody,
  badRawBody,
  badUpdateBody,
  badVerifyBody,
  type Body,
  checkAnswer,
  type Cursors,
  encodeAs,
  encoding,
  forgedCursor,
  nastyString,
  newTally,
  numberish,
  policyOf,
  type Tally
} from "./fuzz.js"

/** How many runs each property makes; the PostgreSQL pass makes fewer. */
const RUNS = { sqlite: 3_000, pg: 1_000 } as const

/** The totals over every target, printed at the end for the README. */
const total = newTally()
afterAll(() => {
  const statuses = [...total.statuses.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`).join(" ")
  console.log(`[fuzz] ${total.inputs} inputs, ${total.serverErrors} 5xx`)
  console.log(`[fuzz] statuses ${statuses}`)
})

const merge = (into: Tally, from: Tally) => {
  into.inputs += from.inputs
  into.serverErrors += from.serverErrors
  for (const [s, n] of from.statuses) into.statuses.set(s, (into.statuses.get(s) ?? 0) + n)
}

interface World {
  readonly t: TestHost
  readonly sandbox: AtlassianSandbox
  readonly a: string
  readonly b: string
  readonly accountId: string
  /** A product instance of A (an entitlement key), for the seats list's `license` filter. */
  readonly license: string
  readonly runId: string
  readonly cursors: Cursors
  readonly validConfig: Record<string, unknown>
}

/** Everything a user could see, to compare before and after the fuzz. */
const snapshot = async (w: World) => {
  const get = async (path: string) => {
    const res = await w.t.request("GET", path)
    expect(res.status, path).toBe(200)
    return res.body
  }
  const accounts = async (id: string) =>
    (await get(`/api/connections/${id}/accounts?limit=500`)).data.map((
      a: { externalId: string; status: string; entitlements: unknown }
    ) => [
      a.externalId,
      a.status,
      a.entitlements
    ])
  return {
    connections: (await get("/api/connections")).data,
    accountsA: await accounts(w.a),
    accountsB: await accounts(w.b),
    syncsA: (await get(`/api/connections/${w.a}/syncs?limit=500`)).data,
    syncsB: (await get(`/api/connections/${w.b}/syncs?limit=500`)).data,
    audit: (await get("/api/audit?limit=500")).data
  }
}

const setUp = async (databaseUrl?: string): Promise<World> => {
  const sandbox = await makeSandbox({ users: 30, pageSize: 10, seed: 51 })
  const t = await makeTestHost({ env: { DATABASE_URL: databaseUrl }, pages: true })
  const validConfig = {
    organizationId: sandbox.orgId,
    apiKey: sandbox.apiKey,
    adminEmail: "admin@acme.example",
    baseUrl: sandbox.url
  }
  const create = async (name: string) => {
    const res = await t.request("POST", "/api/connections", {
      body: { provider: "atlassian", name, config: validConfig }
    })
    expect(res.status).toBe(201)
    const run = await sync(t.request, res.body.id, { audited: true })
    expect(run.body.status).toBe("succeeded")
    return { id: res.body.id as string, runId: run.body.id as string }
  }
  const a = await create("Fuzz A")
  const b = await create("Fuzz B")
  const cursorOf = async (path: string) => {
    const res = await t.request("GET", path)
    expect(res.body.nextCursor, path).toEqual(expect.any(String))
    return res.body.nextCursor as string
  }
  const products = await t.request("GET", `/api/connections/${a.id}/products`)
  // The product instance with the most seats, so that its list has a next page.
  const license: string =
    [...products.body.data].sort((x: { seats: number }, y: { seats: number }) => y.seats - x.seats)[0].key
  return {
    t,
    sandbox,
    a: a.id,
    b: b.id,
    accountId: sandbox.users().find((u) => u.account_id.includes(":"))!.account_id,
    license,
    runId: a.runId,
    validConfig,
    cursors: {
      accounts: await cursorOf(`/api/connections/${a.id}/accounts?limit=2`),
      seats: await cursorOf(`/api/connections/${a.id}/seats?license=${encodeURIComponent(license)}&limit=2`),
      otherConnection: await cursorOf(`/api/connections/${b.id}/accounts?limit=2`),
      audit: await cursorOf("/api/audit?limit=1")
    }
  }
}

/** One generated request and what its answer must be. */
interface FuzzRequest {
  readonly method: string
  readonly path: string
  readonly body: Body | undefined
  readonly expected: number | "4xx" | undefined
}

const queryFor = (w: World, kind: ReturnType<typeof policyOf>["query"]): fc.Arbitrary<string> => {
  const value = fc.oneof(
    { weight: 3, arbitrary: forgedCursor(w.cursors) },
    { weight: 3, arbitrary: fc.oneof(nastyString, fc.integer().map(String), fc.double().map(String)) },
    { weight: 3, arbitrary: numberish }
  )
  const names = {
    none: ["x", "limit", "cursor"],
    page: ["limit", "cursor"],
    accounts: [
      "status",
      "product",
      "inactiveDays",
      "q",
      "accountType",
      "billable",
      "managed",
      "sort",
      "order",
      "limit",
      "cursor"
    ],
    seats: ["license", "product", "plan", "unusedDays", "usedDays", "q", "sort", "order", "limit", "cursor"],
    trend: ["runs"],
    audit: ["connectionId", "action", "limit", "cursor"]
  }[kind]
  const param = fc.tuple(
    fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...names) }, { weight: 1, arbitrary: nastyString }),
    value,
    encoding
  )
  return fc.array(param, { maxLength: 4 }).map((params) =>
    params.length === 0
      ? ""
      : `?${
        params.map(([k, v, how]) => `${encodeAs(k, how === "raw" ? "encoded" : how)}=${encodeAs(v, how)}`).join("&")
      }`
  )
}

const requestFor = (w: World, route: Route): fc.Arbitrary<FuzzRequest> => {
  const policy = policyOf(route)
  const realOf = (name: string): string | undefined => {
    if (!policy.realIds) return undefined
    if (route.path.startsWith("/api/syncs/")) return w.runId
    return name === "id" ? w.a : name === "externalId" ? w.accountId : undefined
  }
  const param = (name: string) => {
    const real = realOf(name)
    const fake = fc.tuple(nastyString, encoding).map(([v, how]) => ({
      text: encodeAs(v, how),
      real: false,
      surelyRoutes: how !== "raw" && v !== "" && v !== "." && v !== ".."
    }))
    if (real === undefined) return fake
    return fc.oneof(
      { weight: 2, arbitrary: fake },
      { weight: 3, arbitrary: fc.constant({ text: encodeURIComponent(real), real: true, surelyRoutes: true }) },
      {
        weight: 1,
        arbitrary: fc.tuple(nastyString, encoding).map(([v, how]) => ({
          text: encodeURIComponent(real) + encodeAs(v, how),
          real: false,
          surelyRoutes: false
        }))
      }
    )
  }
  const params = fc.tuple(...route.params.map(param))
  const body: fc.Arbitrary<{ body: Body | undefined; expect: number | "4xx" | undefined }> = (() => {
    const json = (a: fc.Arbitrary<unknown>) =>
      a.map((value) => ({ body: { _tag: "json" as const, value }, expect: 400 as const }))
    const raw = badRawBody.map(({ expect, ...body }) => ({ body, expect }))
    switch (policy.body) {
      case "create":
        return fc.oneof({ weight: 3, arbitrary: json(badCreateBody(w.validConfig)) }, { weight: 1, arbitrary: raw })
      case "verify":
        return fc.oneof({ weight: 3, arbitrary: json(badVerifyBody(w.validConfig)) }, { weight: 1, arbitrary: raw })
      case "update":
        return fc.oneof({ weight: 3, arbitrary: json(badUpdateBody(w.validConfig)) }, { weight: 1, arbitrary: raw })
      case "action":
        return fc.oneof({ weight: 3, arbitrary: json(badActionBody) }, { weight: 1, arbitrary: raw })
      case "none":
        // The route reads no body: whatever is sent must not matter.
        return route.method === "GET"
          ? fc.constant({ body: undefined, expect: undefined })
          : fc.option(fc.oneof(json(fc.jsonValue({ maxDepth: 2 })), raw), { nil: undefined }).map((b) =>
            b ?? { body: undefined, expect: undefined }
          )
    }
  })()
  return fc.tuple(params, queryFor(w, policy.query), body).map(([ps, query, b]) => {
    const path = fillPath(route, Object.fromEntries(route.params.map((name, i) => [name, ps[i]!.text]))) + query
    const surelyRoutes = ps.every((p) => p.surelyRoutes)
    let expected: FuzzRequest["expected"]
    if (route.method === "GET") expected = undefined
    else if (policy.body === "none") expected = "4xx" // fake ids only: never a change
    else if (surelyRoutes && b.expect !== undefined) expected = b.expect
    else expected = "4xx"
    // A refused body is refused whatever the id, except that an unknown connection may be reported first.
    if (typeof expected === "number" && expected === 400 && ps.some((p) => !p.real)) expected = "4xx"
    // An address with a NUL character is refused before anything looks it up (a body over the limit,
    // whose length is known up front, may be refused first).
    // Judged on the address as sent: the client resolves `..` segments first, which may drop the NUL's segment.
    if (/%00/i.test(sentPath(path))) expected = b.expect === 413 ? "4xx" : 400
    return { method: route.method, path, body: b.body, expected }
  })
}

/** The path and query a WHATWG client puts on the wire for `path` (dot segments resolved). */
const sentPath = (path: string): string => {
  try {
    const url = new URL(path, "http://host.invalid")
    return url.pathname + url.search
  } catch {
    return path
  }
}

const send = async (w: World, req: FuzzRequest): Promise<Answer> => {
  const headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` }
  let body: string | Uint8Array | undefined
  if (req.body?._tag === "json") {
    body = JSON.stringify(req.body.value)
    headers["content-type"] = "application/json"
  } else if (req.body?._tag === "raw") {
    // Bytes, so that no content type is added when there is none.
    body = new TextEncoder().encode(req.body.text)
    if (req.body.contentType !== undefined) headers["content-type"] = req.body.contentType
  }
  const res = await w.t.host.app.request(req.path, {
    method: req.method,
    headers,
    ...(body === undefined ? {} : { body })
  })
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = text === "" ? undefined : JSON.parse(text)
  } catch {
    parsed = undefined
  }
  return { status: res.status, headers: res.headers, text, body: parsed }
}

/** Whether `path` still addresses the API once the URL is normalised (`..` segments can leave it). */
const staysInApi = (path: string) => new URL(path, "http://localhost").pathname.startsWith("/api/")

const fuzzTarget = (
  name: "sqlite" | "pg",
  open: () => Promise<{ databaseUrl?: string; close?: () => Promise<void> } | undefined>
) => {
  let w: World | undefined
  let closeStore: (() => Promise<void>) | undefined
  let before: Awaited<ReturnType<typeof snapshot>>
  const tally = newTally()

  beforeAll(async () => {
    const store = await open()
    if (store === undefined) return
    closeStore = store.close
    w = await setUp(store.databaseUrl)
    before = await snapshot(w)
  }, 60_000)
  afterAll(async () => {
    merge(total, tally)
    await w?.t.close()
    await w?.sandbox.close()
    await closeStore?.()
  })

  it(
    `Should answer every route's bad ids, queries and bodies with a 4xx JSON error naming the problem (${name})`,
    async () => {
      if (w === undefined) return
      const world = w
      const routes = apiRoutes(world.t.host.app)
      // Every route has a policy: a route added without one fails here instead of going unfuzzed.
      for (const route of routes) policyOf(route)
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...routes).chain((route) => requestFor(world, route)), async (req) => {
          const res = await send(world, req)
          const label = `${req.method} ${req.path.slice(0, 300)}`
          if (staysInApi(req.path)) checkAnswer(tally, label, res, req.expected)
          else {
            // Normalised out of /api: a page (the login redirect, or 404), never an error of ours.
            tally.inputs++
            tally.statuses.set(res.status, (tally.statuses.get(res.status) ?? 0) + 1)
            expect(res.status, label).toBeLessThan(500)
          }
        }),
        { numRuns: RUNS[name] }
      )
    },
    120_000
  )

  it(`Should answer methods a route does not have with 404 JSON (${name})`, async () => {
    if (w === undefined) return
    const world = w
    const routes = apiRoutes(world.t.host.app)
    // Whether some route of method `m` answers `path`: `GET /api/connections/verify` is the connection
    // "verify" of `GET /api/connections/:id`, not a missing method.
    const pattern = (r: Route) => new RegExp(`^${r.path.replace(/[.]/g, "\\.").replace(/:\w+/g, "[^/]+")}$`)
    const answered = (m: string, path: string) => routes.some((r) => r.method === m && pattern(r).test(path))
    const method = fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND", "X-CUSTOM")
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...routes), method, async (route, m) => {
        const path = fillPath(route, Object.fromEntries(route.params.map((p) => [p, "x"])))
        fc.pre(!answered(m, path))
        const res = await send(world, { method: m, path, body: undefined, expected: 404 })
        checkAnswer(tally, `${m} ${path}`, res, 404)
        expect(res.body.error.message).toBe(`no API route ${m} ${path}`)
      }),
      { numRuns: Math.min(200, RUNS[name]) }
    )
  })

  it(`Should refuse forged and foreign cursors with 400 naming the cursor, on every paged list (${name})`, async () => {
    if (w === undefined) return
    const world = w
    const lists = [
      `/api/connections/${world.a}/accounts`,
      `/api/connections/${world.a}/seats`,
      "/api/audit"
    ]
    const ownCursors: Record<string, ReadonlyArray<string>> = {
      [lists[0]!]: [world.cursors.accounts],
      [lists[1]!]: [world.cursors.seats],
      [lists[2]!]: [world.cursors.audit]
    }
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...lists), forgedCursor(world.cursors), async (list, cursor) => {
        fc.pre(cursor !== "" && !ownCursors[list]!.includes(cursor))
        const res = await send(world, {
          method: "GET",
          path: `${list}?limit=5&cursor=${encodeAs(cursor, "encoded")}`,
          body: undefined,
          expected: 400
        })
        checkAnswer(tally, `${list} cursor=${cursor.slice(0, 80)}`, res, 400)
        if (cursor.includes("\u0000")) {
          // Refused for its NUL character before the cursor is even read.
          expect(res.body.error.details.issues.map((i: { path: Array<string> }) => i.path[0])).toEqual(["url"])
        } else {
          expect(res.body.error.details.issues.map((i: { path: Array<string> }) => i.path[0])).toEqual(["cursor"])
          expect(res.body.error.message).toContain("start again without it")
        }
      }),
      { numRuns: Math.min(400, RUNS[name]) }
    )
    // The real cursors still work where they belong.
    expect(
      (await send(world, {
        method: "GET",
        path: `${lists[0]}?limit=5&cursor=${encodeURIComponent(world.cursors.accounts)}`,
        body: undefined,
        expected: 200
      })).status
    ).toBe(200)
  })

  it(`Should refuse every one-character change to a real cursor's signature (${name})`, async () => {
    if (w === undefined) return
    const world = w
    const list = `/api/connections/${world.a}/accounts?limit=5&cursor=`
    const [body, signature] = world.cursors.accounts.split(".") as [string, string]
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    let tried = 0
    for (let i = 0; i < signature.length; i++) {
      for (const ch of alphabet) {
        if (ch === signature[i]) continue
        const forged = `${body}.${signature.slice(0, i)}${ch}${signature.slice(i + 1)}`
        const res = await send(world, {
          method: "GET",
          path: list + encodeURIComponent(forged),
          body: undefined,
          expected: 400
        })
        checkAnswer(tally, `signature[${i}]=${ch}`, res, 400)
        tried++
      }
    }
    expect(tried).toBe(signature.length * 63)
  })

  it(`Should refuse limits that are not a whole number from 1 to 500, and honour the others (${name})`, async () => {
    if (w === undefined) return
    const world = w
    const lists = [
      `/api/connections/${world.a}/accounts`,
      `/api/connections/${world.a}/syncs`,
      "/api/audit",
      `/api/connections/${world.a}/seats`
    ]
    const limit = fc.oneof(
      fc.integer({ min: -1_000_000, max: 1_000_000 }).map(String),
      fc.double({ noNaN: false }).map(String),
      fc.constantFrom(
        "NaN",
        "Infinity",
        "-0",
        "1e3",
        "5e-1",
        "ten",
        "1,5",
        "1.0",
        "0",
        "501",
        "1e2",
        "0x10",
        "+5",
        "007"
      )
    )
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...lists), limit, async (list, value) => {
        const res = await send(world, {
          method: "GET",
          path: `${list}?limit=${encodeURIComponent(value)}`,
          body: undefined,
          expected: undefined
        })
        // A whole number written in digits: `1.0`, `1e2` and `0x10` are refused, though `Number` reads them.
        const n = Number(value)
        const valid = /^-?\d+$/.test(value) && n >= 1 && n <= 500
        checkAnswer(tally, `${list}?limit=${value}`, res, valid ? 200 : 400)
        if (valid) expect(res.body.data.length).toBeLessThanOrEqual(n)
        else {
          expect(res.body.error.details.issues.map((i: { path: Array<string> }) => i.path[0])).toEqual(["limit"])
          expect(res.body.error.message).toMatch(/limit: limit must be (a whole number|from 1 to 500)/)
        }
      }),
      { numRuns: Math.min(300, RUNS[name]) }
    )
  })

  it(`Should refuse a NUL character anywhere in an otherwise valid body, naming the field (${name})`, async () => {
    if (w === undefined) return
    const world = w
    const account = `/api/connections/${world.a}/accounts/${encodeURIComponent(world.accountId)}`
    const cases: ReadonlyArray<readonly [string, string, unknown, string]> = [
      ["POST", "/api/connections", { provider: "atlassian", name: "a\u0000b", config: world.validConfig }, "name"],
      ["POST", "/api/connections", {
        provider: "atlassian",
        name: "ok",
        config: { ...world.validConfig, adminEmail: "a\u0000@b.example" }
      }, "config.adminEmail"],
      ["POST", "/api/connections", {
        provider: "atlassian",
        name: "ok",
        config: { ...world.validConfig, apiKey: "key\u0000" }
      }, "config.apiKey"],
      [
        "POST",
        "/api/connections",
        { provider: "atlassian", name: "ok", config: world.validConfig, "x\u0000": 1 },
        "input"
      ],
      ["PATCH", `/api/connections/${world.a}`, { name: "renamed\u0000" }, "name"],
      ["POST", `${account}/suspend`, { reason: "left\u0000", dryRun: true }, "reason"],
      ["POST", `${account}/restore`, { reason: "\u0000" }, "reason"]
    ]
    for (const [method, path, body, field] of cases) {
      const res = await send(world, { method, path, body: { _tag: "json", value: body }, expected: 400 })
      checkAnswer(tally, `${method} ${path} ${field}`, res, 400)
      expect(res.body.error.details.issues[0].path.join(".") || "input").toBe(field)
      expect(res.body.error.details.issues[0].message).toContain("NUL character")
    }
  })

  it(`Should leave the store as it was: no connection, account, run or audit event made by bad input (${name})`, async () => {
    if (w === undefined) return
    expect(await snapshot(w)).toEqual(before)
    // And the host still works.
    expect((await w.t.request("GET", "/healthz")).status).toBe(200)
    expect((await sync(w.t.request, w.a, { audited: true })).body.status).toBe("succeeded")
    console.log(`[fuzz] ${name}: ${tally.inputs} inputs, ${tally.serverErrors} 5xx`)
  })
}

describe("API fuzz on SQLite", () => {
  fuzzTarget("sqlite", async () => ({}))
})

describe("API fuzz on PostgreSQL", async () => {
  const skip = await pgSkipReason("the API fuzz")
  let schema: PgSchema | undefined
  fuzzTarget("pg", async () => {
    if (skip !== undefined) return undefined
    schema = await makePgSchema()
    return { databaseUrl: schema.url, close: () => schema!.drop() }
  })
})

describe("bad input over real HTTP", () => {
  let host: TestHost
  const tally = newTally()
  beforeAll(async () => {
    host = await makeTestHost({ listen: true })
  })
  afterAll(async () => {
    merge(total, tally)
    await host.close()
  })

  /** A request as node's client sends it: the path as given (no normalisation), any body, chunked or not. */
  const raw = (
    method: string,
    path: string,
    options: { body?: Buffer; contentType?: string; chunked?: boolean } = {}
  ) =>
    new Promise<Answer>((resolve, reject) => {
      const url = new URL(host.url!)
      const headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` }
      if (options.contentType !== undefined) headers["content-type"] = options.contentType
      if (options.body !== undefined && options.chunked !== true) {
        headers["content-length"] = String(options.body.length)
      }
      // A connection of its own: after a refused body the server closes the connection it drained.
      const req = Http.request({ host: url.hostname, port: url.port, method, path, headers, agent: false }, (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8")
          let body: unknown
          try {
            body = JSON.parse(text)
          } catch {
            body = undefined
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: new Headers(res.headers as Record<string, string>),
            text,
            body
          })
        })
      })
      req.on("error", reject)
      if (options.body !== undefined) {
        if (options.chunked === true) {
          // Several chunks and no length: the limit must count what arrives.
          for (let i = 0; i < options.body.length; i += 16 * 1024) req.write(options.body.subarray(i, i + 16 * 1024))
        } else req.write(options.body)
      }
      req.end()
    })

  it("Should answer raw paths with dot segments, encoded slashes and bytes with a 4xx JSON error", async () => {
    // What node's client accepts in a request target: no spaces or control characters.
    const segment = nastyString.map((s) => encodeAs(s, "encoded"))
      .chain((s) => fc.constantFrom(s, s.replace(/%2F/g, "/"), s.replace(/%2E/gi, "."), `..%2F${s}`, `%2e%2e/${s}`))
      .filter((s) => !/[\s\u0000-\u001f\u007f]/.test(s) && s !== "")
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(
          "/api/connections/",
          "/api/syncs/",
          "/api/connections/x/accounts/",
          "/api/connections/x/products/"
        ),
        segment,
        fc.constantFrom("", "/suspend", "/accounts", "/verify", "/apply", "/discard", "/trend"),
        async (prefix, s, suffix) => {
          const path = `${prefix}${s}${suffix}`
          const method = ["/suspend", "/verify", "/apply", "/discard"].includes(suffix) ? "POST" : "GET"
          const res = await raw(method, path)
          if (staysInApi(path)) checkAnswer(tally, `${method} ${path}`, res, "4xx")
          else {
            tally.inputs++
            expect(res.status, path).toBeLessThan(500)
          }
        }
      ),
      { numRuns: 150 }
    )
  })

  it("Should refuse a body over the limit with 413, with a Content-Length or chunked", async () => {
    const big = Buffer.from(`{"provider":"atlassian","name":"${"x".repeat(300_000)}","config":{}}`)
    for (const chunked of [false, true]) {
      for (const path of ["/api/connections", "/api/connections/x", "/api/connections/x/accounts/y/suspend"]) {
        const method = path === "/api/connections/x" ? "PATCH" : "POST"
        const res = await raw(method, path, { body: big, contentType: "application/json", chunked })
        checkAnswer(tally, `${method} ${path} (${chunked ? "chunked" : "Content-Length"})`, res, 413)
      }
    }
    // Nothing was stored.
    expect((await raw("GET", "/api/connections")).body).toEqual({ data: [] })
  })
})
