/**
 * Databases, stores and accounts for the store's tests.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as SqlClient from "@effect/sql/SqlClient"
import { describe, it } from "@effect/vitest"
import { type AccountStatus, Entitlement, ProviderAccount } from "@seatkeeper/core/Account"
import { AuditStore } from "@seatkeeper/core/Audit"
import { ConnectionStore } from "@seatkeeper/core/Connection"
import { InventoryStore } from "@seatkeeper/core/Inventory"
import { ReclaimStore } from "@seatkeeper/core/ReclaimStore"
import type { StoreError } from "@seatkeeper/core/StoreError"
import { SyncStore } from "@seatkeeper/core/SyncStore"
import { UserStore } from "@seatkeeper/core/User"
import { WebhookStore } from "@seatkeeper/core/Webhook"
import * as Cause from "effect/Cause"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as SqlStore from "../src/SqlStore.js"

export const SECRET_KEY = Redacted.make(Crypto.randomBytes(32).toString("base64"))
export const OTHER_SECRET_KEY = Redacted.make(Crypto.randomBytes(32).toString("hex"))

// Generated rosters are valid by construction; checking 100,000 of them costs more than the sync.
const trusted = { disableValidation: true } as const

export const entitlement = (product: string, site = "acme", status: AccountStatus = "active", lastActiveAt?: string) =>
  new Entitlement({
    key: `${product}:${site}.atlassian.net`,
    product,
    site,
    siteHost: `${site}.atlassian.net`,
    displayName: `${product} (${site})`,
    status,
    lastActiveAt
  }, trusted)

export const account = (
  externalId: string,
  options: {
    readonly name?: string
    readonly status?: AccountStatus
    readonly lastActiveAt?: string
    readonly entitlements?: ReadonlyArray<Entitlement> | undefined
  } = {}
): ProviderAccount =>
  new ProviderAccount({
    externalId,
    displayName: options.name ?? `User ${externalId}`,
    email: `${externalId.replace(/[^a-z0-9]/gi, "")}@example.com`,
    accountType: "atlassian",
    status: options.status ?? "active",
    sourceStatus: options.status === "suspended" ? "inactive" : "active",
    lastActiveAt: options.lastActiveAt,
    entitlements: "entitlements" in options ? options.entitlements : [entitlement("confluence")]
  }, trusted)

/** `n` accounts with three entitlements each, as a large organisation's roster. */
export const roster = (n: number, offset = 0, variant = ""): Array<ProviderAccount> =>
  Array.from({ length: n }, (_, i) => {
    const id = `user-${String(i + offset).padStart(7, "0")}`
    return new ProviderAccount({
      externalId: id,
      displayName: `Person ${i + offset}${variant}`,
      email: `${id}@example.com`,
      accountType: "atlassian",
      status: i % 20 === 0 ? "suspended" : "active",
      sourceStatus: i % 20 === 0 ? "inactive" : "active",
      lastActiveAt: i % 7 === 0 ? undefined : new Date(Date.UTC(2026, 0, 1) - (i % 200) * 86_400_000).toISOString(),
      entitlements: ["jira-software", "confluence", "jira-servicedesk"].map((product, p) =>
        new Entitlement({
          key: `${product}:acme.atlassian.net`,
          product,
          site: "acme",
          siteHost: "acme.atlassian.net",
          displayName: `${product} (acme)`,
          status: "active",
          lastActiveAt: (i + p) % 5 === 0
            ? undefined
            : new Date(Date.UTC(2026, 0, 1) - ((i + p) % 120) * 86_400_000).toISOString()
        }, trusted)
      )
    }, trusted)
  })

/** A temp dir for one test or suite, removed afterwards. */
export const tempDir = Effect.acquireRelease(
  Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "seatkeeper-store-"))),
  (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
)

export interface StoreOptions {
  readonly secretKey?: Redacted.Redacted<string>
  readonly leaseDuration?: Duration.DurationInput
}

export type Stores = SqlStore.Stores | SqlClient.SqlClient

/**
 * A database for one test; `store` opens an independent store on it (its own connections, as another process
 * would).
 */
export interface TestDatabase {
  readonly dialect: "sqlite" | "pg"
  readonly store: (options?: StoreOptions) => Layer.Layer<Stores, StoreError>
  /** Every byte the database keeps on disk that a test can read (SQLite: the file and its WAL). */
  readonly files: ReadonlyArray<string>
  readonly filename?: string
}

export interface TestTarget {
  readonly name: string
  readonly database: Effect.Effect<TestDatabase, never, Scope.Scope>
}

export const sqliteTarget: TestTarget = {
  name: "SQLite",
  database: Effect.map(tempDir, (dir): TestDatabase => {
    const filename = Path.join(dir, "data", "seatkeeper.db")
    return {
      dialect: "sqlite",
      filename,
      files: [filename, `${filename}-wal`],
      store: (options) =>
        SqlStore.layerSqlite({
          filename,
          secretKey: options?.secretKey ?? SECRET_KEY,
          leaseDuration: options?.leaseDuration
        })
    }
  })
}

export const PG_URL = process.env.SEATKEEPER_TEST_PG_URL ?? "postgres://postgres@127.0.0.1:5432/test"

const pgAdmin = PgClient.make({ url: Redacted.make(PG_URL), maxConnections: 1, connectTimeout: "3 seconds" })

/** A URL to a fresh PostgreSQL schema of the `test` database (its search_path), dropped afterwards. */
export const pgSchemaUrl: Effect.Effect<string, never, Scope.Scope> = Effect.gen(function*() {
  const schema = `sk_test_${process.pid}_${Crypto.randomBytes(5).toString("hex")}`
  const admin = yield* Effect.orDie(pgAdmin)
  yield* Effect.acquireRelease(
    admin.unsafe(`CREATE SCHEMA ${schema}`).pipe(Effect.orDie),
    () => admin.unsafe(`DROP SCHEMA ${schema} CASCADE`).pipe(Effect.ignore)
  )
  const url = new URL(PG_URL)
  url.searchParams.set("options", `-c search_path=${schema}`)
  return url.toString()
}).pipe(Effect.provide(Reactivity.layer))

export const pgTarget: TestTarget = {
  name: "PostgreSQL",
  database: Effect.map(pgSchemaUrl, (url): TestDatabase => ({
    dialect: "pg",
    files: [],
    store: (options) =>
      SqlStore.layerPg({
        url: Redacted.make(url),
        maxConnections: 4,
        secretKey: options?.secretKey ?? SECRET_KEY,
        leaseDuration: options?.leaseDuration
      })
  }))
}

/** Whether PostgreSQL answers; `undefined` when it does, else why not. */
export const pgUnavailable = (): Promise<string | undefined> =>
  Effect.runPromise(
    Effect.scoped(pgAdmin.pipe(Effect.flatMap((sql) => sql`SELECT 1`))).pipe(
      Effect.provide(Reactivity.layer),
      Effect.as(undefined),
      Effect.catchAllCause((cause) => Effect.succeed(String(Cause.squash(cause))))
    )
  )

const pgDown = await pgUnavailable()

/**
 * The targets to run a suite on: SQLite always; PostgreSQL where it answers. CI sets
 * SEATKEEPER_REQUIRE_SERVICES=1 so that its absence fails instead of skipping.
 */
export const targets = (suite: string): ReadonlyArray<TestTarget> => {
  if (pgDown === undefined) return [sqliteTarget, pgTarget]
  if (process.env.SEATKEEPER_REQUIRE_SERVICES === "1") {
    describe(`${suite} on PostgreSQL`, () => {
      it("needs PostgreSQL", () => {
        throw new Error(
          `PostgreSQL at ${PG_URL} is required (SEATKEEPER_REQUIRE_SERVICES=1) but unreachable: ${pgDown}`
        )
      })
    })
  } else {
    console.warn(
      `Skipping ${suite} on PostgreSQL: ${PG_URL} is unreachable (${pgDown}). ` +
        "Set SEATKEEPER_REQUIRE_SERVICES=1 to fail instead."
    )
    describe.skip(`${suite} on PostgreSQL (skipped: ${PG_URL} unreachable)`, () => {
      it("skipped", () => {})
    })
  }
  return [sqliteTarget]
}

/** A database whose lifetime is a layer's (for suites that share one store). */
export const databaseLayer = (target: TestTarget, options?: StoreOptions): Layer.Layer<Stores, StoreError> =>
  Layer.unwrapScoped(Effect.map(target.database, (db) => db.store(options)))

/** Builds one store on a database and returns its services. */
export const openStore = (db: TestDatabase, options?: StoreOptions) =>
  Layer.build(db.store(options)).pipe(
    Effect.map((context) => ({
      connections: Context.get(context, ConnectionStore),
      syncs: Context.get(context, SyncStore),
      inventory: Context.get(context, InventoryStore),
      audit: Context.get(context, AuditStore),
      reclaim: Context.get(context, ReclaimStore),
      users: Context.get(context, UserStore),
      webhooks: Context.get(context, WebhookStore),
      sql: Context.get(context, SqlClient.SqlClient),
      context
    }))
  )
