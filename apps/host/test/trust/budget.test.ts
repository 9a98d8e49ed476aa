/**
 * DESIGN invariant 5, as issue 8 pins it: one request budget per organisation. Two connections to one
 * organisation with different budgets pace by the strictest (the organisation never sees more than the
 * strict budget in any window); a 429 never fails a sync on its own, only the run's deadline ends the
 * waiting (`deadlineMinutes`: a Retry-After beyond it fails the run at once, with the reason, nothing
 * applied); and a host whose budgets cannot be shared (PostgreSQL without `REDIS_URL`) says so at start-up.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import * as LogLevel from "effect/LogLevel"
import { afterEach, describe, expect, it } from "vitest"
import { captureConsole, makePgSchema, pgSkipReason, REDIS_URL, redisSkipReason } from "../support/Guarantees.js"
import { changeRoster, connect, makeSandbox, snapshot, sync, UNPACED, waitForSync } from "../support/Org.js"
import { makeTestHost } from "../support/TestHost.js"

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})
const track = <A extends { readonly close: () => Promise<void> }>(a: A): A => {
  cleanups.push(() => a.close())
  return a
}

describe("one budget per organisation", () => {
  it("Should pace two connections to one organisation by the stricter of their budgets", async () => {
    const strict = { requests: 3, windowSeconds: 5 }
    const loose = { requests: 100, windowSeconds: 5 }
    const t = track(await makeTestHost())
    const sandbox: AtlassianSandbox = track(await makeSandbox({ users: 100, pageSize: 50 }))
    const a = await connect(t.request, sandbox, { name: "Strict", rateLimit: strict })
    const b = await connect(t.request, sandbox, { name: "Loose", rateLimit: loose })
    // The organisation enforces the strict budget itself: one request too many in a window is a 429.
    sandbox.setRateLimit({ ...strict, resetFormat: "seconds" })
    sandbox.resetLog()
    const started = Date.now()
    const runs = await Promise.all(
      [a, b].map(async (id) => (await t.request("POST", `/api/connections/${id}/syncs`)).body.id as string)
    )
    const done = await Promise.all(runs.map((r) => waitForSync(t.request, r)))
    const seconds = (Date.now() - started) / 1000
    for (const run of done) expect(run.body).toMatchObject({ status: "succeeded", stats: { rateLimited: 0 } })
    const windowMs = strict.windowSeconds * 1000
    const requests = sandbox.requests.length
    // Two syncs' worth of requests (the directory search for suspended members, two pages and the product
    // instances each), never more than 3 in any 5 s, so the organisation never refused one; and the loose
    // budget did not let either run faster.
    expect(requests).toBe(8)
    expect(sandbox.maxRequestsInAnyWindow(windowMs)).toBeLessThanOrEqual(strict.requests)
    expect(sandbox.requests.filter((r) => r.status === 429)).toEqual([])
    expect(seconds).toBeGreaterThan(strict.windowSeconds - 1)
    console.log(
      `[budget] 2 connections to one org (budgets ${strict.requests} and ${loose.requests} per ${strict.windowSeconds} s): ` +
        `${requests} requests, at most ${
          sandbox.maxRequestsInAnyWindow(windowMs)
        } in any ${strict.windowSeconds} s, 0 429s`
    )
  }, 60_000)
})

describe("429s end at the run's deadline, not at a count", () => {
  it(
    "Should wait out any number of 429s, and fail at once with the reason when the wait would pass the deadline",
    async () => {
      // A short first retry delay: back-off doubles with each 429 (whatever Retry-After says), so eight in a row
      // take seconds instead of minutes.
      const t = track(await makeTestHost({ env: { SEATKEEPER_PROVIDER_RETRY_DELAY_MS: "20" } }))
      const sandbox: AtlassianSandbox = track(await makeSandbox())
      const id = await connect(t.request, sandbox, { rateLimit: UNPACED, settings: { deadlineMinutes: 1 } })
      expect((await t.request("GET", `/api/connections/${id}`)).body.deadlineMinutes).toBe(1)
      expect((await sync(t.request, id)).body.status).toBe("succeeded")

      // Eight 429s in a row on one page: twice the retries a 5xx gets, and still only waiting.
      sandbox.injectFault({ kind: "rateLimited", retryAfterSeconds: 0 }, { on: "users", afterRequests: 1, times: 8 })
      const patient = (await sync(t.request, id)).body
      expect(patient.status, JSON.stringify(patient.error)).toBe("succeeded")
      expect(patient.stats.rateLimited).toBe(8)

      // A Retry-After of two minutes, with a one-minute deadline: no point waiting; the run fails now.
      changeRoster(sandbox)
      const before = await snapshot(t.request, id)
      sandbox.injectFault({ kind: "rateLimited", retryAfterSeconds: 120 }, { on: "users", afterRequests: 1 })
      const started = Date.now()
      const run = (await sync(t.request, id)).body
      const seconds = (Date.now() - started) / 1000
      expect(run.status).toBe("failed")
      expect(run.error.reason).toBe("RateLimited")
      expect(run.error.message).toContain("would come after the deadline")
      expect(run.error.hint).toMatch(/\w/)
      expect(seconds).toBeLessThan(10)
      expect(await snapshot(t.request, id)).toEqual(before)
      console.log(
        `[deadline] 8 consecutive 429s waited out; a Retry-After past the deadline failed the run in ${
          seconds.toFixed(1)
        } s, nothing applied`
      )
    },
    60_000
  )
})

describe("budgets a host cannot share", async () => {
  const pg = await pgSkipReason("the shared-budget warning test")
  const redis = await redisSkipReason("the shared-budget warning test")
  const warning = "REDIS_URL is not: request budgets are kept per process"

  /** The warnings a host writes while it starts. */
  const startupWarnings = async (env: Record<string, string>) => {
    const capture = captureConsole()
    try {
      const t = await makeTestHost({ env, logLevel: LogLevel.Warning })
      await t.close()
    } finally {
      capture.restore()
    }
    return capture.lines.filter((l) => l.includes(`"logLevel":"WARN"`))
  }

  it.skipIf(pg !== undefined)(
    "Should warn at start-up that budgets are per process on PostgreSQL without REDIS_URL",
    async () => {
      const schema = await makePgSchema()
      cleanups.push(schema.drop)
      const lines = await startupWarnings({ DATABASE_URL: schema.url })
      expect(lines.filter((l) => l.includes(warning)).length).toBe(1)
    }
  )

  it.skipIf(pg !== undefined || redis !== undefined)("Should not warn with REDIS_URL, nor on SQLite", async () => {
    const schema = await makePgSchema()
    cleanups.push(schema.drop)
    expect((await startupWarnings({ DATABASE_URL: schema.url, REDIS_URL })).filter((l) => l.includes(warning))).toEqual(
      []
    )
    expect((await startupWarnings({})).filter((l) => l.includes(warning))).toEqual([])
  })
})
