// pnpm bench (store): syncs 100,000 generated accounts (3 entitlements each) through the sync engine into
// the SQL store, first sync and steady-state resync (and a resync where 1 % changed), on SQLite and, where
// it answers, PostgreSQL. Each is compared with a floor measured in the same run: the same rows upserted
// raw in one transaction (better-sqlite3 for SQLite; unnest batches with pg for PostgreSQL). Also prints
// the worst event-loop stall seen while syncing (the SQLite writer runs in a worker thread), peak RSS, and the
// CPU each thread used (main; the busiest other, on SQLite the writer; all others). Account ids are random-
// looking and arrive in no order, as Atlassian's do.
//
//   BENCH_USERS=25000 pnpm bench       fewer accounts
//   BENCH_PG_URL=postgres://...        another PostgreSQL (default postgres://postgres@127.0.0.1:5432/test)
//   BENCH_ONLY=sqlite|pg               one database only
// Runs the built packages (dist): `pnpm bench` builds first.
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import { Entitlement, ProviderAccount } from "@seatkeeper/core/Account"
import { ConnectionStore } from "@seatkeeper/core/Connection"
import { InventoryStore } from "@seatkeeper/core/Inventory"
import * as Provider from "@seatkeeper/core/Provider"
import * as SyncEngine from "@seatkeeper/core/SyncEngine"
import * as SqlStore from "@seatkeeper/store/SqlStore"
import { Effect, Layer, Option, Redacted, Stream } from "effect"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { monitorEventLoopDelay, performance } from "node:perf_hooks"

const USERS = Number(process.env.BENCH_USERS ?? 100_000)
const PAGE = 100
const PG_URL = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"
const ONLY = process.env.BENCH_ONLY
const secretKey = Redacted.make("bench passphrase, not a secret")
const trusted = { disableValidation: true }
const require = createRequire(import.meta.url)

// --- the roster: generated page by page, so the benchmark itself holds no more than a page ------------------

const day = 86_400_000
const base = Date.UTC(2026, 0, 1)
const products = ["jira-software", "confluence", "jira-servicedesk"]

// Account ids as Atlassian's look (24 hex digits) and arrive: in no order, so that anything keyed by them is
// written at random places (a sorted roster would hide that cost). The same i always has the same id.
const hex = (n) => (n >>> 0).toString(16).padStart(8, "0")
const mix = (x) => {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d)
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b)
  return (x ^ (x >>> 16)) >>> 0
}
const idOf = (i) => `${hex(mix(i + 1))}${hex(mix(i + 0x9e3779b9))}${hex(mix(i ^ 0x5bd1e995))}`

const person = (i, variant) => {
  const id = idOf(i)
  const changed = variant !== 0 && i % 100 === 0
  return new ProviderAccount({
    externalId: id,
    email: `${id}@example.com`,
    displayName: `Person ${i}${changed ? ` v${variant}` : ""}`,
    accountType: i % 50 === 0 ? "customer" : "atlassian",
    status: i % 20 === 0 ? "suspended" : "active",
    sourceStatus: i % 20 === 0 ? "inactive" : "active",
    lastActiveAt: i % 7 === 0 ? undefined : new Date(base - (i % 200) * day).toISOString(),
    billable: i % 50 === 0 ? false : undefined,
    entitlements: products.map((product, p) =>
      new Entitlement({
        key: `${product}:acme.atlassian.net`,
        product,
        site: "acme",
        siteHost: "acme.atlassian.net",
        displayName: `${product} (acme)`,
        status: "active",
        role: "atlassian/user",
        lastActiveAt: (i + p) % 5 === 0 ? undefined : new Date(base - ((i + p) % 120) * day).toISOString()
      }, trusted)
    )
  }, trusted)
}

// One page per pull, each after a turn of the event loop, as a provider pages over HTTP (Stream.fromIterable
// would pull thousands at once, and a synchronous source would never let a timer run).
const nextTurn = Effect.async((resume) => {
  setImmediate(() => resume(Effect.void))
})
const pages = (variant) =>
  Stream.unfoldEffect(0, (start) =>
    start >= USERS ? Effect.succeed(Option.none()) : Effect.map(nextTurn, () => {
      const accounts = []
      for (let i = start; i < Math.min(USERS, start + PAGE); i++) accounts.push(person(i, variant))
      return Option.some([{ accounts, total: USERS }, start + PAGE])
    }))

const connect = (variant) =>
  Effect.succeed(Provider.makeConnection({
    provider: "bench",
    budgetKey: "bench:org",
    verify: Effect.void,
    pages: pages(variant),
    requestStats: Effect.succeed({ requests: USERS / PAGE, retries: 0, rateLimited: 0 })
  }))

// The same rows, flat, for the floors.
function* flatRows() {
  for (let i = 0; i < USERS; i++) {
    const a = person(i, 0)
    yield {
      account: [a.externalId, a.email, a.displayName, a.accountType, a.status, a.sourceStatus, a.lastActiveAt ?? null],
      entitlements: a.entitlements.map((
        e
      ) => [a.externalId, e.key, e.displayName, e.product, e.site, e.status, e.lastActiveAt ?? null])
    }
  }
}

// --- measuring ----------------------------------------------------------------------------------------------

const mb = (bytes) => Math.round(bytes / 1024 / 1024)
const peakRssMb = () => Math.round(process.resourceUsage().maxRSS / 1024)
const seconds = (ms) => (ms / 1000).toFixed(2)

// CPU seconds of each thread of this process (utime + stime of /proc/self/task/<tid>/stat): the main thread's
// tid is the pid; the busiest other one during a SQLite sync is the store's writer thread.
const TICK = 100
const threadCpu = () => {
  const out = new Map()
  let tids = []
  try {
    tids = readdirSync("/proc/self/task")
  } catch {
    return out
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8")
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / TICK)
    } catch {}
  }
  return out
}
const cpuSince = (before) => {
  let main = 0, others = 0, busiest = 0
  for (const [tid, s] of threadCpu()) {
    const d = s - (before.get(tid) ?? 0)
    if (tid === process.pid) main = d
    else {
      others += d
      busiest = Math.max(busiest, d)
    }
  }
  return { main, others, busiest }
}

/** Runs `f`, with the worst event-loop stall, the RSS reached and the CPU of each thread while it ran. */
const measure = async (f) => {
  globalThis.gc?.()
  const cpuBefore = threadCpu()
  const stall = monitorEventLoopDelay({ resolution: 10 })
  let rss = process.memoryUsage.rss()
  const sampler = setInterval(() => {
    rss = Math.max(rss, process.memoryUsage.rss())
  }, 50)
  stall.enable()
  const t0 = performance.now()
  const value = await f()
  const ms = performance.now() - t0
  const cpu = cpuSince(cpuBefore)
  stall.disable()
  clearInterval(sampler)
  return { value, ms, cpu, stallMs: stall.max / 1e6, rssMb: mb(rss) }
}

const rows = []
const report = (database, phase, result, floorMs) =>
  rows.push({
    database,
    phase,
    seconds: seconds(result.ms),
    "× floor": floorMs === undefined ? "" : (result.ms / floorMs).toFixed(2),
    "CPU main s": result.cpu.main.toFixed(2),
    "CPU busiest other s": result.cpu.busiest.toFixed(2),
    "CPU others s": result.cpu.others.toFixed(2),
    "worst stall ms": Math.round(result.stallMs),
    "RSS MB": result.rssMb,
    note: result.note ?? ""
  })

// --- floors -------------------------------------------------------------------------------------------------

const sqliteFloor = async (dir) => {
  const Database = require("better-sqlite3")
  const db = new Database(join(dir, "floor.db"))
  db.pragma("journal_mode = WAL")
  db.pragma("synchronous = NORMAL")
  db.exec(
    `CREATE TABLE accounts (id TEXT PRIMARY KEY, email TEXT, name TEXT, type TEXT, status TEXT, source TEXT, active TEXT);
    CREATE TABLE entitlements (id TEXT, key TEXT, name TEXT, product TEXT, site TEXT, status TEXT, active TEXT,
      PRIMARY KEY (id, key))`
  )
  const upsertAccount = db.prepare(`INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name, status = excluded.status`)
  const upsertEntitlement = db.prepare(`INSERT INTO entitlements VALUES (?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (id, key) DO UPDATE SET name = excluded.name, status = excluded.status`)
  const result = await measure(async () => {
    db.transaction(() => {
      for (const row of flatRows()) {
        upsertAccount.run(...row.account)
        for (const e of row.entitlements) upsertEntitlement.run(...e)
      }
    })()
  })
  db.close()
  return result
}

const pgFloor = (url) =>
  Effect.gen(function*() {
    const sql = yield* PgClient.PgClient
    yield* sql`CREATE TABLE floor_accounts (id TEXT PRIMARY KEY, email TEXT, name TEXT, type TEXT, status TEXT,
      source TEXT, active TEXT)`
    yield* sql`CREATE TABLE floor_entitlements (id TEXT, key TEXT, name TEXT, product TEXT, site TEXT, status TEXT,
      active TEXT, PRIMARY KEY (id, key))`
    return yield* Effect.promise(() =>
      measure(() =>
        Effect.runPromise(sql.withTransaction(Effect.gen(function*() {
          let accounts = []
          let entitlements = []
          const columns = (batch, n) => Array.from({ length: n }, (_, c) => batch.map((row) => row[c]))
          const flush = Effect.gen(function*() {
            const a = columns(accounts, 7)
            yield* sql`INSERT INTO floor_accounts SELECT * FROM unnest(${a[0]}::text[], ${a[1]}::text[], ${
              a[2]
            }::text[],
              ${a[3]}::text[], ${a[4]}::text[], ${a[5]}::text[], ${a[6]}::text[])
              ON CONFLICT (id) DO UPDATE SET email = excluded.email, name = excluded.name, status = excluded.status`
            const e = columns(entitlements, 7)
            yield* sql`INSERT INTO floor_entitlements SELECT * FROM unnest(${e[0]}::text[], ${e[1]}::text[],
              ${e[2]}::text[], ${e[3]}::text[], ${e[4]}::text[], ${e[5]}::text[], ${e[6]}::text[])
              ON CONFLICT (id, key) DO UPDATE SET name = excluded.name, status = excluded.status`
            accounts = []
            entitlements = []
          })
          for (const row of flatRows()) {
            accounts.push(row.account)
            entitlements.push(...row.entitlements)
            if (accounts.length === 5_000) yield* flush
          }
          if (accounts.length > 0) yield* flush
        })))
      )
    )
  }).pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 2 })), Effect.scoped)

// --- the store ----------------------------------------------------------------------------------------------

const syncs = (database, layer, floorMs) =>
  Effect.gen(function*() {
    const connections = yield* ConnectionStore
    const inventory = yield* InventoryStore
    const connection = yield* connections.create({ provider: "bench", name: "Bench org", config: { apiKey: "x" } })
    const sync = (variant) =>
      Effect.promise(() =>
        measure(() =>
          Effect.runPromise(
            SyncEngine.run(connection.id, "bench", connect(variant), { chunkSize: 500 }).pipe(Effect.provide(layer))
          )
        )
      )
    const expect = (result, status) => {
      if (result.value.status !== status) {
        throw new Error(`sync ${result.value.status}: ${JSON.stringify(result.value.error)}`)
      }
      const s = result.value.stats
      result.note = `created ${s.created}, updated ${s.updated}, unchanged ${s.unchanged}`
      return result
    }
    // Each phase starts once the work a sync leaves in the background (dropping its staging, checkpointing,
    // refreshing statistics) is done: a write queues behind it.
    const idle = connections.update(connection.id, { name: "Bench org" })
    report(database, "first sync", expect(yield* sync(0), "succeeded"), floorMs)
    yield* idle
    report(database, "resync, nothing changed", expect(yield* sync(0), "succeeded"), floorMs)
    yield* idle
    report(database, "resync, 1 % changed", expect(yield* sync(1), "succeeded"), floorMs)
    yield* idle
    // What a user waits for meanwhile: the accounts list with an inactivity filter.
    const latencies = []
    for (let i = 0; i < 200; i++) {
      const t0 = performance.now()
      yield* inventory.listAccounts({
        connectionId: connection.id,
        limit: 50,
        inactiveDays: 30 + (i % 60),
        sort: "name"
      })
      latencies.push(performance.now() - t0)
    }
    latencies.sort((a, b) => a - b)
    const at = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(1)
    rows.push({
      database,
      phase: "accounts list, inactivity filter",
      seconds: "",
      "× floor": "",
      "CPU main s": "",
      "CPU busiest other s": "",
      "CPU others s": "",
      "worst stall ms": "",
      "RSS MB": peakRssMb(),
      note: `p50 ${at(0.5)} ms, p99 ${at(0.99)} ms`
    })
  }).pipe(Effect.provide(layer))

const pgReachable = (url) =>
  Effect.runPromise(
    Effect.scoped(
      Effect.flatMap(
        PgClient.make({ url: Redacted.make(url), maxConnections: 1, connectTimeout: "3 seconds" }),
        (sql) => sql`SELECT 1`
      )
    ).pipe(
      Effect.provide(Reactivity.layer),
      Effect.as(true),
      Effect.catchAllCause(() => Effect.succeed(false))
    )
  )

const withPgSchema = async (body) => {
  const schema = `sk_bench_${process.pid}`
  const url = new URL(PG_URL)
  url.searchParams.set("options", `-c search_path=${schema}`)
  const run = (statement) =>
    Effect.runPromise(
      Effect.scoped(
        Effect.flatMap(PgClient.make({ url: Redacted.make(PG_URL), maxConnections: 1 }), (sql) => sql.unsafe(statement))
      )
        .pipe(Effect.provide(Reactivity.layer))
    )
  await run(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await run(`CREATE SCHEMA ${schema}`)
  try {
    return await body(url.toString())
  } finally {
    await run(`DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  }
}

// --- run ----------------------------------------------------------------------------------------------------

console.log(
  `store benchmark: ${USERS.toLocaleString("en-US")} accounts, 3 entitlements each, pages of ${PAGE}, chunks of 500`
)
const dir = mkdtempSync(join(tmpdir(), "seatkeeper-store-bench-"))
try {
  if (ONLY !== "pg") {
    const floor = await sqliteFloor(dir)
    report("SQLite", "floor: raw upsert, one transaction", floor)
    const layer = SqlStore.layerSqlite({ filename: join(dir, "seatkeeper.db"), secretKey })
    await Effect.runPromise(
      Effect.scoped(Effect.flatMap(Layer.build(layer), (context) =>
        syncs("SQLite", Layer.succeedContext(context), floor.ms)))
    )
  }
  if (ONLY !== "sqlite") {
    if (await pgReachable(PG_URL)) {
      await withPgSchema(async (url) => {
        const floor = await Effect.runPromise(pgFloor(url))
        report("PostgreSQL", "floor: unnest upsert, one transaction", floor)
        const layer = SqlStore.layerPg({ url: Redacted.make(url), secretKey })
        await Effect.runPromise(
          Effect.scoped(Effect.flatMap(Layer.build(layer), (context) =>
            syncs("PostgreSQL", Layer.succeedContext(context), floor.ms)))
        )
      })
    } else {
      console.log(`PostgreSQL at ${PG_URL} is not reachable: skipped`)
    }
  }
  console.table(rows)
  console.log(`peak RSS of the whole run: ${peakRssMb()} MB`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
