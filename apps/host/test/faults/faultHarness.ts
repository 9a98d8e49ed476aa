/**
 * Shared pieces of the fault tests: an in-process host with short provider timeouts, the built host as a
 * child process, snapshots of everything a user sees of a connection, and a roster change that a complete
 * sync would apply (so a failed sync that applied anything is caught).
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Url from "node:url"
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import * as Effect from "effect/Effect"
import * as LogLevel from "effect/LogLevel"
import { loadHostConfig } from "../../src/config.js"
import { startHost } from "../../src/runtime.js"
import { ADMIN_TOKEN, type ApiResponse, atlassianConfig } from "../harness.js"

/** Anything that answers API requests: an in-process host or a spawned one. */
export interface Api {
  readonly request: (method: string, path: string, body?: unknown) => Promise<ApiResponse>
}

const parse = (text: string): unknown => {
  try {
    return text === "" ? undefined : JSON.parse(text)
  } catch {
    return undefined
  }
}

export interface FaultHost extends Api {
  readonly dataDir: string
  readonly close: (options?: { readonly keepData?: boolean }) => Promise<void>
}

/**
 * A host in this process on a fresh data directory. `env` adds host settings, e.g.
 * `SEATKEEPER_PROVIDER_TIMEOUT_MS` so that a slow answer times out quickly.
 */
export const makeFaultHost = async (env: Record<string, string> = {}): Promise<FaultHost> => {
  const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "seatkeeper-faults-"))
  const config = await Effect.runPromise(
    loadHostConfig({ SEATKEEPER_DATA_DIR: dataDir, SEATKEEPER_ADMIN_TOKEN: ADMIN_TOKEN, ...env })
  )
  const host = await startHost(config, { scheduler: false, requestLog: false, logLevel: LogLevel.None })
  return {
    dataDir,
    request: async (method, path, body) => {
      const headers: Record<string, string> = { authorization: `Bearer ${ADMIN_TOKEN}` }
      if (body !== undefined) headers["content-type"] = "application/json"
      const res = await host.app.request(path, {
        method,
        headers,
        ...(body === undefined ? {} : { body: JSON.stringify(body) })
      })
      const text = await res.text()
      return { status: res.status, headers: res.headers, text, body: parse(text) }
    },
    close: async (options = {}) => {
      await host.dispose()
      if (options.keepData !== true) Fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

/** An API client for a host served at `url` (a spawned process). */
export const httpApi = (url: string, token: string = ADMIN_TOKEN): Api => ({
  request: async (method, path, body) => {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` }
    if (body !== undefined) headers["content-type"] = "application/json"
    const res = await fetch(`${url}${path}`, {
      method,
      headers,
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(30_000)
    })
    const text = await res.text()
    return { status: res.status, headers: res.headers, text, body: parse(text) }
  }
})

/** A budget far above what the tests send, so pacing never slows a case down (the budget has its own tests). */
export const UNPACED = { requests: 100_000, windowSeconds: 1 } as const

/** Creates a connection to the sandbox and returns its id. */
export const connectTo = async (
  api: Api,
  sandbox: AtlassianSandbox,
  options: { readonly name?: string; readonly rateLimit?: { readonly requests: number; readonly windowSeconds: number } } = {}
): Promise<string> => {
  const res = await api.request("POST", "/api/connections", {
    provider: "atlassian",
    name: options.name ?? "Acme",
    config: { ...atlassianConfig(sandbox), rateLimit: options.rateLimit ?? UNPACED }
  })
  if (res.status !== 201) throw new Error(`creating a connection failed: ${res.status} ${res.text}`)
  return res.body.id
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Polls until `check` gives a value, or fails after `timeoutMs` (generous: the machine may be loaded). */
export const eventually = async <A>(
  what: string,
  check: () => Promise<A | undefined> | A | undefined,
  timeoutMs = 60_000,
  everyMs = 50
): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

export const waitForRun = (api: Api, runId: string, timeoutMs = 60_000): Promise<ApiResponse> =>
  eventually(`sync ${runId} to end`, async () => {
    const res = await api.request("GET", `/api/syncs/${runId}`)
    if (res.status !== 200) throw new Error(`GET /api/syncs/${runId}: ${res.status} ${res.text}`)
    return res.body.status === "running" ? undefined : res
  }, timeoutMs)

export const startSync = async (api: Api, connectionId: string): Promise<ApiResponse> => {
  const started = await api.request("POST", `/api/connections/${connectionId}/syncs`)
  if (started.status !== 202) throw new Error(`starting a sync failed: ${started.status} ${started.text}`)
  return started
}

/** Starts a sync and waits for its end. */
export const runSync = async (api: Api, connectionId: string, timeoutMs?: number): Promise<ApiResponse> =>
  waitForRun(api, (await startSync(api, connectionId)).body.id, timeoutMs)

export interface AccountJson {
  readonly externalId: string
  readonly status: string
  readonly firstSeenAt: string
  readonly lastSeenAt: string
  readonly entitlements: ReadonlyArray<{ readonly key: string; readonly status: string }>
  readonly [k: string]: unknown
}

/** Every account of a connection, in the API's order, read page by page. */
export const listAccounts = async (api: Api, connectionId: string): Promise<Array<AccountJson>> => {
  const all: Array<AccountJson> = []
  let cursor: string | null = null
  do {
    const query: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`
    const res = await api.request("GET", `/api/connections/${connectionId}/accounts?limit=500${query}`)
    if (res.status !== 200) throw new Error(`listing accounts failed: ${res.status} ${res.text}`)
    all.push(...res.body.data)
    cursor = res.body.nextCursor
  } while (cursor !== null)
  return all
}

/**
 * What a user sees of a connection's data: every account with its entitlements and statuses, every
 * account's status history, and the apps summary. Two equal snapshots mean nothing changed.
 */
export interface Snapshot {
  readonly accounts: ReadonlyArray<AccountJson>
  readonly history: Record<string, unknown>
  readonly apps: unknown
}

export const snapshot = async (
  api: Api,
  connectionId: string,
  options: {
    /** Whose history to read (default: every account's). Statuses and entitlements are always all read. */
    readonly historyOf?: (accounts: ReadonlyArray<AccountJson>) => ReadonlyArray<AccountJson>
  } = {}
): Promise<Snapshot> => {
  const accounts = await listAccounts(api, connectionId)
  const history: Record<string, unknown> = {}
  const read = options.historyOf?.(accounts) ?? accounts
  // A few reads at a time: quicker than one by one, gentle on a loaded machine.
  for (let i = 0; i < read.length; i += 8) {
    await Promise.all(read.slice(i, i + 8).map(async (account) => {
      const res = await api.request("GET", `/api/connections/${connectionId}/accounts/${encodeURIComponent(account.externalId)}`)
      if (res.status !== 200) throw new Error(`reading ${account.externalId} failed: ${res.status} ${res.text}`)
      history[account.externalId] = res.body.history
    }))
  }
  const apps = (await api.request("GET", `/api/connections/${connectionId}/apps`)).body
  return { accounts, history, apps }
}

/**
 * Accounts without the times Seatkeeper itself stamps (first and last seen), so the result of two syncs of
 * equal rosters compares equal across connections and hosts. Everything from the source stays.
 */
export const sourceView = (accounts: ReadonlyArray<AccountJson>) =>
  accounts.map(({ firstSeenAt: _first, lastSeenAt: _last, ...rest }) => rest)

/**
 * Changes the roster the way a month of real use would: people leave, some are suspended upstream, one
 * loses a product, newcomers arrive. A complete sync applies all of it; a failed sync must apply none.
 * Deterministic, so every sandbox of one seed ends in the same roster.
 */
export const changeRoster = (sandbox: AtlassianSandbox): {
  readonly removed: ReadonlyArray<string>
  readonly touched: ReadonlyArray<string>
} => {
  const users = sandbox.users()
  const pick = (i: number) => users[i % users.length]!
  const removed = [3, 57, 120, users.length - 2].map((i) => pick(i).account_id)
  for (const id of removed) sandbox.removeUser(id)
  const touched = [...removed]
  for (const i of [10, 99, 150]) {
    sandbox.updateUser(pick(i).account_id, { account_status: "inactive" })
    touched.push(pick(i).account_id)
  }
  const withProducts = users.find((u, i) => i > 20 && (u.product_access?.length ?? 0) >= 2 && u.account_status === "active")
  if (withProducts !== undefined) {
    sandbox.updateUser(withProducts.account_id, { product_access: withProducts.product_access!.slice(1) })
    touched.push(withProducts.account_id)
  }
  sandbox.addUsers(3)
  return { removed, touched }
}

const mappedStatus: Record<string, string> = { active: "active", inactive: "suspended", closed: "deprovisioned" }

/**
 * Checks a connection's accounts against the sandbox's roster itself: every user there with its mapped
 * status and one active entitlement per product, every `removed` one deprovisioned, nothing else.
 */
export const expectMatchesRoster = (
  accounts: ReadonlyArray<AccountJson>,
  sandbox: AtlassianSandbox,
  removed: ReadonlyArray<string>
): void => {
  const byId = new Map(accounts.map((a) => [a.externalId, a]))
  const users = sandbox.users()
  if (accounts.length !== users.length + removed.length) {
    throw new Error(`expected ${users.length + removed.length} accounts, found ${accounts.length}`)
  }
  for (const user of users) {
    const account = byId.get(user.account_id)
    if (account === undefined) throw new Error(`account ${user.account_id} is missing`)
    const status = mappedStatus[user.account_status] ?? "unknown"
    if (account.status !== status) throw new Error(`${user.account_id}: status ${account.status}, expected ${status}`)
    const live = account.entitlements.filter((e) => e.status === "active").length
    if (live !== (user.product_access?.length ?? 0)) {
      throw new Error(`${user.account_id}: ${live} active entitlements, expected ${user.product_access?.length ?? 0}`)
    }
  }
  for (const id of removed) {
    if (byId.get(id)?.status !== "deprovisioned") throw new Error(`removed account ${id} is ${byId.get(id)?.status}`)
  }
}

// ---- the built host as a child process

const mainJs = Path.join(Path.dirname(Url.fileURLToPath(import.meta.url)), "..", "..", "dist", "main.js")

/** Whether `dist/main.js` exists (turbo's test task builds it first). */
export const hostBuilt = Fs.existsSync(mainJs)

export interface SpawnedHost {
  readonly child: ChildProcess.ChildProcess
  readonly url: string
  readonly api: Api
  readonly lines: Array<Record<string, unknown>>
  readonly stderr: () => string
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
}

/**
 * Spawns `node dist/main.js` with `env` (plus the admin token) and waits until it listens. Fails with its
 * stderr if it exits first.
 */
export const spawnHost = async (env: Record<string, string>, timeoutMs = 30_000): Promise<SpawnedHost> => {
  const child = ChildProcess.spawn(process.execPath, [mainJs], {
    env: { PATH: process.env.PATH ?? "", PORT: "0", SEATKEEPER_ADMIN_TOKEN: ADMIN_TOKEN, ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const lines: Array<Record<string, unknown>> = []
  let stderr = ""
  let buffer = ""
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("utf8")
    const parts = buffer.split("\n")
    buffer = parts.pop()!
    for (const line of parts) {
      if (line.trim() === "") continue
      try {
        lines.push(JSON.parse(line))
      } catch {
        lines.push({ message: line })
      }
    }
  })
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
  let done = false
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      done = true
      resolve({ code, signal })
    })
  )
  const listening = await eventually("the host to listen", () => {
    if (done) throw new Error(`the host exited before listening: ${stderr}`)
    return lines.find((l) => l.message === "listening")
  }, timeoutMs, 20).catch((e) => {
    child.kill("SIGKILL")
    throw e
  })
  const url = (listening.annotations as { url: string }).url
  return { child, url, api: httpApi(url), lines, stderr: () => stderr, exited }
}

/** Stops a spawned host if it still runs (SIGKILL: tests that care about a clean stop do it themselves). */
export const killHost = async (host: SpawnedHost | undefined): Promise<void> => {
  if (host === undefined || host.child.exitCode !== null || host.child.signalCode !== null) return
  host.child.kill("SIGKILL")
  await host.exited
}

export const tempDir = (prefix: string): string => Fs.mkdtempSync(Path.join(Os.tmpdir(), prefix))
