/**
 * What tests of the host's guarantees share: the console captured (where the JSON logger writes), the
 * API's and pages' routes as the app itself lists them, the forms a leaked secret can take, and
 * PostgreSQL schemas to run a host on (skipped with a message when PostgreSQL is not running, required
 * when SEATKEEPER_REQUIRE_SERVICES=1).
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { Hono } from "hono"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Http from "node:http"
import * as Net from "node:net"
import type { AddressInfo } from "node:net"
import * as Path from "node:path"

// -----------------------------------------------------------------------------------------------------
// The console
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
    if (!seen.has(key)) {
      seen.set(key, {
        method: r.method,
        path: r.path,
        params: [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]!)
      })
    }
  }
  return [...seen.values()]
}

/**
 * The page routes: everything the app serves outside `/api`, `/healthz` and `/metrics` (which takes a bearer
 * token, not a session).
 */
export const pageRoutes = (app: Hono): ReadonlyArray<Route> => {
  const seen = new Map<string, Route>()
  for (const r of app.routes) {
    if (
      r.method === "ALL" || r.path.startsWith("/api") || r.path === "/healthz" || r.path === "/metrics" ||
      r.path.includes("*")
    ) continue
    const key = `${r.method} ${r.path}`
    if (!seen.has(key)) {
      seen.set(key, {
        method: r.method,
        path: r.path,
        params: [...r.path.matchAll(/:(\w+)/g)].map((m) => m[1]!)
      })
    }
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
  `${label}-${Crypto.randomBytes(18).toString("base64").replace(/=+$/, "")}/+=Zq${
    Crypto.randomBytes(6).toString("hex")
  }`

/** One request a {@link recordingServer} received. */
export interface SeenRequest {
  readonly method: string
  readonly url: string
  readonly authorization: string | undefined
  readonly headers: Http.IncomingHttpHeaders
}

/**
 * A server on 127.0.0.1 that records every request and answers it with `respond` (default: 200 with an
 * empty users page). It stands in for a host a secret must never reach: another origin, a changed base URL.
 */
export const recordingServer = async (respond?: (req: Http.IncomingMessage, res: Http.ServerResponse) => void) => {
  const seen: Array<SeenRequest> = []
  const server = Http.createServer((req, res) => {
    seen.push({
      method: req.method ?? "",
      url: req.url ?? "",
      authorization: req.headers.authorization,
      headers: req.headers
    })
    if (respond !== undefined) return respond(req, res)
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ data: [], links: {} }))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    seen,
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}

// -----------------------------------------------------------------------------------------------------
// PostgreSQL and Redis
// -----------------------------------------------------------------------------------------------------

export const PG_URL = process.env.SEATKEEPER_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"
export const requireServices = process.env.SEATKEEPER_REQUIRE_SERVICES === "1"

const withPg = <A>(url: string, f: (sql: PgClient.PgClient) => Effect.Effect<A, unknown>): Promise<A> =>
  Effect.runPromise(
    Effect.scoped(
      Effect.flatMap(PgClient.make({ url: Redacted.make(url), maxConnections: 1, connectTimeout: "3 seconds" }), f)
    ).pipe(
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
  if (requireServices) {
    throw new Error(`${suite}: PostgreSQL is required (SEATKEEPER_REQUIRE_SERVICES=1) but unreachable: ${why}`)
  }
  console.warn(`skipping ${suite} on PostgreSQL: ${PG_URL} is unreachable (${why})`)
  return why
}

export interface PgSchema {
  /** A URL whose connections use only this schema (its search_path). */
  readonly url: string
  readonly name: string
  /** Every row of every table of the schema, as PostgreSQL's text form of the row, one per line. */
  readonly dump: () => Promise<string>
  /** The rows of one statement run in the schema (table names unqualified). */
  readonly query: <A extends object = Record<string, unknown>>(statement: string) => Promise<ReadonlyArray<A>>
  readonly drop: () => Promise<void>
}

/** A fresh schema of the `test` database, as packages/store's tests make them. */
export const makePgSchema = async (): Promise<PgSchema> => {
  const name = `sk_host_${process.pid}_${Crypto.randomBytes(5).toString("hex")}`
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
    query: <A extends object>(statement: string) => withPg(url.toString(), (sql) => sql.unsafe<A>(statement)),
    drop: () => withPg(PG_URL, (sql) => sql.unsafe(`DROP SCHEMA IF EXISTS ${name} CASCADE`)).then(() => undefined)
  }
}

/** Whether Redis answers at `REDIS_URL`: `undefined` when it does, else why not. */
export const REDIS_URL = process.env.SEATKEEPER_TEST_REDIS_URL ?? "redis://127.0.0.1:6379"

export const redisUnavailable = (): Promise<string | undefined> =>
  new Promise((resolve) => {
    const url = new URL(REDIS_URL)
    const socket = Net.connect({ host: url.hostname, port: Number(url.port || 6379) })
    const done = (why: string | undefined) => {
      socket.destroy()
      resolve(why)
    }
    socket.setTimeout(2_000, () => done("timed out"))
    socket.once("error", (e) => done(e.message))
    socket.once("connect", () => socket.write("PING\r\n"))
    socket.once("data", (d) =>
      done(d.toString("utf8").startsWith("+PONG") ? undefined : `answered ${d.toString("utf8").trim()}`))
  })

/** Like {@link pgSkipReason}, for Redis. */
export const redisSkipReason = async (suite: string): Promise<string | undefined> => {
  const why = await redisUnavailable()
  if (why === undefined) return undefined
  if (requireServices) {
    throw new Error(`${suite}: Redis is required (SEATKEEPER_REQUIRE_SERVICES=1) but unreachable: ${why}`)
  }
  console.warn(`skipping ${suite} with Redis: ${REDIS_URL} is unreachable (${why})`)
  return why
}

// -----------------------------------------------------------------------------------------------------
// Both stores
// -----------------------------------------------------------------------------------------------------

/** A fresh store for a host: its environment, everything it holds (to search), and how to drop it. */
export interface OpenedStore {
  /** What to add to the host's environment (`DATABASE_URL` for PostgreSQL; nothing for SQLite). */
  readonly env: Record<string, string>
  /** Every byte the store holds: the SQLite files of `dataDir` (database, WAL, shared memory), or a dump. */
  readonly contents: (dataDir: string) => Promise<Buffer>
  readonly close: () => Promise<void>
}

export interface StoreTarget {
  readonly name: "sqlite" | "postgresql"
  readonly open: () => Promise<OpenedStore>
}

const sqliteTarget: StoreTarget = {
  name: "sqlite",
  open: async () => ({
    env: {},
    contents: async (dataDir) =>
      Buffer.concat(
        Fs.readdirSync(dataDir).filter((f) => f.startsWith("seatkeeper.db")).map((f) =>
          Fs.readFileSync(Path.join(dataDir, f))
        )
      ),
    close: async () => {}
  })
}

const pgTarget: StoreTarget = {
  name: "postgresql",
  open: async () => {
    const schema = await makePgSchema()
    return {
      env: { DATABASE_URL: schema.url },
      contents: async () => Buffer.from(await schema.dump(), "utf8"),
      close: schema.drop
    }
  }
}

/**
 * The stores a suite runs on: SQLite always, PostgreSQL when it answers (required with
 * SEATKEEPER_REQUIRE_SERVICES=1). Use with `describe.each(await storeTargets("..."))("on $name", ...)`.
 */
export const storeTargets = async (suite: string): Promise<ReadonlyArray<StoreTarget>> =>
  (await pgSkipReason(suite)) === undefined ? [sqliteTarget, pgTarget] : [sqliteTarget]
