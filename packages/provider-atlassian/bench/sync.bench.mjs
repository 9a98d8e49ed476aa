// pnpm bench: how fast the adapter streams a large roster, how much memory it needs, and how close a
// budgeted sync comes to the lower bound its budget allows. Runs the built package (dist) against a
// sandbox in a separate process, so the figures are the client's alone.
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as RequestBudget from "@seatkeeper/core/RequestBudget"
import { connect } from "@seatkeeper/provider-atlassian/AtlassianProvider"
import { spawn } from "node:child_process"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"

const cli = fileURLToPath(new URL("../dist/sandbox/cli.js", import.meta.url))

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

const sync = (sandbox, budget, rateLimit) =>
  Effect.gen(function*() {
    const connection = yield* connect({
      organizationId: sandbox.orgId,
      apiKey: Redacted.make(sandbox.apiKey),
      adminEmail: "bench@example.com",
      baseUrl: sandbox.url,
      rateLimit
    })
    const started = performance.now()
    const count = yield* Stream.runCount(connection.accounts)
    const seconds = (performance.now() - started) / 1000
    return { count, seconds, stats: yield* connection.requestStats }
  }).pipe(Effect.provide(Layer.merge(FetchHttpClient.layer, budget)), Effect.runPromise)

const mb = (kb) => (kb / 1024).toFixed(0)
const results = []

// 1. Throughput and memory: 100,000 accounts, 100 per page, no budget.
{
  const sandbox = await startSandbox(["--users", "100000", "--page-size", "100", "--seed", "1"])
  const rssBefore = process.memoryUsage().rss
  const { count, seconds, stats } = await sync(sandbox, RequestBudget.layerUnlimited, { requests: 1, windowSeconds: 1 })
  const peakRss = process.resourceUsage().maxRSS
  await stop(sandbox)
  const rate = count / seconds
  console.log(`stream 100k: ${count} accounts in ${seconds.toFixed(2)} s = ${rate.toFixed(0)} accounts/s ` +
    `(${stats.requests} requests); peak RSS ${mb(peakRss)} MB (${(rssBefore / 1048576).toFixed(0)} MB before)`)
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
