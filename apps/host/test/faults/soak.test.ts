/**
 * Soak: 20 consecutive syncs of a 5,000-account organisation with about one request in five faulted by a
 * transient fault (429s, 5xx of every error shape, connection resets). Every sync must end in exactly the
 * fault-free state, with one retry per fault and no more.
 */
import type { AtlassianSandbox, SandboxFault } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connect, listAccounts, makeSandbox, sourceView, sync, UNPACED } from "../support/Org.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"

const USERS = 5_000
const PAGE_SIZE = 250
const SYNCS = 20
const FAULT_RATE = 0.2

const TRANSIENT: ReadonlyArray<SandboxFault> = [
  { kind: "rateLimited", retryAfterSeconds: 0 },
  { kind: "rateLimited", resetAfterSeconds: 0, resetFormat: "seconds" },
  { kind: "status", status: 500, shape: "org" },
  { kind: "status", status: 502, shape: "gateway" },
  { kind: "status", status: 503, shape: "noperms" },
  { kind: "status", status: 500, shape: "user" },
  { kind: "status", status: 503, shape: "html" },
  { kind: "status", status: 504, shape: "empty" },
  { kind: "reset" },
  { kind: "reset", partial: true }
]

// A small seeded generator (mulberry32): the same faults at the same places on every run.
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

describe("soak", () => {
  let host: TestHost
  let sandbox: AtlassianSandbox
  beforeAll(async () => {
    // Default per-attempt timeout (30 s: a loaded machine never trips it here); a short first retry delay.
    host = await makeTestHost({ env: { SEATKEEPER_PROVIDER_RETRY_DELAY_MS: "20" } })
    sandbox = await makeSandbox({ users: USERS, pageSize: PAGE_SIZE, seed: 11 })
  })
  afterAll(async () => {
    await host?.close()
    await sandbox?.close()
  })

  it(
    `Should end ${SYNCS} faulted syncs of ${USERS} accounts in the fault-free state with bounded retries`,
    async () => {
      const id = await connect(host.request, sandbox, { rateLimit: UNPACED })
      const clean = await sync(host.request, id, { timeoutMs: 120_000 })
      expect(clean.body.status).toBe("succeeded")
      expect(clean.body.stats).toMatchObject({ accounts: USERS, created: USERS, retries: 0 })
      const expected = sourceView(await listAccounts(host.request, id))
      expect(expected.length).toBe(USERS)

      const next = random(42)
      const pages = Math.ceil(USERS / PAGE_SIZE)
      let requests = 0
      let retries = 0
      let faulted = 0
      const started = Date.now()
      for (let i = 0; i < SYNCS; i++) {
        sandbox.resetLog()
        // Every fault costs one more request, so faults placed among pages / (1 - rate) requests at the rate
        // come out near the rate of all requests sent.
        const slots = Math.round(pages / (1 - FAULT_RATE))
        for (let slot = 0; slot < slots; slot++) {
          if (next() >= FAULT_RATE) continue
          const fault = TRANSIENT[Math.floor(next() * TRANSIENT.length)]!
          sandbox.injectFault(fault, { on: "users", afterRequests: slot })
        }
        const run = (await sync(host.request, id, { timeoutMs: 120_000 })).body
        sandbox.clearFaults()
        const log = sandbox.requests
        const faults = log.filter((r) => r.fault !== undefined).length
        expect(run.status, `sync ${i + 1}: ${JSON.stringify(run.error)}`).toBe("succeeded")
        expect(run.stats).toMatchObject({
          accounts: USERS,
          created: 0,
          updated: 0,
          unchanged: USERS,
          deprovisioned: 0,
          entitlementsDeprovisioned: 0,
          absentConfirmed: 0,
          lookups: 0
        })
        // Bounded: one retry per fault, never more, and every request the sandbox saw is accounted for (the
        // listing's pages, each fault's retry, and the product instances' page).
        expect(run.stats.retries).toBe(faults)
        expect(run.stats.requests).toBe(log.length)
        expect(log.filter((r) => r.route === "users").length).toBe(pages + faults)
        expect(sourceView(await listAccounts(host.request, id))).toEqual(expected)
        requests += run.stats.requests
        retries += run.stats.retries
        faulted += faults
      }
      const seconds = (Date.now() - started) / 1000
      // Near the rate asked for (the placement is random), and not a handful.
      expect(faulted / requests).toBeGreaterThan(0.12)
      expect(faulted / requests).toBeLessThan(0.3)
      console.log(
        `[soak] ${SYNCS} syncs of ${USERS} accounts, ${requests} requests, ${faulted} faulted ` +
          `(${Math.round((100 * faulted) / requests)}%), ${retries} retries, ${
            seconds.toFixed(1)
          } s, all in the fault-free state`
      )
    },
    170_000
  )
})
