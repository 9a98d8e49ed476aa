/**
 * DESIGN invariants 8 and 9, as issue 8 pins them: a run left `running` by a process that stopped is
 * recovered once its lock's lease expires, by the scheduler on its every tick (not only at start-up), and
 * the recovery is audited as the run's `sync.finish`; the connection then syncs again. The lock's owner is a
 * random id per process, never a hostname and a pid; a live run keeps its lock however short the lease.
 *
 * In process, with `SEATKEEPER_LEASE_MS=2000`; the process-level versions (SIGKILL, then a restart or a
 * second host) are in test/faults/process.test.ts and test/faults/postgres.test.ts.
 */
import type { SyncStore } from "@seatkeeper/core/SyncStore"
import { SyncStore as SyncStoreTag } from "@seatkeeper/core/SyncStore"
import { makeOwner, processOwner } from "@seatkeeper/store/SyncOwner"
import * as Effect from "effect/Effect"
import type * as ManagedRuntime from "effect/ManagedRuntime"
import * as Os from "node:os"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runDueSyncs } from "../../src/scheduler.js"
import { connect, makeSandbox, sleep, sync, UNPACED, waitForSync } from "../support/Org.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"

const LEASE_MS = 2_000

describe("recovering the runs of a stopped process", () => {
  let t: TestHost
  let sandbox: Awaited<ReturnType<typeof makeSandbox>>
  beforeAll(async () => {
    t = await makeTestHost({ env: { SEATKEEPER_LEASE_MS: String(LEASE_MS) } })
    sandbox = await makeSandbox({ users: 60, pageSize: 20 })
  })
  afterAll(async () => {
    await t?.close()
    await sandbox?.close()
  })

  /** The store under the host, to play another process that takes a lock and dies. */
  const store = <A, E>(f: (s: SyncStore["Type"]) => Effect.Effect<A, E>) =>
    (t.host.runtime as unknown as ManagedRuntime.ManagedRuntime<SyncStore, unknown>).runPromise(
      Effect.flatMap(SyncStoreTag, f)
    )
  const tick = (now: number) => t.host.runtime.runPromise(runDueSyncs(now))

  it("Should recover a dead process's run on a scheduler tick once its lease expires, audit it, and sync again", async () => {
    const id = await connect(t.request, sandbox, { rateLimit: UNPACED, settings: { syncIntervalMinutes: 60 } })
    // Another process took the lock and died without a word.
    const dead = await store((s) => s.start(id, makeOwner()))
    expect(dead.status).toBe("running")

    // While the lease runs, nobody may take the lock: not the scheduler, not a user.
    expect(await tick(Date.now() + 2 * 60 * 60_000)).toEqual([])
    expect((await t.request("POST", `/api/connections/${id}/syncs`)).status).toBe(409)
    expect((await t.request("GET", `/api/syncs/${dead.id}`)).body.status).toBe("running")

    await sleep(LEASE_MS + 500)
    // The next tick recovers it and, the connection being due, starts a new run.
    const started = await tick(Date.now() + 2 * 60 * 60_000)
    expect(started.length).toBe(1)
    expect((await t.request("GET", `/api/syncs/${dead.id}`)).body).toMatchObject({
      status: "interrupted",
      finishedAt: expect.any(String),
      error: { reason: "Interrupted", message: expect.stringContaining("lease expired") }
    })
    const audit = (await t.request("GET", `/api/audit?connectionId=${id}&limit=50`)).body.data
    expect(audit).toContainEqual(expect.objectContaining({
      action: "sync.finish",
      target: dead.id,
      actor: "system",
      outcome: "error",
      detail: expect.stringContaining("interrupted")
    }))
    const again = await waitForSync(t.request, started[0]!, { audited: true })
    expect(again.body.status).toBe("succeeded")
    expect(audit).toContainEqual(
      expect.objectContaining({ action: "sync.start", target: started[0], actor: "scheduler" })
    )
    console.log(
      `[recovery] a dead owner's run: kept locked for its ${
        LEASE_MS / 1000
      } s lease, then recovered by a scheduler tick (sync.finish audited by system), and the connection synced again`
    )
  })

  it("Should audit a run recovered when a user's sync takes the lock over", async () => {
    const id = await connect(t.request, sandbox, { name: "Takeover", rateLimit: UNPACED })
    const dead = await store((s) => s.start(id, makeOwner()))
    await sleep(LEASE_MS + 500)
    const run = await sync(t.request, id, { audited: true })
    expect(run.body.status).toBe("succeeded")
    expect((await t.request("GET", `/api/syncs/${dead.id}`)).body.status).toBe("interrupted")
    const audit = (await t.request("GET", `/api/audit?connectionId=${id}&action=sync.finish`)).body.data
    expect(audit).toContainEqual(expect.objectContaining({ target: dead.id, actor: "system", outcome: "error" }))
  })

  it("Should keep a live run's lock for as long as it runs, however short the lease", async () => {
    const id = await connect(t.request, sandbox, { name: "Slow", rateLimit: UNPACED })
    // Three pages of about 1.5 s each: the run outlives its lease several times over, and stays alive.
    sandbox.injectFault({ kind: "slow", delayMs: 1_500 }, { on: "users", times: 3 })
    const first = await t.request("POST", `/api/connections/${id}/syncs`)
    expect(first.status).toBe(202)
    await sleep(LEASE_MS * 2)
    const second = await t.request("POST", `/api/connections/${id}/syncs`)
    expect(second.status, `a second run started while the first still ran: ${second.text.slice(0, 200)}`).toBe(409)
    const done = await waitForSync(t.request, first.body.id)
    expect(done.body.status, JSON.stringify(done.body.error)).toBe("succeeded")
  }, 30_000)

  it("Should name the lock's owner by a random id per process, not by hostname and pid", () => {
    expect(processOwner).toMatch(/^seatkeeper:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
    expect(processOwner).not.toContain(Os.hostname())
    expect(processOwner).not.toContain(String(process.pid))
    expect(makeOwner()).not.toBe(makeOwner())
  })
})
