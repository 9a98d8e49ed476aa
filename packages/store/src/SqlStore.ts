/**
 * All seven storage ports of `@seatkeeper/core` (`ConnectionStore`, `SyncStore`, `InventoryStore`,
 * `AuditStore`, `ReclaimStore`, `UserStore`, `WebhookStore`) over one database: SQLite (one file, WAL; the embedded default) or PostgreSQL (when
 * `DATABASE_URL` is set), with the same migrations and the same behaviour on both.
 *
 * On SQLite the one read-write connection lives in a worker thread: a sync's apply (one transaction, however
 * large the organisation) runs there while the host's event loop keeps answering, and reads run on the
 * main thread against the last committed snapshot.
 *
 * ```ts
 * import { SqlStore } from "@seatkeeper/store"
 * const stores = SqlStore.layerSqlite({ filename: "./data/seatkeeper.db", secretKey })
 * ```
 *
 * @since 0.2.0
 */
import type * as PgClient from "@effect/sql-pg/PgClient"
import type * as SqlClient from "@effect/sql/SqlClient"
import { AuditStore } from "@seatkeeper/core/Audit"
import { ConnectionStore } from "@seatkeeper/core/Connection"
import { InventoryStore } from "@seatkeeper/core/Inventory"
import { ReclaimStore } from "@seatkeeper/core/ReclaimStore"
import { StoreError } from "@seatkeeper/core/StoreError"
import { SyncStore } from "@seatkeeper/core/SyncStore"
import { UserStore } from "@seatkeeper/core/User"
import { WebhookStore } from "@seatkeeper/core/Webhook"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Keys from "./internal/keys.js"
import * as SecretBox from "./internal/secretBox.js"
import * as SqliteWorkerClient from "./internal/sqliteClient.js"
import * as Migrations from "./Migrations.js"
import * as SqlAuditStore from "./SqlAuditStore.js"
import * as SqlConnectionStore from "./SqlConnectionStore.js"
import * as SqlInventoryStore from "./SqlInventoryStore.js"
import * as SqlReclaimStore from "./SqlReclaimStore.js"
import * as SqlSyncStore from "./SqlSyncStore.js"
import * as SqlUserStore from "./SqlUserStore.js"
import * as SqlWebhookStore from "./SqlWebhookStore.js"

/**
 * The services a store layer provides.
 *
 * @since 0.2.0
 * @category models
 */
export type Stores =
  | ConnectionStore
  | SyncStore
  | InventoryStore
  | AuditStore
  | ReclaimStore
  | UserStore
  | WebhookStore

/**
 * @since 0.2.0
 * @category models
 */
export interface SqlStoreOptions {
  /** `SEATKEEPER_SECRET_KEY`: 32 bytes as base64 or hex, or a passphrase of at least 12 characters. */
  readonly secretKey: Redacted.Redacted<string>
  /**
   * How long a sync lock, or a reclaim plan's execution lease, lives without a heartbeat; a run (a plan)
   * whose process stopped is recovered (resumed) once it lapses. Default 30 seconds (the sync and reclaim
   * engines beat every 10).
   */
  readonly leaseDuration?: Duration.DurationInput | undefined
}

/**
 * The seven stores over the `SqlClient` in context: derives the keys (an unusable secret key fails before
 * the database is touched), brings the schema up to date, then builds the stores.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: SqlStoreOptions): Layer.Layer<Stores, StoreError, SqlClient.SqlClient> =>
  Layer.mergeAll(
    Layer.effect(ConnectionStore, SqlConnectionStore.make(options)),
    Layer.effect(SyncStore, SqlSyncStore.make(options)),
    Layer.effect(InventoryStore, SqlInventoryStore.make),
    Layer.effect(AuditStore, SqlAuditStore.make),
    Layer.effect(ReclaimStore, SqlReclaimStore.make(options)),
    Layer.effect(UserStore, SqlUserStore.make),
    Layer.effect(WebhookStore, SqlWebhookStore.make)
  ).pipe(
    Layer.provide(
      Layer.effect(Keys.StoreKeys, Effect.tap(SecretBox.deriveKeys(options.secretKey), () => Migrations.migrate))
    )
  )

// =============================================================================
// SQLite
// =============================================================================

/**
 * @since 0.2.0
 * @category models
 */
export interface SqliteOptions extends SqlStoreOptions {
  /** The database file; its directory is created when missing. */
  readonly filename: string
}

/**
 * A SQLite client on one file (WAL), its writer in a worker thread, with a clear error when the file
 * cannot be opened.
 *
 * @since 0.2.0
 * @category layers
 */
export const sqliteClientLayer = (filename: string): Layer.Layer<SqlClient.SqlClient, StoreError> => {
  const cannotOpen = (cause: unknown) =>
    new StoreError({
      reason: "Unavailable",
      description: `cannot open the SQLite database ${filename}: ${
        (cause as { cause?: { message?: string } })?.cause?.message ??
          (cause instanceof Error ? cause.message : String(cause))
      }; check that the data directory exists and is writable (SEATKEEPER_DATA_DIR)`,
      cause
    })
  return Layer.unwrapEffect(
    Effect.try({
      try: () => Fs.mkdirSync(Path.dirname(Path.resolve(filename)), { recursive: true }),
      catch: cannotOpen
    }).pipe(
      Effect.as(
        SqliteWorkerClient.layer({ filename }).pipe(
          Layer.mapError(cannotOpen),
          Layer.map((context) => Context.omit(SqliteWorkerClient.SqliteWorkerClient)(context))
        )
      )
    )
  )
}

/**
 * The seven stores on a SQLite file. Also provides the `SqlClient`.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerSqlite = (options: SqliteOptions): Layer.Layer<Stores | SqlClient.SqlClient, StoreError> =>
  layer(options).pipe(Layer.provideMerge(sqliteClientLayer(options.filename)))

// =============================================================================
// PostgreSQL
// =============================================================================

/**
 * @since 0.2.0
 * @category models
 */
export interface PgOptions extends SqlStoreOptions {
  /** A `postgres://` URL (`DATABASE_URL`). */
  readonly url: Redacted.Redacted<string>
  /** Connections in the pool. Default 10. */
  readonly maxConnections?: number | undefined
}

const describeUrl = (url: Redacted.Redacted<string>): string => {
  try {
    const parsed = new URL(Redacted.value(url))
    return `${parsed.hostname}:${parsed.port || "5432"}${parsed.pathname}`
  } catch {
    return "DATABASE_URL (not a valid URL)"
  }
}

/**
 * A PostgreSQL client pool, with a clear error (never the URL's password) when it cannot connect. The
 * driver is loaded when the layer is built, so a SQLite deployment never needs it.
 *
 * @since 0.2.0
 * @category layers
 */
export const pgClientLayer = (
  options: Pick<PgOptions, "url" | "maxConnections">
): Layer.Layer<PgClient.PgClient | SqlClient.SqlClient, StoreError> => {
  const cannotConnect = (cause: unknown) =>
    new StoreError({
      reason: "Unavailable",
      description: `cannot connect to PostgreSQL at ${describeUrl(options.url)}: ${
        (cause as { cause?: { message?: string } } | undefined)?.cause?.message ??
          (cause instanceof Error ? cause.message : String(cause))
      }; check DATABASE_URL and that the server accepts connections`
    })
  return Layer.unwrapEffect(
    Effect.tryPromise({ try: () => import("@effect/sql-pg/PgClient"), catch: cannotConnect }).pipe(
      Effect.map((Pg) =>
        Pg.layer({ url: options.url, maxConnections: options.maxConnections ?? 10, applicationName: "seatkeeper" })
          .pipe(
            Layer.mapError(cannotConnect)
          )
      )
    )
  )
}

/**
 * The seven stores on PostgreSQL. Also provides the `SqlClient`.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerPg = (options: PgOptions): Layer.Layer<Stores | SqlClient.SqlClient, StoreError> =>
  layer(options).pipe(Layer.provideMerge(pgClientLayer(options)))

// =============================================================================
// configuration
// =============================================================================

/**
 * Where the store lives: PostgreSQL when `databaseUrl` is set, else SQLite at `${dataDir}/seatkeeper.db`.
 *
 * @since 0.2.0
 * @category models
 */
export interface StoreConfig {
  readonly dataDir: string
  readonly databaseUrl: Option.Option<Redacted.Redacted<string>>
  readonly secretKey: Redacted.Redacted<string>
}

/**
 * The stores chosen from a config: PostgreSQL when a database URL is set, else SQLite in the data dir.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config.Wrap<StoreConfig>,
  options: { readonly leaseDuration?: Duration.DurationInput | undefined } = {}
): Layer.Layer<Stores | SqlClient.SqlClient, StoreError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(
    Effect.map(Config.unwrap(config), (c) =>
      Option.match(
        Option.filter(c.databaseUrl, (url) => Redacted.value(url).trim() !== ""),
        {
          onNone: () =>
            layerSqlite({ filename: Path.join(c.dataDir, "seatkeeper.db"), secretKey: c.secretKey, ...options }),
          onSome: (url) => layerPg({ url, secretKey: c.secretKey, ...options })
        }
      ))
  )

/**
 * The stores from the environment: `DATABASE_URL`, `SEATKEEPER_DATA_DIR` (default `./.seatkeeper`) and
 * `SEATKEEPER_SECRET_KEY`.
 *
 * @since 0.2.0
 * @category layers
 */
export const layerFromEnv: Layer.Layer<Stores | SqlClient.SqlClient, StoreError | ConfigError.ConfigError> =
  layerConfig({
    dataDir: Config.string("SEATKEEPER_DATA_DIR").pipe(Config.withDefault("./.seatkeeper")),
    databaseUrl: Config.option(Config.redacted("DATABASE_URL")),
    secretKey: Config.redacted("SEATKEEPER_SECRET_KEY")
  })
