/**
 * Builders for provider accounts and databases used by the store and sync engine tests.
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as SqlClient from "@effect/sql/SqlClient"
import * as PgClient from "@effect/sql-pg/PgClient"
import { type AccountStatus, Entitlement, ProviderAccount } from "@seatkeeper/core/Account"
import { LicenseStore, type StoreError } from "@seatkeeper/core/LicenseStore"
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
import * as SqlLicenseStore from "../src/SqlLicenseStore.js"

export const SECRET_KEY = Redacted.make(Crypto.randomBytes(32).toString("base64"))
export const OTHER_SECRET_KEY = Redacted.make(Crypto.randomBytes(32).toString("hex"))

export const NO_REQUESTS = { requests: 0, retries: 0, rateLimited: 0 } as const

export interface EntitlementSpec {
  readonly product: string
  readonly site?: string
  readonly status?: AccountStatus
  readonly lastActiveAt?: string
}

// Generated rosters are valid by construction; checking 20,000 of them costs more than the sync.
const trusted = { disableValidation: true } as const

export const entitlement = (spec: EntitlementSpec): Entitlement =>
  new Entitlement({
    key: spec.site === undefined ? spec.product : `${spec.product}:${spec.site}`,
    product: spec.product,
    ...(spec.site === undefined ? {} : { site: spec.site }),
    displayName: spec.site === undefined ? spec.product : `${spec.product} (${spec.site})`,
    status: spec.status ?? "active",
    ...(spec.lastActiveAt === undefined ? {} : { lastActiveAt: spec.lastActiveAt })
  }, trusted)

export const account = (
  externalId: string,
  options: {
    readonly name?: string
    readonly email?: string | null
    readonly status?: AccountStatus
    readonly sourceStatus?: string
    readonly lastActiveAt?: string
    readonly entitlements?: ReadonlyArray<EntitlementSpec>
  } = {}
): ProviderAccount =>
  new ProviderAccount({
    externalId,
    displayName: options.name ?? `User ${externalId}`,
    ...(options.email === null ? {} : { email: options.email ?? `${externalId.replace(/[^a-z0-9]/gi, "")}@example.com` }),
    accountType: "atlassian",
    status: options.status ?? "active",
    sourceStatus: options.sourceStatus ?? (options.status === "suspended" ? "inactive" : "active"),
    ...(options.lastActiveAt === undefined ? {} : { lastActiveAt: options.lastActiveAt }),
    entitlements: (options.entitlements ?? [{ product: "confluence", site: "acme" }]).map(entitlement)
  }, trusted)

export const daysAgo = (now: string, days: number): string => new Date(Date.parse(now) - days * 86_400_000).toISOString()

/** A database for one test; `store` makes an independent store on it (its own connection pool, as another process would). */
export interface TestDatabase {
  readonly dialect: "sqlite" | "pg"
  readonly store: (
    options?: Partial<SqlLicenseStoreOptionsLike>
  ) => Layer.Layer<LicenseStore | SqlClient.SqlClient, StoreError>
  /** Every byte the database keeps on disk that this test can read (SQLite: the file and its WAL). */
  readonly files: ReadonlyArray<string>
}

interface SqlLicenseStoreOptionsLike {
  readonly secretKey: Redacted.Redacted<string>
  readonly leaseDuration: Duration.DurationInput
}

export interface TestTarget {
  readonly name: string
  readonly database: Effect.Effect<TestDatabase, never, Scope.Scope>
}

/** A fresh SQLite file in a temp dir, removed afterwards. */
export const sqliteTarget: TestTarget = {
  name: "SQLite",
  database: Effect.acquireRelease(
    Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "seatkeeper-store-"))),
    (dir) => Effect.sync(() => Fs.rmSync(dir, { recursive: true, force: true }))
  ).pipe(Effect.map((dir): TestDatabase => {
    const filename = Path.join(dir, "data", "seatkeeper.db")
    return {
      dialect: "sqlite",
      files: [filename, `${filename}-wal`],
      store: (options) =>
        SqlLicenseStore.layerSqlite({
          filename,
          secretKey: options?.secretKey ?? SECRET_KEY,
          leaseDuration: options?.leaseDuration
        })
    }
  }))
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

/** A fresh PostgreSQL schema, dropped afterwards. */
export const pgTarget: TestTarget = {
  name: "PostgreSQL",
  database: Effect.map(pgSchemaUrl, (url): TestDatabase => ({
    dialect: "pg",
    files: [],
    store: (options) =>
      SqlLicenseStore.layerPg({
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

/** Builds one store on a database and returns its services. */
export const openStore = (db: TestDatabase, options?: Partial<SqlLicenseStoreOptionsLike>) =>
  Layer.build(db.store(options)).pipe(
    Effect.map((context) => ({ store: Context.get(context, LicenseStore), sql: Context.get(context, SqlClient.SqlClient) }))
  )
