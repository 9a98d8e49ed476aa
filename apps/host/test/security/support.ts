/**
 * What the security tests share: hosts whose every response and log line is kept, the API's routes as
 * the app itself lists them, the forms a leaked secret can take, PostgreSQL schemas to run a host on,
 * and the built host as a process.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Url from "node:url"
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as LogLevel from "effect/LogLevel"
import * as Redacted from "effect/Redacted"
import type { Hono } from "hono"
import * as Crypto from "node:crypto"
import { loadHostConfig } from "../../src/config.js"
import type { AppOptions } from "../../src/http/app.js"
import { type RunningHost, startHost } from "../../src/runtime.js"
import { ADMIN_TOKEN, type ApiResponse } from "../harness.js"

export { ADMIN_TOKEN }

// -----------------------------------------------------------------------------------------------------
// Hosts that keep every response and log line
// -----------------------------------------------------------------------------------------------------

/** Every line written to the console (where the host's JSON logger writes) while capturing. */
export interface ConsoleCapture {
  readonly lines: Array<string>
  readonly restore: () => void
}

const methods = ["log", "info", "warn", "error", "debug", "trace"] as const

/**
 * Captures what the process writes through `console.*`, `process.stdout` and `process.stderr` (the
 * Effect JSON logger prints with `console.log`). Output still goes through, so a failing test shows it.
 */
export const captureConsole = (): ConsoleCapture => {
  const lines: Array<string> = []
  const originals = methods.map((m) => [m, console[m]] as const)
  for (const [m, original] of originals) {
    console[m] = (...args: Array<unknown>) => {
      lines.push(args.map((a) => (typeof a === "string" ? a : safeStringify(a))).join(" "))
      // Keep the test output readable: the host's log lines are checked, not shown.
      void original
    }
  }
  const stdout = process.stdout.write.bind(process.stdout)
  const stderr = process.stderr.write.bind(process.stderr)
  process.stdout.write = ((chunk: unknown, ...rest: Array<unknown>) => {
    lines.push(String(chunk))
    return (stdout as (...a: Array<unknown>) => boolean)(chunk, ...rest)
  }) as typeof process.stdout.write
  process.stderr.write = ((chunk: unknown, ...rest: Array<unknown>) => {
    lines.push(String(chunk))
    return (stderr as (...a: Array<unknown>) => boolean)(chunk, ...rest)
  }) as typeof process.stderr.write
  return {
    lines,
    restore: () => {
      for (const [m, original] of originals) console[m] = original
      process.stdout.write = stdout
      process.stderr.write = stderr
    }
  }
}

const safeStringify = (u: unknown): string => {
  try {
    return JSON.stringify(u) ?? String(u)
  } catch {
    return String(u)
  }
}

export interface RecordedResponse {
  readonly method: string
  readonly path: string
  readonly status: number
  readonly headers: string
  readonly text: string
}

export interface SecurityHost {
  readonly host: RunningHost
  readonly dataDir: string
  /** Every response this host sent: status, headers and body. */
  readonly responses: ReadonlyArray<RecordedResponse>
  readonly request: (method: string, path: string, options?: {
    readonly body?: unknown
    readonly token?: string | null
    readonly headers?: Record<string, string>
    readonly rawBody?: string | Uint8Array
  }) => Promise<ApiResponse>
  readonly close: () => Promise<void>
}

/**
 * A host in this process on a fresh data directory (SQLite), or on `databaseUrl` (PostgreSQL), with the
 * scheduler off. `logLevel` defaults to Error (quiet); a check for a leaked secret passes All, so that it
 * sees every line the host can write, debug lines included.
 */
export const makeSecurityHost = async (options: {
  readonly databaseUrl?: string | undefined
  readonly adminToken?: string | undefined
  readonly logLevel?: LogLevel.LogLevel | undefined
  readonly requestLog?: boolean | undefined
  readonly extend?: AppOptions["extend"]
} = {}): Promise<SecurityHost> => {
  const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "seatkeeper-security-"))
  const config = await Effect.runPromise(loadHostConfig({
    SEATKEEPER_DATA_DIR: dataDir,
    SEATKEEPER_ADMIN_TOKEN: options.adminToken ?? ADMIN_TOKEN,
    DATABASE_URL: options.databaseUrl
  }))
  const host = await startHost(config, {
    scheduler: false,
    requestLog: options.requestLog ?? true,
    logLevel: options.logLevel ?? LogLevel.Error,
    extend: options.extend
  })
  const responses: Array<RecordedResponse> = []
  const request: SecurityHost["request"] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? options.adminToken ?? ADMIN_TOKEN}`
    let body: string | Uint8Array | undefined = opts.rawBody
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body)
      headers["content-type"] ??= "application/json"
    }
    const res = await host.app.request(path, { method, headers, ...(body === undefined ? {} : { body }) })
    const text = await res.text()
    responses.push({ method, path, status: res.status, headers: JSON.stringify([...res.headers]), text })
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
    close: async () => {
      await host.dispose()
      Fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

/** Polls a sync until it is no longer running, then until its `sync.finish` audit event is written. */
export const waitForRun = async (
  request: SecurityHost["request"],
  runId: string,
  timeoutMs = 60_000
): Promise<ApiResponse> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const res = await request("GET", `/api/syncs/${encodeURIComponent(runId)}`)
    if (res.status !== 200) throw new Error(`GET /api/syncs/${runId}: ${res.status} ${res.text}`)
    if (res.body.status !== "running") {
      // The end of a run is audited just after the run is marked: wait for it so trails are in order.
      for (;;) {
        const audit = await request("GET", `/api/audit?connectionId=${encodeURIComponent(res.body.connectionId)}&limit=20`)
        if (audit.body.data.some((e: { action: string; target: string }) => e.action === "sync.finish" && e.target === runId)) {
          return res
        }
        if (Date.now() > deadline) throw new Error(`sync ${runId} has no sync.finish audit event after ${timeoutMs} ms`)
        await new Promise((r) => setTimeout(r, 20))
      }
    }
    if (Date.now() > deadline) throw new Error(`sync ${runId} still running after ${timeoutMs} ms`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

/** Starts a sync of `connectionId` and waits for its end (and its audit event). */
export const syncOnce = async (request: SecurityHost["request"], connectionId: string): Promise<ApiResponse> => {
  const started = await request("POST", `/api/connections/${connectionId}/syncs`)
  if (started.status !== 202) throw new Error(`starting a sync failed: ${started.status} ${started.text}`)
  return waitForRun(request, started.body.id)
}

// -----------------------------------------------------------------------------------------------------
// Routes
// -----------------------------------------------------------------------------------------------------

export interface Route {
  readonly method: string
  readonly path: string
  /** The `:name` parameters of `path`, in order. */
  readonly params: ReadonlyArray<string>
}

/**
 * The API's routes as the Hono app registered them (middleware and the catch-all excluded), so a route
 * added later is covered without editing a list here.
 */
export const apiRoutes = (app: Hono): ReadonlyArray<Route> => {
  const seen = new Map<string, Route>()
  for (const r of app.routes) {
    if (r.method === "ALL" || !r.path.startsWith("/api/") || r.path.includes("*")) continue
    const key = `${r.method} ${r.path}`
    if (!seen.has(key)) seen.set(key, { method: r.method, path: r.path, params: [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]!) })
  }
  return [...seen.values()]
}

/** The page routes (everything the app serves outside `/api` and `/healthz`). */
export const pageRoutes = (app: Hono): ReadonlyArray<Route> => {
  const seen = new Map<string, Route>()
  for (const r of app.routes) {
    if (r.method === "ALL" || r.path.startsWith("/api") || r.path === "/healthz" || r.path.includes("*")) continue
    const key = `${r.method} ${r.path}`
    if (!seen.has(key)) seen.set(key, { method: r.method, path: r.path, params: [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]!) })
  }
  return [...seen.values()]
}

/** `path` with each `:name` replaced by `values[name]` as given (already encoded as the caller wants). */
export const fillPath = (route: Route, values: Record<string, string>): string =>
  route.path.replace(/:(\w+)/g, (_, name: string) => {
    const v = values[name]
    if (v === undefined) throw new Error(`no value for :${name} of ${route.method} ${route.path}`)
    return v
  })

// -----------------------------------------------------------------------------------------------------
// Secrets
// -----------------------------------------------------------------------------------------------------

/**
 * The forms a secret can leak in: as is, its first half (a truncated echo), URL-encoded, hex, and base64
 * / base64url at each of the three byte alignments (so that the secret is found inside a longer encoded
 * value such as `Basic base64(user:key)` too).
 */
export const secretForms = (secret: string): ReadonlyArray<readonly [string, string]> => {
  const bytes = Buffer.from(secret, "utf8")
  const forms: Array<readonly [string, string]> = [
    ["plain", secret],
    ["first half", secret.slice(0, Math.ceil(secret.length / 2))],
    ["url-encoded", encodeURIComponent(secret)],
    ["hex", bytes.toString("hex")]
  ]
  for (const encoding of ["base64", "base64url"] as const) {
    for (const offset of [0, 1, 2]) {
      const s = Buffer.concat([Buffer.alloc(offset), bytes]).toString(encoding)
      // Drop the groups that mix in bytes that are not the secret's.
      forms.push([`${encoding}@${offset}`, s.slice(offset === 0 ? 0 : 4, s.length - 4)])
    }
  }
  return forms.filter(([, f]) => f.length >= 8)
}

/** Where each secret appears in `haystack`, as `name (form)` strings; empty when nowhere. */
export const findSecrets = (
  haystack: string | Buffer,
  secrets: Record<string, string>
): ReadonlyArray<string> => {
  const found: Array<string> = []
  for (const [name, secret] of Object.entries(secrets)) {
    for (const [form, value] of secretForms(secret)) {
      const hit = typeof haystack === "string"
        ? haystack.includes(value)
        : haystack.includes(Buffer.from(value, "utf8")) || haystack.includes(Buffer.from(value, "utf16le"))
      if (hit) found.push(`${name} (${form})`)
    }
  }
  return found
}

/** A distinctive secret: one that cannot appear anywhere by chance, with characters that URL-encode. */
export const distinctiveSecret = (label: string): string =>
  `${label}-${Crypto.randomBytes(18).toString("base64").replace(/=+$/, "")}/+=Zq${Crypto.randomBytes(6).toString("hex")}`

// -----------------------------------------------------------------------------------------------------
// PostgreSQL
// -----------------------------------------------------------------------------------------------------

export const PG_URL = process.env.SEATKEEPER_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"
export const requireServices = process.env.SEATKEEPER_REQUIRE_SERVICES === "1"

const withPg = <A>(url: string, f: (sql: PgClient.PgClient) => Effect.Effect<A, unknown>): Promise<A> =>
  Effect.runPromise(
    Effect.scoped(Effect.flatMap(PgClient.make({ url: Redacted.make(url), maxConnections: 1, connectTimeout: "3 seconds" }), f)).pipe(
      Effect.provide(Reactivity.layer)
    ) as Effect.Effect<A, unknown, never>
  )

/** Whether PostgreSQL answers: `undefined` when it does, else why not. */
export const pgUnavailable = (): Promise<string | undefined> =>
  withPg(PG_URL, (sql) => sql`SELECT 1`).then(
    () => undefined,
    (e) => String(Cause.isCause(e) ? Cause.squash(e) : e)
  )

/**
 * Skips (with the reason printed) when PostgreSQL is unreachable, unless SEATKEEPER_REQUIRE_SERVICES=1,
 * in which case the tests that need it fail.
 */
export const pgSkipReason = async (suite: string): Promise<string | undefined> => {
  const why = await pgUnavailable()
  if (why === undefined) return undefined
  if (requireServices) throw new Error(`${suite}: PostgreSQL is required (SEATKEEPER_REQUIRE_SERVICES=1) but unreachable: ${why}`)
  console.warn(`skipping ${suite} on PostgreSQL: ${PG_URL} is unreachable (${why})`)
  return why
}

export interface PgSchema {
  /** A URL whose connections use only this schema (its search_path). */
  readonly url: string
  readonly name: string
  /** Every row of every table of the schema, as PostgreSQL's text form of the row, one per line. */
  readonly dump: () => Promise<string>
  readonly drop: () => Promise<void>
}

/** A fresh schema of the `test` database, as packages/store's tests make them. */
export const makePgSchema = async (): Promise<PgSchema> => {
  const name = `sk_security_${process.pid}_${Crypto.randomBytes(5).toString("hex")}`
  await withPg(PG_URL, (sql) => sql.unsafe(`CREATE SCHEMA ${name}`))
  const url = new URL(PG_URL)
  url.searchParams.set("options", `-c search_path=${name}`)
  return {
    url: url.toString(),
    name,
    dump: () =>
      withPg(PG_URL, (sql) =>
        Effect.gen(function*() {
          const tables = yield* sql<{ table_name: string }>`
            SELECT table_name FROM information_schema.tables WHERE table_schema = ${name} ORDER BY table_name`
          if (tables.length === 0) throw new Error(`schema ${name} has no tables: the host did not use it`)
          const out: Array<string> = []
          for (const { table_name } of tables) {
            const rows = yield* sql.unsafe<{ row: string }>(`SELECT t::text AS row FROM ${name}."${table_name}" t`)
            out.push(`-- ${table_name} (${rows.length} rows)`, ...rows.map((r) => r.row))
          }
          return out.join("\n")
        })),
    drop: () => withPg(PG_URL, (sql) => sql.unsafe(`DROP SCHEMA IF EXISTS ${name} CASCADE`)).then(() => undefined)
  }
}

// -----------------------------------------------------------------------------------------------------
// The built host as a process
// -----------------------------------------------------------------------------------------------------

export const MAIN_JS = Path.join(Path.dirname(Url.fileURLToPath(import.meta.url)), "..", "..", "dist", "main.js")
export const built = Fs.existsSync(MAIN_JS)

export interface SpawnedHost {
  readonly child: ChildProcess.ChildProcess
  /** Everything the process wrote to stdout and stderr, as written. */
  readonly output: () => string
  readonly stderr: () => string
  readonly exited: Promise<number | null>
  /** Resolves with the URL from the `listening` log line. */
  readonly listening: Promise<string>
}

/** Starts `node dist/main.js` with only `env` (and PATH). */
export const spawnHost = (env: Record<string, string>): SpawnedHost => {
  const child = ChildProcess.spawn(process.execPath, [MAIN_JS], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  let output = ""
  let stderr = ""
  let resolveUrl: (url: string) => void = () => {}
  let rejectUrl: (e: Error) => void = () => {}
  const listening = new Promise<string>((resolve, reject) => {
    resolveUrl = resolve
    rejectUrl = reject
  })
  // Awaited only by tests that expect the host to start.
  listening.catch(() => {})
  child.stdout!.on("data", (chunk: Buffer) => {
    output += chunk.toString("utf8")
    const m = /"message":"listening".*?"url":"(http:\/\/[^"]+)"/.exec(output)
    if (m) resolveUrl(m[1]!)
  })
  child.stderr!.on("data", (chunk: Buffer) => {
    const s = chunk.toString("utf8")
    output += s
    stderr += s
  })
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (code) => {
      rejectUrl(new Error(`the host exited (${code}) before listening:\n${output}`))
      resolve(code)
    })
  )
  return { child, output: () => output, stderr: () => stderr, exited, listening }
}

/** A `request` over real HTTP to a listening host, recording every response like {@link SecurityHost}. */
export const httpClient = (baseUrl: string, adminToken: string) => {
  const responses: Array<RecordedResponse> = []
  const request: SecurityHost["request"] = async (method, path, opts = {}) => {
    const headers: Record<string, string> = { ...opts.headers }
    if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? adminToken}`
    let body: string | Uint8Array | undefined = opts.rawBody
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body)
      headers["content-type"] ??= "application/json"
    }
    const res = await fetch(`${baseUrl}${path}`, { method, headers, ...(body === undefined ? {} : { body }) })
    const text = await res.text()
    responses.push({ method, path, status: res.status, headers: JSON.stringify([...res.headers]), text })
    let parsed: unknown = undefined
    try {
      parsed = text === "" ? undefined : JSON.parse(text)
    } catch {
      parsed = undefined
    }
    return { status: res.status, headers: res.headers, text, body: parsed }
  }
  return { request, responses }
}

// -----------------------------------------------------------------------------------------------------
// A full admin session
// -----------------------------------------------------------------------------------------------------

export type SessionKeys = {
  /** The organisation's API key (the sandbox accepts it). */
  readonly apiKey: string
  /** A key the organisation rejects, set for a while to get a 401. */
  readonly wrongKey: string
}

/** What a session did, for the checks after it. */
export interface SessionRecord {
  readonly connectionId: string
  readonly accountId: string
  readonly managedAccountId: string
  readonly runs: ReadonlyArray<{ readonly id: string; readonly status: string }>
  readonly startedAt: number
  readonly endedAt: number
}

const expectStatus = (what: string, res: ApiResponse, status: number) => {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${res.text}`)
}

/**
 * A full session of an admin against `sandbox` through the API: create a connection, verify, sync, read
 * every list, dry run, suspend, restore, a refused suspend, a sync failed by a 401, a wrong key set and
 * put back, a settings change, and delete. Throws when a step does not answer as a user would expect.
 */
export const runSession = async (
  request: SecurityHost["request"],
  sandbox: AtlassianSandbox,
  keys: SessionKeys
): Promise<SessionRecord> => {
  const startedAt = Date.now()
  const runs: Array<{ id: string; status: string }> = []
  const created = await request("POST", "/api/connections", {
    body: {
      provider: "atlassian",
      name: "Security session",
      config: { organizationId: sandbox.orgId, apiKey: keys.apiKey, adminEmail: "admin@acme.example", baseUrl: sandbox.url }
    }
  })
  expectStatus("create", created, 201)
  const id: string = created.body.id
  const base = `/api/connections/${id}`
  expectStatus("verify", await request("POST", `${base}/verify`), 200)

  const first = await syncOnce(request, id)
  runs.push({ id: first.body.id, status: first.body.status })
  if (first.body.status !== "succeeded") throw new Error(`first sync: ${first.text}`)

  // Every read.
  expectStatus("list connections", await request("GET", "/api/connections"), 200)
  expectStatus("get connection", await request("GET", base), 200)
  expectStatus("providers", await request("GET", "/api/providers"), 200)
  const page = await request("GET", `${base}/accounts?limit=5`)
  expectStatus("accounts", page, 200)
  expectStatus("next page", await request("GET", `${base}/accounts?limit=5&cursor=${encodeURIComponent(page.body.nextCursor)}`), 200)
  const apps = await request("GET", `${base}/apps`)
  expectStatus("apps", apps, 200)
  if (apps.body.data.length > 0) {
    expectStatus("app accounts", await request("GET", `${base}/apps/${encodeURIComponent(apps.body.data[0].key)}/accounts`), 200)
  }
  expectStatus("syncs", await request("GET", `${base}/syncs`), 200)
  expectStatus("sync", await request("GET", `/api/syncs/${first.body.id}`), 200)
  expectStatus("audit", await request("GET", "/api/audit"), 200)

  // Actions: a dry run, a suspend, a restore, and a suspend the organisation refuses (managed account).
  const [user, managed] = sandbox.users().filter((u) => u.account_status === "active" && u.managedBy === undefined)
  if (user === undefined || managed === undefined) throw new Error("the sandbox has too few active unmanaged users")
  const accountPath = (accountId: string) => `${base}/accounts/${encodeURIComponent(accountId)}`
  expectStatus("account", await request("GET", accountPath(user.account_id)), 200)
  expectStatus("dry run", await request("POST", `${accountPath(user.account_id)}/suspend`, { body: { reason: "audit: dry run", dryRun: true } }), 200)
  expectStatus("suspend", await request("POST", `${accountPath(user.account_id)}/suspend`, { body: { reason: "audit: left" } }), 200)
  expectStatus("restore", await request("POST", `${accountPath(user.account_id)}/restore`, { body: { reason: "audit: back" } }), 200)
  sandbox.updateUser(managed.account_id, { managedBy: "scim" })
  expectStatus("refused suspend", await request("POST", `${accountPath(managed.account_id)}/suspend`, { body: {} }), 502)

  // A sync the organisation answers with 401.
  sandbox.injectFault({ kind: "status", status: 401, shape: "gateway" }, { on: "users", times: 1 })
  const failed = await syncOnce(request, id)
  runs.push({ id: failed.body.id, status: failed.body.status })
  if (failed.body.status !== "failed") throw new Error(`the 401 sync did not fail: ${failed.text}`)

  // A wrong key: verify fails with the organisation's 401; then the right key again.
  expectStatus("wrong key", await request("PATCH", base, { body: { config: { apiKey: keys.wrongKey } } }), 200)
  expectStatus("verify with the wrong key", await request("POST", `${base}/verify`), 502)
  expectStatus("right key", await request("PATCH", base, { body: { config: { apiKey: keys.apiKey } } }), 200)
  // A settings change that leaves the key out keeps it.
  expectStatus("settings", await request("PATCH", base, {
    body: { name: "Security session (renamed)", config: { rateLimit: { requests: 50, windowSeconds: 60 } } }
  }), 200)
  expectStatus("verify again", await request("POST", `${base}/verify`), 200)

  // Refused input that carries the key must not echo it.
  expectStatus("bad create", await request("POST", "/api/connections", {
    body: { provider: "atlassian", name: "Bad", config: { organizationId: "", apiKey: keys.apiKey, adminEmail: "x", baseUrl: "ftp://x" } }
  }), 400)
  expectStatus("malformed JSON", await request("POST", "/api/connections", {
    rawBody: `{"provider":"atlassian","config":{"apiKey":"${keys.apiKey}"`,
    headers: { "content-type": "application/json" }
  }), 400)

  expectStatus("delete", await request("DELETE", base), 204)
  expectStatus("gone", await request("GET", base), 404)
  return { connectionId: id, accountId: user.account_id, managedAccountId: managed.account_id, runs, startedAt, endedAt: Date.now() }
}
