// pnpm bench: how fast the adapter streams a large roster against the floor of fetching it (fetch +
// JSON.parse of the same pages, in the same process and run), how much CPU and memory it needs, and how
// close a budgeted sync comes to the lower bound its budget allows. Runs the built package (dist) against
// a sandbox in a separate process, so the figures are the client's alone. BENCH_RUNS (default 3) sets how
// many times the floor and the adapter run, alternately; the medians are printed.
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as RequestBudget from "@seatkeeper/core/RequestBudget"
import { connect } from "@seatkeeper/provider-atlassian/AtlassianProvider"
import { spawn } from "node:child_process"
import { readFileSync } from "node:fs"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"

const cli = fileURLToPath(new URL("../dist/sandbox/cli.js", import.meta.url))
const runs = Math.max(1, Number(process.env.BENCH_RUNS ?? 3))

const startSandbox = (args) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ["ignore", "pipe", "inherit"] })
    child.once("error", reject)
    child.once("exit", (code) => reject(new Error(`sandbox exited with ${code}`)))
    createInterface({ input: child.stdout }).once("line", (line) => resolve({ ...JSON.parse(line), child }))
  })

const stop = (sandbox) => new Promise((resolve) => {
  sandbox.child.removeAllListeners("exit")
  sandbox.child.once("exit", resolve)
  sandbox.child.kill("SIGTERM")
})

// CPU seconds of the main thread (Linux: /proc, in clock ticks of 10 ms), else of the whole process.
const mainThreadStat = `/proc/self/task/${process.pid}/stat`
const mainThreadCpu = () => {
  try {
    const fields = readFileSync(mainThreadStat, "utf8").split(") ")[1].split(" ")
    return (Number(fields[11]) + Number(fields[12])) / 100
  } catch {
    return undefined
  }
}
const processCpu = () => {
  const { system, user } = process.cpuUsage()
  return (user + system) / 1e6
}

// Starts timing by the wall clock, the main thread's CPU and the process's CPU (GC and I/O threads
// included); the function returned stops it and adds the figures to a result.
const timer = () => {
  const main = mainThreadCpu()
  const cpu = processCpu()
  const started = performance.now()
  return (result) => {
    const seconds = (performance.now() - started) / 1000
    const mainEnd = mainThreadCpu()
    return { ...result, seconds, cpu: processCpu() - cpu, mainCpu: main === undefined ? undefined : mainEnd - main }
  }
}

// The floor: the same listing, fetched page by page and parsed, nothing else.
const floor = async (sandbox) => {
  const stop = timer()
  {
    const headers = { authorization: `Bearer ${sandbox.apiKey}`, accept: "application/json" }
    let url = `${sandbox.url}/admin/v1/orgs/${encodeURIComponent(sandbox.orgId)}/users`
    let count = 0
    let requests = 0
    while (url) {
      const response = await fetch(url, { headers })
      const page = JSON.parse(await response.text())
      requests++
      count += page.data.length
      url = page.links?.next
    }
    return stop({ count, requests })
  }
}

const sync = (sandbox, budget, rateLimit) =>
  Effect.gen(function*() {
    const connection = yield* connect({
      organizationId: sandbox.orgId,
      apiKey: Redacted.make(sandbox.apiKey),
      adminEmail: "bench@example.com",
      baseUrl: sandbox.url,
      rateLimit
    })
    const stop = timer()
    const count = yield* Stream.runCount(connection.accounts)
    return stop({ count, stats: yield* connection.requestStats })
  }).pipe(Effect.provide(Layer.merge(FetchHttpClient.layer, budget)), Effect.runPromise)

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}
const range = (values, digits = 2) => `${Math.min(...values).toFixed(digits)}-${Math.max(...values).toFixed(digits)}`
const cpuLine = (samples) => {
  const main = samples.map((s) => s.mainCpu).filter((c) => c !== undefined)
  return `CPU ${median(samples.map((s) => s.cpu)).toFixed(2)} s` +
    (main.length === 0 ? "" : ` (main thread ${median(main).toFixed(2)} s)`)
}
const mb = (kb) => (kb / 1024).toFixed(0)
const results = []

// 1. Throughput, CPU and memory: 100,000 accounts, 100 per page, no budget, against the floor.
{
  const sandbox = await startSandbox(["--users", "100000", "--page-size", "100", "--seed", "1"])
  const rssBefore = process.memoryUsage().rss
  // Warms both sides (the sandbox renders its pages once, the JIT compiles the parse) before anything counts.
  await floor(sandbox)
  const floors = []
  const syncs = []
  for (let i = 0; i < runs; i++) {
    floors.push(await floor(sandbox))
    syncs.push(await sync(sandbox, RequestBudget.layerUnlimited, { requests: 1, windowSeconds: 1 }))
  }
  const peakRss = process.resourceUsage().maxRSS
  await stop(sandbox)
  const floorSeconds = median(floors.map((f) => f.seconds))
  const syncSeconds = median(syncs.map((s) => s.seconds))
  const { count, stats } = syncs[0]
  const ratio = syncSeconds / floorSeconds
  const ratios = syncs.map((s, i) => s.seconds / floors[i].seconds)
  const rate = count / syncSeconds
  console.log(`floor: fetch + JSON.parse of the same ${floors[0].requests} pages: ${floorSeconds.toFixed(2)} s ` +
    `(${range(floors.map((f) => f.seconds))}), ${cpuLine(floors)}`)
  console.log(`stream 100k: ${count} accounts in ${syncSeconds.toFixed(2)} s (${range(syncs.map((s) => s.seconds))}) = ` +
    `${rate.toFixed(0)} accounts/s (${stats.requests} requests), ${cpuLine(syncs)}; ` +
    `${ratio.toFixed(2)}x the floor (${range(ratios)}); peak RSS ${mb(peakRss)} MB ` +
    `(${(rssBefore / 1048576).toFixed(0)} MB before); median of ${runs}`)
  results.push(["adapter <= 2x the fetch + parse floor (issue 9)", ratio <= 2, `${ratio.toFixed(2)}x`])
  results.push(["accounts/s >= 20,000", rate >= 20_000, rate.toFixed(0)])
  results.push(["peak RSS < 200 MB", peakRss / 1024 < 200, `${mb(peakRss)} MB`])
}

// 2. Pacing: a budget of 20 requests per 2 s against a server that allows exactly that.
{
  const requests = 20, windowSeconds = 2, pageSize = 20, users = 2000
  const sandbox = await startSandbox([
    "--users", String(users), "--page-size", String(pageSize), "--rate-limit", `${requests}/${windowSeconds}`,
    "--reset-format", "seconds"
  ])
  const { count, seconds, stats } = await sync(sandbox, RequestBudget.layerMemory, { requests, windowSeconds })
  await stop(sandbox)
  // With the first `requests` sent at once, the last request can go no earlier than this.
  const bound = (Math.ceil(stats.requests / requests) - 1) * windowSeconds
  const over = (seconds / bound - 1) * 100
  console.log(`budget ${requests}/${windowSeconds}s: ${count} accounts, ${stats.requests} requests in ${seconds.toFixed(2)} s; ` +
    `lower bound ${bound.toFixed(2)} s (+${over.toFixed(1)}%); 429s ${stats.rateLimited}`)
  results.push(["budgeted sync within 10% of the bound", over <= 10, `+${over.toFixed(1)}%`])
  results.push(["no 429 when the budget matches the server", stats.rateLimited === 0, String(stats.rateLimited)])
}

console.log("")
for (const [target, met, figure] of results) console.log(`${met ? "met " : "MISS"}  ${target}: ${figure}`)
