/**
 * The generators and the oracle of the API fuzz: nasty path segments, query values and bodies, one policy
 * per API route (so a new route without one fails the run instead of going unfuzzed), and the check every
 * answer must pass.
 */
import * as fc from "fast-check"
import { expect } from "vitest"
import { MAX_BODY_BYTES } from "../../src/http/app.js"
import type { Route } from "../support/Guarantees.js"

// -----------------------------------------------------------------------------------------------------
// Strings
// -----------------------------------------------------------------------------------------------------

const specials = [
  ":",
  "/",
  "%2F",
  "%2f",
  "..",
  ".",
  "%2e%2e",
  "../..",
  "..%2F..",
  "..\\..",
  "a:b",
  "557058:abc",
  "557058%3Aabc",
  "\u0000",
  "%00",
  "\u0007",
  "\u001b[31m",
  "\r\n",
  "%0d%0aX-Injected:%201",
  "\u202e",
  "\ufeff",
  "😀",
  "é",
  "e\u0301",
  "\ud800",
  "\udfff",
  " ",
  "%",
  "%zz",
  "%C0%AF",
  "%ED%A0%80",
  "?",
  "#",
  "\\",
  ";",
  "&",
  "=",
  "*",
  "null",
  "undefined",
  "0",
  "-1",
  "' OR 1=1 --",
  "'; DROP TABLE connections; --",
  "\" OR \"\"=\"",
  "<script>alert(1)</script>",
  "${7*7}",
  "{{7*7}}",
  "__proto__",
  "constructor",
  "prototype",
  "%u0041",
  "\u2028",
  "ＡＢＣ",
  "İ",
  "ß"
]

/** Any UTF-16 code unit, lone surrogates and control characters included. */
const codeUnit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c))

/** Strings a path segment, an id or a query value should never choke on. */
export const nastyString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...specials) },
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: codeUnit, maxLength: 20 }) },
  {
    weight: 2,
    arbitrary: fc.array(fc.constantFrom(...specials), { minLength: 2, maxLength: 5 }).map((a) => a.join(""))
  },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", minLength: 300, maxLength: 2000 }) }
)

/** How a value is put into a URL: encoded (as a client should), raw, or encoded twice. */
export type Encoding = "encoded" | "raw" | "double"

const safeEncode = (s: string): string => {
  try {
    return encodeURIComponent(s)
  } catch {
    // A lone surrogate cannot be encoded as UTF-8: send the three bytes it would have (invalid UTF-8).
    return [...s].map((ch) => {
      try {
        return encodeURIComponent(ch)
      } catch {
        const cu = ch.charCodeAt(0)
        return [0xed, 0xa0 | ((cu >> 6) & 0x0f), 0x80 | (cu & 0x3f)].map((b) => `%${b.toString(16).toUpperCase()}`)
          .join("")
      }
    }).join("")
  }
}

export const encodeAs = (value: string, how: Encoding): string =>
  how === "encoded" ? safeEncode(value) : how === "double" ? safeEncode(safeEncode(value)) : value

export const encoding: fc.Arbitrary<Encoding> = fc.constantFrom("encoded", "encoded", "raw", "double")

// -----------------------------------------------------------------------------------------------------
// Query values
// -----------------------------------------------------------------------------------------------------

/** Values a numeric query parameter might be given. */
export const numberish = fc.oneof(
  fc.constantFrom(
    "-1",
    "0",
    "1",
    "500",
    "501",
    "1e3",
    "1.5",
    "NaN",
    "Infinity",
    "-Infinity",
    "0x10",
    "0b1",
    "0o7",
    "1_000",
    " 5",
    "5 ",
    "+5",
    "05",
    "9".repeat(30),
    "1e309",
    "-0",
    "null",
    "true",
    "[]",
    "{}",
    "5abc",
    "½",
    "٣",
    "１０"
  ),
  fc.integer().map(String),
  fc.double().map(String),
  fc.bigInt().map(String)
)

/** The real cursors of the run, to forge from. */
export interface Cursors {
  /** A nextCursor of connection A's accounts list (the list the fuzz queries). */
  readonly accounts: string
  /** A nextCursor of connection A's seats list: valid, but for another list. */
  readonly seats: string
  /** A nextCursor of connection B's accounts list: valid, but for another connection. */
  readonly otherConnection: string
  /** A nextCursor of the audit log: valid, but for another list. */
  readonly audit: string
}

const base64urlChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

/** Cursors a client might forge: random, truncated, one character changed, or real ones used elsewhere. */
export const forgedCursor = (cursors: Cursors): fc.Arbitrary<string> => {
  const real = fc.constantFrom(cursors.accounts, cursors.seats, cursors.otherConnection, cursors.audit)
  return fc.oneof(
    real,
    fc.base64String({ minLength: 4, maxLength: 120 }),
    fc.tuple(fc.base64String({ maxLength: 80 }), fc.base64String({ maxLength: 40 })).map(([a, b]) => `${a}.${b}`),
    fc.tuple(real, fc.nat()).map(([c, n]) => c.slice(0, n % c.length)),
    // One character of a real cursor replaced by another of the base64url alphabet.
    fc.tuple(real, fc.nat(), fc.integer({ min: 1, max: 63 })).map(([c, n, shift]) => {
      const i = n % c.length
      const at = base64urlChars.indexOf(c[i]!)
      const replacement = at === -1 ? "A" : base64urlChars[(at + shift) % 64]!
      return c.slice(0, i) + replacement + c.slice(i + 1)
    }),
    fc.tuple(real, real).map(([a, b]) => `${a.split(".")[0]}.${b.split(".")[1]}`),
    fc.constantFrom(".", "..", "a.", ".a", "a.b.c", "%00", "=", `${"A".repeat(5000)}.x`),
    nastyString
  )
}

// -----------------------------------------------------------------------------------------------------
// Bodies
// -----------------------------------------------------------------------------------------------------

/** A request body: JSON of a value, or raw text/bytes with a content type (none when `undefined`). */
export type Body =
  | { readonly _tag: "json"; readonly value: unknown }
  | { readonly _tag: "raw"; readonly text: string; readonly contentType: string | undefined }

/** JSON values that are not an object (what a body must be). `null` is "no input" to some routes. */
const nonObject = fc.oneof(
  fc.constantFrom<unknown>(0, 1, -1, true, false, "", "x", 1e308, []),
  fc.string(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 })
)

const notString = fc.oneof(
  fc.constantFrom<unknown>(null, 0, 1, true, false, [], {}, ["x"], { value: "x" }),
  fc.integer(),
  fc.array(fc.string(), { maxLength: 3 })
)

const notBoolean = fc.oneof(
  fc.constantFrom<unknown>(null, 0, 1, "true", "false", "yes", "", [], {}, [true]),
  fc.string(),
  fc.integer()
)

const notInterval = fc.oneof(
  fc.constantFrom<unknown>(-1, 43_201, 1.5, "60", null, true, [], {}, 1e308, -0.5),
  fc.integer({ max: -1 }),
  fc.integer({ min: 43_201 }),
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
  fc.string()
)

/** Values the sync settings must refuse: `holdThresholdPercent` 0..100, `maxLookups` 0..100000, `deadlineMinutes` 1..1440. */
const badSetting = fc.oneof(
  fc.tuple(
    fc.constant("holdThresholdPercent"),
    fc.oneof(
      fc.constantFrom<unknown>(-1, 100.5, 101, "10", null, true, [], {}, 1e308),
      fc.double({ min: 100.000001, noNaN: true, noDefaultInfinity: true }),
      fc.double({ max: -0.000001, noNaN: true, noDefaultInfinity: true })
    )
  ),
  fc.tuple(
    fc.constant("maxLookups"),
    fc.oneof(
      fc.constantFrom<unknown>(-1, 1.5, 100_001, "10", null, false, []),
      fc.integer({ min: 100_001 }),
      fc.integer({ max: -1 })
    )
  ),
  fc.tuple(
    fc.constant("deadlineMinutes"),
    fc.oneof(
      fc.constantFrom<unknown>(0, -1, 1.5, 1_441, "30", null, true, {}),
      fc.integer({ min: 1_441 }),
      fc.integer({ max: 0 })
    )
  )
).map(([field, value]) => ({ [field]: value }))

const settingsFields = ["syncIntervalMinutes", "holdThresholdPercent", "maxLookups", "deadlineMinutes"]

const badName = fc.oneof(
  notString,
  fc.constantFrom("", " ", "\t\n"),
  fc.string({ minLength: 201, maxLength: 400 }).filter((s) => s.trim().length > 200)
)

const extraKey = (known: ReadonlyArray<string>) =>
  fc.oneof(
    fc.string({ minLength: 1, maxLength: 20 }),
    fc.constantFrom("__proto__", "constructor", "toString", "apiKey", "id")
  )
    .filter((k) => !known.includes(k))

const withExtra = (known: ReadonlyArray<string>) =>
  fc.tuple(extraKey(known), fc.jsonValue({ maxDepth: 2 })).map(([k, v]) =>
    JSON.parse(`{${JSON.stringify(k)}:${JSON.stringify(v ?? null)}}`) as Record<string, unknown>
  )

/** Values each Atlassian config field must refuse. */
export const badConfigField: Record<string, fc.Arbitrary<unknown>> = {
  organizationId: fc.oneof(
    notString,
    fc.constantFrom("", "  ", "a/b", "a b", "a?b", "x".repeat(129), "../admin", "org\u0000"),
    fc.string({ minLength: 1, maxLength: 30 }).filter((s) =>
      s.trim() !== "" && !/^[A-Za-z0-9._:-]{1,128}$/.test(s.trim())
    )
  ),
  apiKey: fc.oneof(notString, fc.constant("")),
  adminEmail: fc.oneof(
    notString,
    fc.constantFrom("", "admin", "admin@", "@example.com", "a@b", "a b@c.d", "a@b c.d", "admin@@example.com"),
    fc.string({ maxLength: 30 }).filter((s) => !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(s.trim()))
  ),
  baseUrl: fc.oneof(
    notString,
    fc.constantFrom(
      "",
      "api.atlassian.com",
      "//api.atlassian.com",
      "ftp://api.example.com",
      "javascript:alert(1)",
      "file:///etc/passwd",
      "data:text/plain,x",
      "ws://x.example",
      "gopher://x",
      "https://user:pw@api.example.com",
      "https://api.example.com/?a=1",
      "https://api.example.com/#x",
      "http://[::1",
      "http://api.example.com",
      "http://10.0.0.1:8080",
      "http://127.0.0.1.nip.io"
    ),
    fc.string({ maxLength: 30 }).filter((s) => !URL.canParse(s))
  ),
  rateLimit: fc.oneof(
    fc.constantFrom<unknown>(null, 0, "100", [], { requests: 100 }, { windowSeconds: 60 }),
    fc.record({
      requests: fc.oneof(
        fc.constantFrom<unknown>(0, -1, 1.5, 100_001, "100", "NaN", "Infinity", null, true, [], {}),
        fc.integer({ max: 0 }),
        fc.integer({ min: 100_001 })
      ),
      windowSeconds: fc.constant(60)
    }),
    fc.record({
      requests: fc.constant(100),
      windowSeconds: fc.oneof(
        fc.constantFrom<unknown>(0, -1, 86_401, "60", "NaN", null, false, [], {}),
        fc.double({ max: 0, noNaN: true, noDefaultInfinity: true }),
        fc.integer({ min: 86_401 })
      )
    })
  )
}

export const configFields = ["organizationId", "apiKey", "adminEmail", "baseUrl", "rateLimit"] as const

/** A valid config for `sandbox`, with one field replaced by a value it must refuse (or an unknown field). */
export const badConfig = (
  valid: Record<string, unknown>
): fc.Arbitrary<{ config: Record<string, unknown>; field: string }> =>
  fc.oneof(
    ...configFields.map((field) =>
      badConfigField[field]!.map((value) => ({ config: { ...valid, [field]: value }, field }))
    ),
    fc.tuple(extraKey(configFields), fc.jsonValue({ maxDepth: 1 })).map(([k, v]) => ({
      config: { ...valid, ...JSON.parse(`{${JSON.stringify(k)}:${JSON.stringify(v ?? null)}}`) },
      field: k
    })),
    // A required field left out.
    fc.constantFrom("organizationId", "apiKey", "adminEmail").map((field) => {
      const { [field]: _, ...rest } = valid
      return { config: rest, field }
    })
  )

/** Bodies `POST /api/connections` must refuse (never a valid connection). */
export const badCreateBody = (validConfig: Record<string, unknown>): fc.Arbitrary<unknown> => {
  const valid = { provider: "atlassian", name: "Fuzz", config: validConfig }
  const known = ["provider", "name", "config", ...settingsFields]
  return fc.oneof(
    badSetting.map((setting) => ({ ...valid, ...setting })),
    nonObject,
    fc.constant(null),
    fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
    badConfig(validConfig).map(({ config }) => ({ ...valid, config })),
    badName.map((name) => ({ ...valid, name })),
    notInterval.map((syncIntervalMinutes) => ({ ...valid, syncIntervalMinutes })),
    fc.oneof(notString, fc.constantFrom("", "Atlassian", "atlassian ", "scim2", "__proto__", "constructor", "toString"))
      .map((provider) => ({ ...valid, provider })),
    nonObject.map((config) => ({ ...valid, config })),
    withExtra(known).map((extra) => ({ ...valid, ...extra })),
    fc.constantFrom("provider", "name", "config").map((field) => {
      const { [field as keyof typeof valid]: _, ...rest } = valid
      return rest
    })
  )
}

/** Bodies `POST /api/connections/verify` (a connection test before saving) must refuse. */
export const badVerifyBody = (validConfig: Record<string, unknown>): fc.Arbitrary<unknown> => {
  const valid = { provider: "atlassian", config: validConfig }
  return fc.oneof(
    nonObject,
    fc.constant(null),
    badConfig(validConfig).map(({ config }) => ({ ...valid, config })),
    fc.oneof(notString, fc.constantFrom("", "Atlassian", "__proto__", "toString")).map((provider) => ({
      ...valid,
      provider
    })),
    nonObject.map((config) => ({ ...valid, config })),
    withExtra(["provider", "config"]).map((extra) => ({ ...valid, ...extra })),
    fc.constantFrom("provider", "config").map((field) => {
      const { [field as keyof typeof valid]: _, ...rest } = valid
      return rest
    })
  )
}

/** Bodies `PATCH /api/connections/:id` must refuse. */
export const badUpdateBody = (validConfig: Record<string, unknown>): fc.Arbitrary<unknown> => {
  const known = ["name", "config", ...settingsFields]
  return fc.oneof(
    badSetting,
    nonObject.filter((v) => v !== ""),
    badName.map((name) => ({ name })),
    notInterval.map((syncIntervalMinutes) => ({ syncIntervalMinutes })),
    nonObject.map((config) => ({ config })),
    badConfig(validConfig)
      // A blank secret keeps the stored one and `null` removes an optional field: both valid updates.
      .filter(({ config, field }) =>
        field in config && config[field] !== null && !(field === "apiKey" && config[field] === "")
      )
      .map(({ config, field }) => ({ config: { [field]: config[field] } })),
    withExtra(known)
  )
}

/** Bodies a suspend or restore must refuse. */
export const badActionBody: fc.Arbitrary<unknown> = fc.oneof(
  nonObject.filter((v) => v !== ""),
  notString.filter((v) => v !== null).map((reason) => ({ reason })),
  fc.string({ minLength: 501, maxLength: 800 }).map((reason) => ({ reason, dryRun: true })),
  notBoolean.map((dryRun) => ({ dryRun })),
  fc.oneof(notString.filter((v) => v !== null), fc.string({ minLength: 51, maxLength: 80 })).map((method) => ({
    method,
    dryRun: true
  })),
  withExtra(["reason", "dryRun", "method"]).map((extra) => ({ dryRun: true, ...extra }))
)

const nonJsonTypes = [
  "text/plain",
  "application/x-www-form-urlencoded",
  "multipart/form-data; boundary=x",
  "application/xml",
  "text/json",
  "application/jsonx",
  "application/octet-stream",
  "text/html",
  "json",
  "application/*",
  "*/*"
]

/** Bodies every body-reading route must refuse whatever the JSON: wrong type (415), malformed (400), huge (413). */
export const badRawBody: fc.Arbitrary<Body & { readonly expect: number }> = fc.oneof(
  fc.tuple(
    fc.string({ minLength: 1, maxLength: 200 }).filter((s) => s.trim() !== ""),
    fc.option(fc.constantFrom(...nonJsonTypes), { nil: undefined })
  )
    .map(([text, contentType]) => ({ _tag: "raw" as const, text, contentType, expect: 415 })),
  fc.string({ minLength: 1, maxLength: 200 })
    .filter((s) => {
      if (s.trim() === "") return false
      try {
        JSON.parse(s)
        return false
      } catch {
        return true
      }
    })
    .map((text) => ({ _tag: "raw" as const, text, contentType: "application/json", expect: 400 })),
  fc.tuple(
    fc.integer({ min: MAX_BODY_BYTES + 1, max: MAX_BODY_BYTES * 3 }),
    fc.constantFrom("application/json", "text/plain")
  )
    .map(([size, contentType]) => ({
      _tag: "raw" as const,
      text: `{"name":"${"x".repeat(size)}"}`,
      contentType,
      expect: 413
    })),
  // Deeply nested JSON that fits in the limit: parsers and error formatters must not overflow.
  fc.tuple(fc.integer({ min: 40, max: 10_000 }), fc.constantFrom("[", "{\"a\":")).map(([depth, open]) => {
    const close = open === "[" ? "]" : "}"
    return {
      _tag: "raw" as const,
      text: `{"config":${open.repeat(depth)}1${close.repeat(depth)}}`,
      contentType: "application/json",
      expect: 400
    }
  })
)

// -----------------------------------------------------------------------------------------------------
// The policy of each route
// -----------------------------------------------------------------------------------------------------

export type BodyKind = "create" | "verify" | "update" | "action" | "none"
export type QueryKind = "page" | "accounts" | "seats" | "trend" | "audit" | "none"

export interface RoutePolicy {
  /** Whether the fuzz may put a real id in the path: never for routes that would then change something. */
  readonly realIds: boolean
  /** What the route reads from its body (`none`: it reads nothing, so any body is ignored). */
  readonly body: BodyKind
  readonly query: QueryKind
}

export const policies: Record<string, RoutePolicy> = {
  "GET /api/openapi.json": { realIds: true, body: "none", query: "none" },
  "GET /api/providers": { realIds: true, body: "none", query: "none" },
  "GET /api/connections": { realIds: true, body: "none", query: "none" },
  "POST /api/connections": { realIds: false, body: "create", query: "none" },
  "POST /api/connections/verify": { realIds: false, body: "verify", query: "none" },
  "GET /api/connections/:id": { realIds: true, body: "none", query: "none" },
  "PATCH /api/connections/:id": { realIds: true, body: "update", query: "none" },
  "DELETE /api/connections/:id": { realIds: false, body: "none", query: "none" },
  "POST /api/connections/:id/verify": { realIds: false, body: "none", query: "none" },
  "POST /api/connections/:id/syncs": { realIds: false, body: "none", query: "none" },
  "GET /api/connections/:id/syncs": { realIds: true, body: "none", query: "page" },
  "GET /api/syncs/:id": { realIds: true, body: "none", query: "none" },
  "POST /api/syncs/:id/apply": { realIds: false, body: "none", query: "none" },
  "POST /api/syncs/:id/discard": { realIds: false, body: "none", query: "none" },
  "GET /api/connections/:id/accounts": { realIds: true, body: "none", query: "accounts" },
  "GET /api/connections/:id/accounts.csv": { realIds: true, body: "none", query: "accounts" },
  "GET /api/connections/:id/accounts/:externalId": { realIds: true, body: "none", query: "none" },
  "POST /api/connections/:id/accounts/:externalId/suspend": { realIds: true, body: "action", query: "none" },
  "POST /api/connections/:id/accounts/:externalId/restore": { realIds: true, body: "action", query: "none" },
  "GET /api/connections/:id/seats": { realIds: true, body: "none", query: "seats" },
  "GET /api/connections/:id/seats.csv": { realIds: true, body: "none", query: "seats" },
  "GET /api/connections/:id/products": { realIds: true, body: "none", query: "none" },
  "GET /api/connections/:id/products.csv": { realIds: true, body: "none", query: "none" },
  "GET /api/connections/:id/products/trend": { realIds: true, body: "none", query: "trend" },
  "GET /api/connections/:id/totals": { realIds: true, body: "none", query: "none" },
  "GET /api/audit": { realIds: true, body: "none", query: "audit" },
  "GET /api/audit.csv": { realIds: true, body: "none", query: "audit" },
  // Reclaim and people. Bodies: the existing kinds' bad bodies are bad for these routes too (`action` bodies
  // lack every required field: a policy, prices, a user's name and role, a webhook's URL and events); with
  // fake ids, any answer but a 4xx is a finding. Routes that change something never get a real id.
  "GET /api/me": { realIds: true, body: "none", query: "none" },
  "GET /api/connections/:id/policies": { realIds: true, body: "none", query: "none" },
  "POST /api/connections/:id/policies": { realIds: false, body: "action", query: "none" },
  "GET /api/policies/:id": { realIds: true, body: "none", query: "none" },
  "PUT /api/policies/:id": { realIds: false, body: "action", query: "none" },
  "DELETE /api/policies/:id": { realIds: false, body: "none", query: "none" },
  "POST /api/policies/:id/plans": { realIds: false, body: "none", query: "none" },
  "GET /api/plans": { realIds: true, body: "none", query: "page" },
  "GET /api/plans/:id": { realIds: true, body: "none", query: "none" },
  "GET /api/plans/:id/items": { realIds: true, body: "none", query: "page" },
  "GET /api/plans/:id/items.csv": { realIds: true, body: "none", query: "none" },
  "GET /api/plans/:id/compare": { realIds: true, body: "none", query: "none" },
  "POST /api/plans/:id/approve": { realIds: false, body: "none", query: "none" },
  "POST /api/plans/:id/execute": { realIds: false, body: "none", query: "none" },
  "POST /api/plans/:id/cancel": { realIds: false, body: "none", query: "none" },
  "POST /api/plans/:id/undo": { realIds: false, body: "action", query: "none" },
  "GET /api/connections/:id/prices": { realIds: true, body: "none", query: "none" },
  "PUT /api/connections/:id/prices": { realIds: false, body: "action", query: "none" },
  "GET /api/connections/:id/savings": { realIds: true, body: "none", query: "none" },
  "GET /api/users": { realIds: true, body: "none", query: "none" },
  "POST /api/users": { realIds: false, body: "action", query: "none" },
  "PATCH /api/users/:id": { realIds: false, body: "action", query: "none" },
  "GET /api/webhooks": { realIds: true, body: "none", query: "none" },
  "POST /api/webhooks": { realIds: false, body: "action", query: "none" },
  "DELETE /api/webhooks/:id": { realIds: false, body: "none", query: "none" },
  "GET /api/webhooks/:id/deliveries": { realIds: true, body: "none", query: "none" }
}

export const policyOf = (route: Route): RoutePolicy => {
  const policy = policies[`${route.method} ${route.path}`]
  if (policy === undefined) {
    throw new Error(
      `no fuzz policy for ${route.method} ${route.path}: add one to test/security/fuzz.ts so the new route is fuzzed`
    )
  }
  return policy
}

// -----------------------------------------------------------------------------------------------------
// The oracle
// -----------------------------------------------------------------------------------------------------

export interface Tally {
  inputs: number
  serverErrors: number
  readonly statuses: Map<number, number>
}

export const newTally = (): Tally => ({ inputs: 0, serverErrors: 0, statuses: new Map() })

export interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly body: any
}

/**
 * Every answer: never a 5xx; a 4xx is `{error: {code, message}}` JSON whose message names the problem;
 * `expected` (a status, or "4xx") when the input is known to be wrong.
 */
export const checkAnswer = (tally: Tally, label: string, res: Answer, expected?: number | "4xx") => {
  tally.inputs++
  tally.statuses.set(res.status, (tally.statuses.get(res.status) ?? 0) + 1)
  if (res.status >= 500) tally.serverErrors++
  expect(res.status, `${label}: ${res.text.slice(0, 500)}`).toBeLessThan(500)
  // A NUL character anywhere in the address is refused (400, naming the url) before anything else is read.
  // The caller spots `%00`; a raw NUL (which the client encodes as `%00` on the way) is spotted here.
  const refusedForNul = res.status === 400 && label.includes("\u0000") &&
    res.body?.error?.details?.issues?.[0]?.path?.[0] === "url"
  if (expected === "4xx" || (expected !== undefined && refusedForNul)) {
    expect(res.status, `${label}: ${res.text.slice(0, 500)}`).toBeGreaterThanOrEqual(400)
  } else if (expected !== undefined) expect(res.status, `${label}: ${res.text.slice(0, 500)}`).toBe(expected)
  if (res.status < 400) {
    // JSON, or CSV from an export (`.csv` routes).
    if (res.status !== 204) expect(res.headers.get("content-type"), label).toMatch(/^(application\/json|text\/csv)/)
    return
  }
  expect(res.headers.get("content-type"), label).toMatch(/^application\/json/)
  const error = res.body?.error
  expect(error, `${label}: ${res.text.slice(0, 300)}`).toBeDefined()
  expect(Object.keys(error).filter((k) => !["code", "message", "hint", "details"].includes(k)), label).toEqual([])
  expect(error.code, label).toMatch(/^[a-z_]+$/)
  expect(error.message, label).toBeTypeOf("string")
  const message: string = error.message
  switch (error.code) {
    case "invalid_request": {
      const issues: Array<{ path: Array<string | number>; message: string }> = error.details.issues
      expect(issues.length, label).toBeGreaterThan(0)
      for (const issue of issues) expect(issue.message.length, label).toBeGreaterThan(3)
      const first = issues[0]!.path.join(".") || "input"
      expect(message, label).toContain(`${first}: `)
      break
    }
    case "connection_not_found":
    case "account_not_found":
    case "sync_not_found":
    case "app_not_found":
    case "policy_not_found":
    case "plan_not_found":
    case "user_not_found":
    case "webhook_not_found":
      expect(message, label).toMatch(new RegExp(`^${error.code.replace("_not_found", "")} ".*" not found$`, "s"))
      break
    case "not_found":
      expect(message, label).toMatch(/^no API route \S+ \//)
      break
    case "invalid_json":
      expect(message, label).toBe("the body is not valid JSON")
      break
    case "unsupported_media_type":
      expect(message, label).toContain("Content-Type: application/json")
      break
    case "payload_too_large":
      expect(message, label).toContain(`larger than ${MAX_BODY_BYTES} bytes`)
      break
    // The fuzz sends the admin token: a 403 is a rule (four eyes), never a role; a 409 names the state.
    case "forbidden":
      expect(message, label).toMatch(/^four eyes: /)
      break
    case "conflict":
      expect(message.length, label).toBeGreaterThan(15)
      break
    default:
      throw new Error(`${label}: unexpected error code ${error.code} (${res.status}): ${res.text.slice(0, 300)}`)
  }
}
