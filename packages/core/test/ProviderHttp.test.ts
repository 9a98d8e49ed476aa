import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Headers from "@effect/platform/Headers"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as TestClock from "effect/TestClock"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { ProviderError } from "../src/ProviderError.js"
import * as ProviderHttp from "../src/ProviderHttp.js"
import * as RequestBudget from "../src/RequestBudget.js"

// =============================================================================
// a loopback server
// =============================================================================

interface Seen {
  readonly method: string
  readonly url: string
  readonly authorization: string | undefined
}

type Handler = (req: Http.IncomingMessage, res: Http.ServerResponse, index: number) => void

/** A loopback HTTP server answering with `handler` (given the 0-based request index) and recording requests. */
const loopback = (handler: Handler) =>
  Effect.acquireRelease(
    Effect.async<
      { readonly url: string; readonly seen: Array<Seen>; readonly closed: Array<number>; readonly server: Http.Server }
    >(
      (resume) => {
        const seen: Array<Seen> = []
        const closed: Array<number> = []
        const server = Http.createServer((req, res) => {
          const index = seen.length
          seen.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization })
          res.on("close", () => {
            if (!res.writableFinished) closed.push(index)
          })
          req.resume()
          handler(req, res, index)
        })
        server.listen(0, "127.0.0.1", () => {
          const { port } = server.address() as AddressInfo
          resume(Effect.succeed({ url: `http://127.0.0.1:${port}`, seen, closed, server }))
        })
      }
    ),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  )

const json = (res: Http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) =>
  res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body))

// =============================================================================
// the toolkit under test
// =============================================================================

const SECRET = "sk-test-0123456789-very-secret"

const classify: ProviderHttp.ProviderHttpOptions["classify"] = ({ body, operation, status }) =>
  new ProviderError({
    reason: status === 401
      ? "Unauthorized"
      : status === 403
      ? "Forbidden"
      : status === 404
      ? "NotFound"
      : status === 429
      ? "RateLimited"
      : status >= 500
      ? "Unavailable"
      : "InvalidResponse",
    provider: "test",
    operation,
    status,
    description: `the server answered ${status}${body === "" ? "" : `: ${body.slice(0, 40)}`}`,
    hint: `hint for ${status}`,
    code: `TEST-${status}`
  })

const makeHttp = (baseUrl: string, options: Partial<ProviderHttp.ProviderHttpOptions> = {}) =>
  ProviderHttp.make({
    provider: "test",
    baseUrl,
    headers: { authorization: Redacted.make(`Bearer ${SECRET}`), "x-client": "seatkeeper-test" },
    budget: { key: "test:org", policy: undefined },
    classify,
    retry: { maxRetries: 2, baseDelay: Duration.millis(1), maxDelay: Duration.millis(5) },
    ...options
  })

const Users = Schema.Struct({
  users: Schema.Array(Schema.Struct({ id: Schema.String, email: Schema.optional(Schema.String) }))
})

// Retry warnings stay out of the test output; the secret test below captures every level itself.
const env = Layer.mergeAll(FetchHttpClient.layer, RequestBudget.layerUnlimited, Logger.minimumLogLevel(LogLevel.None))

/** Waits, in real time, until `condition` holds (real I/O and the TestClock meet here). */
const eventually = (condition: () => boolean) =>
  Effect.async<void>((resume) => {
    const started = Date.now()
    const poll = () => {
      if (condition()) return resume(Effect.void)
      if (Date.now() - started > 15_000) return resume(Effect.dieMessage("condition not met within 15 s"))
      setTimeout(poll, 5)
    }
    poll()
  })

/** Waits, in real time, until a fiber sleeps on the TestClock until `instant`. */
const sleepingUntil = (instant: number) =>
  Effect.gen(function*() {
    for (let polls = 0; polls < 3000; polls++) {
      const sleeps = Chunk.toReadonlyArray(yield* TestClock.sleeps())
      if (sleeps.includes(instant)) return
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 5)))
    }
    return yield* Effect.dieMessage(`nothing slept until ${new Date(instant).toISOString()} within 15 s`)
  })

// =============================================================================
// tests
// =============================================================================

describe("ProviderHttp.retryDelayFromHeaders", () => {
  const now = Date.parse("2023-10-11T12:34:50Z")
  const delay = (headers: Record<string, string>) =>
    ProviderHttp.retryDelayFromHeaders(Headers.fromInput(headers), now).pipe(Option.map(Duration.toMillis))

  it("reads Retry-After in seconds and as an HTTP-date", () => {
    assert.deepStrictEqual(delay({ "Retry-After": "7" }), Option.some(7000))
    assert.deepStrictEqual(delay({ "retry-after": "Wed, 11 Oct 2023 12:35:05 GMT" }), Option.some(15_000))
  })

  it("reads X-RateLimit-Reset as ISO-8601 with or without seconds and with an offset", () => {
    assert.deepStrictEqual(delay({ "X-RateLimit-Reset": "2023-10-11T12:35Z" }), Option.some(10_000))
    assert.deepStrictEqual(delay({ "x-ratelimit-reset": "2023-10-11T12:35:07Z" }), Option.some(17_000))
    assert.deepStrictEqual(delay({ "x-ratelimit-reset": "2023-10-11T12:35:07+00:00" }), Option.some(17_000))
    assert.deepStrictEqual(delay({ "x-ratelimit-reset": "2023-10-11T14:35+0200" }), Option.some(10_000))
    assert.deepStrictEqual(delay({ "x-ratelimit-reset": "2023-10-11T12:35:00.500Z" }), Option.some(10_500))
  })

  it("prefers Retry-After, gives zero for a time in the past and None without a usable header", () => {
    assert.deepStrictEqual(
      delay({ "retry-after": "2", "x-ratelimit-reset": "2023-10-11T12:40Z" }),
      Option.some(2000)
    )
    assert.deepStrictEqual(delay({ "x-ratelimit-reset": "2023-10-11T12:30Z" }), Option.some(0))
    assert.deepStrictEqual(delay({ "x-ratelimit-reset": "soon" }), Option.none())
    assert.deepStrictEqual(delay({}), Option.none())
  })
})

describe("ProviderHttp.retryDelay", () => {
  const base = {
    baseDelay: Duration.millis(500),
    maxDelay: Duration.seconds(30),
    maxWait: Duration.minutes(5),
    hint: Option.none()
  }
  it("backs off exponentially with jitter, capped, and honours the server's wait however long", () => {
    assert.strictEqual(Duration.toMillis(ProviderHttp.retryDelay({ ...base, retry: 1, jitter: 1 })), 500)
    assert.strictEqual(Duration.toMillis(ProviderHttp.retryDelay({ ...base, retry: 3, jitter: 1 })), 2000)
    assert.strictEqual(Duration.toMillis(ProviderHttp.retryDelay({ ...base, retry: 3, jitter: 0 })), 1000)
    assert.strictEqual(Duration.toMillis(ProviderHttp.retryDelay({ ...base, retry: 20, jitter: 1 })), 30_000)
    assert.strictEqual(
      Duration.toMillis(
        ProviderHttp.retryDelay({ ...base, retry: 1, jitter: 1, hint: Option.some(Duration.seconds(9)) })
      ),
      9000
    )
    assert.strictEqual(
      Duration.toMillis(
        ProviderHttp.retryDelay({ ...base, retry: 1, jitter: 1, hint: Option.some(Duration.hours(2)) })
      ),
      7_200_000
    )
  })
})

describe("ProviderHttp.sameOrigin", () => {
  it("compares scheme, host and port", () => {
    assert.isTrue(ProviderHttp.sameOrigin("https://api.atlassian.com/admin/v1?cursor=x", "https://api.atlassian.com"))
    assert.isFalse(ProviderHttp.sameOrigin("https://api.atlassian.com.evil.example", "https://api.atlassian.com"))
    assert.isFalse(ProviderHttp.sameOrigin("http://api.atlassian.com", "https://api.atlassian.com"))
    assert.isFalse(ProviderHttp.sameOrigin("https://api.atlassian.com:8443", "https://api.atlassian.com"))
    assert.isFalse(ProviderHttp.sameOrigin("not a url", "https://api.atlassian.com"))
  })
})

describe("ProviderHttp.joinUrl", () => {
  it("joins a base URL and a relative path with exactly one slash", () => {
    assert.strictEqual(ProviderHttp.joinUrl("https://api.example.com", "/admin/v1"), "https://api.example.com/admin/v1")
    assert.strictEqual(ProviderHttp.joinUrl("https://api.example.com/", "admin/v1"), "https://api.example.com/admin/v1")
    assert.strictEqual(
      ProviderHttp.joinUrl("https://api.example.com/base", "v1?x=1"),
      "https://api.example.com/base/v1?x=1"
    )
    assert.strictEqual(
      new URL(ProviderHttp.joinUrl("https://api.example.com", "@evil.example/x")).host,
      "api.example.com"
    )
  })
})

describe("ProviderHttp.make", () => {
  it.effect("waits out a 429 whose X-RateLimit-Reset lacks seconds, then succeeds", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2023-10-11T12:34:50Z"))
      const server = yield* loopback((_req, res, index) =>
        index === 0
          ? json(res, 429, { code: 429, message: "Too many requests" }, { "x-ratelimit-reset": "2023-10-11T12:35Z" })
          : json(res, 200, { users: [{ id: "u1" }] })
      )
      const http = yield* makeHttp(server.url)
      const fiber = yield* http.json("listUsers", HttpClientRequest.get("/users"), Users, { idempotent: true }).pipe(
        Effect.fork
      )
      const resetAt = Date.parse("2023-10-11T12:35:00Z")
      // the call sleeps until the reset time the server named (not a short backoff)
      yield* eventually(() => server.seen.length === 1)
      yield* sleepingUntil(resetAt)
      yield* TestClock.adjust(Duration.seconds(9))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust(Duration.seconds(1))
      const result = yield* Fiber.join(fiber)
      assert.deepStrictEqual(result, { users: [{ id: "u1" }] })
      assert.strictEqual(server.seen.length, 2)
      assert.deepStrictEqual(yield* http.stats, { requests: 2, retries: 1, rateLimited: 1 })
    }).pipe(Effect.scoped, Effect.provide(env)))

  it.effect("lets Retry-After win over the backoff", () =>
    Effect.gen(function*() {
      const server = yield* loopback((_req, res, index) =>
        index === 0 ? json(res, 429, { code: 429 }, { "retry-after": "120" }) : json(res, 200, { users: [] })
      )
      const http = yield* makeHttp(server.url, {
        retry: { baseDelay: Duration.millis(10), maxDelay: Duration.millis(20) }
      })
      const fiber = yield* http.json("listUsers", HttpClientRequest.get("/users"), Users, { idempotent: true }).pipe(
        Effect.fork
      )
      yield* eventually(() => server.seen.length === 1)
      yield* sleepingUntil(120_000)
      yield* TestClock.adjust(Duration.seconds(119))
      assert.isTrue(Option.isNone(yield* Fiber.poll(fiber)))
      yield* TestClock.adjust(Duration.seconds(1))
      assert.deepStrictEqual(yield* Fiber.join(fiber), { users: [] })
      assert.strictEqual(server.seen.length, 2)
    }).pipe(Effect.scoped, Effect.provide(env)))

  it.live("retries 5xx a bounded number of times, then fails Unavailable with the attempt count", () =>
    Effect.gen(function*() {
      const server = yield* loopback((_req, res) => json(res, 503, { errors: [{ code: "ADMIN-500-1" }] }))
      const http = yield* makeHttp(server.url)
      const error = yield* http.json("listUsers", HttpClientRequest.get("/users"), Users, { idempotent: true }).pipe(
        Effect.flip
      )
      assert.strictEqual(server.seen.length, 3)
      assert.strictEqual(error.reason, "Unavailable")
      assert.strictEqual(error.status, 503)
      assert.strictEqual(error.code, "TEST-503")
      assert.strictEqual(error.hint, "hint for 503")
      assert.include(error.description, "gave up after 3 attempts")
      assert.deepStrictEqual(yield* http.stats, { requests: 3, retries: 2, rateLimited: 0 })
    }).pipe(Effect.scoped, Effect.provide(env)))

  it.live("retries a reset connection a bounded number of times, then fails Unavailable", () =>
    Effect.gen(function*() {
      const server = yield* loopback((req) => req.socket.destroy())
      const http = yield* makeHttp(server.url)
      const error = yield* http.execute("listUsers", HttpClientRequest.get("/users"), { idempotent: true }).pipe(
        Effect.flip
      )
      assert.strictEqual(server.seen.length, 3)
      assert.strictEqual(error.reason, "Unavailable")
      assert.include(error.description, "could not reach")
      assert.include(error.description, "gave up after 3 attempts")
    }).pipe(Effect.scoped, Effect.provide(env)))

  it.live("recovers when a reset connection is followed by a good answer", () =>
    Effect.gen(function*() {
      const server = yield* loopback((req, res, index) =>
        index === 0 ? req.socket.destroy() : json(res, 200, { users: [] })
      )
      const http = yield* makeHttp(server.url)
      assert.deepStrictEqual(
        yield* http.json("listUsers", HttpClientRequest.get("/users"), Users, { idempotent: true }),
        { users: [] }
      )
      assert.strictEqual(server.seen.length, 2)
    }).pipe(Effect.scoped, Effect.provide(env)))

  for (const status of [401, 403, 404] as const) {
    it.live(`fails fast on ${status}: one request, the classified error kept`, () =>
      Effect.gen(function*() {
        const server = yield* loopback((_req, res) => json(res, status, { key: "nope" }))
        const http = yield* makeHttp(server.url)
        const error = yield* http.json("listUsers", HttpClientRequest.get("/users"), Users, { idempotent: true }).pipe(
          Effect.flip
        )
        assert.strictEqual(server.seen.length, 1)
        assert.strictEqual(error.status, status)
        assert.strictEqual(error.reason, status === 401 ? "Unauthorized" : status === 403 ? "Forbidden" : "NotFound")
        assert.strictEqual(error.hint, `hint for ${status}`)
        assert.notInclude(error.description, "attempts")
        assert.deepStrictEqual(yield* http.stats, { requests: 1, retries: 0, rateLimited: 0 })
      }).pipe(Effect.scoped, Effect.provide(env)))
  }

  it.live("does not retry a non-idempotent POST on 500", () =>
    Effect.gen(function*() {
      const server = yield* loopback((_req, res) => json(res, 500, {}))
      const http = yield* makeHttp(server.url)
      const error = yield* http.execute("suspend", HttpClientRequest.post("/users/u1/disable"), { idempotent: false })
        .pipe(
          Effect.flip
        )
      assert.strictEqual(server.seen.length, 1)
      assert.strictEqual(error.reason, "Unavailable")
      assert.include(error.description, "not retried")
    }).pipe(Effect.scoped, Effect.provide(env)))

  it.live("retries a non-idempotent POST on 429", () =>
    Effect.gen(function*() {
      const server = yield* loopback((_req, res, index) =>
        index === 0 ? json(res, 429, { code: 429 }, { "retry-after": "0" }) : res.writeHead(204).end()
      )
      const http = yield* makeHttp(server.url)
      const response = yield* http.execute("suspend", HttpClientRequest.post("/users/u1/disable"), {
        idempotent: false
      })
      assert.strictEqual(response.status, 204)
      assert.deepStrictEqual(server.seen.map((s) => s.method), ["POST", "POST"])
      assert.deepStrictEqual(yield* http.stats, { requests: 2, retries: 1, rateLimited: 1 })
    }).pipe(Effect.scoped, Effect.provide(env)))

  it.live("gives up on a 429 storm after maxRateLimitRetries", () =>
    Effect.gen(function*() {
      const server = yield* loopback((_req, res) => json(res, 429, { code: 429 }, { "retry-after": "0" }))
      const http = yield* makeHttp(server.url, {
        retry: { maxRateLimitRetries: 3, baseDelay: Duration.millis(1), maxDelay: Duration.millis(2) }
      })
      const error = yield* http.execute("listUsers", HttpClientRequest.get("/users"), { idempotent: true }).pipe(
        Effect.flip
      )
      assert.strictEqual(server.seen.length, 4)
      assert.strictEqual(error.reason, "RateLimited")
      assert.include(error.description, "gave up after 4 attempts")
    }).pipe(Effect.scoped, Effect.provide(env)))

  it.live("retries an attempt that timed out", () =>
    Effect.gen(function*() {
      // the first request never gets an answer; later ones do at once
      const server = yield* loopback((_req, res, index) => index === 0 ? undefined : json(res, 200, { users: [] }))
      const http = yield* makeHttp(server.url, { timeout: Duration.millis(500) })
      const result = yield* http.json("listUsers", HttpClientRequest.get("/users"), Users, { idempotent: true })
      assert.deepStrictEqual(result, { users: [] })
      assert.isAtLeast(server.seen.length, 2)
      // the timed-out attempt was abandoned, not left waiting
      yield* eventually(() => server.closed.includes(0))
    }).pipe(Effect.scoped, Effect.provide(env)))

  it.live("refuses a foreign origin before sending anything, and never sends the key there", () =>
    Effect.gen(function*() {
      const home = yield* loopback((_req, res) => json(res, 200, { users: [] }))
      const foreign = yield* loopback((_req, res) => json(res, 200, { users: [] }))
      const http = yield* makeHttp(home.url)
      const foreignPort = new URL(foreign.url).port
      const error = yield* http.json(
        "listUsers",
        HttpClientRequest.get(`${foreign.url}/admin/v1/orgs/o/users?cursor=abc`),
        Users,
        { idempotent: true }
      ).pipe(Effect.flip)
      assert.strictEqual(error.reason, "InvalidResponse")
      assert.include(error.description, foreign.url)
      assert.notInclude(error.description, "cursor=abc")
      assert.notInclude(error.message, SECRET)
      assert.strictEqual(foreign.seen.length, 0)
      assert.strictEqual(home.seen.length, 0)
      // the same toolkit does send to its own origin, with the key, and a relative URL cannot leave it
      // (with plain concatenation, "@host:port/..." would turn the base into userinfo)
      yield* http.json("listUsers", HttpClientRequest.get(`${home.url}/users`), Users, { idempotent: true })
      yield* http.json("listUsers", HttpClientRequest.get(`@127.0.0.1:${foreignPort}/users`), Users, {
        idempotent: true
      })
      assert.deepStrictEqual(home.seen.map((s) => s.url), ["/users", `/@127.0.0.1:${foreignPort}/users`])
      assert.deepStrictEqual(home.seen.map((s) => s.authorization), [`Bearer ${SECRET}`, `Bearer ${SECRET}`])
      assert.strictEqual(foreign.seen.length, 0)
    }).pipe(Effect.scoped, Effect.provide(env)))

  it.live("does not follow a redirect to another origin", () =>
    Effect.gen(function*() {
      const foreign = yield* loopback((_req, res) => json(res, 200, { users: [] }))
      const home = yield* loopback((_req, res) => res.writeHead(302, { location: `${foreign.url}/users` }).end())
      const http = yield* makeHttp(home.url)
      const error = yield* http.json("listUsers", HttpClientRequest.get("/users"), Users, { idempotent: true }).pipe(
        Effect.flip
      )
      assert.strictEqual(error.status, 302)
      assert.strictEqual(home.seen.length, 1)
      assert.strictEqual(foreign.seen.length, 0)
    }).pipe(Effect.scoped, Effect.provide(env)))

  it.live("reports malformed JSON and a wrong shape as InvalidResponse naming the field, without retrying", () =>
    Effect.gen(function*() {
      const server = yield* loopback((req, res) =>
        req.url === "/broken"
          ? res.writeHead(200, { "content-type": "application/json" }).end("<html>gateway says hello</html>")
          : json(res, 200, { users: [{ id: "u1" }, { id: 42, email: "someone@example.com" }] })
      )
      const http = yield* makeHttp(server.url)
      const malformed = yield* http.json("listUsers", HttpClientRequest.get("/broken"), Users, { idempotent: true })
        .pipe(
          Effect.flip
        )
      assert.strictEqual(malformed.reason, "InvalidResponse")
      assert.include(malformed.description, "not valid JSON")
      const shape = yield* http.json("listUsers", HttpClientRequest.get("/users"), Users, { idempotent: true }).pipe(
        Effect.flip
      )
      assert.strictEqual(shape.reason, "InvalidResponse")
      assert.include(shape.description, "users.1.id")
      assert.strictEqual(server.seen.length, 2)
    }).pipe(Effect.scoped, Effect.provide(env)))

  it.live("decodes through a fast path as it is, and fails a page the fast path refuses with the schema's own words", () =>
    Effect.gen(function*() {
      const pages: Record<string, unknown> = {
        "/good": { users: [{ id: "u1", extra: true }, { id: "u2", email: "b@example.com" }] },
        "/bad": { users: [{ id: "u1" }, { id: 42, email: "someone@example.com" }, { email: 7 }] }
      }
      const server = yield* loopback((req, res) => json(res, 200, pages[req.url ?? ""]))
      const http = yield* makeHttp(server.url)
      const checked: Array<unknown> = []
      const isUsers = (u: unknown) => {
        checked.push(u)
        const users = (u as { readonly users?: unknown }).users
        return Array.isArray(users) && users.every((user) => typeof user?.id === "string")
      }
      const fast = ProviderHttp.withFastPath(Users, isUsers)
      const good = yield* http.json("listUsers", HttpClientRequest.get("/good"), fast, { idempotent: true })
      // Passed on as parsed: the property the schema does not name is still there.
      assert.deepStrictEqual(good, pages["/good"] as typeof Users.Type)
      assert.strictEqual(checked.length, 1)
      const viaFast = yield* Effect.flip(
        http.json("listUsers", HttpClientRequest.get("/bad"), fast, { idempotent: true })
      )
      const viaSchema = yield* Effect.flip(
        http.json("listUsers", HttpClientRequest.get("/bad"), Users, { idempotent: true })
      )
      assert.strictEqual(viaFast.reason, "InvalidResponse")
      assert.strictEqual(viaFast.description, viaSchema.description)
      assert.include(viaFast.description, "users.1.id")
    }).pipe(Effect.scoped, Effect.provide(env)))

  it.live("takes a budget slot for every attempt, and fails Unavailable when the budget store is down", () =>
    Effect.gen(function*() {
      const server = yield* loopback((_req, res) => json(res, 200, { users: [] }))
      const keys: Array<string> = []
      const counting = Layer.succeed(RequestBudget.RequestBudget, {
        take: (key) => Effect.sync(() => void keys.push(key)),
        register: () => Effect.void
      })
      const http = yield* makeHttp(server.url, {
        budget: { key: "test:org-7", policy: { requests: 5, windowSeconds: 1 } }
      })
        .pipe(Effect.provide(counting))
      yield* http.execute("a", HttpClientRequest.get("/a"), { idempotent: true })
      yield* http.execute("b", HttpClientRequest.get("/b"), { idempotent: true })
      assert.deepStrictEqual(keys, ["test:org-7", "test:org-7"])

      const down = Layer.succeed(RequestBudget.RequestBudget, {
        take: () => Effect.fail(new RateLimiter.RateLimitStoreError({ message: "Redis is not reachable" })),
        register: () => Effect.void
      })
      const broken = yield* makeHttp(server.url).pipe(Effect.provide(down))
      const error = yield* broken.execute("listUsers", HttpClientRequest.get("/users"), { idempotent: true }).pipe(
        Effect.flip
      )
      assert.strictEqual(error.reason, "Unavailable")
      assert.include(error.description, "request budget")
      assert.isDefined(error.hint)
      assert.strictEqual(server.seen.length, 2)
    }).pipe(Effect.scoped, Effect.provide(FetchHttpClient.layer)))

  it.live("never puts the secret in an error message or a log line", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const capture = Logger.map(Logger.logfmtLogger, (line) => void lines.push(line))
      const server = yield* loopback((req, res, index) =>
        req.url === "/reset"
          ? req.socket.destroy()
          : req.url === "/flaky" && index % 2 === 0
          ? json(res, 503, {})
          : req.url === "/flaky"
          ? json(res, 200, { users: [] })
          : json(res, 401, { code: 401, message: "Unauthorized" })
      )
      const foreign = yield* loopback((_req, res) => json(res, 200, {}))
      const errors: Array<ProviderError> = []
      yield* Effect.gen(function*() {
        const http = yield* makeHttp(server.url)
        yield* http.json("flaky", HttpClientRequest.get("/flaky"), Users, { idempotent: true })
        for (const url of ["/reset", "/denied", `${foreign.url}/x`]) {
          errors.push(yield* http.execute("op", HttpClientRequest.get(url), { idempotent: true }).pipe(Effect.flip))
        }
      }).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, capture)),
        Logger.withMinimumLogLevel(LogLevel.All)
      )
      // the run did log (retries, requests) and did fail, so the checks below look at real output
      assert.isTrue(lines.some((line) => line.includes("retry")))
      assert.strictEqual(errors.length, 3)
      for (const line of lines) assert.notInclude(line, SECRET)
      for (const error of errors) {
        assert.notInclude(error.message, SECRET)
        assert.notInclude(JSON.stringify(error), SECRET)
        assert.notInclude(String(error), SECRET)
      }
      assert.isTrue(server.seen.every((s) => s.authorization === `Bearer ${SECRET}`))
    }).pipe(Effect.scoped, Effect.provide(env)))

  it.effect("honours a wait longer than five minutes, and gives up at once when it would end after the deadline", () =>
    Effect.gen(function*() {
      const server = yield* loopback((_req, res, index) =>
        index === 0
          ? json(res, 429, { code: 429 }, { "retry-after": "600" })
          : json(res, 429, { code: 429 }, { "retry-after": "3600" })
      )
      const http = yield* makeHttp(server.url)
      const fiber = yield* http.json("listUsers", HttpClientRequest.get("/users"), Users, { idempotent: true }).pipe(
        Effect.provideService(ProviderHttp.Deadline, Option.some(30 * 60_000)),
        Effect.flip,
        Effect.fork
      )
      // The first wait (10 minutes) fits in the deadline (30 minutes) and is waited out in full.
      yield* eventually(() => server.seen.length === 1)
      yield* sleepingUntil(600_000)
      yield* TestClock.adjust(Duration.minutes(10))
      // The second asks for an hour: past the deadline, so the call fails now instead of waiting in vain.
      const error = yield* Fiber.join(fiber)
      assert.strictEqual(error.reason, "RateLimited")
      assert.include(error.description, "after the deadline")
      assert.strictEqual(server.seen.length, 2)
    }).pipe(Effect.scoped, Effect.provide(env)))

  it.effect("waits out a 429 storm until the deadline, not a count", () =>
    Effect.gen(function*() {
      const server = yield* loopback((_req, res, index) =>
        index < 40 ? json(res, 429, { code: 429 }, { "retry-after": "30" }) : json(res, 200, { users: [] })
      )
      const http = yield* makeHttp(server.url)
      const fiber = yield* http.json("listUsers", HttpClientRequest.get("/users"), Users, { idempotent: true }).pipe(
        Effect.fork
      )
      for (let i = 1; i <= 40; i++) {
        yield* eventually(() => server.seen.length === i)
        yield* sleepingUntil(i * 30_000)
        yield* TestClock.adjust(Duration.seconds(30))
      }
      assert.deepStrictEqual(yield* Fiber.join(fiber), { users: [] })
      assert.deepStrictEqual(yield* http.stats, { requests: 41, retries: 40, rateLimited: 40 })
    }).pipe(Effect.scoped, Effect.provide(env)))

  it.live("scrubs an upstream error that echoes the key: plain, URL-encoded and base64", () =>
    Effect.gen(function*() {
      const echoes = [
        `Authorization: Bearer ${SECRET}`,
        `token=${encodeURIComponent(SECRET)}`,
        `credentials ${Buffer.from(SECRET).toString("base64")}`,
        `header ${Buffer.from(`Bearer ${SECRET}`).toString("base64")}`
      ]
      const server = yield* loopback((req, res) => {
        const index = Number(req.url?.slice(1))
        json(res, 400, { errors: [{ code: "ADMIN-400-1", detail: `echo: ${echoes[index]}` }] })
      })
      // An adapter that quotes the whole upstream body in its error, as a careless one might.
      const http = yield* makeHttp(server.url, {
        classify: ({ body, operation, status }) =>
          new ProviderError({
            reason: "InvalidResponse",
            provider: "test",
            operation,
            status,
            description: `upstream said ${body}`
          })
      })
      for (let index = 0; index < echoes.length; index++) {
        const error = yield* http.execute("op", HttpClientRequest.get(`/${index}`), { idempotent: true }).pipe(
          Effect.flip
        )
        assert.include(error.description, "[redacted]", `echo ${index} reached the error unscrubbed`)
        const text = JSON.stringify(error) + error.message
        assert.notInclude(text, SECRET)
        assert.notInclude(text, encodeURIComponent(SECRET))
        assert.notInclude(text, Buffer.from(SECRET).toString("base64").replace(/=+$/, ""))
      }
    }).pipe(Effect.scoped, Effect.provide(env)))
})
