/**
 * `pnpm demo`: a simulated Atlassian organisation (about 3,000 accounts, 100 requests per minute, pages
 * of 100) and a host connected to it, with a first sync under way. Data lives in `./.seatkeeper-demo`
 * (or `SEATKEEPER_DATA_DIR`), so a second run keeps the accounts, history and audit log of the first.
 *
 * @since 0.1.0
 */
import { startSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { loadConfigOrExit, logLine, serveHost, stopOnSignals } from "./serve.js"
import { Connections } from "./services/Connections.js"
import { Syncs } from "./services/Syncs.js"
import { bootstrapAdmin } from "./services/Users.js"
import { mountPages } from "./ui/index.js"

const CONNECTION_NAME = "Demo Atlassian org"

const sandbox = await startSandbox({
  users: 3_000,
  pageSize: 100,
  rateLimit: { requests: 100, windowSeconds: 60 },
  host: "127.0.0.1"
})

const config = await loadConfigOrExit({
  ...process.env,
  SEATKEEPER_DATA_DIR: process.env.SEATKEEPER_DATA_DIR ?? "./.seatkeeper-demo"
})

// The sandbox gets a new port every run, so an existing demo connection is pointed at it again.
const connectionConfig = {
  organizationId: sandbox.orgId,
  apiKey: sandbox.apiKey,
  adminEmail: "admin@acme.example",
  baseUrl: sandbox.url,
  rateLimit: { requests: 100, windowSeconds: 60 }
}

const setUp = Effect.gen(function*() {
  const existing = (yield* Connections.list).find((c) => c.name === CONNECTION_NAME && c.provider === "atlassian")
  const connection = existing === undefined
    ? yield* Connections.create(
      { provider: "atlassian", name: CONNECTION_NAME, config: connectionConfig },
      bootstrapAdmin
    )
    : yield* Connections.update(existing.id, { config: connectionConfig }, bootstrapAdmin)
  const run = yield* Syncs.start(connection.id, bootstrapAdmin).pipe(
    Effect.map((r) => r.id),
    Effect.catchTag("SyncAlreadyRunning", (e) => Effect.succeed(e.runId))
  )
  return { connectionId: connection.id, runId: run }
})

try {
  const host = await serveHost(config, { extend: (app, host) => mountPages(app, host) })
  const { connectionId, runId } = await host.runtime.runPromise(setUp)
  stopOnSignals({
    stop: async () => {
      await host.stop()
      await sandbox.close()
    }
  })
  logLine("info", "demo ready", { url: host.url, sandbox: sandbox.url, connectionId, runId })
  const token = Redacted.value(config.adminToken)
  process.stderr.write(
    `
Seatkeeper demo
  Web UI and API:   ${host.url}
  Admin token:      ${token}
  Simulated org:    ${sandbox.orgName}, ${sandbox.users().length} accounts at ${sandbox.url}
  Connection:       "${CONNECTION_NAME}" (${connectionId}); sync ${runId} is running

Log in: open ${host.url} and paste the admin token, or call the API:
  curl -H 'Authorization: Bearer ${token}' ${host.url}/api/syncs/${runId}
  curl -H 'Authorization: Bearer ${token}' '${host.url}/api/connections/${connectionId}/accounts?inactiveDays=90&limit=5'

Data: ${config.dataDir}. Stop with Ctrl+C.
`
  )
} catch (e) {
  logLine("error", "demo could not start", { reason: e instanceof Error ? e.message : String(e) })
  process.stderr.write(`seatkeeper demo: cannot start: ${e instanceof Error ? e.message : String(e)}\n`)
  await sandbox.close()
  process.exit(1)
}
