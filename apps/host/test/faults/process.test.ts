/**
 * The built host as a process (`node dist/main.js`) stopped in the middle of a sync: killed outright
 * (SIGKILL), or asked to stop (SIGTERM). Either way the run ends `interrupted`, nothing the user sees
 * changes, and the next sync succeeds. A killed process cannot record anything: its run is recovered once
 * its lock's lease expires (here shortened to 2 s with `SEATKEEPER_LEASE_MS`), by the next process to start.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import * as Fs from "node:fs"
import { afterEach, describe, expect, it } from "vitest"
import {
  type AccountJson,
  changeRoster,
  connect,
  eventually,
  expectMatchesRoster,
  listAccounts,
  makeSandbox,
  sleep,
  snapshot,
  startSync,
  sync,
  UNPACED
} from "../support/Org.js"
import { killHost, requireBuilt, type SpawnedHost, spawnHost, tempDir } from "../support/Process.js"

const hostBuilt = requireBuilt("the host process fault tests")
const LEASE_MS = 2_000

// Enough accounts that the killed run has staged a chunk (the engine stages 500 at a time) before it dies.
const USERS = 700
const PAGE_SIZE = 50
const PAGES_BEFORE_STALL = 11

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

const setUp = async () => {
  const sandbox: AtlassianSandbox = await makeSandbox({ users: USERS, pageSize: PAGE_SIZE })
  cleanups.push(() => sandbox.close())
  const dataDir = tempDir("seatkeeper-faults-process-")
  cleanups.push(() => Fs.rmSync(dataDir, { recursive: true, force: true }))
  const hosts: Array<SpawnedHost> = []
  cleanups.push(async () => {
    for (const h of hosts) await killHost(h)
  })
  const spawn = async () => {
    const h = await spawnHost({ SEATKEEPER_DATA_DIR: dataDir, SEATKEEPER_LEASE_MS: String(LEASE_MS) })
    hosts.push(h)
    return h
  }
  const first = await spawn()
  const connectionId = await connect(first.request, sandbox, { rateLimit: UNPACED })
  expect((await sync(first.request, connectionId)).body.status).toBe("succeeded")

  // Upstream changes that a complete sync would apply; then pages stall after the first few.
  const { removed, touched } = changeRoster(sandbox)
  // Every status and entitlement, and the history of the changed accounts and of every tenth other one.
  const historyOf = (accounts: ReadonlyArray<AccountJson>) =>
    accounts.filter((a, i) => i % 10 === 0 || touched.includes(a.externalId))
  const before = await snapshot(first.request, connectionId, { historyOf })
  expect(before.accounts.length).toBe(USERS)
  sandbox.injectFault({ kind: "slow", delayMs: 120_000 }, {
    on: "users",
    afterRequests: PAGES_BEFORE_STALL,
    times: Infinity
  })
  sandbox.resetLog()
  const run = await startSync(first.request, connectionId)
  await eventually(
    "the sync to reach the stalled page",
    () => sandbox.requests.filter((r) => r.route === "users").length > PAGES_BEFORE_STALL ? true : undefined
  )
  // The engine hands a chunk of 500 to the store, which writes it in the background: the process is stopped
  // once the store has it (on a busy machine the write can land after the stalled page was asked for).
  await eventually("the first chunk to be staged", async () => {
    const staged = await first.request("GET", `/api/syncs/${run.body.id}`)
    return staged.body.stats?.accounts >= 500 ? true : undefined
  })
  return { sandbox, first, spawn, connectionId, before, historyOf, removed, runId: run.body.id as string }
}

/** After the stop: the run is interrupted. */
const expectInterrupted = async (ctx: Awaited<ReturnType<typeof setUp>>, host: SpawnedHost) => {
  const run = await host.request("GET", `/api/syncs/${ctx.runId}`)
  expect(run.body).toMatchObject({
    status: "interrupted",
    error: { reason: "Interrupted" },
    finishedAt: expect.any(String)
  })
  return run.body
}

/** Nothing changed, and a fault-free sync then applies the roster change. */
const expectNothingChangedThenSync = async (ctx: Awaited<ReturnType<typeof setUp>>, host: SpawnedHost) => {
  expect(await snapshot(host.request, ctx.connectionId, { historyOf: ctx.historyOf })).toEqual(ctx.before)

  ctx.sandbox.clearFaults()
  const next = await sync(host.request, ctx.connectionId)
  expect(next.body.status).toBe("succeeded")
  expect(next.body.stats.deprovisioned).toBeGreaterThan(0)
  expect(next.body.stats.absentConfirmed).toBe(next.body.stats.deprovisioned)
  expectMatchesRoster(await listAccounts(host.request, ctx.connectionId), ctx.sandbox, ctx.removed)
}

describe.skipIf(!hostBuilt)("host process stopped mid-sync", () => {
  it("Should recover a run killed with SIGKILL as interrupted, with nothing applied", async () => {
    const ctx = await setUp()
    ctx.first.child.kill("SIGKILL")
    expect((await ctx.first.exited).signal).toBe("SIGKILL")
    // Nothing tells the store the process died: its lock lives until the lease runs out.
    await sleep(LEASE_MS + 500)

    const second = await ctx.spawn()
    // The new process found the dead one's run and closed it, with an audit event (invariant 9).
    expect(second.lines.find((l) => l.message === "recovered sync runs of a stopped process as interrupted"))
      .toMatchObject({
        annotations: { runIds: [ctx.runId] }
      })
    const run = await expectInterrupted(ctx, second)
    const audit = await second.request("GET", `/api/audit?connectionId=${ctx.connectionId}&action=sync.finish`)
    expect(audit.body.data).toContainEqual(expect.objectContaining({
      action: "sync.finish",
      target: ctx.runId,
      actor: "system",
      outcome: "error",
      detail: expect.stringContaining("interrupted")
    }))
    // Its staged accounts (a chunk of 500) were in the store when it died, and were never applied.
    expect(run.stats.accounts).toBeGreaterThanOrEqual(500)
    await expectNothingChangedThenSync(ctx, second)
    console.log(
      `[crash] SIGKILL after ${PAGES_BEFORE_STALL} of ${
        USERS / PAGE_SIZE
      } pages: the restart recovered the run as interrupted ` +
        `once its ${LEASE_MS / 1000} s lease expired (sync.finish audited), 0 accounts changed, next sync succeeded`
    )
  }, 120_000)

  it("Should cancel a sync on SIGTERM, record it interrupted and exit 0 within seconds", async () => {
    const ctx = await setUp()
    const signalled = Date.now()
    ctx.first.child.kill("SIGTERM")
    const exit = await ctx.first.exited
    const seconds = (Date.now() - signalled) / 1000
    expect(exit.code).toBe(0)
    expect(seconds).toBeLessThan(10)
    const messages = ctx.first.lines.map((l) => l.message)
    expect(messages).toEqual(expect.arrayContaining(["stopping", "sync interrupted", "stopped"]))

    // The stopping process recorded the end itself: the next start has nothing to recover.
    const second = await ctx.spawn()
    expect(second.lines.find((l) => l.message === "recovered sync runs of a stopped process as interrupted"))
      .toBeUndefined()
    await expectInterrupted(ctx, second)
    await expectNothingChangedThenSync(ctx, second)
    console.log(
      `[sigterm] stopped mid-sync in ${seconds.toFixed(1)} s with exit code 0: run interrupted, 0 accounts changed`
    )
  }, 120_000)

  it("Should cancel a suspend in flight on SIGTERM, audit it as interrupted and change nothing", async () => {
    const sandbox = await makeSandbox()
    cleanups.push(() => sandbox.close())
    const dataDir = tempDir("seatkeeper-faults-process-")
    cleanups.push(() => Fs.rmSync(dataDir, { recursive: true, force: true }))
    const first = await spawnHost({ SEATKEEPER_DATA_DIR: dataDir })
    cleanups.push(() => killHost(first))
    const id = await connect(first.request, sandbox, { rateLimit: UNPACED })
    expect((await sync(first.request, id)).body.status).toBe("succeeded")
    const target = sandbox.users().find((u) => u.account_status === "active" && u.managedBy === undefined)!.account_id
    const path = `/api/connections/${id}/accounts/${encodeURIComponent(target)}`

    // The provider takes its time to answer the disable; the host is asked to stop meanwhile.
    const slowMs = 3_000
    sandbox.injectFault({ kind: "slow", delayMs: slowMs }, { on: "lifecycle" })
    const pending = first.request("POST", `${path}/suspend`, { body: { reason: "left" } }).then(
      (r) => r.status,
      () => "no answer"
    )
    const arrived = await eventually(
      "the disable to reach the provider",
      () => sandbox.requests.find((r) => r.route === "lifecycle")
    )
    first.child.kill("SIGTERM")
    const exit = await first.exited
    expect(exit.code).toBe(0)
    expect(Date.now() - arrived.at).toBeLessThan(10_000)
    await pending

    // The call was abandoned before the provider acted on it: once its delay is over it still has not.
    await eventually("the provider's delay to pass", () => Date.now() > arrived.at + slowMs + 500 ? true : undefined)
    expect(sandbox.user(target)!.account_status).toBe("active")
    const second = await spawnHost({ SEATKEEPER_DATA_DIR: dataDir })
    cleanups.push(() => killHost(second))
    expect((await second.request("GET", path)).body.status).toBe("active")
    // And the attempt is in the audit trail, with its outcome.
    const audit = await second.request("GET", `/api/audit?connectionId=${id}`)
    expect(audit.body.data).toContainEqual(expect.objectContaining({
      action: "account.suspend",
      target,
      actor: "admin",
      outcome: "error",
      detail: expect.stringContaining("interrupted")
    }))
  }, 120_000)
})
