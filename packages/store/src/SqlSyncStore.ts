/**
 * The `SyncStore` of `@seatkeeper/core` over `@effect/sql` (SQLite and PostgreSQL): a run's lock, its
 * staging, the confirmation of absent accounts, and the one atomic apply.
 *
 * - The lock is a row per connection taken by one atomic upsert, with a lease renewed by heartbeats; a
 *   dead owner's run is recovered when its lease expires, never by guessing whether a process lives
 *   (invariant 8).
 * - A run stages into tables of its own (internal/runs.ts), keyed by the order readings arrive in: a listing
 *   whose ids come in no order (Atlassian's) appends at the end of each table instead of writing all over a
 *   B-tree. The index by account is built once the listing is complete ("sealing"), which is also when an
 *   account listed twice keeps only its last listing; the tables are dropped when the run ends.
 * - Staging compares each account's `Account.digest` with the stored one: only a reading that changed (or
 *   is new) is staged in full; an unchanged one is a single small row, and applying it writes nothing. An
 *   unchanged account still listed takes its last-seen time from the connection's last applied run, so a
 *   steady-state resync of 100,000 accounts does not rewrite 100,000 rows. On SQLite the stored digests of a
 *   chunk are looked up in the writer's thread, and the chunk written there, while the event loop reads the
 *   next page: the event loop only computes the digests.
 * - While staging, the store counts what the listing's absentees and the apply's "not read this time" need (how
 *   many listed accounts were stored, and read by the last apply), so that a run in which nobody left never
 *   compares the whole roster with the whole listing.
 * - `apply` is one transaction of set-based statements whose joins are all index lookups (invariant 1);
 *   an admin's suspend or restore newer than the run's start keeps its status (invariant 11).
 * - Memory is O(chunk), but for a 64-bit fingerprint per listed account (the count of distinct accounts is
 *   exact: a fingerprint seen before is checked against the staging).
 *
 * @since 0.2.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { Fragment } from "@effect/sql/Statement"
import { digest, type ProviderAccount, readInstant } from "@seatkeeper/core/Account"
import { AccountStatus } from "@seatkeeper/core/Account"
import { editionOf, type License } from "@seatkeeper/core/License"
import * as Seats from "@seatkeeper/core/Seats"
import { StoreError, SyncAlreadyRunning } from "@seatkeeper/core/StoreError"
import type { RunCounters, SyncHold, SyncRun, SyncRunError } from "@seatkeeper/core/SyncRun"
import {
  type AbsenceVerdict,
  type Absentee,
  type RunSummary,
  type SettleRule,
  SyncStore,
  TAKEOVER_GRACE_MS
} from "@seatkeeper/core/SyncStore"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"
import { runColumns } from "./internal/rows.js"
import {
  createStaging,
  dropStaging,
  recover,
  RunFromRow,
  selectRun,
  type StagingTables,
  stagingTables
} from "./internal/runs.js"
import {
  type BulkColumn,
  conflict,
  Count,
  flag,
  fromSqlError,
  inIds,
  insertMany,
  iso,
  isPg,
  lockConnection,
  notFound,
  orStoreError,
  text,
  textOrNull
} from "./internal/sql.js"
import { isSqliteWorkerClient } from "./internal/sqliteClient.js"
import * as Migrations from "./Migrations.js"

/**
 * @since 0.2.0
 * @category models
 */
export interface SqlSyncStoreOptions {
  /** How long a sync lock lives without a heartbeat. Default 30 seconds. */
  readonly leaseDuration?: Duration.DurationInput | undefined
}

/** Accounts applied at once from which the database's statistics are refreshed after the commit. */
const MAINTENANCE_THRESHOLD = 5_000
/** New accounts in one apply from which PostgreSQL analyses the tables before the apply goes on. */
const ANALYZE_AFTER_CREATED = 1_000

/** Chunks of a run written at once in the background. */
const MAX_IN_FLIGHT = 2

// =============================================================================
// staging rows
// =============================================================================

const RUN_ACCOUNT_COLUMNS: ReadonlyArray<BulkColumn> = [
  { name: "seq", type: "int" },
  { name: "external_id", type: "text" },
  { name: "reading", type: "int" },
  { name: "listed", type: "int" },
  { name: "verdict", type: "text" },
  { name: "kind", type: "text" },
  { name: "work", type: "int" },
  { name: "source_hash", type: "text" },
  { name: "status", type: "text" },
  { name: "email", type: "text" },
  { name: "display_name", type: "text" },
  { name: "account_type", type: "text" },
  { name: "source_status", type: "text" },
  { name: "last_active_at", type: "text" },
  { name: "activity_source", type: "text" },
  { name: "billable", type: "int" },
  { name: "managed", type: "int" },
  { name: "added_at", type: "text" },
  { name: "roles_json", type: "text" },
  { name: "groups_json", type: "text" },
  { name: "attributes_json", type: "text" },
  { name: "has_entitlements", type: "int" },
  { name: "sort_key", type: "text" },
  { name: "email_key", type: "text" },
  { name: "search_text", type: "text" }
]

/** What is staged of an unchanged reading, or of a verdict. */
const SAME_COLUMNS = RUN_ACCOUNT_COLUMNS.slice(0, 9)

const RUN_ENTITLEMENT_COLUMNS: ReadonlyArray<BulkColumn> = [
  { name: "seq", type: "int" },
  { name: "key", type: "text" },
  { name: "name", type: "text" },
  { name: "product", type: "text" },
  { name: "site", type: "text" },
  { name: "site_host", type: "text" },
  { name: "status", type: "text" },
  { name: "last_active_at", type: "text" },
  { name: "activity_source", type: "text" },
  { name: "role", type: "text" },
  { name: "billable", type: "int" }
]

const RUN_LICENSE_COLUMNS: ReadonlyArray<BulkColumn> = [
  { name: "run_id", type: "text" },
  { name: "key", type: "text" },
  { name: "product", type: "text" },
  { name: "product_name", type: "text" },
  { name: "site", type: "text" },
  { name: "site_host", type: "text" },
  { name: "plan", type: "text" },
  { name: "edition", type: "text" },
  { name: "seats_purchased", type: "int" },
  { name: "seats_used_by_source", type: "int" },
  { name: "status", type: "text" },
  { name: "source_id", type: "text" }
]

type Value = string | number | null
type Kind = "new" | "changed" | "same"

interface StagedRows {
  /** Readings staged in full (`RUN_ACCOUNT_COLUMNS`). */
  readonly accounts: Array<ReadonlyArray<Value>>
  /** Unchanged readings: their first `SAME_COLUMNS` only (the rest are null). */
  readonly same: Array<ReadonlyArray<Value>>
  readonly entitlements: Array<ReadonlyArray<Value>>
}

/** A reading to stage: its place in the run's arrival order, and whether the run listed the account already. */
interface Reading {
  readonly seq: number
  readonly id: string
  readonly account: ProviderAccount
  readonly repeat: boolean
}

// Most instants arrive in the stored form already (adapters read them with Account.readInstant), which
// readInstant checks digit by digit, without a regular expression or a Date.
const instant = (value: string | undefined): string | null => readInstant(value) ?? null

/** Row values of a reading: its full fields only when applying it will write them. */
const readingValues = (account: ProviderAccount): ReadonlyArray<Value> => {
  const email = account.email === undefined ? null : text(account.email)
  const displayName = text(account.displayName)
  const externalId = text(account.externalId)
  return [
    email,
    displayName,
    text(account.accountType),
    text(account.sourceStatus),
    instant(account.lastActiveAt),
    textOrNull(account.activitySource),
    flag(account.billable),
    flag(account.managed),
    instant(account.addedAt),
    account.roles === undefined ? null : JSON.stringify(account.roles.map(text)),
    account.groups === undefined ? null : JSON.stringify(account.groups.map(text)),
    account.attributes === undefined ? null : JSON.stringify(account.attributes),
    account.entitlements === undefined ? 0 : 1,
    (displayName || email || externalId).toLowerCase(),
    (email ?? "").toLowerCase(),
    [email ?? "", displayName, externalId].join("\n").toLowerCase()
  ]
}

/** The entitlement rows of a reading that lists them, by the reading's `seq`; the first of a repeated key wins. */
const entitlementValues = (seq: number, account: ProviderAccount, rows: Array<ReadonlyArray<Value>>) => {
  if (account.entitlements === undefined) return
  const seen = new Set<string>()
  for (const e of account.entitlements) {
    const key = text(e.key)
    if (seen.has(key)) continue
    seen.add(key)
    rows.push([
      seq,
      key,
      text(e.displayName),
      text(e.product),
      textOrNull(e.site),
      textOrNull(e.siteHost),
      e.status,
      instant(e.lastActiveAt),
      textOrNull(e.activitySource),
      textOrNull(e.role),
      flag(e.billable)
    ])
  }
}

const licenseValues = (runId: string, l: License): ReadonlyArray<Value> => [
  runId,
  text(l.key),
  text(l.product),
  text(l.productName),
  textOrNull(l.site),
  textOrNull(l.siteHost),
  textOrNull(l.plan),
  l.edition ?? editionOf(l.plan) ?? null,
  l.seatsPurchased ?? null,
  l.seatsUsedBySource ?? null,
  textOrNull(l.status),
  textOrNull(l.sourceId)
]

// What is stored of an account, as one number read by its id and a reading's digest (null: not stored), for
// every account of every chunk: bit 1 the stored digest is the reading's, 2 the last apply read it, 4 it is
// counted absent, 8 it is not deprovisioned. SQLite computes it in the writer's thread.
const SAME = 1
const SEEN = 2
const ABSENT = 4
const LIVE = 8
const storedCode = (account: string, hash: string) =>
  `(CASE WHEN ${account}.source_hash = ${hash} THEN ${SAME} ELSE 0 END) + ` +
  `(CASE WHEN ${account}.seen_last = 1 THEN ${SEEN} ELSE 0 END) + ` +
  `(CASE WHEN ${account}.absent_runs > 0 THEN ${ABSENT} ELSE 0 END) + ` +
  `(CASE WHEN ${account}.status <> 'deprovisioned' THEN ${LIVE} ELSE 0 END)`
const LOOKUP_STORED = `SELECT ${storedCode("a", "k.hash")} FROM (SELECT ? AS connection_id, ? AS id, ? AS hash) k ` +
  "CROSS JOIN accounts a WHERE a.connection_id = k.connection_id AND a.external_id = k.id"

const StoredCodes = Schema.Array(Schema.NullOr(Schema.Number))
const isStoredCodes = Schema.is(StoredCodes)
const decodeStoredCodes = (rows: ReadonlyArray<unknown>) =>
  isStoredCodes(rows) ? Effect.succeed(rows) : Schema.decodeUnknown(StoredCodes)(rows)
const decodeCodeRows = Schema.decodeUnknown(Schema.Array(Schema.Struct({ code: Schema.NullOr(Count) })))

const StagingCounts = Schema.Struct({ live: Count, seen: Count, repeats: Count, acted: Count })
const decodeStagingCounts = Schema.decodeUnknown(Schema.Array(StagingCounts))

const LocalState = Schema.Struct({
  accounts: Count,
  last: Count,
  sealed: Schema.NullOr(Count),
  stored: Count
})
const decodeLocalState = Schema.decodeUnknown(Schema.Array(LocalState))

const Sealing = Schema.Struct({ repeats: Count, sealed: Count })
const decodeSealing = Schema.decodeUnknown(Schema.Array(Sealing))

const decodeExternalIds = Schema.decodeUnknown(Schema.Array(Schema.Struct({ external_id: Schema.String })))

const ConnectionOfLock = Schema.Struct({ connection_id: Schema.String })
const decodeConnectionOfLock = Schema.decodeUnknown(Schema.Array(ConnectionOfLock))

const decodeIds = Schema.decodeUnknown(Schema.Array(Schema.Struct({ id: Schema.String })))

const Holder = Schema.Struct({ run_id: Schema.String })
const decodeHolder = Schema.decodeUnknown(Schema.Array(Holder))

const AccountsCount = Schema.Struct({ accounts: Count })
const decodeAccountsCount = Schema.decodeUnknown(Schema.Array(AccountsCount))

const Applied = Schema.Struct({ applied_at: Schema.NullOr(Schema.String), applied_seq: Count })
const decodeApplied = Schema.decodeUnknown(Schema.Array(Applied))

const RunState = Schema.Struct({ started_at: Schema.String, accounts: Count, licenses_staged: Count })
const decodeRunState = Schema.decodeUnknown(Schema.Array(RunState))

const VerdictCounts = Schema.Struct({ gone: Count, present: Count, pending: Count })
const decodeVerdictCounts = Schema.decodeUnknown(Schema.Array(VerdictCounts))

const WorkCounts = Schema.Struct({ created: Count, updated: Count, present: Count })
const decodeWorkCounts = Schema.decodeUnknown(Schema.Array(WorkCounts))

const Effects = Schema.Struct({ kept_read: Count, deprov_read: Count, kept_gone: Count, deprov_gone: Count })
const decodeEffects = Schema.decodeUnknown(Schema.Array(Effects))

const Before = Schema.Struct({ accounts_before: Count, active_before: Count })
const decodeBefore = Schema.decodeUnknown(Schema.Array(Before))

const N = Schema.Struct({ n: Count })
const decodeN = Schema.decodeUnknown(Schema.Array(N))
const firstN = (rows: ReadonlyArray<{ readonly n: number }>) => rows[0]?.n ?? 0

const AbsenteeRow = Schema.Struct({ external_id: Schema.String, status: AccountStatus, absent_runs: Count })
const decodeAbsentees = Schema.decodeUnknown(Schema.Array(AbsenteeRow))

/**
 * The accounts a run listed so far, as 64-bit fingerprints of their ids in an open-addressed table (8 bytes an
 * account, twice that at most with the table's room). `has` can be wrong only by saying yes (two ids with one
 * fingerprint), which the store then checks against the staging; never by saying no.
 */
class Fingerprints {
  private slots = new Uint32Array(2 * 1_024)
  private size = 0
  private h1 = 0
  private h2 = 0

  private hash(id: string) {
    let a = 0x811c9dc5
    let b = 0x9747b28c
    for (let i = 0; i < id.length; i++) {
      const c = id.charCodeAt(i)
      a = Math.imul(a ^ c, 0x01000193)
      b = Math.imul(b ^ c, 0x5bd1e995)
      b ^= b >>> 15
    }
    a ^= a >>> 16
    a = Math.imul(a, 0x85ebca6b)
    a ^= a >>> 13
    a = Math.imul(a, 0xc2b2ae35)
    a ^= a >>> 16
    b ^= b >>> 16
    b = Math.imul(b, 0x7feb352d)
    b ^= b >>> 15
    b = Math.imul(b, 0x846ca68b)
    b ^= b >>> 16
    this.h1 = a >>> 0
    // (0, 0) marks an empty slot.
    this.h2 = (b | 1) >>> 0
  }

  /** The slot of the current fingerprint: where it is, or the empty one where it would go. */
  private find(slots: Uint32Array) {
    const mask = (slots.length >>> 1) - 1
    let i = this.h1 & mask
    while (true) {
      const at = i << 1
      if (slots[at + 1] === 0 || (slots[at] === this.h1 && slots[at + 1] === this.h2)) return at
      i = (i + 1) & mask
    }
  }

  has(id: string): boolean {
    this.hash(id)
    return this.slots[this.find(this.slots) + 1] !== 0
  }

  add(id: string): void {
    this.hash(id)
    const at = this.find(this.slots)
    if (this.slots[at + 1] !== 0) return
    this.slots[at] = this.h1
    this.slots[at + 1] = this.h2
    this.size++
    if (this.size * 2 > this.slots.length >>> 1) this.grow()
  }

  private grow() {
    const old = this.slots
    const slots = new Uint32Array(old.length * 2)
    for (let at = 0; at < old.length; at += 2) {
      if (old[at + 1] === 0) continue
      this.h1 = old[at]!
      this.h2 = old[at + 1]!
      const to = this.find(slots)
      slots[to] = this.h1
      slots[to + 1] = this.h2
    }
    this.slots = slots
  }
}

const lockLost = (runId: string) =>
  conflict(
    `sync run ${runId} no longer holds its connection's sync lock (its lease expired and the run was ` +
      `recovered as interrupted); nothing more of it is applied`
  )

// =============================================================================
// the store
// =============================================================================

/**
 * The sync store over the `SqlClient` in context; the schema must be migrated (the layers do it).
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (
  options: SqlSyncStoreOptions = {}
): Effect.Effect<SyncStore["Type"], never, SqlClient.SqlClient> =>
  Effect.gen(function*() {
    const sql = yield* SqlClient.SqlClient
    const leaseMs = Duration.toMillis(Duration.decode(options.leaseDuration ?? Duration.seconds(30)))
    const pg = isPg(sql)
    const T = (value: string) => sql`CAST(${value} AS TEXT)`
    // The rows of a run the apply works on (new, changed, verdicts): a steady-state resync of 100,000
    // accounts has a few hundred. SQLite is told to read them from the partial index that holds only them
    // (without statistics on a table made for the run, it could read all the run's rows).
    const workRowsOf = (t: StagingTables, alias = "s") =>
      sql.literal(pg ? `${t.accounts} ${alias}` : `${t.accounts} ${alias} INDEXED BY ${t.work}`)

    // --- runs and the lock --------------------------------------------------------------------------

    const requireRun = (id: string) =>
      Effect.flatMap(selectRun(sql, id), (run) =>
        run === undefined ? Effect.fail(notFound(`sync run ${id} does not exist`)) : Effect.succeed(run))

    /** Renews the lease of a run that holds its connection's lock and is running; returns the connection. */
    const holding = (runId: string, now: number) =>
      Effect.gen(function*() {
        const held = yield* sql`UPDATE sync_locks SET lease_expires_at = ${iso(now + leaseMs)}
          WHERE run_id = ${runId}
            AND EXISTS (SELECT 1 FROM sync_runs r WHERE r.id = ${runId} AND r.status = 'running')
          RETURNING connection_id`.pipe(Effect.flatMap(decodeConnectionOfLock))
        if (held[0] !== undefined) {
          return held[0].connection_id
        }
        yield* requireRun(runId)
        return yield* lockLost(runId)
      })

    /** Whether the run still holds its lock (the committed state, without renewing it). */
    const stillHolding = (runId: string) =>
      Effect.gen(function*() {
        const rows = yield* sql`SELECT l.connection_id FROM sync_locks l CROSS JOIN sync_runs r
          WHERE l.run_id = ${runId} AND r.id = l.run_id AND r.status = 'running'`
        if (rows.length > 0) {
          return
        }
        yield* requireRun(runId)
        return yield* lockLost(runId)
      })

    const takeLock = (connectionId: string, runId: string, owner: string, now: number) =>
      sql`INSERT INTO sync_locks (connection_id, run_id, owner, acquired_at, lease_expires_at)
        VALUES (${connectionId}, ${runId}, ${text(owner)}, ${iso(now)}, ${iso(now + leaseMs)})
        ON CONFLICT (connection_id) DO UPDATE SET
          run_id = excluded.run_id, owner = excluded.owner,
          acquired_at = excluded.acquired_at, lease_expires_at = excluded.lease_expires_at
        WHERE sync_locks.lease_expires_at < ${iso(now - TAKEOVER_GRACE_MS)}
        RETURNING run_id`.pipe(
        Effect.flatMap(decodeHolder),
        Effect.map((rows) =>
          rows[0]?.run_id === runId
        )
      )

    const holderOf = (connectionId: string) =>
      sql`SELECT run_id FROM sync_locks WHERE connection_id = ${connectionId}`.pipe(
        Effect.flatMap(decodeHolder),
        Effect.map((rows) => rows[0]?.run_id)
      )

    const connectionExists = (connectionId: string) =>
      Effect.map(sql`SELECT 1 AS n FROM connections WHERE id = ${connectionId}`, (rows) => rows.length > 0)

    const start: SyncStore["Type"]["start"] = Effect.fn("SqlSyncStore.start")(
      function*(connectionId: string, owner: string) {
        const now = yield* Clock.currentTimeMillis
        yield* recover(sql, now, connectionId, now - TAKEOVER_GRACE_MS).pipe(
          orStoreError("cannot recover the connection's abandoned runs")
        )
        return yield* Effect.gen(function*() {
          if (!(yield* connectionExists(connectionId))) {
            return yield* notFound(`connection ${connectionId} does not exist`)
          }
          const runId = Crypto.randomUUID()
          for (let attempt = 0; attempt < 3; attempt++) {
            if (yield* takeLock(connectionId, runId, owner, now)) {
              // On PostgreSQL the upsert may have waited for the previous holder's commit: read the clock
              // again, so this run never looks as if it started before the previous one finished.
              const at = iso(Math.max(now, yield* Clock.currentTimeMillis))
              return yield* sql.withTransaction(Effect.gen(function*() {
                // A held run of this connection is superseded: its reading is older than this one.
                const decision = JSON.stringify({ decision: "supersede", actor: "system", at })
                const superseded = yield* sql`UPDATE sync_runs SET status = 'superseded', decision = ${decision}
                WHERE connection_id = ${connectionId} AND status = 'held' RETURNING id`.pipe(Effect.flatMap(decodeIds))
                for (const row of superseded) yield* dropStaging(sql, row.id)
                yield* sql`INSERT INTO sync_runs (id, connection_id, status, owner, started_at, heartbeat_at)
                VALUES (${runId}, ${connectionId}, 'running', ${text(owner)}, ${at}, ${at})`
                yield* createStaging(sql, runId)
                // The connection may have been removed between the check and the lock.
                if (!(yield* connectionExists(connectionId))) {
                  return yield* notFound(`connection ${connectionId} does not exist`)
                }
                return yield* requireRun(runId)
              })).pipe(
                Effect.tapError(() => sql`DELETE FROM sync_locks WHERE run_id = ${runId}`.pipe(Effect.ignore))
              )
            }
            const holder = yield* holderOf(connectionId)
            if (holder !== undefined) {
              if (holder.startsWith("delete:")) return yield* notFound(`connection ${connectionId} is being deleted`)
              return yield* new SyncAlreadyRunning({ connectionId, runId: holder })
            }
            // The holder let go between the two statements: try again.
          }
          return yield* conflict(`the sync lock of connection ${connectionId} is changing hands too fast; try again`)
        }).pipe(orStoreError("cannot start a sync run"))
      }
    )

    const heartbeat: SyncStore["Type"]["heartbeat"] = Effect.fn("SqlSyncStore.heartbeat")(function*(runId: string) {
      const now = yield* Clock.currentTimeMillis
      yield* holding(runId, now).pipe(orStoreError("cannot renew the sync lock"))
    })

    // --- staging ------------------------------------------------------------------------------------

    /** What is stored of the accounts `ids` (as `storedCode`s against `digests`), in their order. */
    const storedCodes = (connectionId: string, ids: ReadonlyArray<string>, digests: ReadonlyArray<string>) =>
      (pg
        ? sql`SELECT CASE WHEN a.status IS NULL THEN NULL ELSE ${sql.literal(storedCode("a", "j.digest"))} END AS code
          FROM unnest(CAST(${ids} AS TEXT[]), CAST(${digests} AS TEXT[])) WITH ORDINALITY AS j (value, digest, n)
          LEFT JOIN LATERAL (SELECT a.source_hash, a.seen_last, a.absent_runs, a.status FROM accounts a
            WHERE a.connection_id = ${connectionId} AND a.external_id = j.value) a ON true
          ORDER BY j.n`
        : sql`SELECT CASE WHEN a.status IS NULL THEN NULL ELSE ${
          sql.literal(storedCode("a", "json_extract(j.value, '$[1]')"))
        } END AS code
          FROM json_each(${JSON.stringify(ids.map((id, i) => [id, digests[i]]))}) j
          LEFT JOIN accounts a ON a.connection_id = ${connectionId} AND a.external_id = json_extract(j.value, '$[0]')
          ORDER BY j.key`).pipe(
          Effect.flatMap(decodeCodeRows),
          Effect.map((rows) => rows.map((row) => row.code))
        )

    /**
     * The rows of readings, and what they add to the run's counts: the stored digest decides how much of each is
     * staged. `digests[i]` is `readings[i]`'s digest, `codes[i]` what is stored of its account.
     */
    const readingRows = (
      readings: ReadonlyArray<Reading>,
      digests: ReadonlyArray<string>,
      codes: ReadonlyArray<number | null>,
      listed: boolean
    ) => {
      const rows: StagedRows = { accounts: [], same: [], entitlements: [] }
      let live = 0
      let seen = 0
      for (let i = 0; i < readings.length; i++) {
        const { account, id, repeat, seq } = readings[i]!
        const code = codes[i] ?? null
        const kind: Kind = code === null ? "new" : (code & SAME) !== 0 ? "same" : "changed"
        // An unchanged reading of an account that missed the last apply still moves its streak and
        // last-seen time; a verdict row is always worked on.
        const work = code === null || kind !== "same" || !listed || (code & SEEN) === 0 || (code & ABSENT) !== 0
          ? 1
          : 0
        const head = [seq, id, 1, listed ? 1 : 0, listed ? null : "present", kind, work, digests[i]!, account.status]
        if (kind === "same") {
          rows.same.push(head)
        } else {
          rows.accounts.push([...head, ...readingValues(account)])
          entitlementValues(seq, account, rows.entitlements)
        }
        if (listed && !repeat && code !== null) {
          if ((code & LIVE) !== 0) live++
          if ((code & SEEN) !== 0) seen++
        }
      }
      return { rows, live, seen }
    }

    const stageRows = (t: StagingTables, rows: StagedRows) =>
      Effect.all([
        insertMany(sql, t.accounts, RUN_ACCOUNT_COLUMNS, rows.accounts),
        insertMany(sql, t.accounts, SAME_COLUMNS, rows.same),
        insertMany(sql, t.entitlements, RUN_ENTITLEMENT_COLUMNS, rows.entitlements)
      ], { discard: true })

    // --- staging in the background --------------------------------------------------------------------
    //
    // A chunk is counted at once (its distinct accounts, exactly) and written by a fiber of its own: the stored
    // digests looked up, the rows made, the rows written, while the engine reads the next page (on SQLite the
    // lookup and the write run in the writer's thread). At most a few chunks are in flight (memory stays
    // O(chunk)); everything else a run does waits for them, and a write that failed fails the run's next call.

    interface InFlight {
      readonly done: Deferred.Deferred<void, StoreError>
    }
    interface LocalRun {
      readonly connectionId: string
      readonly tables: StagingTables
      staged: number
      /** The `seq` of the run's next row. */
      nextSeq: number
      /** The connection had no accounts when the run began staging: every reading is new, none is looked up. */
      readonly empty: boolean
      readonly listed: Fingerprints
      sealed: boolean
      indexed: boolean
      readonly inFlight: Array<InFlight>
      failure: StoreError | undefined
    }
    const locals = new Map<string, LocalRun>()

    /** Waits for the run's chunks being written; fails with the first write that failed. */
    const settled = (runId: string) =>
      Effect.gen(function*() {
        const local = locals.get(runId)
        if (local === undefined) return
        while (local.inFlight.length > 0) yield* Deferred.await(local.inFlight[0]!.done).pipe(Effect.ignore)
        if (local.failure !== undefined) return yield* local.failure
      })

    /**
     * The staging's index by account, built (once the listing is complete, in one pass) the first time a statement
     * needs it: a resync in which nobody left, nobody was listed twice and no admin acted never does.
     */
    const indexed = (t: StagingTables, runId: string) =>
      Effect.suspend(() => {
        const local = locals.get(runId)
        if (local?.indexed === true) return Effect.void
        return sql.unsafe(`CREATE INDEX IF NOT EXISTS ${t.byAccount} ON ${t.accounts} (external_id)`).pipe(
          Effect.tap(() => {
            if (local !== undefined) local.indexed = true
          }),
          Effect.asVoid
        )
      })

    /**
     * `settled`, then the staging sealed, once per listing: only the last listing of an account left (a verdict
     * about an account the listing returned goes too). A staging after the seal (a listing after a verdict)
     * makes the next call seal it again. PostgreSQL gets the staging's statistics here, before the whole-run
     * statements.
     */
    const ready = (runId: string) =>
      Effect.gen(function*() {
        yield* settled(runId)
        const local = locals.get(runId)
        if (local?.sealed === true) return
        const t = stagingTables(runId)
        if (t === undefined) return
        const acc = sql.literal(t.accounts)
        const sealed = yield* sql.withTransaction(Effect.gen(function*() {
          const [state] = yield* sql`SELECT repeats, sealed FROM run_staging WHERE run_id = ${runId}`.pipe(
            Effect.flatMap(decodeSealing)
          )
          // An ended run has no staging.
          if (state === undefined) return false
          if (state.sealed === 1) return true
          if (state.repeats > 0) {
            yield* indexed(t, runId)
            const replaced = sql`SELECT s.seq FROM ${acc} s WHERE EXISTS (SELECT 1 FROM ${acc} l
              WHERE l.external_id = s.external_id AND l.listed = 1 AND l.seq <> s.seq AND (s.listed = 0 OR l.seq > s.seq))`
            yield* sql`DELETE FROM ${sql.literal(t.entitlements)} WHERE seq IN (${replaced})`
            yield* sql`DELETE FROM ${acc} WHERE seq IN (${replaced})`
            const [counted] = yield* sql`UPDATE sync_runs SET accounts = (SELECT COUNT(*) FROM ${acc} WHERE listed = 1)
              WHERE id = ${runId} RETURNING accounts`.pipe(Effect.flatMap(decodeAccountsCount))
            if (local !== undefined && counted !== undefined) local.staged = counted.accounts
          }
          yield* sql`UPDATE run_staging SET sealed = 1 WHERE run_id = ${runId}`
          return true
        })).pipe(orStoreError("cannot index the staging"))
        if (sealed && pg) {
          // The staging went from empty to a whole roster: without statistics PostgreSQL plans the joins with
          // the accounts as nested loops over a table it thinks is empty.
          yield* sql.unsafe(`ANALYZE ${t.accounts}, ${t.entitlements}`).pipe(orStoreError("cannot analyse the staging"))
        }
        if (local !== undefined) local.sealed = sealed
      })

    const settledOrNot = (runId: string) => Effect.ignore(settled(runId))

    const enqueue = (local: LocalRun, write: Effect.Effect<void, StoreError>) =>
      Effect.gen(function*() {
        const done = yield* Deferred.make<void, StoreError>()
        const entry: InFlight = { done }
        local.inFlight.push(entry)
        yield* write.pipe(
          Effect.exit,
          Effect.flatMap((exit) =>
            Effect.suspend(() => {
              local.inFlight.splice(local.inFlight.indexOf(entry), 1)
              if (exit._tag === "Failure") {
                const error = Cause.failureOption(exit.cause)
                local.failure ??= Option.isSome(error)
                  ? error.value
                  : new StoreError({
                    reason: "Internal",
                    description: "staging synced accounts stopped unexpectedly; the sync is aborted",
                    cause: Cause.squash(exit.cause)
                  })
              }
              return Deferred.done(done, Exit.asVoid(exit))
            })
          ),
          Effect.forkDaemon
        )
        while (local.inFlight.length > MAX_IN_FLIGHT) yield* Deferred.await(local.inFlight[0]!.done).pipe(Effect.ignore)
      })

    const localOf = (runId: string, now: number) =>
      Effect.gen(function*() {
        const known = locals.get(runId)
        if (known !== undefined) return known
        const tables = stagingTables(runId)
        if (tables === undefined) return yield* notFound(`sync run ${runId} does not exist`)
        // The first call checks the lock at once: a run that lost it stages nothing.
        const local = yield* sql.withTransaction(Effect.gen(function*() {
          const connectionId = yield* holding(runId, now)
          const [state] = yield* sql`SELECT
              (SELECT accounts FROM sync_runs WHERE id = ${runId}) AS accounts,
              (SELECT COALESCE(MAX(seq), 0) FROM ${sql.literal(tables.accounts)}) AS last,
              (SELECT sealed FROM run_staging WHERE run_id = ${runId}) AS sealed,
              CASE WHEN EXISTS (SELECT 1 FROM accounts WHERE connection_id = ${connectionId}) THEN 1 ELSE 0 END AS stored
            `.pipe(Effect.flatMap(decodeLocalState))
          const listed = new Fingerprints()
          // Staged before this store knew of the run (another instance): its fingerprints from the staging.
          if (state !== undefined && state.accounts > 0) {
            const ids = yield* sql`SELECT external_id FROM ${sql.literal(tables.accounts)} WHERE listed = 1`.pipe(
              Effect.flatMap(decodeExternalIds)
            )
            for (const row of ids) listed.add(row.external_id)
          }
          return {
            connectionId,
            tables,
            staged: state?.accounts ?? 0,
            nextSeq: (state?.last ?? 0) + 1,
            empty: state?.stored === 0,
            listed,
            sealed: state?.sealed === 1,
            indexed: false,
            inFlight: [],
            failure: undefined
          } satisfies LocalRun
        }))
        locals.set(runId, local)
        return local
      })

    /** Which of `ids` the run listed already (once the chunks being written have landed). */
    const listedAlready = (local: LocalRun, runId: string, ids: ReadonlyArray<string>) =>
      Effect.gen(function*() {
        yield* settled(runId)
        const rows = yield* sql.withTransaction(
          sql`SELECT external_id FROM ${sql.literal(local.tables.accounts)}
            WHERE listed = 1 AND ${inIds(sql, sql`external_id`, ids)}`
        ).pipe(Effect.flatMap(decodeExternalIds))
        return new Set(rows.map((row) => row.external_id))
      })

    const STAGING_COUNTS = "UPDATE run_staging SET live = live + ?, seen = seen + ?, repeats = repeats + ? + sealed, " +
      "sealed = 0 WHERE run_id = ?"

    /**
     * The work of a chunk, to run in the background: look the accounts up, make the rows, write them with the
     * run's counts, checking the run still holds its lock. On SQLite the lookup is sent to the writer's thread
     * now, before this returns.
     */
    const stageChunk = (local: LocalRun, runId: string, now: number, readings: ReadonlyArray<Reading>, added: number) =>
      Effect.gen(function*() {
        const t = local.tables
        const repeats = readings.length - added
        const digests = readings.map((r) => digest(r.account))
        if (isSqliteWorkerClient(sql)) {
          const client = sql
          const lookup = local.empty
            ? undefined
            : yield* client.postLookups(LOOKUP_STORED, [local.connectionId], [readings.map((r) => r.id), digests])
          const insert = (table: string, columns: ReadonlyArray<BulkColumn>) =>
            `INSERT INTO ${table} (${columns.map((c) => c.name).join(", ")}) VALUES (${
              columns.map(() => "?").join(", ")
            })`
          return Effect.gen(function*() {
            const codes = lookup === undefined ? [] : yield* Effect.flatMap(lookup, decodeStoredCodes)
            const { live, rows, seen } = readingRows(readings, digests, codes, true)
            const answer = yield* client.postBatch([
              {
                sql: `UPDATE sync_locks SET lease_expires_at = ? WHERE run_id = ?
            AND EXISTS (SELECT 1 FROM sync_runs r WHERE r.id = ? AND r.status = 'running') RETURNING connection_id`,
                params: [iso(now + leaseMs), runId, runId],
                expect: "the run no longer holds its lock"
              },
              { sql: insert(t.accounts, RUN_ACCOUNT_COLUMNS), rows: rows.accounts },
              { sql: insert(t.accounts, SAME_COLUMNS), rows: rows.same },
              { sql: insert(t.entitlements, RUN_ENTITLEMENT_COLUMNS), rows: rows.entitlements },
              { sql: "UPDATE sync_runs SET accounts = accounts + ? WHERE id = ?", params: [added, runId] },
              { sql: STAGING_COUNTS, params: [live, seen, repeats, runId] }
            ])
            yield* answer
          }).pipe(
            Effect.catchTag("SqlError", (error) =>
              Effect.fail(
                (error.cause as { code?: unknown } | undefined)?.code === "SEATKEEPER_EXPECTED_ROWS"
                  ? lockLost(runId)
                  : fromSqlError("cannot stage synced accounts", error)
              )),
            orStoreError("cannot stage synced accounts")
          )
        }
        return Effect.gen(function*() {
          const codes = local.empty ? [] : yield* storedCodes(local.connectionId, readings.map((r) => r.id), digests)
          const { live, rows, seen } = readingRows(readings, digests, codes, true)
          yield* sql.withTransaction(Effect.gen(function*() {
            yield* holding(runId, now)
            yield* stageRows(t, rows)
            yield* sql`UPDATE sync_runs SET accounts = accounts + ${added} WHERE id = ${runId}`
            yield* sql`UPDATE run_staging SET live = live + ${live}, seen = seen + ${seen},
              repeats = repeats + ${repeats} + sealed, sealed = 0 WHERE run_id = ${runId}`
          }))
        }).pipe(orStoreError("cannot stage synced accounts"))
      })

    const stage: SyncStore["Type"]["stage"] = Effect.fn("SqlSyncStore.stage")(
      function*(runId: string, list: ReadonlyArray<ProviderAccount>) {
        const now = yield* Clock.currentTimeMillis
        return yield* Effect.gen(function*() {
          const local = yield* localOf(runId, now)
          if (local.failure !== undefined) return yield* local.failure
          // A read, not a write: the lease is renewed by the chunk's write, and this never waits for it.
          yield* stillHolding(runId)
          // The last reading of an account repeated in the chunk wins.
          const byId = new Map<string, ProviderAccount>()
          for (const account of list) byId.set(text(account.externalId), account)
          if (byId.size === 0) return { staged: local.staged }
          // An account the run may have listed already (a roster that shifted under the cursor) is checked
          // against the staging: the count stays exact.
          const maybe: Array<string> = []
          for (const id of byId.keys()) if (local.listed.has(id)) maybe.push(id)
          const repeated = maybe.length === 0 ? new Set<string>() : yield* listedAlready(local, runId, maybe)
          const readings: Array<Reading> = []
          for (const [id, account] of byId) {
            local.listed.add(id)
            readings.push({ seq: local.nextSeq++, id, account, repeat: repeated.has(id) })
          }
          const added = readings.length - repeated.size
          local.staged += added
          // Staged after a seal (a listing after a verdict): the next call seals it again.
          local.sealed = false
          yield* enqueue(local, yield* stageChunk(local, runId, now, readings, added))
          return { staged: local.staged }
        }).pipe(orStoreError("cannot stage synced accounts"))
      }
    )

    const stageLicenses: SyncStore["Type"]["stageLicenses"] = Effect.fn("SqlSyncStore.stageLicenses")(
      function*(runId: string, licenses: ReadonlyArray<License>) {
        const now = yield* Clock.currentTimeMillis
        yield* settled(runId)
        // The last of a repeated key wins.
        const byKey = new Map<string, License>()
        for (const l of licenses) byKey.set(text(l.key), l)
        yield* sql.withTransaction(Effect.gen(function*() {
          yield* holding(runId, now)
          if (byKey.size === 0) return
          yield* sql`DELETE FROM run_licenses WHERE run_id = ${runId} AND ${inIds(sql, sql`key`, [...byKey.keys()])}`
          yield* insertMany(
            sql,
            "run_licenses",
            RUN_LICENSE_COLUMNS,
            [...byKey.values()].map((l) => licenseValues(runId, l))
          )
          yield* sql`UPDATE sync_runs SET licenses_staged = 1 WHERE id = ${runId}`
        })).pipe(orStoreError("cannot stage licences"))
      }
    )

    // --- absent accounts ----------------------------------------------------------------------------

    const staging = (run: SyncRun) =>
      run.status === "running" || run.status === "held" ? stagingTables(run.id) : undefined

    // What a run listed: nothing once it ended (its staging is dropped, perhaps still being dropped).
    const notListed = (run: SyncRun) => {
      const t = staging(run)
      return t !== undefined
        ? sql`NOT EXISTS (SELECT 1 FROM ${sql.literal(t.accounts)} s WHERE s.external_id = a.external_id
          AND s.listed = 1)`
        : sql`1 = 1`
    }

    /**
     * The staging's counts, when they still tell how many stored accounts the listing returned: no account was
     * listed twice (nor staged after a seal), and no admin acted on an account since the run started (its status
     * may have moved since it was counted).
     */
    const countsOf = (run: Pick<SyncRun, "id" | "connectionId" | "startedAt">) =>
      sql`SELECT g.live, g.seen, g.repeats,
          CASE WHEN EXISTS (SELECT 1 FROM accounts a WHERE a.connection_id = ${run.connectionId}
            AND a.admin_action_at >= ${run.startedAt}) THEN 1 ELSE 0 END AS acted
        FROM run_staging g WHERE g.run_id = ${run.id}`.pipe(
        Effect.flatMap(decodeStagingCounts),
        Effect.map((rows) => {
          const row = rows[0]
          return { trusted: row !== undefined && row.repeats === 0 && row.acted === 0, acted: row?.acted !== 0, row }
        })
      )

    /** How many stored accounts, not deprovisioned, the listing did not return (`stored`: how many there are). */
    const absentCount = (run: SyncRun, stored?: number) =>
      Effect.gen(function*() {
        const C = run.connectionId
        const t = staging(run)
        if (t !== undefined) {
          const counts = yield* countsOf(run)
          if (counts.trusted) {
            const live = stored ?? firstN(
              yield* sql`SELECT COUNT(*) AS n FROM accounts WHERE connection_id = ${C} AND status <> 'deprovisioned'`
                .pipe(Effect.flatMap(decodeN))
            )
            return live - counts.row!.live
          }
          yield* indexed(t, run.id)
        }
        return firstN(
          yield* sql`SELECT COUNT(*) AS n FROM accounts a WHERE a.connection_id = ${C} AND a.status <> 'deprovisioned'
            AND ${notListed(run)}`.pipe(Effect.flatMap(decodeN))
        )
      })

    // Whole-roster reads run in a transaction: on SQLite that is the writer's thread, off the event loop.
    const absentees: SyncStore["Type"]["absentees"] = Effect.fn("SqlSyncStore.absentees")(
      function*(runId: string, limit: number) {
        yield* ready(runId)
        return yield* sql.withTransaction(Effect.gen(function*() {
          const run = yield* requireRun(runId)
          const total = yield* absentCount(run)
          const t = staging(run)
          if (t !== undefined && total > 0 && limit > 0) yield* indexed(t, runId)
          const first = limit <= 0 || total === 0 ? [] : yield* sql`SELECT a.external_id, a.status, a.absent_runs
            FROM accounts a
            WHERE a.connection_id = ${run.connectionId} AND a.status <> 'deprovisioned' AND ${notListed(run)}
            ORDER BY a.external_id LIMIT ${Math.floor(limit)}`.pipe(Effect.flatMap(decodeAbsentees))
          return {
            total,
            first: first.map((row): Absentee => ({
              externalId: row.external_id,
              status: row.status,
              absentRuns: row.absent_runs
            }))
          }
        })).pipe(orStoreError("cannot list the accounts the listing did not return"))
      }
    )

    const confirm: SyncStore["Type"]["confirm"] = Effect.fn("SqlSyncStore.confirm")(
      function*(runId: string, verdicts: ReadonlyArray<AbsenceVerdict>) {
        const now = yield* Clock.currentTimeMillis
        const byId = new Map<string, AbsenceVerdict>()
        for (const v of verdicts) byId.set(text(v.externalId), v)
        yield* Effect.gen(function*() {
          const local = yield* localOf(runId, now)
          yield* ready(runId)
          const t = local.tables
          const acc = sql.literal(t.accounts)
          yield* sql.withTransaction(Effect.gen(function*() {
            const connectionId = yield* holding(runId, now)
            if (byId.size === 0) return
            yield* indexed(t, runId)
            const ids = [...byId.keys()]
            // A verdict is about an account the listing did not return; one it did return keeps its listing.
            const listed = new Set(
              (yield* sql`SELECT external_id FROM ${acc} WHERE listed = 1 AND ${inIds(sql, sql`external_id`, ids)}`
                .pipe(Effect.flatMap(decodeExternalIds))).map((row) => row.external_id)
            )
            // A verdict replaces an earlier one.
            const earlier = sql`SELECT seq FROM ${acc} WHERE listed = 0 AND ${inIds(sql, sql`external_id`, ids)}`
            yield* sql`DELETE FROM ${sql.literal(t.entitlements)} WHERE seq IN (${earlier})`
            yield* sql`DELETE FROM ${acc} WHERE seq IN (${earlier})`
            const present: Array<Reading> = []
            const others: Array<ReadonlyArray<Value>> = []
            for (const [id, v] of byId) {
              if (listed.has(id)) continue
              if (v.verdict === "present") present.push({ seq: local.nextSeq++, id, account: v.account, repeat: false })
              else others.push([local.nextSeq++, id, 0, 0, v.verdict, null, 1, null, null])
            }
            yield* insertMany(sql, t.accounts, SAME_COLUMNS, others)
            if (present.length > 0) {
              const digests = present.map((r) => digest(r.account))
              const codes = yield* storedCodes(connectionId, present.map((r) => r.id), digests)
              yield* stageRows(t, readingRows(present, digests, codes, false).rows)
            }
          }))
        }).pipe(orStoreError("cannot record the verdicts on absent accounts"))
      }
    )

    const settle: SyncStore["Type"]["settle"] = Effect.fn("SqlSyncStore.settle")(
      function*(runId: string, rule: SettleRule) {
        const now = yield* Clock.currentTimeMillis
        yield* Effect.gen(function*() {
          const local = yield* localOf(runId, now)
          yield* ready(runId)
          const acc = sql.literal(local.tables.accounts)
          yield* sql.withTransaction(Effect.gen(function*() {
            const connectionId = yield* holding(runId, now)
            yield* indexed(local.tables, runId)
            const verdict = rule === "streak"
              ? sql`CASE WHEN a.absent_runs >= 1 THEN 'gone' ELSE 'pending' END`
              : sql`${T(rule)}`
            yield* sql`INSERT INTO ${acc} (seq, external_id, reading, listed, verdict, work)
            SELECT ${local.nextSeq - 1} + ROW_NUMBER() OVER (ORDER BY a.external_id), a.external_id, 0, 0, ${verdict}, 1
            FROM accounts a
            WHERE a.connection_id = ${connectionId} AND a.status <> 'deprovisioned'
              AND NOT EXISTS (SELECT 1 FROM ${acc} s WHERE s.external_id = a.external_id)`
            const [last] = yield* sql`SELECT COALESCE(MAX(seq), 0) AS n FROM ${acc}`.pipe(Effect.flatMap(decodeN))
            local.nextSeq = (last?.n ?? 0) + 1
          }))
        }).pipe(orStoreError("cannot settle the absent accounts"))
      }
    )

    // An admin's suspend or restore after the run started.
    const keptBy = (alias: string, startedAt: string) =>
      sql`(${sql.literal(alias)}.admin_action_at IS NOT NULL AND ${sql.literal(alias)}.admin_action_at > ${startedAt})`
    const notKeptBy = (alias: string, startedAt: string) =>
      sql`(${sql.literal(alias)}.admin_action_at IS NULL OR ${sql.literal(alias)}.admin_action_at <= ${startedAt})`

    const summarize: SyncStore["Type"]["summarize"] = Effect.fn("SqlSyncStore.summarize")(function*(runId: string) {
      yield* ready(runId)
      return yield* sql.withTransaction(Effect.gen(function*() {
        const run = yield* requireRun(runId)
        const C = run.connectionId
        const [before] = yield* sql`SELECT
            COUNT(*) FILTER (WHERE status <> 'deprovisioned') AS accounts_before,
            COUNT(*) FILTER (WHERE status = 'active') AS active_before
          FROM accounts WHERE connection_id = ${C}`.pipe(Effect.flatMap(decodeBefore))
        const t = staging(run)
        // A new account read as deprovisioned is not stored: it deprovisions nothing.
        const would = t === undefined ? 0 : firstN(
          yield* sql`SELECT COUNT(*) AS n FROM ${workRowsOf(t)} CROSS JOIN accounts a
            WHERE s.work = 1
              AND (s.verdict IN ('gone', 'unconfirmed') OR (s.reading = 1 AND s.status = 'deprovisioned' AND s.kind <> 'new'))
              AND a.connection_id = ${C} AND a.external_id = s.external_id
              AND a.status <> 'deprovisioned' AND ${notKeptBy("a", run.startedAt)}`.pipe(Effect.flatMap(decodeN))
        )
        const absent = yield* absentCount(run, before?.accounts_before)
        return {
          staged: run.stats.accounts,
          accountsBefore: before?.accounts_before ?? 0,
          activeBefore: before?.active_before ?? 0,
          wouldDeprovision: would,
          absent
        } satisfies RunSummary
      })).pipe(orStoreError("cannot summarise the sync run"))
    })

    // --- ending a run -------------------------------------------------------------------------------

    const noVerdicts = { gone: 0, present: 0, pending: 0 }
    const verdictCounts = (runId: string) => {
      const t = stagingTables(runId)
      return t === undefined ? Effect.succeed(noVerdicts) : sql`SELECT
          COUNT(*) FILTER (WHERE s.verdict = 'gone') AS gone,
          COUNT(*) FILTER (WHERE s.verdict = 'present') AS present,
          COUNT(*) FILTER (WHERE s.verdict = 'pending') AS pending
        FROM ${workRowsOf(t)} WHERE s.work = 1`.pipe(
        Effect.flatMap(decodeVerdictCounts),
        Effect.map((rows) => rows[0] ?? noVerdicts)
      )
    }

    const counterColumns = (counters: RunCounters) => ({
      lookups: counters.lookups,
      total_at_start: counters.totalAtStart,
      total_at_end: counters.totalAtEnd,
      roster_shifted: counters.rosterShifted ? 1 : 0,
      licenses: counters.licenses,
      requests: counters.requests,
      retries: counters.retries,
      rate_limited: counters.rateLimited
    })

    const verdictColumns = (counts: { readonly gone: number; readonly present: number; readonly pending: number }) => ({
      absent_confirmed: counts.gone,
      absent_but_present: counts.present,
      absent_pending: counts.pending
    })

    const ending = (status: string, error: SyncRunError | null, counters: RunCounters, verdicts: {
      readonly gone: number
      readonly present: number
      readonly pending: number
    }) => ({
      status,
      created: 0,
      updated: 0,
      unchanged: 0,
      deprovisioned: 0,
      entitlements_deprovisioned: 0,
      admin_actions_kept: 0,
      ...verdictColumns(verdicts),
      ...counterColumns(counters),
      error: error === null ? null : JSON.stringify({ ...error, message: text(error.message) })
    })

    const hold: SyncStore["Type"]["hold"] = Effect.fn("SqlSyncStore.hold")(
      function*(runId: string, held: SyncHold, counters: RunCounters) {
        const now = yield* Clock.currentTimeMillis
        yield* settled(runId)
        return yield* sql.withTransaction(Effect.gen(function*() {
          yield* holding(runId, now)
          const verdicts = yield* verdictCounts(runId)
          const [run] = yield* sql`UPDATE sync_runs SET ${
            sql.update({
              ...ending("held", null, counters, verdicts),
              finished_at: iso(now),
              hold: JSON.stringify({ ...held, message: text(held.message) })
            })
          } WHERE id = ${runId} RETURNING ${sql.literal(runColumns)}`.pipe(
            Effect.flatMap(Schema.decodeUnknown(Schema.Array(RunFromRow)))
          )
          yield* sql`DELETE FROM sync_locks WHERE run_id = ${runId}`
          return run!
        })).pipe(orStoreError("cannot hold the sync run"), Effect.tap(() => locals.delete(runId)))
      }
    )

    const reopen: SyncStore["Type"]["reopen"] = Effect.fn("SqlSyncStore.reopen")(
      function*(runId: string, owner: string, actor: string) {
        const now = yield* Clock.currentTimeMillis
        return yield* Effect.gen(function*() {
          const run = yield* requireRun(runId)
          if (run.status !== "held") {
            return yield* conflict(`sync run ${runId} is ${run.status}, not held: only a held run can be applied`)
          }
          yield* recover(sql, now, run.connectionId)
          if (!(yield* takeLock(run.connectionId, runId, owner, now))) {
            const holder = yield* holderOf(run.connectionId)
            return yield* new SyncAlreadyRunning({ connectionId: run.connectionId, runId: holder ?? runId })
          }
          const decision = JSON.stringify({ decision: "apply", actor: text(actor), at: iso(now) })
          const reopened = yield* sql`UPDATE sync_runs SET status = 'running', decision = ${decision}, owner = ${
            text(owner)
          }
          WHERE id = ${runId} AND status = 'held' RETURNING ${sql.literal(runColumns)}`.pipe(
            Effect.flatMap(Schema.decodeUnknown(Schema.Array(RunFromRow)))
          )
          if (reopened[0] === undefined) {
            yield* sql`DELETE FROM sync_locks WHERE run_id = ${runId}`
            return yield* conflict(`sync run ${runId} is no longer held: another admin decided it first`)
          }
          return reopened[0]
        }).pipe(orStoreError("cannot reopen the held sync run"))
      }
    )

    const discard: SyncStore["Type"]["discard"] = Effect.fn("SqlSyncStore.discard")(
      function*(runId: string, actor: string) {
        const now = yield* Clock.currentTimeMillis
        return yield* sql.withTransaction(Effect.gen(function*() {
          const run = yield* requireRun(runId)
          if (run.status !== "held") {
            return yield* conflict(`sync run ${runId} is ${run.status}, not held: only a held run can be discarded`)
          }
          const decision = JSON.stringify({ decision: "discard", actor: text(actor), at: iso(now) })
          const [discarded] = yield* sql`UPDATE sync_runs SET status = 'discarded', decision = ${decision}
          WHERE id = ${runId} RETURNING ${sql.literal(runColumns)}`.pipe(
            Effect.flatMap(Schema.decodeUnknown(Schema.Array(RunFromRow)))
          )
          yield* dropStaging(sql, runId)
          return discarded!
        })).pipe(orStoreError("cannot discard the held sync run"))
      }
    )

    const abort: SyncStore["Type"]["abort"] = Effect.fn("SqlSyncStore.abort")(
      function*(runId: string, status: "failed" | "interrupted", error: SyncRunError, counters: RunCounters) {
        const now = yield* Clock.currentTimeMillis
        // What is still being written lands before the staging is dropped.
        yield* settledOrNot(runId)
        locals.delete(runId)
        return yield* sql.withTransaction(Effect.gen(function*() {
          const run = yield* requireRun(runId)
          // Only a running run changes: a run already recovered as interrupted keeps its outcome.
          if (run.status === "running") {
            const verdicts = yield* verdictCounts(runId)
            yield* sql`UPDATE sync_runs SET ${
              sql.update({ ...ending(status, error, counters, verdicts), finished_at: iso(now) })
            } WHERE id = ${runId} AND status = 'running'`
          }
          yield* sql`DELETE FROM sync_locks WHERE run_id = ${runId}`
          yield* dropStaging(sql, runId)
          return yield* requireRun(runId)
        })).pipe(orStoreError("cannot record the end of the sync run"))
      }
    )

    // --- apply --------------------------------------------------------------------------------------

    // Fresh statistics after a large apply, so that the planner knows, for instance, that "inactive for 30
    // days" matches most of a roster and walks the sort order's index instead of sorting (SQLite has none
    // until it is told; PostgreSQL's autovacuum may be off or slow). Best effort: a failure changes nothing
    // that was committed.
    const maintain = (pg
      ? sql.unsafe("ANALYZE accounts, entitlements")
      : Effect.zipRight(sql.unsafe("ANALYZE accounts"), sql.unsafe("ANALYZE entitlements"))).pipe(
        Effect.catchAll((error) => Effect.logDebug("store maintenance after a sync failed", error.message))
      )

    const applyRun = (runId: string, counters: RunCounters, now: number) =>
      Effect.gen(function*() {
        const at = iso(now)
        const R = runId
        const C = yield* holding(runId, now)
        yield* lockConnection(sql, C)
        const [state] = yield* sql`SELECT started_at, accounts, licenses_staged FROM sync_runs WHERE id = ${R}`.pipe(
          Effect.flatMap(decodeRunState)
        )
        const [connection] = yield* sql`SELECT applied_at, applied_seq FROM connections WHERE id = ${C}`.pipe(
          Effect.flatMap(decodeApplied)
        )
        if (state === undefined || connection === undefined) return yield* notFound(`connection ${C} does not exist`)
        const started = state.started_at
        const t = stagingTables(R)
        if (t === undefined) return yield* notFound(`sync run ${R} does not exist`)
        const acc = sql.literal(t.accounts)
        const ents = sql.literal(t.entitlements)
        const workRows = workRowsOf(t)
        const kept = keptBy("a", started)
        const notKept = notKeptBy("a", started)
        const work = sql`s.work = 1`
        const sameAccount = sql`a.connection_id = ${C} AND a.external_id = s.external_id`
        const meta = sql`${T(at)}, 'sync', ${T(R)}`
        const event = (select: Fragment) =>
          sql`INSERT INTO status_events (connection_id, external_id, entitlement_key, from_status, to_status, at, cause,
              run_id)
            ${select}`
        // The counts the staging kept, when they still hold (before step 1 changes the staging).
        const counted = yield* countsOf({ id: R, connectionId: C, startedAt: started })

        // 1. An unchanged reading of an account an admin acted on since it was staged: re-applied below.
        if (counted.acted) {
          yield* indexed(t, R)
          yield* sql`UPDATE ${acc} SET kind = 'stale', work = 1
            WHERE kind = 'same' AND external_id IN (
              SELECT a.external_id FROM accounts a WHERE a.connection_id = ${C} AND a.admin_action_at >= ${started})`
        }

        // 2. Statistics, from the state before anything changes. Only rows about stored accounts are looked up
        // (a first sync's are all new).
        const [counts] = yield* sql`SELECT
            COUNT(*) FILTER (WHERE s.reading = 1 AND s.kind = 'new') AS created,
            COUNT(*) FILTER (WHERE s.reading = 1 AND s.kind IN ('changed', 'stale')) AS updated,
            COUNT(*) FILTER (WHERE s.verdict = 'present') AS present
          FROM ${workRows} WHERE ${work}`.pipe(Effect.flatMap(decodeWorkCounts))
        const [effects] = yield* sql`SELECT
            COUNT(*) FILTER (WHERE s.reading = 1 AND s.kind IN ('changed', 'stale') AND a.status <> s.status
              AND ${kept})
              AS kept_read,
            COUNT(*) FILTER (WHERE s.reading = 1 AND s.kind IN ('changed', 'stale') AND a.status <> s.status
              AND ${notKept}
              AND s.status = 'deprovisioned') AS deprov_read,
            COUNT(*) FILTER (WHERE s.verdict IN ('gone', 'unconfirmed') AND a.status <> 'deprovisioned' AND ${kept})
              AS kept_gone,
            COUNT(*) FILTER (WHERE s.verdict IN ('gone', 'unconfirmed') AND a.status <> 'deprovisioned' AND ${notKept})
              AS deprov_gone
          FROM ${workRows} CROSS JOIN accounts a
          WHERE ${work} AND (s.kind IN ('changed', 'stale') OR s.verdict IN ('gone', 'unconfirmed'))
            AND ${sameAccount}`.pipe(Effect.flatMap(decodeEffects))
        const droppedFrom = sql`FROM ${workRows} CROSS JOIN entitlements e
          WHERE ${work} AND s.kind = 'changed' AND s.has_entitlements = 1
            AND e.connection_id = ${C} AND e.external_id = s.external_id AND e.status <> 'deprovisioned'
            AND NOT EXISTS (SELECT 1 FROM ${ents} se WHERE se.seq = s.seq AND se.key = e.key)`
        const goneFrom = sql`FROM ${workRows} CROSS JOIN accounts a CROSS JOIN entitlements e
          WHERE ${work} AND s.verdict IN ('gone', 'unconfirmed') AND ${sameAccount}
            AND a.status <> 'deprovisioned' AND ${notKept}
            AND e.connection_id = ${C} AND e.external_id = s.external_id AND e.status <> 'deprovisioned'`
        const dropped = firstN(yield* sql`SELECT COUNT(*) AS n ${droppedFrom}`.pipe(Effect.flatMap(decodeN)))
        const goneEntitlements = firstN(yield* sql`SELECT COUNT(*) AS n ${goneFrom}`.pipe(Effect.flatMap(decodeN)))

        // 3. Status events, before the rows change so that `from` is the old status. A new account's
        // entitlements are dated by their firstSeenAt. New accounts in the order of their events' index.
        yield* event(sql`SELECT ${T(C)}, s.external_id, NULL, NULL, s.status, ${meta}
          FROM ${workRows} WHERE ${work} AND s.kind = 'new' AND s.reading = 1 ORDER BY s.external_id`)
        yield* event(sql`SELECT ${T(C)}, a.external_id, NULL, a.status, s.status, ${meta}
          FROM ${workRows} CROSS JOIN accounts a
          WHERE ${work} AND s.reading = 1 AND s.kind IN ('changed', 'stale') AND ${sameAccount}
            AND a.status <> s.status AND ${notKept}`)
        yield* event(sql`SELECT ${T(C)}, s.external_id, se.key, e.status, se.status, ${meta}
          FROM ${workRows} CROSS JOIN ${ents} se
          LEFT JOIN entitlements e ON e.connection_id = ${C} AND e.external_id = s.external_id AND e.key = se.key
          WHERE ${work} AND s.kind = 'changed' AND se.seq = s.seq
            AND (e.key IS NULL OR e.status <> se.status)`)
        yield* event(sql`SELECT ${T(C)}, e.external_id, e.key, e.status, 'deprovisioned', ${meta} ${droppedFrom}`)
        yield* event(sql`SELECT ${T(C)}, a.external_id, NULL, a.status, 'deprovisioned', ${meta}
          FROM ${workRows} CROSS JOIN accounts a
          WHERE ${work} AND s.verdict IN ('gone', 'unconfirmed') AND ${sameAccount}
            AND a.status <> 'deprovisioned' AND ${notKept}`)
        yield* event(sql`SELECT ${T(C)}, e.external_id, e.key, e.status, 'deprovisioned', ${meta} ${goneFrom}`)

        // 4. Accounts the last apply read and this run did not: their last-seen time stops following the
        // connection's, so it is written down, on them and on their active entitlements. When the staging's
        // count says the listing returned every one of them, there are none to look for.
        if (connection.applied_at !== null) {
          const prev = connection.applied_at
          const readLast = !counted.trusted ? undefined : firstN(
            yield* sql`SELECT COUNT(*) AS n FROM accounts WHERE connection_id = ${C} AND seen_last = 1`.pipe(
              Effect.flatMap(decodeN)
            )
          )
          if (readLast === undefined || readLast !== counted.row!.seen) {
            yield* indexed(t, R)
            yield* sql`UPDATE accounts SET seen_last = 2
              WHERE connection_id = ${C} AND seen_last = 1 AND NOT EXISTS (SELECT 1 FROM ${acc} s
                WHERE s.external_id = accounts.external_id AND s.reading = 1)`
            yield* sql`UPDATE entitlements SET last_seen_at = ${prev}
              WHERE connection_id = ${C} AND status <> 'deprovisioned' AND external_id IN (
                SELECT a.external_id FROM accounts a WHERE a.connection_id = ${C} AND a.seen_last = 2)`
            yield* sql`UPDATE accounts SET seen_last = 0, last_seen_at = ${prev}
              WHERE connection_id = ${C} AND seen_last = 2`
          }
        }

        // 5. New accounts and their entitlements, in the order of the tables' keys (a listing's order is none).
        yield* sql`INSERT INTO accounts (connection_id, external_id, email, display_name, account_type, status,
            source_status, last_active_at, activity_source, billable, managed, added_at, roles_json, groups_json,
            attributes_json, first_seen_at, last_seen_at, sort_key, email_key, search_text, source_hash, absent_runs,
            seen_last)
          SELECT ${T(C)}, s.external_id, s.email, s.display_name, s.account_type, s.status, s.source_status,
            s.last_active_at, s.activity_source, s.billable, s.managed, s.added_at, COALESCE(s.roles_json, '[]'),
            COALESCE(s.groups_json, '[]'), COALESCE(s.attributes_json, '{}'), ${T(at)}, ${T(at)}, s.sort_key,
            s.email_key, s.search_text, s.source_hash, 0, 1
          FROM ${workRows} WHERE ${work} AND s.kind = 'new' AND s.reading = 1 ORDER BY s.external_id`
        // An entitlement carries its account's status, billing and age (what a seat depends on): the ones of
        // a new account from its reading here, the others are brought in line at the end of the apply.
        const entitlementInsert = sql`INSERT INTO entitlements (connection_id, external_id, key, name, product, site,
            site_host, status, last_active_at, activity_source, role, billable, first_seen_at, last_seen_at,
            account_status, account_billable, account_since)
          SELECT ${T(C)}, s.external_id, se.key, se.name, se.product, se.site, se.site_host, se.status,
            se.last_active_at, se.activity_source, se.role, se.billable, ${T(at)}, ${T(at)},
            s.status, s.billable, COALESCE(s.added_at, ${T(at)})
          FROM ${workRows} CROSS JOIN ${ents} se`
        yield* sql`${entitlementInsert}
          WHERE ${work} AND s.kind = 'new' AND se.seq = s.seq ORDER BY s.external_id, se.key`
        // PostgreSQL plans what follows from statistics that know nothing of the accounts just inserted: after
        // the first sync of an organisation into a database that holds another's, it would expect one row of
        // this connection and nest loops over thousands, for hours. Fresh statistics, in this transaction
        // (its planner sees them; other sessions keep the committed ones until it commits).
        if (pg && (counts?.created ?? 0) >= ANALYZE_AFTER_CREATED) yield* sql.unsafe("ANALYZE accounts, entitlements")

        // 6. Changed readings: the source's fields; what it did not say is kept (an absent field is not an
        // empty value), and an admin's newer action keeps its status (the reading is confirmed next run).
        const keptStatus = sql`${keptBy("accounts", started)} AND accounts.status <> s.status`
        yield* sql`UPDATE accounts SET
            email = s.email, display_name = s.display_name, account_type = s.account_type,
            source_status = s.source_status,
            status = CASE WHEN ${keptStatus} THEN accounts.status ELSE s.status END,
            source_hash = CASE WHEN ${keptStatus} THEN NULL ELSE s.source_hash END,
            last_active_at = COALESCE(s.last_active_at, accounts.last_active_at),
            activity_source = COALESCE(s.activity_source, accounts.activity_source),
            billable = COALESCE(s.billable, accounts.billable),
            managed = COALESCE(s.managed, accounts.managed),
            added_at = COALESCE(s.added_at, accounts.added_at),
            roles_json = COALESCE(s.roles_json, accounts.roles_json),
            groups_json = COALESCE(s.groups_json, accounts.groups_json),
            attributes_json = COALESCE(s.attributes_json, accounts.attributes_json),
            sort_key = s.sort_key, email_key = s.email_key, search_text = s.search_text,
            seen_last = 1, absent_runs = 0, last_seen_at = ${at}
          FROM ${workRows}
          WHERE ${work} AND s.reading = 1 AND s.kind = 'changed'
            AND accounts.connection_id = ${C} AND accounts.external_id = s.external_id`
        // A stale reading equals the stored fields but for the status an admin set since.
        yield* sql`UPDATE accounts SET
            status = CASE WHEN ${keptStatus} THEN accounts.status ELSE s.status END,
            source_hash = CASE WHEN ${keptStatus} THEN NULL ELSE s.source_hash END,
            seen_last = 1, absent_runs = 0, last_seen_at = ${at}
          FROM ${workRows}
          WHERE ${work} AND s.reading = 1 AND s.kind = 'stale'
            AND accounts.connection_id = ${C} AND accounts.external_id = s.external_id`
        // An unchanged reading of an account the last apply did not read (or that was absent before).
        yield* sql`UPDATE accounts SET seen_last = 1, absent_runs = 0, last_seen_at = ${at}
          FROM ${workRows}
          WHERE ${work} AND s.reading = 1 AND s.kind = 'same'
            AND accounts.connection_id = ${C} AND accounts.external_id = s.external_id`
        yield* sql`${entitlementInsert}
          WHERE ${work} AND s.kind = 'changed' AND se.seq = s.seq
          ON CONFLICT (connection_id, external_id, key) DO UPDATE SET
            name = excluded.name, product = excluded.product, site = excluded.site, site_host = excluded.site_host,
            status = excluded.status,
            last_active_at = COALESCE(excluded.last_active_at, entitlements.last_active_at),
            activity_source = COALESCE(excluded.activity_source, entitlements.activity_source),
            role = excluded.role, billable = excluded.billable, last_seen_at = excluded.last_seen_at`
        // A product the reading no longer lists (only a reading that lists products drops any).
        yield* sql`UPDATE entitlements SET status = 'deprovisioned', last_seen_at = ${at}
          FROM ${workRows}
          WHERE ${work} AND s.kind = 'changed' AND s.has_entitlements = 1
            AND entitlements.connection_id = ${C} AND entitlements.external_id = s.external_id
            AND entitlements.status <> 'deprovisioned'
            AND NOT EXISTS (SELECT 1 FROM ${ents} se WHERE se.seq = s.seq AND se.key = entitlements.key)`

        // 7. Verdicts: a pending absence is counted; a confirmed one (or an unconfirmed one applied by an
        // admin) deprovisions the account and its products, unless an admin acted on it since the start.
        yield* sql`UPDATE accounts SET absent_runs = absent_runs + 1
          FROM ${workRows}
          WHERE ${work} AND s.verdict = 'pending'
            AND accounts.connection_id = ${C} AND accounts.external_id = s.external_id`
        yield* sql`UPDATE entitlements SET status = 'deprovisioned'
          WHERE connection_id = ${C} AND status <> 'deprovisioned' AND external_id IN (
            SELECT s.external_id FROM ${workRows} CROSS JOIN accounts a
            WHERE ${work} AND s.verdict IN ('gone', 'unconfirmed') AND ${sameAccount}
              AND a.status <> 'deprovisioned' AND ${notKept})`
        const goneNow = sql`accounts.status <> 'deprovisioned' AND ${notKeptBy("accounts", started)}`
        yield* sql`UPDATE accounts SET
            absent_runs = absent_runs + 1,
            status = CASE WHEN ${goneNow} THEN 'deprovisioned' ELSE accounts.status END,
            source_hash = CASE WHEN ${goneNow} THEN NULL ELSE accounts.source_hash END
          FROM ${workRows}
          WHERE ${work} AND s.verdict IN ('gone', 'unconfirmed')
            AND accounts.connection_id = ${C} AND accounts.external_id = s.external_id`

        // The account facts kept on the entitlements of every account whose facts this apply may have moved.
        yield* sql`UPDATE entitlements SET account_status = a.status, account_billable = a.billable,
            account_since = COALESCE(a.added_at, a.first_seen_at)
          FROM accounts a
          WHERE entitlements.connection_id = ${C} AND entitlements.external_id IN (
              SELECT s.external_id FROM ${workRows} WHERE ${work}
                AND (s.kind IN ('changed', 'stale') OR s.verdict IN ('gone', 'unconfirmed')))
            AND a.connection_id = ${C} AND a.external_id = entitlements.external_id
            AND (entitlements.account_status IS NULL OR entitlements.account_status <> a.status
              OR entitlements.account_billable IS DISTINCT FROM a.billable
              OR entitlements.account_since IS DISTINCT FROM COALESCE(a.added_at, a.first_seen_at))`

        // 8. Licences, when the run read any.
        if (state.licenses_staged === 1) {
          yield* sql`DELETE FROM licenses WHERE connection_id = ${C}`
          yield* sql`INSERT INTO licenses (connection_id, key, product, product_name, site, site_host, plan, edition,
              seats_purchased, seats_used_by_source, status, source_id)
            SELECT ${T(C)}, l.key, l.product, l.product_name, l.site, l.site_host, l.plan, l.edition,
              l.seats_purchased, l.seats_used_by_source, l.status, l.source_id
            FROM run_licenses l WHERE l.run_id = ${R}`
        }

        // 9. The products as this run leaves them, for the trend.
        const seq = connection.applied_seq + 1
        yield* sql`INSERT INTO product_snapshots (connection_id, run_seq, position, run_id, at, key, seats_purchased,
            assigned, seats, used30, unused90)
          SELECT ${T(C)}, ${seq}, ROW_NUMBER() OVER (ORDER BY p.name, p.key), ${T(R)}, ${T(at)}, p.key,
            p.seats_purchased, p.assigned, p.seats, p.used30, p.unused90
          FROM (${snapshotQuery(sql, C, now)}) p`
        yield* sql`UPDATE connections SET applied_at = ${at}, applied_seq = ${seq} WHERE id = ${C}`

        // 10. Close the run and release the lock.
        const present = counts?.present ?? 0
        const created = counts?.created ?? 0
        const updated = counts?.updated ?? 0
        const verdicts = yield* verdictCounts(R)
        // The data is stamped with the apply's start (`at`); the run ends when its statements have run, which
        // for a first sync of a large organisation is seconds later.
        const finished = iso(yield* Clock.currentTimeMillis)
        const [run] = yield* sql`UPDATE sync_runs SET ${
          sql.update({
            status: "succeeded",
            finished_at: finished,
            heartbeat_at: finished,
            created,
            updated,
            unchanged: Math.max(0, state.accounts + present - created - updated),
            deprovisioned: (effects?.deprov_read ?? 0) + (effects?.deprov_gone ?? 0),
            entitlements_deprovisioned: dropped + goneEntitlements,
            admin_actions_kept: (effects?.kept_read ?? 0) + (effects?.kept_gone ?? 0),
            ...verdictColumns(verdicts),
            ...counterColumns(counters),
            error: null
          })
        } WHERE id = ${R} RETURNING ${sql.literal(runColumns)}`.pipe(
          Effect.flatMap(Schema.decodeUnknown(Schema.Array(RunFromRow)))
        )
        yield* sql`DELETE FROM sync_locks WHERE run_id = ${R}`
        return run!
      })

    const apply: SyncStore["Type"]["apply"] = Effect.fn("SqlSyncStore.apply")(
      function*(runId: string, counters: RunCounters) {
        const now = yield* Clock.currentTimeMillis
        yield* ready(runId)
        // SQLite checkpoints the WAL at the commit that makes it long: after a large apply that is the apply's
        // own commit, copying it all into the database before the run may end. It is done right after instead.
        const sqlite = isSqliteWorkerClient(sql)
        if (sqlite) yield* sql.unsafe("PRAGMA wal_autocheckpoint = 0").pipe(orStoreError("cannot apply the sync"))
        const run = yield* sql.withTransaction(applyRun(runId, counters, now)).pipe(
          orStoreError("cannot apply the sync"),
          Effect.ensuring(sqlite ? Effect.ignore(sql.unsafe("PRAGMA wal_autocheckpoint = 1000")) : Effect.void)
        )
        locals.delete(runId)
        // After the commit, in the background: the staging is of no use any more (recovery drops what a crash
        // leaves), and a large apply refreshes the planner's statistics. The run is done; nothing waits.
        const large = run.stats.created + run.stats.updated + run.stats.deprovisioned >= MAINTENANCE_THRESHOLD
        yield* (sqlite ? Effect.ignore(sql.unsafe("PRAGMA wal_checkpoint(PASSIVE)")) : Effect.void).pipe(
          Effect.zipRight(dropStaging(sql, runId).pipe(sql.withTransaction)),
          Effect.catchAll((error) =>
            Effect.logWarning("cannot drop the staging of an applied sync run", error.message)
          ),
          Effect.zipRight(large ? maintain : Effect.void),
          Effect.forkDaemon
        )
        return run
      }
    )

    // --- reading runs -------------------------------------------------------------------------------

    const recoverAll: SyncStore["Type"]["recover"] = Effect.flatMap(
      Clock.currentTimeMillis,
      (now) => sql.withTransaction(recover(sql, now, undefined))
    ).pipe(orStoreError("cannot recover abandoned sync runs"), Effect.withSpan("SqlSyncStore.recover"))

    const get: SyncStore["Type"]["get"] = (id) =>
      Effect.zipRight(settledOrNot(id), selectRun(sql, id)).pipe(
        Effect.map(Option.fromNullable),
        orStoreError("cannot read the sync run"),
        Effect.withSpan("SqlSyncStore.get")
      )

    const list: SyncStore["Type"]["list"] = (connectionId, limit, options) =>
      sql`SELECT ${sql.literal(runColumns)} FROM sync_runs WHERE connection_id = ${connectionId}
        ${options?.status === undefined ? sql`` : sql`AND status = ${options.status}`}
        ${
        options?.before === undefined
          ? sql``
          : sql`AND (started_at < ${options.before.startedAt}
            OR (started_at = ${options.before.startedAt} AND id < ${options.before.id}))`
      }
        ORDER BY started_at DESC, id DESC LIMIT ${Math.min(1_000, Math.max(1, Math.floor(limit) || 50))}`.pipe(
        Effect.flatMap(Schema.decodeUnknown(Schema.Array(RunFromRow))),
        orStoreError("cannot list sync runs"),
        Effect.withSpan("SqlSyncStore.list")
      )

    return SyncStore.of({
      leaseDuration: Duration.millis(leaseMs),
      start,
      heartbeat,
      stage,
      stageLicenses,
      absentees,
      confirm,
      settle,
      summarize,
      apply,
      hold,
      reopen,
      discard,
      abort,
      recover: recoverAll,
      get,
      list
    })
  })

// =============================================================================
// products (shared with the inventory: the apply snapshots what listProducts shows)
// =============================================================================

/**
 * A seat (see `Seats`): an active entitlement of an active, billable account, billed itself.
 *
 * @internal
 */
export const seatCondition = `e.status = 'active' AND a.status = 'active' AND (a.billable IS NULL OR a.billable <> 0)
  AND (e.billable IS NULL OR e.billable <> 0)`

/**
 * The same on the account facts an entitlement carries (the columns of `entitlements_by_seat`).
 *
 * @internal
 */
export const seatOnEntitlement = `e.status = 'active' AND e.account_status = 'active'
  AND (e.account_billable IS NULL OR e.account_billable <> 0) AND (e.billable IS NULL OR e.billable <> 0)`

/**
 * An unused seat (see `Seats`) on the facts an entitlement carries, before `cut`.
 *
 * @internal
 */
export const unusedOnEntitlement = (sql: SqlClient.SqlClient, cut: string): Fragment =>
  sql`(e.last_active_at < ${cut} OR (e.last_active_at IS NULL AND e.account_since < ${cut}))`

/**
 * Every product instance of a connection with its counts at `now`, exactly as `Seats` defines them, and
 * the licence the source reported for it; licences without seats too. One scan of `entitlements_by_seat`.
 *
 * @internal
 */
export const productsQuery = (sql: SqlClient.SqlClient, connectionId: string, now: number): Fragment => {
  const seat = sql.literal(seatOnEntitlement)
  const cut = (days: number) => Seats.cutoff(now, days)
  const used = (days: number) => sql`COUNT(*) FILTER (WHERE ${seat} AND e.last_active_at >= ${cut(days)})`
  const unused = (days: number) => sql`COUNT(*) FILTER (WHERE ${seat} AND ${unusedOnEntitlement(sql, cut(days))})`
  return sql`SELECT p.key, p.name, p.product, p.site, p.site_host, l.plan, l.edition, l.seats_purchased,
      l.seats_used_by_source, p.assigned, p.seats, p.used30, p.used60, p.used90, p.unused30, p.unused60, p.unused90,
      p.deprovisioned, p.last_active_at, CASE WHEN l.key IS NULL THEN 0 ELSE 1 END AS licensed
    FROM (
      SELECT c.key, n.name, n.product, n.site, n.site_host, c.assigned, c.seats, c.used30, c.used60, c.used90,
        c.unused30, c.unused60, c.unused90, c.deprovisioned, c.last_active_at
      FROM (
        SELECT e.key,
          COUNT(*) FILTER (WHERE e.status = 'active' AND e.account_status <> 'deprovisioned') AS assigned,
          COUNT(*) FILTER (WHERE ${seat}) AS seats,
          ${used(30)} AS used30, ${used(60)} AS used60, ${used(90)} AS used90,
          ${unused(30)} AS unused30, ${unused(60)} AS unused60, ${unused(90)} AS unused90,
          COUNT(*) FILTER (WHERE e.status = 'deprovisioned') AS deprovisioned,
          MAX(e.last_active_at) AS last_active_at
        FROM entitlements e WHERE e.connection_id = ${connectionId}
        GROUP BY e.key
      ) c
      -- A product's name and site come from one of its entitlements, an active one where there is one.
      -- CROSS JOIN keeps SQLite from scanning every entitlement for them before it has statistics.
      CROSS JOIN entitlements n
      WHERE n.connection_id = ${connectionId} AND n.key = c.key
        AND n.external_id = (SELECT f.external_id FROM entitlements f
          WHERE f.connection_id = ${connectionId} AND f.key = c.key ORDER BY f.status LIMIT 1)
    ) p
    LEFT JOIN licenses l ON l.connection_id = ${connectionId} AND l.key = p.key
    UNION ALL
    SELECT l.key, CASE WHEN l.site IS NULL THEN l.product_name ELSE l.product_name || ' (' || l.site || ')' END,
      l.product, l.site, l.site_host, l.plan, l.edition, l.seats_purchased, l.seats_used_by_source,
      0, 0, 0, 0, 0, 0, 0, 0, 0, NULL, 1
    FROM licenses l
    WHERE l.connection_id = ${connectionId}
      AND NOT EXISTS (SELECT 1 FROM entitlements e WHERE e.connection_id = ${connectionId} AND e.key = l.key)`
}

/**
 * What the apply snapshots of each product for the trend (`product_snapshots`): the rows of `productsQuery` with
 * only the counts a snapshot keeps (key, name, seats purchased, assigned, seats, used30, unused90), computed the
 * same way. Fewer aggregates make it the cheaper half of a resync's apply.
 *
 * @internal
 */
export const snapshotQuery = (sql: SqlClient.SqlClient, connectionId: string, now: number): Fragment => {
  const seat = sql.literal(seatOnEntitlement)
  return sql`SELECT p.key, p.name, l.seats_purchased, p.assigned, p.seats, p.used30, p.unused90
    FROM (
      SELECT c.key, n.name, c.assigned, c.seats, c.used30, c.unused90
      FROM (
        SELECT e.key,
          COUNT(*) FILTER (WHERE e.status = 'active' AND e.account_status <> 'deprovisioned') AS assigned,
          COUNT(*) FILTER (WHERE ${seat}) AS seats,
          COUNT(*) FILTER (WHERE ${seat} AND e.last_active_at >= ${Seats.cutoff(now, 30)}) AS used30,
          COUNT(*) FILTER (WHERE ${seat} AND ${unusedOnEntitlement(sql, Seats.cutoff(now, 90))}) AS unused90
        FROM entitlements e WHERE e.connection_id = ${connectionId}
        GROUP BY e.key
      ) c
      CROSS JOIN entitlements n
      WHERE n.connection_id = ${connectionId} AND n.key = c.key
        AND n.external_id = (SELECT f.external_id FROM entitlements f
          WHERE f.connection_id = ${connectionId} AND f.key = c.key ORDER BY f.status LIMIT 1)
    ) p
    LEFT JOIN licenses l ON l.connection_id = ${connectionId} AND l.key = p.key
    UNION ALL
    SELECT l.key, CASE WHEN l.site IS NULL THEN l.product_name ELSE l.product_name || ' (' || l.site || ')' END,
      l.seats_purchased, 0, 0, 0, 0
    FROM licenses l
    WHERE l.connection_id = ${connectionId}
      AND NOT EXISTS (SELECT 1 FROM entitlements e WHERE e.connection_id = ${connectionId} AND e.key = l.key)`
}

// =============================================================================
// layers
// =============================================================================

/**
 * The sync store over the `SqlClient` in context, with the schema migrated.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  options: SqlSyncStoreOptions = {}
): Layer.Layer<SyncStore, StoreError, SqlClient.SqlClient> =>
  Layer.effect(SyncStore, make(options)).pipe(Layer.provide(Migrations.layer))
