// pnpm bench (host): the built host (dist/main.js) syncs an Atlassian sandbox org (the built sandbox CLI,
// another process, over loopback) into SQLite and into PostgreSQL, and every figure is set beside a floor
// measured in the same run: fetch + JSON.parse of exactly the pages the sync fetched, from the same
// sandbox, one after another, by this process.
//
// For each store, a fresh host (fresh data directory; for PostgreSQL a fresh schema, dropped after):
//   - first sync of 100,000 accounts: from POST /syncs to the run's finishedAt, with a keep-alive client
//     polling /healthz every ~10 ms meanwhile (latency p50/p99/worst; a reset or a non-200 is a failure),
//     and the host's peak RSS during the sync (/proc/<pid>/status VmHWM, reset just before the POST);
//   - second sync, nothing changed upstream;
//   - the accounts list with an inactivity filter, 50 a page, following nextCursor (300 requests);
//   - the CSV exports (seats.csv, accounts.csv): the whole body, downloaded once each;
// then another fresh host syncs 25,000 accounts, for its peak RSS: memory should not grow with the org, and
// exports the same CSVs: their time should grow linearly with the org (BENCH_EXPORTS=0 skips the exports).
//
//   BENCH_USERS=100000        the large org (the small one is a quarter of it, BENCH_SMALL_USERS)
//   BENCH_ONLY=sqlite|pg      one store only
//   BENCH_PG_URL=postgres://… another PostgreSQL (default postgres://postgres@127.0.0.1:5432/test)
//   BENCH_HOST_NODE_OPTIONS   extra node flags for the host, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof"
//   BENCH_HOST_LOG=1          keep the host's log (its path is printed) instead of deleting it
//   BENCH_STRICT=1            exit 1 when a SQLite target is missed
// The host is started as `pnpm start` starts it: `node <flags of apps/host/package.json's start> dist/main.js`.
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { spawn } from "node:child_process"
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as Http from "node:http"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

const USERS = Number(process.env.BENCH_USERS ?? 100_000)
const SMALL_USERS = Number(process.env.BENCH_SMALL_USERS ?? Math.round(USERS / 4))
const ONLY = process.env.BENCH_ONLY
const PG_URL = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"
const PAGE_SIZE = 100
const HEALTH_EVERY_MS = 10
const LIST_REQUESTS = 300
const EXPORTS = process.env.BENCH_EXPORTS !== "0"

const require = createRequire(import.meta.url)
const sandboxCli = join(dirname(require.resolve("@seatkeeper/provider-atlassian/package.json")), "dist/sandbox/cli.js")
const hostDir = fileURLToPath(new URL("..", import.meta.url))
const hostMain = join(hostDir, "dist/main.js")
// The node flags `pnpm start` gives the host (e.g. a heap cap), so the bench measures what is deployed.
const startFlags = (() => {
  const start = JSON.parse(readFileSync(join(hostDir, "package.json"), "utf8")).scripts?.start ?? ""
  const m = /^node\s+(.*?)\s*dist\/main\.js/.exec(start)
  return m ? m[1].split(/\s+/).filter(Boolean) : []
})()
const extraFlags = (process.env.BENCH_HOST_NODE_OPTIONS ?? "").split(/\s+/).filter(Boolean)
const token = "bench-admin-token-0123456789abcdef"
const workDir = mkdtempSync(join(tmpdir(), "seatkeeper-host-bench-"))
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// --- processes ----------------------------------------------------------------------------------------------

const children = new Set()

const startSandbox = (users) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [sandboxCli, "--users", String(users), "--page-size", String(PAGE_SIZE), "--seed", "5"], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    children.add(child)
    child.once("exit", (code) => reject(new Error(`the sandbox exited with ${code}`)))
    createInterface({ input: child.stdout }).once("line", (line) => resolve({ ...JSON.parse(line), child, users }))
  })

let hosts = 0
const startHost = (env) =>
  new Promise((resolve, reject) => {
    const n = ++hosts
    const dataDir = join(workDir, `host-${n}`)
    const logFile = join(workDir, `host-${n}.log`)
    // The host's JSON log goes to a file, as a deployment's log collector drains it: a pipe nobody reads
    // would block the host once full.
    const log = openSync(logFile, "w")
    const child = spawn(process.execPath, [...startFlags, ...extraFlags, hostMain], {
      env: { ...process.env, PORT: "0", SEATKEEPER_DATA_DIR: dataDir, SEATKEEPER_ADMIN_TOKEN: token, ...env },
      stdio: ["ignore", log, "pipe"]
    })
    closeSync(log)
    children.add(child)
    let stderr = ""
    child.once("exit", (code) => reject(new Error(`the host exited with ${code}: ${stderr.slice(-2000)}`)))
    createInterface({ input: child.stderr }).on("line", (line) => {
      stderr += line + "\n"
      const url = /running at (\S+)/.exec(line)?.[1]
      if (url) resolve({ child, url, logFile, pid: child.pid })
    })
  })

const stop = (child) =>
  new Promise((resolve) => {
    children.delete(child)
    child.removeAllListeners("exit")
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(() => child.kill("SIGKILL"), 15_000)
    child.once("exit", () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill("SIGTERM")
  })

// --- memory -------------------------------------------------------------------------------------------------

const status = (pid) => readFileSync(`/proc/${pid}/status`, "utf8")
const kbField = (text, field) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(text)?.[1] ?? NaN)
const peakRssMb = (pid) => kbField(status(pid), "VmHWM") / 1024
const rssMb = (pid) => kbField(status(pid), "VmRSS") / 1024
// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux >= 4.0), so the next reading is the peak
// since. Where that is refused the peak includes start-up, which is lower than a sync's anyway.
const resetPeak = (pid) => {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5")
    return true
  } catch {
    return false
  }
}

// CPU seconds each thread of the host used (utime + stime of /proc/<pid>/task/<tid>/stat): the main
// thread's tid is the pid; the busiest other thread during a sync is SQLite's writer.
const TICK = 100
const threadCpu = (pid) => {
  const out = new Map()
  let tids = []
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return out
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8")
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
      out.set(Number(tid), (Number(fields[11]) + Number(fields[12])) / TICK)
    } catch {}
  }
  return out
}
const cpuSince = (pid, before) => {
  const after = threadCpu(pid)
  let main = 0, others = 0, busiest = 0
  for (const [tid, s] of after) {
    const d = s - (before.get(tid) ?? 0)
    if (tid === pid) main = d
    else {
      others += d
      busiest = Math.max(busiest, d)
    }
  }
  return { main, others, busiest }
}

// Waits until the host's threads use less than 5 % of a core over 250 ms (at most 20 s): a sync leaves work
// in the background (dropping its staging, checkpointing, refreshing statistics). Returns the seconds waited.
const settle = async (pid) => {
  const started = performance.now()
  while (performance.now() - started < 20_000) {
    const before = threadCpu(pid)
    await sleep(250)
    const used = cpuSince(pid, before)
    if (used.main + used.others < 0.0125) break
  }
  return (performance.now() - started) / 1000
}

// --- the host's API -----------------------------------------------------------------------------------------

const api = async (base, method, path, body) => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined
  })
  const json = await res.json()
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

const createConnection = (host, sandbox) =>
  api(host.url, "POST", "/api/connections", {
    provider: "atlassian",
    name: "Bench org",
    config: {
      organizationId: sandbox.orgId,
      apiKey: sandbox.apiKey,
      adminEmail: "bench@example.com",
      baseUrl: sandbox.url,
      rateLimit: { requests: 100_000, windowSeconds: 1 }
    }
  })

// --- /healthz from a keep-alive client ----------------------------------------------------------------------

// One connection, kept alive, one request at a time every ~10 ms: a stalled event loop shows as latency, a
// connection the host drops as a failure (ECONNRESET), as a load balancer's health check would see them.
const healthPoller = (base) => {
  const url = new URL("/healthz", base)
  const agent = new Http.Agent({ keepAlive: true, maxSockets: 1 })
  const latencies = []
  const failures = []
  let running = true
  const once = () =>
    new Promise((resolve) => {
      const t0 = performance.now()
      const req = Http.get(url, { agent }, (res) => {
        const chunks = []
        res.on("data", (c) => chunks.push(c))
        res.on("end", () => {
          const ms = performance.now() - t0
          latencies.push(ms)
          if (res.statusCode !== 200) failures.push(`HTTP ${res.statusCode}`)
          resolve(ms)
        })
        res.on("error", (e) => {
          failures.push(e.code ?? e.message)
          resolve(performance.now() - t0)
        })
      })
      req.on("error", (e) => {
        const ms = performance.now() - t0
        latencies.push(ms)
        failures.push(e.code ?? e.message)
        resolve(ms)
      })
    })
  const done = (async () => {
    while (running) {
      const ms = await once()
      if (ms < HEALTH_EVERY_MS) await sleep(HEALTH_EVERY_MS - ms)
    }
  })()
  return {
    stop: async () => {
      running = false
      await done
      agent.destroy()
      return { ...summarize(latencies), failed: failures.length, failures: [...new Set(failures)] }
    }
  }
}

const summarize = (samples) => {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (p) => sorted.length === 0 ? NaN : sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]
  return { count: sorted.length, p50: at(0.5), p99: at(0.99), worst: sorted.at(-1) ?? NaN }
}

// --- a sync -------------------------------------------------------------------------------------------------

// From just before POST /syncs to the run's finishedAt (same clock: both processes are on this machine).
const sync = async (host, connection, sandbox) => {
  await fetch(`${sandbox.url}/__sandbox/requests`, { method: "DELETE" })
  const peakReset = resetPeak(host.pid)
  const rssBefore = rssMb(host.pid)
  const health = healthPoller(host.url)
  const cpuBefore = threadCpu(host.pid)
  const started = Date.now()
  const run = await api(host.url, "POST", `/api/connections/${connection.id}/syncs`)
  let view = run
  while (view.status === "running") {
    await sleep(50)
    view = await api(host.url, "GET", `/api/syncs/${run.id}`)
  }
  const cpu = cpuSince(host.pid, cpuBefore)
  const healthz = await health.stop()
  const peak = peakRssMb(host.pid)
  if (view.status !== "succeeded") throw new Error(`sync ${view.status}: ${JSON.stringify(view.error ?? view.hold)}`)
  const { requests } = await (await fetch(`${sandbox.url}/__sandbox/requests`)).json()
  return {
    seconds: (Date.parse(view.finishedAt) - started) / 1000,
    stats: view.stats,
    healthz,
    cpu,
    rss: { before: rssBefore, peak, sinceStart: !peakReset },
    requests: requests.filter((r) => r.authorized && r.status === 200)
  }
}

// --- the floor ----------------------------------------------------------------------------------------------

// fetch + JSON.parse of the pages a sync fetched, in its order, each after the previous one (a listing
// follows its cursor), from the same sandbox.
const floor = async (sandbox, requests) => {
  const headers = { authorization: `Bearer ${sandbox.apiKey}`, accept: "application/json" }
  const started = performance.now()
  let bytes = 0
  for (const r of requests) {
    const res = await fetch(`${sandbox.url}${r.path}${r.query ? (r.query.startsWith("?") ? r.query : `?${r.query}`) : ""}`, {
      method: r.method,
      headers: r.body === undefined ? headers : { ...headers, "content-type": "application/json" },
      body: r.body === undefined ? undefined : typeof r.body === "string" ? r.body : JSON.stringify(r.body)
    })
    const text = await res.text()
    if (res.status !== 200) throw new Error(`floor: ${r.method} ${r.path}: ${res.status}`)
    bytes += text.length
    JSON.parse(text)
  }
  return { seconds: (performance.now() - started) / 1000, requests: requests.length, bytes }
}

// A walk over the users listing before anything is measured, so the first sync does not pay for a cold
// sandbox that the floor's replays, after it, would not.
const warmSandbox = async (sandbox) => {
  const headers = { authorization: `Bearer ${sandbox.apiKey}`, accept: "application/json" }
  let next = `${sandbox.url}/admin/v1/orgs/${encodeURIComponent(sandbox.orgId)}/users`
  while (next) {
    const page = JSON.parse(await (await fetch(next, { headers })).text())
    next = page.links?.next
  }
}

// --- the accounts list --------------------------------------------------------------------------------------

// Pages of 50 accounts inactive for 30, 60 or 90+ days, following nextCursor from the first page.
const listLatency = async (host, connection) => {
  const latencies = []
  let matched
  const perFilter = Math.ceil(LIST_REQUESTS / 3)
  for (const days of [30, 60, 90]) {
    let cursor = null
    for (let i = 0; i < perFilter; i++) {
      const path = `/api/connections/${connection.id}/accounts?inactiveDays=${days}&limit=50` +
        (cursor ? `&cursor=${encodeURIComponent(cursor)}` : "")
      const t0 = performance.now()
      const page = await api(host.url, "GET", path)
      latencies.push(performance.now() - t0)
      if (days === 30 && i === 0) matched = page.total
      cursor = page.nextCursor
      if (cursor === null) cursor = undefined
      if (cursor === undefined) break
    }
  }
  return { ...summarize(latencies), matched }
}

// --- the CSV exports ------------------------------------------------------------------------------------

// Each export's whole body, read as a client would; seconds, bytes and data lines (without the header).
const exportTimes = async (host, connection) => {
  const out = {}
  for (const name of ["seats", "accounts"]) {
    const t0 = performance.now()
    const res = await fetch(`${host.url}/api/connections/${connection.id}/${name}.csv`, {
      headers: { authorization: `Bearer ${token}` }
    })
    if (res.status !== 200) throw new Error(`${name}.csv: ${res.status} ${await res.text()}`)
    let bytes = 0
    let lines = 0
    for await (const chunk of res.body) {
      bytes += chunk.length
      for (let i = 0; i < chunk.length; i++) if (chunk[i] === 10) lines++
    }
    out[name] = { seconds: (performance.now() - t0) / 1000, bytes, rows: lines - 1 }
  }
  return out
}

// --- PostgreSQL: a schema of our own ------------------------------------------------------------------------

const pgRun = (url, statement) =>
  Effect.runPromise(
    Effect.scoped(Effect.flatMap(PgClient.make({ url: Redacted.make(url), maxConnections: 1, connectTimeout: "3 seconds" }), (sql) =>
      sql.unsafe(statement))).pipe(Effect.provide(Reactivity.layer))
  )

let schemas = 0
const withPgSchema = async (body) => {
  const schema = `sk_host_bench_${process.pid}_${++schemas}`
  const url = new URL(PG_URL)
  url.searchParams.set("options", `-c search_path=${schema}`)
  await pgRun(PG_URL, `DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  await pgRun(PG_URL, `CREATE SCHEMA ${schema}`)
  try {
    return await body({ DATABASE_URL: url.toString() })
  } finally {
    await pgRun(PG_URL, `DROP SCHEMA IF EXISTS ${schema} CASCADE`)
  }
}

// --- one store ----------------------------------------------------------------------------------------------

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2
}

// `withStore(body)` gives each host a store of its own (SQLite: the host's fresh data directory).
const measureStore = async (name, withStore, large, small) => {
  const result = { name }
  process.stderr.write(`${name}: first sync of ${large.users.toLocaleString("en-US")} accounts…\n`)
  await withStore(async (env) => {
    const host = await startHost(env)
    try {
      const connection = await createConnection(host, large)
      // Each phase starts once the host is idle again: what a sync leaves in the background would otherwise
      // be counted in the next phase (and would slow the floor, which shares these two cores).
      const first = await sync(host, connection, large)
      first.settled = await settle(host.pid)
      const floors = [await floor(large, first.requests)]
      process.stderr.write(`${name}: second sync…\n`)
      const second = await sync(host, connection, large)
      const settled = await settle(host.pid)
      floors.push(await floor(large, second.requests))
      process.stderr.write(`${name}: accounts list…\n`)
      const list = { ...(await listLatency(host, connection)), settled }
      floors.push(await floor(large, second.requests))
      Object.assign(result, { first, second, list, floors, floor: median(floors.map((f) => f.seconds)) })
      if (EXPORTS) {
        process.stderr.write(`${name}: CSV exports…\n`)
        result.exports = await exportTimes(host, connection)
      }
    } finally {
      await stop(host.child)
    }
  })
  process.stderr.write(`${name}: first sync of ${small.users.toLocaleString("en-US")} accounts…\n`)
  await withStore(async (env) => {
    const host = await startHost(env)
    try {
      const connection = await createConnection(host, small)
      result.small = await sync(host, connection, small)
      if (EXPORTS) {
        await settle(host.pid)
        result.smallExports = await exportTimes(host, connection)
      }
    } finally {
      await stop(host.child)
    }
  })
  return result
}

// --- the report ---------------------------------------------------------------------------------------------

const ms = (x) => `${x.toFixed(1)} ms`
const s = (x) => `${x.toFixed(2)} s`
const mb = (x) => `${x.toFixed(0)} MB`

const table = (rows) => {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => String(r[c]).length)))
  const line = (r) => r.map((cell, c) => String(cell).padEnd(widths[c])).join("  ").trimEnd()
  return [line(rows[0]), widths.map((w) => "-".repeat(w)).join("  "), ...rows.slice(1).map(line)].join("\n")
}

const report = (results) => {
  const k = (n) => `${Math.round(n / 1000)}k`
  const rows = [["store", "what", "figure", "floor", "ratio"]]
  const checks = []
  for (const r of results) {
    const ratio = (x) => (x / r.floor).toFixed(2) + "x"
    const rssRatio = r.first.rss.peak / r.small.rss.peak
    const spread = r.floors.map((f) => f.seconds.toFixed(2)).join(", ")
    rows.push([r.name, `floor: fetch + JSON.parse of the sync's ${r.first.requests.length} pages`, s(r.floor), `(${spread})`, ""])
    rows.push([
      r.name,
      `first sync, ${k(USERS)} accounts (then ${r.first.settled.toFixed(1)} s of background work)`,
      s(r.first.seconds),
      s(r.floor),
      ratio(r.first.seconds)
    ])
    rows.push([
      r.name,
      `second sync, nothing changed (then ${r.list.settled.toFixed(1)} s of background work)`,
      s(r.second.seconds),
      s(r.floor),
      ratio(r.second.seconds)
    ])
    const h = r.first.healthz
    rows.push([
      r.name,
      `/healthz during the first sync (${h.count} requests)`,
      `p50 ${ms(h.p50)}, p99 ${ms(h.p99)}, worst ${ms(h.worst)}, failed ${h.failed}${h.failed ? ` (${h.failures.join(", ")})` : ""}`,
      "",
      ""
    ])
    const h2 = r.second.healthz
    rows.push([r.name, `/healthz during the second sync (${h2.count} requests)`, `p50 ${ms(h2.p50)}, p99 ${ms(h2.p99)}, worst ${ms(h2.worst)}, failed ${h2.failed}`, "", ""])
    rows.push([
      r.name,
      `host peak RSS during the first sync, ${k(SMALL_USERS)} / ${k(USERS)} accounts`,
      `${mb(r.small.rss.peak)} / ${mb(r.first.rss.peak)}`,
      `(${mb(r.small.rss.before)} / ${mb(r.first.rss.before)} before)`,
      `${rssRatio.toFixed(2)}x`
    ])
    rows.push([r.name, `host peak RSS during the second sync, ${k(USERS)}`, mb(r.second.rss.peak), "", ""])
    rows.push([
      r.name,
      `accounts list, inactivity filter, 50 a page (${r.list.count} requests, after the second sync)`,
      `p50 ${ms(r.list.p50)}, p99 ${ms(r.list.p99)}`,
      "",
      ""
    ])
    if (r.exports !== undefined && r.smallExports !== undefined) {
      for (const name of ["seats", "accounts"]) {
        const a = r.smallExports[name], b = r.exports[name]
        rows.push([
          r.name,
          `${name}.csv export, ${k(SMALL_USERS)} / ${k(USERS)} accounts (${a.rows} / ${b.rows} rows)`,
          `${s(a.seconds)} / ${s(b.seconds)}`,
          `${(a.rows / a.seconds / 1000).toFixed(0)}k / ${(b.rows / b.seconds / 1000).toFixed(0)}k rows/s`,
          `${(b.seconds / a.seconds).toFixed(2)}x for ${(b.rows / a.rows).toFixed(2)}x the rows`
        ])
      }
    }
    if (r.name === "SQLite") {
      const firstRatio = r.first.seconds / r.floor
      const secondRatio = r.second.seconds / r.floor
      checks.push(["first sync <= 2x the floor (aim 1.5x)", firstRatio <= 2, `${firstRatio.toFixed(2)}x`])
      checks.push(["second sync <= 1.5x the floor (aim 1.2x)", secondRatio <= 1.5, `${secondRatio.toFixed(2)}x`])
      checks.push(["/healthz p99 <= 50 ms", h.p99 <= 50, ms(h.p99)])
      checks.push(["/healthz worst <= 250 ms", h.worst <= 250, ms(h.worst)])
      checks.push(["/healthz: no failed request", h.failed === 0, String(h.failed)])
      checks.push([`host peak RSS <= 200 MB at ${k(USERS)}`, r.first.rss.peak <= 200, mb(r.first.rss.peak)])
      checks.push([`host peak RSS flat: ${k(SMALL_USERS)} vs ${k(USERS)} within 20 %`, Math.abs(rssRatio - 1) <= 0.2, `${rssRatio.toFixed(2)}x`])
      checks.push(["accounts list p99 <= 20 ms", r.list.p99 <= 20, ms(r.list.p99)])
    }
  }
  console.log("")
  console.log(table(rows))
  console.log("")
  for (const r of results) {
    const st = r.first.stats
    const c1 = r.first.cpu, c2 = r.second.cpu
    console.log(`${r.name}: host CPU during the first sync: main thread ${c1.main.toFixed(1)} s, other threads ${c1.others.toFixed(1)} s ` +
      `(busiest ${c1.busiest.toFixed(1)} s); second sync: main ${c2.main.toFixed(1)} s, others ${c2.others.toFixed(1)} s`)
    console.log(`${r.name}: first sync ${st.accounts} accounts (${st.created} created), ${r.first.requests.length} requests; ` +
      `second sync ${r.second.stats.unchanged} unchanged, ${r.second.stats.updated} updated; ` +
      `${r.list.matched} accounts inactive for 30+ days`)
  }
  if (checks.length > 0) {
    console.log("")
    for (const [target, met, figure] of checks) console.log(`${met ? "met " : "MISS"}  SQLite: ${target}: ${figure}`)
  }
  return checks.every(([, met]) => met)
}

// --- run ----------------------------------------------------------------------------------------------------

console.log(`host benchmark: the built host syncs ${USERS.toLocaleString("en-US")} (and ${SMALL_USERS.toLocaleString("en-US")}) ` +
  `Atlassian accounts, pages of ${PAGE_SIZE}, from the sandbox over loopback` +
  (startFlags.length + extraFlags.length > 0 ? `; host node flags: ${[...startFlags, ...extraFlags].join(" ")}` : ""))
const results = []
let ok = true
try {
  const [large, small] = await Promise.all([startSandbox(USERS), startSandbox(SMALL_USERS)])
  await warmSandbox(large)
  await warmSandbox(small)
  if (ONLY !== "pg") results.push(await measureStore("SQLite", (body) => body({}), large, small))
  if (ONLY !== "sqlite") {
    const reachable = await pgRun(PG_URL, "SELECT 1").then(() => true, () => false)
    if (reachable) {
      results.push(await measureStore("PostgreSQL", withPgSchema, large, small))
    } else {
      console.log(`PostgreSQL at ${PG_URL} is not reachable: skipped`)
    }
  }
  ok = report(results)
} finally {
  await Promise.all([...children].map(stop))
  if (process.env.BENCH_HOST_LOG) console.log(`host logs kept in ${workDir}`)
  else rmSync(workDir, { recursive: true, force: true })
}
if (!ok && process.env.BENCH_STRICT) process.exitCode = 1
