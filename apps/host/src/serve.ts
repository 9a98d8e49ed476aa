/**
 * Serving a host over HTTP and stopping it cleanly: the shared start-up of `main` and `demo`.
 *
 * @since 0.1.0
 */
import { serve as serveNode } from "@hono/node-server"
import * as Effect from "effect/Effect"
import * as Logger from "effect/Logger"
import type { AddressInfo } from "node:net"
import { type HostConfig, HostConfigError, loadHostConfig } from "./config.js"
import type { AppOptions } from "./http/app.js"
import { type HostLayerOptions, type RunningHost, startHost } from "./runtime.js"

/**
 * Writes one JSON log line outside the runtime (before it exists, or after it is gone).
 *
 * @since 0.1.0
 * @category logging
 */
export const logLine = (
  level: "info" | "warning" | "error",
  message: string,
  annotations: Record<string, unknown> = {}
) => {
  const log = level === "error"
    ? Effect.logError(message)
    : level === "warning"
    ? Effect.logWarning(message)
    : Effect.logInfo(message)
  Effect.runSync(log.pipe(Effect.annotateLogs(annotations), Effect.provide(Logger.json)))
}

/**
 * A host listening on its port.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServingHost extends RunningHost {
  readonly url: string
  /** Stops accepting requests, interrupts running syncs, closes the store. */
  readonly stop: () => Promise<void>
}

/**
 * Loads the configuration from `env`, or exits with code 1 and a message saying what to fix.
 *
 * @since 0.1.0
 * @category start-up
 */
export const loadConfigOrExit = async (env: Record<string, string | undefined>): Promise<HostConfig> => {
  const result = await Effect.runPromise(Effect.either(loadHostConfig(env)))
  if (result._tag === "Right") return result.right
  const message = result.left instanceof HostConfigError ? result.left.message : String(result.left)
  logLine("error", "cannot start", { reason: message })
  process.stderr.write(`seatkeeper: ${message}\n`)
  process.exit(1)
}

/**
 * Starts the host and serves it on `config.host:config.port`.
 *
 * @since 0.1.0
 * @category start-up
 */
export const serveHost = async (
  config: HostConfig,
  options: HostLayerOptions & AppOptions = {}
): Promise<ServingHost> => {
  const host = await startHost(config, options)
  const server = serveNode({ fetch: host.app.fetch, hostname: config.host, port: config.port })
  await new Promise<void>((resolve, reject) => {
    server.once("listening", resolve)
    server.once("error", reject)
  }).catch(async (e: NodeJS.ErrnoException) => {
    await host.dispose()
    throw e.code === "EADDRINUSE"
      ? new Error(
        `${config.host}:${config.port} is already in use; stop what listens there or set PORT to another port`
      )
      : e
  })
  const address = server.address() as AddressInfo
  const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address
  const url = `http://${hostPart}:${address.port}`
  let stopping: Promise<void> | undefined
  const stop = () =>
    stopping ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      if ("closeIdleConnections" in server) server.closeIdleConnections()
      await host.dispose()
      if ("closeAllConnections" in server) server.closeAllConnections()
      await closed
    })()
  return { ...host, url, stop }
}

/**
 * Stops the host on SIGTERM or SIGINT and exits 0; exits 1 if stopping takes longer than `graceMs`.
 *
 * @since 0.1.0
 * @category start-up
 */
export const stopOnSignals = (host: { readonly stop: () => Promise<void> }, graceMs = 8_000) => {
  const onSignal = (signal: NodeJS.Signals) => {
    logLine("info", "stopping", { signal })
    setTimeout(() => {
      logLine("error", "did not stop in time; exiting", { graceMs })
      process.exit(1)
    }, graceMs).unref()
    host.stop().then(
      () => {
        logLine("info", "stopped")
        process.exit(0)
      },
      (e) => {
        logLine("error", "error while stopping", { error: String(e) })
        process.exit(1)
      }
    )
  }
  process.once("SIGTERM", onSignal)
  process.once("SIGINT", onSignal)
}
