/**
 * `pnpm start`: the host, configured by the environment (see `config.ts`).
 *
 * @since 0.1.0
 */
import { loadConfigOrExit, logLine, serveHost, stopOnSignals } from "./serve.js"
import { printAdminToken } from "./startupNotice.js"
import { mountPages } from "./ui/index.js"

const config = await loadConfigOrExit(process.env)
try {
  const host = await serveHost(config, { extend: (app, host) => mountPages(app, host) })
  stopOnSignals(host)
  logLine("info", "listening", {
    url: host.url,
    dataDir: config.dataDir,
    store: config.databaseUrl._tag === "Some" ? "postgresql" : "sqlite"
  })
  process.stderr.write(`\nSeatkeeper is running at ${host.url}\n`)
  printAdminToken(config)
} catch (e) {
  logLine("error", "cannot start", { reason: e instanceof Error ? e.message : String(e) })
  process.stderr.write(`seatkeeper: cannot start: ${e instanceof Error ? e.message : String(e)}\n`)
  process.exit(1)
}
