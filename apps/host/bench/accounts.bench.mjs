// pnpm bench (host): sync 100,000 accounts from the Atlassian sandbox into the host (SQLite), with the
// host's peak RSS during the sync, then the p50/p99 latency of the accounts list with an inactivity
// filter. Runs the built host (dist/main.js) and the sandbox CLI as separate processes.
import { spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

const USERS = Number(process.env.BENCH_USERS ?? 100_000)
const require = createRequire(import.meta.url)
const sandboxCli = join(dirname(require.resolve("@seatkeeper/provider-atlassian/package.json")), "dist/sandbox/cli.js")
const hostMain = fileURLToPath(new URL("../dist/main.js", import.meta.url))
const token = "bench-admin-token-0123456789abcdef"
const dataDir = mkdtempSync(join(tmpdir(), "seatkeeper-bench-"))

const start = (args, env, ready) =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] })
    if (process.env.BENCH_LOG) child.stdout.on("data", (d) => process.stderr.write(`[${args[0].split("/").pop()}] ${d}`))
    child.once("exit", (code) => reject(new Error(`${args[0]} exited with ${code}`)))
    const lines = createInterface({ input: ready === "stdout" ? child.stdout : child.stderr })
    lines.on("line", (line) => {
      const m = ready === "stdout" ? line.startsWith("{") && JSON.parse(line) : /running at (\S+)/.exec(line)?.[1]
      if (m) resolve({ child, info: m })
    })
  })

const peakRssMb = (pid) => {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))
  return hwm ? Number(hwm[1]) / 1024 : NaN
}

const sandbox = await start([sandboxCli, "--users", String(USERS), "--page-size", "100", "--seed", "5"], {}, "stdout")
const host = await start([hostMain], { PORT: "0", SEATKEEPER_DATA_DIR: dataDir, SEATKEEPER_ADMIN_TOKEN: token }, "stderr")
const base = host.info
// SQLite commits on the host's main thread: while 100,000 accounts are applied the host does not
// answer, and a keep-alive connection it closes meanwhile resets. Poll again then.
const api = async (method, path, body, attempt = 0) => {
  let res
  try {
    res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined
  })
  } catch (e) {
    if (method === "GET" && attempt < 5) return api(method, path, body, attempt + 1)
    throw e
  }
  const json = await res.json()
  if (res.status >= 400) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

try {
  const connection = await api("POST", "/api/connections", {
    provider: "atlassian",
    name: "Bench org",
    config: {
      organizationId: sandbox.info.orgId,
      apiKey: sandbox.info.apiKey,
      adminEmail: "bench@example.com",
      baseUrl: sandbox.info.url,
      rateLimit: { requests: 100_000, windowSeconds: 1 }
    }
  })
  const rssBefore = peakRssMb(host.child.pid)
  const t0 = performance.now()
  const run = await api("POST", `/api/connections/${connection.id}/syncs`)
  let status = run
  while (status.status === "running") {
    await new Promise((r) => setTimeout(r, 200))
    status = await api("GET", `/api/syncs/${run.id}`)
  }
  const syncSeconds = (performance.now() - t0) / 1000
  const peak = peakRssMb(host.child.pid)
  if (status.status !== "succeeded") throw new Error(`sync ${status.status}: ${JSON.stringify(status.error)}`)
  console.log(`host sync: ${status.stats.accounts} accounts in ${syncSeconds.toFixed(1)} s; host peak RSS ${peak.toFixed(0)} MB ` +
    `(${rssBefore.toFixed(0)} MB before the sync)`)

  const latencies = []
  for (let i = 0; i < 300; i++) {
    const days = [30, 60, 90][i % 3]
    const t = performance.now()
    const page = await api("GET", `/api/connections/${connection.id}/accounts?inactiveDays=${days}&limit=50`)
    latencies.push(performance.now() - t)
    if (i === 0) console.log(`accounts inactive for ${days}+ days: ${page.total}`)
  }
  latencies.sort((a, b) => a - b)
  const pct = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))].toFixed(1)
  console.log(`accounts list, inactivity filter, 50 per page (300 requests): p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms`)
} finally {
  for (const p of [host, sandbox]) {
    p.child.removeAllListeners("exit")
    p.child.kill("SIGTERM")
  }
  await new Promise((r) => setTimeout(r, 500))
  rmSync(dataDir, { recursive: true, force: true })
}
