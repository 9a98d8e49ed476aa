/**
 * Two host processes on one PostgreSQL store, both asked again and again to sync the same connection:
 * the store's sync lock lets only one run at a time, across processes (DESIGN.md invariant 8). The lock's
 * owner is a random id per process, so a killed holder is recovered when its lease expires (shortened to
 * 2 s here), never by guessing from a hostname or a pid whether it lives.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makePgSchema, type PgSchema, pgSkipReason } from "../support/Guarantees.js"
import { connect, eventually, makeSandbox, sleep, UNPACED } from "../support/Org.js"
import { killHost, requireBuilt, type SpawnedHost, spawnHost, tempDir } from "../support/Process.js"

const LEASE_MS = 2_000
const skip = (await pgSkipReason("the two-hosts-on-PostgreSQL fault test")) !== undefined ||
  !requireBuilt("the two-hosts-on-PostgreSQL fault test")

describe.skipIf(skip)("two host processes on one PostgreSQL store", () => {
  let schema: PgSchema
  let sandbox: AtlassianSandbox
  const hosts: Array<SpawnedHost> = []
  const dirs: Array<string> = []
  // One store, one encryption key; separate data directories, as on two machines.
  const secretKey = Crypto.randomBytes(32).toString("base64")
  const spawn = async (env: Record<string, string> = {}) => {
    const dir = tempDir("seatkeeper-faults-pg-")
    dirs.push(dir)
    const host = await spawnHost({
      SEATKEEPER_DATA_DIR: dir,
      DATABASE_URL: schema.url,
      SEATKEEPER_SECRET_KEY: secretKey,
      ...env
    })
    hosts.push(host)
    return host
  }

  beforeAll(async () => {
    schema = await makePgSchema()
    sandbox = await makeSandbox()
    await spawn()
    await spawn()
  }, 60_000)

  afterAll(async () => {
    for (const h of hosts) await killHost(h)
    await sandbox?.close()
    for (const dir of dirs) Fs.rmSync(dir, { recursive: true, force: true })
    await schema?.drop().catch(() => undefined)
  })

  it("Should never run one connection's sync in both processes at once", async () => {
    const [a, b] = hosts as [SpawnedHost, SpawnedHost]
    const id = await connect(a.request, sandbox, { rateLimit: UNPACED })
    // Both processes see the connection: it lives in the shared store.
    expect((await b.request("GET", `/api/connections/${id}`)).status).toBe(200)
    // Every page takes a while, so runs last long enough for requests to land on a running one.
    sandbox.injectFault({ kind: "slow", delayMs: 100 }, { on: "users", times: Infinity })

    const accepted = { a: 0, b: 0 }
    let refused = 0
    const started = Date.now()
    // Hammer both until each has won the lock a few times (and for at least a few seconds).
    while (Date.now() - started < 4_000 || accepted.a < 2 || accepted.b < 2) {
      if (Date.now() - started > 60_000) throw new Error(`hammering for 60 s gave ${JSON.stringify(accepted)}`)
      const answers = await Promise.all([a, b].map((h) => h.request("POST", `/api/connections/${id}/syncs`)))
      answers.forEach((res, i) => {
        expect([202, 409], res.text).toContain(res.status)
        if (res.status === 202) accepted[i === 0 ? "a" : "b"]++
        else refused++
      })
      await sleep(25)
    }
    await eventually("every run to end", async () => {
      const runs = await a.request("GET", `/api/connections/${id}/syncs?limit=500`)
      return runs.body.data.every((r: { status: string }) => r.status !== "running") ? true : undefined
    })
    sandbox.clearFaults()

    const runs: Array<{ id: string; status: string; startedAt: string; finishedAt: string }> =
      (await b.request("GET", `/api/connections/${id}/syncs?limit=500`)).body.data
    expect(runs.length).toBe(accepted.a + accepted.b)
    expect(runs.every((r) => r.status === "succeeded")).toBe(true)
    const ordered = [...runs].sort((x, y) => Date.parse(x.startedAt) - Date.parse(y.startedAt))
    for (let i = 1; i < ordered.length; i++) {
      // Each run started only after the one before it had finished.
      expect(Date.parse(ordered[i]!.startedAt)).toBeGreaterThanOrEqual(Date.parse(ordered[i - 1]!.finishedAt))
    }
    // The sandbox agrees: the listing was started once per run, never twice within one run's span.
    const firstPages = sandbox.requests.filter((r) => r.route === "users" && r.query === "")
    expect(firstPages.length).toBe(runs.length)
    console.log(
      `[pg-lock] 2 hosts, ${accepted.a + accepted.b + refused} sync requests: ${accepted.a}+${accepted.b} runs, ` +
        `${refused} refused with 409, 0 overlapping`
    )
  }, 120_000)

  it(
    "Should let the other process sync once the killed holder's lease expires, auditing the recovered run",
    async () => {
      // The holder takes its locks with a 2 s lease (the lease is the holder's: how long it promises to live).
      const a = await spawn({ SEATKEEPER_LEASE_MS: String(LEASE_MS) })
      const b = hosts[1]!
      const id = await connect(a.request, sandbox, { name: "takeover", rateLimit: UNPACED })
      sandbox.resetLog()
      sandbox.injectFault({ kind: "slow", delayMs: 120_000 }, { on: "users", afterRequests: 2, times: Infinity })
      const started = await a.request("POST", `/api/connections/${id}/syncs`)
      expect(started.status).toBe(202)
      await eventually(
        "the sync to stall",
        () => sandbox.requests.filter((r) => r.route === "users").length >= 3 ? true : undefined
      )
      expect((await b.request("POST", `/api/connections/${id}/syncs`)).status).toBe(409)
      a.child.kill("SIGKILL")
      const killedAt = Date.now()
      await a.exited
      sandbox.clearFaults()

      // The store does not guess that the holder died: the lock holds until its lease runs out ...
      const early = await b.request("POST", `/api/connections/${id}/syncs`)
      expect(early.status, early.text).toBe(409)
      // ... and then the other process takes it over.
      const takeover = await eventually(
        "the lease to expire",
        async () => {
          const res = await b.request("POST", `/api/connections/${id}/syncs`)
          return res.status === 202 ? res : undefined
        },
        30_000,
        200
      )
      const waited = Date.now() - killedAt
      expect(waited).toBeLessThan(LEASE_MS + 10_000)
      const dead = await b.request("GET", `/api/syncs/${started.body.id}`)
      expect(dead.body).toMatchObject({ status: "interrupted", error: { reason: "Interrupted" } })
      // The recovered run's end is in the audit trail (invariant 9), written by the process that found it.
      const audit = await b.request("GET", `/api/audit?connectionId=${id}&action=sync.finish`)
      expect(audit.body.data).toContainEqual(
        expect.objectContaining({ target: started.body.id, actor: "system", outcome: "error" })
      )
      const done = await eventually("the new run to end", async () => {
        const res = await b.request("GET", `/api/syncs/${takeover.body.id}`)
        return res.body.status === "running" ? undefined : res.body
      })
      expect(done.status).toBe("succeeded")
      expect(done.stats.accounts).toBe(sandbox.users().length)

      // Each process held the lock under its own random id: neither a hostname nor a pid.
      const owners = await schema.query<{ id: string; owner: string }>(
        `SELECT id, owner FROM sync_runs WHERE id IN ('${started.body.id}', '${takeover.body.id}')`
      )
      const byRun = Object.fromEntries(owners.map((r) => [r.id, r.owner]))
      for (const owner of Object.values(byRun)) {
        expect(owner).toMatch(/^seatkeeper:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/)
        expect(owner).not.toContain(String(a.child.pid))
        expect(owner).not.toContain(String(b.child.pid))
      }
      expect(byRun[started.body.id]).not.toBe(byRun[takeover.body.id])
      console.log(
        `[pg-lock] SIGKILL of the holder: the other host took over after ${(waited / 1000).toFixed(1)} s (lease ${
          LEASE_MS / 1000
        } s), recovered run audited`
      )
    },
    120_000
  )
})
