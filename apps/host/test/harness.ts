/**
 * A host on a fresh SQLite file in a temporary data directory, driven through its HTTP app, and a
 * simulated Atlassian organisation for it to talk to.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { type AtlassianSandbox, startSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import type { SandboxOptions } from "@seatkeeper/provider-atlassian/sandbox"
import * as Effect from "effect/Effect"
import * as LogLevel from "effect/LogLevel"
import { loadHostConfig } from "../src/config.js"
import { type RunningHost, startHost } from "../src/runtime.js"

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef"

export interface ApiResponse {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  readonly body: any
}

export interface TestHost {
  readonly host: RunningHost
  readonly dataDir: string
  /** Every response body this host has sent, for checks across a whole session. */
  readonly responses: ReadonlyArray<string>
  readonly request: (method: string, path: string, options?: {
    readonly body?: unknown
    readonly token?: string | null
    readonly headers?: Record<string, string>
    readonly rawBody?: string
  }) => Promise<ApiResponse>
  /** Stops the host; removes its data directory unless `keepData`. */
  readonly close: (options?: { readonly keepData?: boolean }) => Promise<void>
}

/** A host on a new temporary data directory, or on `dataDir` to reopen one (a restart). */
export const makeTestHost = async (options: { readonly dataDir?: string } = {}): Promise<TestHost> => {
  const dataDir = options.dataDir ?? Fs.mkdtempSync(Path.join(Os.tmpdir(), "seatkeeper-host-test-"))
  const config = await Effect.runPromise(
    loadHostConfig({ SEATKEEPER_DATA_DIR: dataDir, SEATKEEPER_ADMIN_TOKEN: ADMIN_TOKEN })
  )
  const host = await startHost(config, { scheduler: false, requestLog: false, logLevel: LogLevel.Error })
  const responses: Array<string> = []
  const request: TestHost["request"] = async (method, path, options = {}) => {
    const headers: Record<string, string> = { ...options.headers }
    if (options.token !== null) headers.authorization = `Bearer ${options.token ?? ADMIN_TOKEN}`
    let body: string | undefined = options.rawBody
    if (options.body !== undefined) {
      body = JSON.stringify(options.body)
      headers["content-type"] ??= "application/json"
    }
    const res = await host.app.request(path, { method, headers, ...(body === undefined ? {} : { body }) })
    const text = await res.text()
    responses.push(text)
    let parsed: unknown = undefined
    try {
      parsed = text === "" ? undefined : JSON.parse(text)
    } catch {
      parsed = undefined
    }
    return { status: res.status, headers: res.headers, text, body: parsed }
  }
  return {
    host,
    dataDir,
    responses,
    request,
    close: async (options = {}) => {
      await host.dispose()
      if (options.keepData !== true) Fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

export const makeSandbox = (options: SandboxOptions = {}): Promise<AtlassianSandbox> =>
  startSandbox({ users: 240, pageSize: 50, seed: 7, host: "127.0.0.1", ...options })

export const atlassianConfig = (sandbox: AtlassianSandbox) => ({
  organizationId: sandbox.orgId,
  apiKey: sandbox.apiKey,
  adminEmail: "admin@acme.example",
  baseUrl: sandbox.url
})

/** Creates a connection to the sandbox and returns its id. */
export const connect = async (t: TestHost, sandbox: AtlassianSandbox, name = "Acme"): Promise<string> => {
  const res = await t.request("POST", "/api/connections", {
    body: { provider: "atlassian", name, config: atlassianConfig(sandbox) }
  })
  if (res.status !== 201) throw new Error(`creating a connection failed: ${res.status} ${res.text}`)
  return res.body.id
}

/** Polls a sync until it is no longer running; generous, since the machine may be loaded. */
export const waitForSync = async (t: TestHost, runId: string, timeoutMs = 60_000): Promise<ApiResponse> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const res = await t.request("GET", `/api/syncs/${runId}`)
    if (res.status !== 200) throw new Error(`GET /api/syncs/${runId}: ${res.status} ${res.text}`)
    if (res.body.status !== "running") return res
    if (Date.now() > deadline) throw new Error(`sync ${runId} still running after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Starts a sync and waits for its end. */
export const sync = async (t: TestHost, connectionId: string): Promise<ApiResponse> => {
  const started = await t.request("POST", `/api/connections/${connectionId}/syncs`)
  if (started.status !== 202) throw new Error(`starting a sync failed: ${started.status} ${started.text}`)
  return waitForSync(t, started.body.id)
}
