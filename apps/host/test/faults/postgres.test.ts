/**
 * Two host processes on one PostgreSQL store, both asked again and again to sync the same connection:
 * the store's sync lock lets only one run at a time, across processes (DESIGN.md invariant 8).
 */
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeSandbox } from "../harness.js"
import {
  connectTo,
  eventually,
  hostBuilt,
  killHost,
  sleep,
  type SpawnedHost,
  spawnHost,
  tempDir
} from "./faultHarness.js"

const PG_URL = process.env.SEATKEEPER_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"

/** Runs one statement as the admin of the `test` database. */
const admin = (statement: string): Promise<void> =>
  Effect.runPromise(
    Effect.scoped(
      PgClient.make({ url: Redacted.make(PG_URL), maxConnections: 1, connectTimeout: "3 seconds" }).pipe(
        Effect.flatMap((sql) => sql.unsafe(statement))
      )
    ).pipe(Effect.provide(Reactivity.layer), Effect.asVoid)
  )

const pgDown = await admin("SELECT 1").then(
  () => undefined,
  (e: unknown) => String(e instanceof Error ? e.message : Cause.isCause(e) ? Cause.pretty(e) : e)
)
const requireServices = process.env.SEATKEEPER_REQUIRE_SERVICES === "1"
if (pgDown !== undefined && !requireServices) {
  console.warn(
    `Skipping the two-hosts-on-PostgreSQL fault test: ${PG_URL} is unreachable (${pgDown}). ` +
      "Set SEATKEEPER_REQUIRE_SERVICES=1 to fail instead."
  )
}
if (!hostBuilt) console.warn("skipping the two-hosts-on-PostgreSQL fault test: dist/main.js is missing (run the build first)")

describe.skipIf((pgDown !== undefined && !requireServices) || !hostBuilt)("two host processes on one PostgreSQL store", () => {
  const schema = `sk_faults_${process.pid}_${Crypto.randomBytes(4).toString("hex")}`
  let sandbox: AtlassianSandbox
  const hosts: Array<SpawnedHost> = []
  const dirs: Array<string> = []

  beforeAll(async () => {
    if (pgDown !== undefined) throw new Error(`PostgreSQL at ${PG_URL} is required (SEATKEEPER_REQUIRE_SERVICES=1) but unreachable: ${pgDown}`)
    await admin(`CREATE SCHEMA ${schema}`)
    sandbox = await makeSandbox()
    const url = new URL(PG_URL)
    url.searchParams.set("options", `-c search_path=${schema}`)
    // One store, one encryption key; separate data directories, as on two machines.
    const secretKey = Crypto.randomBytes(32).toString("base64")
    for (let i = 0; i < 2; i++) {
      const dir = tempDir("seatkeeper-faults-pg-")
      dirs.push(dir)
      hosts.push(await spawnHost({ SEATKEEPER_DATA_DIR: dir, DATABASE_URL: url.toString(), SEATKEEPER_SECRET_KEY: secretKey }))
    }
  }, 60_000)

  afterAll(async () => {
    for (const h of hosts) await killHost(h)
    await sandbox?.close()
    for (const dir of dirs) Fs.rmSync(dir, { recursive: true, force: true })
    if (pgDown === undefined) await admin(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined)
  })

  it("Should never run one connection's sync in both processes at once", async () => {
    const [a, b] = hosts as [SpawnedHost, SpawnedHost]
    const id = await connectTo(a.api, sandbox)
    // Both processes see the connection: it lives in the shared store.
    expect((await b.api.request("GET", `/api/connections/${id}`)).status).toBe(200)
    // Every page takes a while, so runs last long enough for requests to land on a running one.
    sandbox.injectFault({ kind: "slow", delayMs: 100 }, { on: "users", times: Infinity })

    const accepted = { a: 0, b: 0 }
    let refused = 0
    const started = Date.now()
    // Hammer both until each has won the lock a few times (and for at least a few seconds).
    while (Date.now() - started < 4_000 || accepted.a < 2 || accepted.b < 2) {
      if (Date.now() - started > 60_000) throw new Error(`hammering for 60 s gave ${JSON.stringify(accepted)}`)
      const answers = await Promise.all([a, b].map((h) => h.api.request("POST", `/api/connections/${id}/syncs`)))
      answers.forEach((res, i) => {
        expect([202, 409], res.text).toContain(res.status)
        if (res.status === 202) accepted[i === 0 ? "a" : "b"]++
        else refused++
      })
      await sleep(25)
    }
    await eventually("every run to end", async () => {
      const runs = await a.api.request("GET", `/api/connections/${id}/syncs?limit=500`)
      return runs.body.data.every((r: { status: string }) => r.status !== "running") ? true : undefined
    })
    sandbox.clearFaults()

    const runs: Array<{ id: string; status: string; startedAt: string; finishedAt: string }> =
      (await b.api.request("GET", `/api/connections/${id}/syncs?limit=500`)).body.data
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

  it("Should let the other process sync at once when the one syncing is killed", async () => {
    const [a, b] = hosts as [SpawnedHost, SpawnedHost]
    const id = await connectTo(a.api, sandbox, { name: "takeover" })
    sandbox.resetLog()
    sandbox.injectFault({ kind: "slow", delayMs: 120_000 }, { on: "users", afterRequests: 2, times: Infinity })
    const started = await a.api.request("POST", `/api/connections/${id}/syncs`)
    expect(started.status).toBe(202)
    await eventually("the sync to stall", () => sandbox.requests.filter((r) => r.route === "users").length >= 3 ? true : undefined)
    expect((await b.api.request("POST", `/api/connections/${id}/syncs`)).status).toBe(409)
    a.child.kill("SIGKILL")
    await a.exited
    sandbox.clearFaults()

    // Same machine: the lock's owner is known to be gone, so its lease need not run out first.
    const takeover = await b.api.request("POST", `/api/connections/${id}/syncs`)
    expect(takeover.status, takeover.text).toBe(202)
    const dead = await b.api.request("GET", `/api/syncs/${started.body.id}`)
    expect(dead.body).toMatchObject({ status: "interrupted", error: { reason: "Interrupted" } })
    const done = await eventually("the new run to end", async () => {
      const res = await b.api.request("GET", `/api/syncs/${takeover.body.id}`)
      return res.body.status === "running" ? undefined : res.body
    })
    expect(done.status).toBe("succeeded")
    expect(done.stats.accounts).toBe(sandbox.users().length)
  }, 120_000)
})
