/**
 * Every storage port of core (`ConnectionStore`, `SyncStore`, `InventoryStore`, `AuditStore`) in memory:
 * the reference the SQL stores are held to (they run the same conformance suite), and a store for tests
 * and scripts that need no database. Everything lives in one process and is gone when the layer closes.
 *
 * ```ts
 * import * as MemoryStore from "@seatkeeper/core/testing/MemoryStore"
 * SyncEngine.run(connectionId, "me", connect).pipe(Effect.provide(MemoryStore.layer()))
 * ```
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Crypto from "node:crypto"
import type { AccountStatus, Entitlement, ProviderAccount } from "../Account.js"
import { digest, readInstant } from "../Account.js"
import { type AuditEvent, AuditStore } from "../Audit.js"
import { type ConnectionRecord, ConnectionStore, defaultSyncSettings } from "../Connection.js"
import {
  type AccountQuery,
  type AccountSort,
  InventoryStore,
  type InventoryTotals,
  type Page,
  type ProductSnapshot,
  type ProductSummary,
  type Seat,
  type SeatQuery,
  type StatusCause,
  type StatusEvent,
  type StoredAccount,
  type StoredEntitlement
} from "../Inventory.js"
import { editionOf, type License } from "../License.js"
import { ReclaimStore } from "../ReclaimStore.js"
import * as Seats from "../Seats.js"
import { StoreError, SyncAlreadyRunning } from "../StoreError.js"
import type { RunCounters, SyncHold, SyncRun, SyncRunError, SyncStats } from "../SyncRun.js"
import { emptyStats } from "../SyncRun.js"
import {
  type AbsenceVerdict,
  type Absentee,
  type RunSummary,
  type SettleRule,
  SyncStore,
  TAKEOVER_GRACE_MS
} from "../SyncStore.js"
import { UserStore } from "../User.js"
import { WebhookStore } from "../Webhook.js"
import { makeReclaimStore, makeUserStore, makeWebhookStore } from "./MemoryReclaim.js"

/**
 * @since 0.2.0
 * @category models
 */
export interface MemoryStoreOptions {
  /** How long a sync lock lives without a heartbeat. Default 30 seconds. */
  readonly leaseDuration?: Duration.DurationInput | undefined
}

// =============================================================================
// state
// =============================================================================

type Mutable<A> = { -readonly [K in keyof A]: A[K] }

type MemEntitlement = Mutable<StoredEntitlement>

interface MemAccount extends Mutable<Omit<StoredAccount, "entitlements">> {
  entitlements: Map<string, MemEntitlement>
  /** Digest of the last reading applied; `null` forces the next reading to be applied. */
  sourceHash: string | null
  absentRuns: number
}

interface MemRun {
  run: SyncRun
  owner: string
  staged: Map<string, ProviderAccount>
  verdicts: Map<string, AbsenceVerdict>
  licenses: Array<License> | undefined
}

interface Lock {
  readonly runId: string
  readonly owner: string
  leaseExpiresAt: number
}

interface MemLicense extends License {
  readonly connectionId: string
}

const HISTORY_LIMIT = 500
const MAX_LIMIT = 1_000

const notFound = (description: string) => new StoreError({ reason: "NotFound", description })
const conflict = (description: string) => new StoreError({ reason: "Conflict", description })
const corrupt = (description: string) => new StoreError({ reason: "Corrupt", description })

const lockLost = (runId: string) =>
  conflict(
    `sync run ${runId} no longer holds its connection's sync lock (its lease expired and the run was ` +
      `recovered as interrupted); nothing more of it is applied`
  )

const iso = (ms: number) => new Date(ms).toISOString()

const clampLimit = (limit: number): number =>
  Number.isFinite(limit) ? Math.min(MAX_LIMIT, Math.max(1, Math.floor(limit))) : 50

const interruptedError = (why: string): SyncRunError => ({
  reason: "Interrupted",
  message: `the process running this sync stopped before it finished (${why}); nothing was applied`
})

const sortKeyOf = (a: { readonly displayName: string; readonly email: string | null; readonly externalId: string }) =>
  (a.displayName || a.email || a.externalId).toLowerCase()

// =============================================================================
// keyset paging over in-memory lists
// =============================================================================

type SortValue = string | number
interface CursorBody {
  readonly k: string
  readonly c: string
  readonly v: SortValue
  readonly id: string
  readonly d: "next" | "prev"
}

const encodeCursor = (body: CursorBody): string => `mem.${Buffer.from(JSON.stringify(body)).toString("base64url")}`

const decodeCursor = (cursor: string, kind: string, connectionId: string): Effect.Effect<CursorBody, StoreError> =>
  Effect.suspend(() => {
    try {
      if (!cursor.startsWith("mem.")) throw new Error("foreign")
      const body = JSON.parse(Buffer.from(cursor.slice(4), "base64url").toString("utf8")) as CursorBody
      if (body.k !== kind || body.c !== connectionId || (body.d !== "next" && body.d !== "prev")) {
        throw new Error("other list")
      }
      return Effect.succeed(body)
    } catch {
      return Effect.fail(corrupt("the cursor is not one this list returned"))
    }
  })

/**
 * One page of `rows` (already filtered) ordered by `value` then `id`, after or before a cursor position.
 * `lastActive` ascending puts nulls first; `desc` reverses the whole order.
 */
const pageOf = <A>(
  rows: ReadonlyArray<A>,
  options: {
    readonly kind: string
    readonly connectionId: string
    readonly value: (a: A) => SortValue
    readonly id: (a: A) => string
    readonly order: "asc" | "desc"
    readonly limit: number
    readonly cursor: CursorBody | undefined
  }
): Page<A> => {
  const sign = options.order === "desc" ? -1 : 1
  const compareKey = (v1: SortValue, id1: string, v2: SortValue, id2: string) =>
    sign * (v1 < v2 ? -1 : v1 > v2 ? 1 : id1 < id2 ? -1 : id1 > id2 ? 1 : 0)
  const sorted = [...rows].sort((a, b) => compareKey(options.value(a), options.id(a), options.value(b), options.id(b)))
  let start = 0
  let end = sorted.length
  const c = options.cursor
  if (c !== undefined) {
    const after = sorted.findIndex((row) => compareKey(options.value(row), options.id(row), c.v, c.id) > 0)
    const before = sorted.findIndex((row) => compareKey(options.value(row), options.id(row), c.v, c.id) >= 0)
    if (c.d === "next") start = after === -1 ? sorted.length : after
    else end = before === -1 ? sorted.length : before
  }
  const limit = options.limit
  const data = c?.d === "prev" ? sorted.slice(Math.max(start, end - limit), end) : sorted.slice(start, start + limit)
  const firstIndex = c?.d === "prev" ? Math.max(start, end - limit) : start
  const lastIndex = firstIndex + data.length
  const at = (row: A, d: "next" | "prev") =>
    encodeCursor({ k: options.kind, c: options.connectionId, v: options.value(row), id: options.id(row), d })
  return {
    data,
    nextCursor: lastIndex < sorted.length && data.length > 0 ? at(data[data.length - 1]!, "next") : null,
    prevCursor: firstIndex > 0 && data.length > 0 ? at(data[0]!, "prev") : null,
    total: sorted.length
  }
}

// "" sorts before any instant, "~" after: never-active accounts come first in ascending activity order.
const sortValue = (sort: AccountSort, a: Omit<StoredAccount, "entitlements">, lastActive: string | null): SortValue => {
  switch (sort) {
    case "name":
      return sortKeyOf(a)
    case "email":
      return (a.email ?? "").toLowerCase()
    case "lastActive":
      return lastActive ?? ""
    case "status":
      return a.status
    case "firstSeen":
      return a.firstSeenAt
  }
}

// =============================================================================
// the store
// =============================================================================

/**
 * The four stores over one in-memory state.
 *
 * @since 0.2.0
 * @category constructors
 */
export const make = (options: MemoryStoreOptions = {}) =>
  Effect.sync(() => {
    const leaseMs = Duration.toMillis(Duration.decode(options.leaseDuration ?? Duration.seconds(30)))
    const connections = new Map<string, ConnectionRecord>()
    const accounts = new Map<string, Map<string, MemAccount>>()
    const events = new Map<string, Array<StatusEvent>>()
    const runs = new Map<string, MemRun>()
    const locks = new Map<string, Lock>()
    const licenses = new Map<string, Map<string, MemLicense>>()
    const snapshots = new Map<string, Array<ProductSnapshot>>()
    const audit: Array<AuditEvent> = []
    let auditId = 0
    const reclaim = makeReclaimStore({
      leaseMs,
      accountStatus: (connectionId, externalId) => accounts.get(connectionId)?.get(externalId)?.status
    })

    const nowMs = Clock.currentTimeMillis
    const accountsOf = (connectionId: string) => {
      let map = accounts.get(connectionId)
      if (map === undefined) accounts.set(connectionId, map = new Map())
      return map
    }
    const pushEvent = (connectionId: string, event: StatusEvent) => {
      let list = events.get(connectionId)
      if (list === undefined) events.set(connectionId, list = [])
      list.push(event)
    }
    const storedOf = (a: MemAccount): StoredAccount => {
      const { absentRuns: _r, entitlements, sourceHash: _h, ...rest } = a
      return {
        ...rest,
        entitlements: [...entitlements.values()].sort((x, y) =>
          x.name < y.name ? -1 : x.name > y.name ? 1 : x.key < y.key ? -1 : x.key > y.key ? 1 : 0
        ).map((e) => ({ ...e }))
      }
    }
    const requireRun = (id: string) =>
      Effect.suspend(() => {
        const r = runs.get(id)
        return r === undefined ? Effect.fail(notFound(`sync run ${id} does not exist`)) : Effect.succeed(r)
      })

    // --- runs and the lock ------------------------------------------------------------------------------

    /** Recovers the runs whose lease expired before `expiredBefore` (default `now`), and orphaned runs. */
    const recoverWhere = (now: number, connectionId: string | undefined, expiredBefore = now): Array<SyncRun> => {
      const recovered: Array<SyncRun> = []
      for (const [cid, lock] of locks) {
        if (connectionId !== undefined && cid !== connectionId) continue
        if (lock.leaseExpiresAt >= expiredBefore) continue
        locks.delete(cid)
        const r = runs.get(lock.runId)
        if (r !== undefined && r.run.status === "running") {
          r.run = {
            ...r.run,
            status: "interrupted",
            finishedAt: iso(now),
            error: interruptedError(`its lock's lease expired at ${iso(lock.leaseExpiresAt)}`)
          }
          r.staged.clear()
          r.verdicts.clear()
          recovered.push(r.run)
        }
      }
      for (const r of runs.values()) {
        if (r.run.status !== "running") continue
        if (connectionId !== undefined && r.run.connectionId !== connectionId) continue
        if (locks.get(r.run.connectionId)?.runId === r.run.id) continue
        r.run = {
          ...r.run,
          status: "interrupted",
          finishedAt: iso(now),
          error: interruptedError("it no longer held its connection's sync lock")
        }
        recovered.push(r.run)
      }
      return recovered
    }

    const takeLock = (connectionId: string, runId: string, owner: string, now: number) => {
      const held = locks.get(connectionId)
      if (held !== undefined && held.leaseExpiresAt >= now - TAKEOVER_GRACE_MS) return held
      locks.set(connectionId, { runId, owner, leaseExpiresAt: now + leaseMs })
      return undefined
    }

    const holding = (runId: string, now: number) =>
      Effect.suspend(() => {
        const r = runs.get(runId)
        if (r === undefined) return Effect.fail(notFound(`sync run ${runId} does not exist`))
        const lock = locks.get(r.run.connectionId)
        if (lock === undefined || lock.runId !== runId || r.run.status !== "running") {
          return Effect.fail(lockLost(runId))
        }
        lock.leaseExpiresAt = now + leaseMs
        return Effect.succeed(r)
      })

    const absenteesOf = (r: MemRun): Array<MemAccount> =>
      [...accountsOf(r.run.connectionId).values()]
        .filter((a) => a.status !== "deprovisioned" && !r.staged.has(a.externalId))
        .sort((a, b) => (a.externalId < b.externalId ? -1 : 1))

    const keptByAdmin = (a: MemAccount, run: SyncRun) => a.adminActionAt !== null && a.adminActionAt > run.startedAt

    const readings = (r: MemRun): Array<ProviderAccount> => {
      const out = [...r.staged.values()]
      for (const v of r.verdicts.values()) if (v.verdict === "present") out.push(v.account)
      return out
    }

    const summarizeRun = (r: MemRun): RunSummary => {
      const live = [...accountsOf(r.run.connectionId).values()]
      let wouldDeprovision = 0
      for (const reading of readings(r)) {
        const a = accountsOf(r.run.connectionId).get(reading.externalId)
        if (
          reading.status === "deprovisioned" && a !== undefined && a.status !== "deprovisioned" &&
          !keptByAdmin(a, r.run)
        ) {
          wouldDeprovision++
        }
      }
      for (const v of r.verdicts.values()) {
        if (v.verdict !== "gone" && v.verdict !== "unconfirmed") continue
        const a = accountsOf(r.run.connectionId).get(v.externalId)
        if (a !== undefined && a.status !== "deprovisioned" && !keptByAdmin(a, r.run)) wouldDeprovision++
      }
      return {
        staged: r.staged.size,
        accountsBefore: live.filter((a) => a.status !== "deprovisioned").length,
        activeBefore: live.filter((a) => a.status === "active").length,
        wouldDeprovision,
        absent: absenteesOf(r).length
      }
    }

    const statsOf = (r: MemRun, counters: RunCounters, counted: Partial<SyncStats>): SyncStats => {
      let absentConfirmed = 0
      let absentButPresent = 0
      let absentPending = 0
      for (const v of r.verdicts.values()) {
        if (v.verdict === "gone") absentConfirmed++
        else if (v.verdict === "present") absentButPresent++
        else if (v.verdict === "pending") absentPending++
      }
      return {
        ...emptyStats,
        accounts: r.staged.size,
        absentConfirmed,
        absentButPresent,
        absentPending,
        lookups: counters.lookups,
        totalAtStart: counters.totalAtStart,
        totalAtEnd: counters.totalAtEnd,
        rosterShifted: counters.rosterShifted,
        licenses: counters.licenses,
        requests: counters.requests,
        retries: counters.retries,
        rateLimited: counters.rateLimited,
        ...counted
      }
    }

    const setEntitlements = (
      connectionId: string,
      account: MemAccount,
      given: ReadonlyArray<Entitlement>,
      now: string,
      runId: string,
      isNew: boolean
    ): number => {
      let deprovisioned = 0
      const seen = new Set<string>()
      for (const e of given) {
        if (seen.has(e.key)) continue
        seen.add(e.key)
        const existing = account.entitlements.get(e.key)
        const fields = {
          name: e.displayName,
          product: e.product,
          site: e.site ?? null,
          siteHost: e.siteHost ?? null,
          status: e.status,
          lastActiveAt: readInstant(e.lastActiveAt) ?? existing?.lastActiveAt ?? null,
          activitySource: e.activitySource ?? existing?.activitySource ?? null,
          role: e.role ?? null,
          billable: e.billable ?? null
        }
        if (existing === undefined) {
          account.entitlements.set(e.key, { key: e.key, ...fields, firstSeenAt: now, lastSeenAt: now })
          if (!isNew) {
            pushEvent(connectionId, {
              at: now,
              externalId: account.externalId,
              entitlementKey: e.key,
              from: null,
              to: e.status,
              cause: "sync",
              runId
            })
          }
        } else {
          if (existing.status !== e.status) {
            pushEvent(connectionId, {
              at: now,
              externalId: account.externalId,
              entitlementKey: e.key,
              from: existing.status,
              to: e.status,
              cause: "sync",
              runId
            })
          }
          Object.assign(existing, fields, { lastSeenAt: now })
        }
      }
      for (const existing of account.entitlements.values()) {
        if (seen.has(existing.key) || existing.status === "deprovisioned") continue
        pushEvent(connectionId, {
          at: now,
          externalId: account.externalId,
          entitlementKey: existing.key,
          from: existing.status,
          to: "deprovisioned",
          cause: "sync",
          runId
        })
        existing.status = "deprovisioned"
        deprovisioned++
      }
      return deprovisioned
    }

    const deprovisionAll = (connectionId: string, account: MemAccount, now: string, runId: string): number => {
      let n = 0
      for (const e of account.entitlements.values()) {
        if (e.status === "deprovisioned") continue
        pushEvent(connectionId, {
          at: now,
          externalId: account.externalId,
          entitlementKey: e.key,
          from: e.status,
          to: "deprovisioned",
          cause: "sync",
          runId
        })
        e.status = "deprovisioned"
        n++
      }
      return n
    }

    const applyRun = (r: MemRun, counters: RunCounters, now: number): SyncRun => {
      const C = r.run.connectionId
      const at = iso(now)
      const live = accountsOf(C)
      let created = 0
      let updated = 0
      let unchanged = 0
      let deprovisioned = 0
      let entitlementsDeprovisioned = 0
      let adminActionsKept = 0
      for (const reading of readings(r)) {
        const hash = digest(reading)
        const existing = live.get(reading.externalId)
        if (existing === undefined) {
          const account: MemAccount = {
            connectionId: C,
            externalId: reading.externalId,
            email: reading.email ?? null,
            displayName: reading.displayName,
            accountType: reading.accountType,
            status: reading.status,
            sourceStatus: reading.sourceStatus,
            lastActiveAt: readInstant(reading.lastActiveAt) ?? null,
            activitySource: reading.activitySource ?? null,
            billable: reading.billable ?? null,
            managed: reading.managed ?? null,
            addedAt: readInstant(reading.addedAt) ?? null,
            roles: [...(reading.roles ?? [])],
            groups: [...(reading.groups ?? [])],
            attributes: { ...reading.attributes },
            firstSeenAt: at,
            lastSeenAt: at,
            adminActionAt: null,
            entitlements: new Map(),
            sourceHash: hash,
            absentRuns: 0
          }
          setEntitlements(C, account, reading.entitlements ?? [], at, r.run.id, true)
          live.set(account.externalId, account)
          pushEvent(C, {
            at,
            externalId: account.externalId,
            entitlementKey: null,
            from: null,
            to: reading.status,
            cause: "sync",
            runId: r.run.id
          })
          created++
          continue
        }
        existing.lastSeenAt = at
        existing.absentRuns = 0
        for (const e of existing.entitlements.values()) if (e.status !== "deprovisioned") e.lastSeenAt = at
        if (existing.sourceHash === hash) {
          unchanged++
          continue
        }
        updated++
        const kept = keptByAdmin(existing, r.run) && existing.status !== reading.status
        if (kept) {
          adminActionsKept++
        } else if (existing.status !== reading.status) {
          pushEvent(C, {
            at,
            externalId: existing.externalId,
            entitlementKey: null,
            from: existing.status,
            to: reading.status,
            cause: "sync",
            runId: r.run.id
          })
          if (reading.status === "deprovisioned") deprovisioned++
          existing.status = reading.status
        }
        existing.email = reading.email ?? null
        existing.displayName = reading.displayName
        existing.accountType = reading.accountType
        existing.sourceStatus = reading.sourceStatus
        existing.lastActiveAt = readInstant(reading.lastActiveAt) ?? existing.lastActiveAt
        existing.activitySource = reading.activitySource ?? existing.activitySource
        existing.billable = reading.billable ?? existing.billable
        existing.managed = reading.managed ?? existing.managed
        existing.addedAt = readInstant(reading.addedAt) ?? existing.addedAt
        if (reading.roles !== undefined) existing.roles = [...reading.roles]
        if (reading.groups !== undefined) existing.groups = [...reading.groups]
        if (reading.attributes !== undefined) existing.attributes = { ...reading.attributes }
        if (reading.entitlements !== undefined) {
          entitlementsDeprovisioned += setEntitlements(C, existing, reading.entitlements, at, r.run.id, false)
        }
        // A reading applied over an admin's newer action is confirmed by the next run, not trusted now.
        existing.sourceHash = kept ? null : hash
      }
      for (const v of r.verdicts.values()) {
        const a = live.get(v.externalId)
        if (a === undefined) continue
        if (v.verdict === "pending") {
          a.absentRuns++
          continue
        }
        if (v.verdict !== "gone" && v.verdict !== "unconfirmed") continue
        a.absentRuns++
        if (a.status === "deprovisioned") continue
        if (keptByAdmin(a, r.run)) {
          adminActionsKept++
          continue
        }
        pushEvent(C, {
          at,
          externalId: a.externalId,
          entitlementKey: null,
          from: a.status,
          to: "deprovisioned",
          cause: "sync",
          runId: r.run.id
        })
        a.status = "deprovisioned"
        a.sourceHash = null
        deprovisioned++
        entitlementsDeprovisioned += deprovisionAll(C, a, at, r.run.id)
      }
      if (r.licenses !== undefined) {
        const map = new Map<string, MemLicense>()
        for (const l of r.licenses) map.set(l.key, { ...l, connectionId: C })
        licenses.set(C, map)
      }
      const products = productsOf(C, now)
      const list = snapshots.get(C) ?? []
      for (const p of products) {
        list.push({
          runId: r.run.id,
          at,
          key: p.key,
          seatsPurchased: p.seatsPurchased,
          assigned: p.assigned,
          seats: p.seats,
          used30: p.used30,
          unused90: p.unused90
        })
      }
      snapshots.set(C, list)
      r.run = {
        ...r.run,
        status: "succeeded",
        finishedAt: at,
        error: null,
        stats: statsOf(r, counters, {
          created,
          updated,
          unchanged,
          deprovisioned,
          entitlementsDeprovisioned,
          adminActionsKept
        })
      }
      r.staged.clear()
      r.verdicts.clear()
      r.licenses = undefined
      if (locks.get(C)?.runId === r.run.id) locks.delete(C)
      return r.run
    }

    const sync = SyncStore.of({
      leaseDuration: Duration.millis(leaseMs),
      start: (connectionId, owner) =>
        Effect.gen(function*() {
          const now = yield* nowMs
          recoverWhere(now, connectionId, now - TAKEOVER_GRACE_MS)
          if (!connections.has(connectionId)) return yield* notFound(`connection ${connectionId} does not exist`)
          const runId = Crypto.randomUUID()
          const held = takeLock(connectionId, runId, owner, now)
          if (held !== undefined) {
            if (held.runId.startsWith("delete:")) return yield* notFound(`connection ${connectionId} is being deleted`)
            return yield* new SyncAlreadyRunning({ connectionId, runId: held.runId })
          }
          for (const r of runs.values()) {
            if (r.run.connectionId !== connectionId || r.run.status !== "held") continue
            r.run = {
              ...r.run,
              status: "superseded",
              decision: { decision: "supersede", actor: "system", at: iso(now) }
            }
            r.staged.clear()
            r.verdicts.clear()
          }
          const run: SyncRun = {
            id: runId,
            connectionId,
            status: "running",
            startedAt: iso(now),
            finishedAt: null,
            stats: emptyStats,
            error: null,
            hold: null,
            decision: null
          }
          runs.set(runId, { run, owner, staged: new Map(), verdicts: new Map(), licenses: undefined })
          return run
        }),
      heartbeat: (runId) => Effect.flatMap(nowMs, (now) => holding(runId, now)).pipe(Effect.asVoid),
      stage: (runId, list) =>
        Effect.gen(function*() {
          const r = yield* holding(runId, yield* nowMs)
          for (const account of list) {
            r.staged.set(account.externalId, account)
            // A listing replaces a verdict given before it (as the SQL store's staging does).
            r.verdicts.delete(account.externalId)
          }
          r.run = { ...r.run, stats: { ...r.run.stats, accounts: r.staged.size } }
          return { staged: r.staged.size }
        }),
      stageLicenses: (runId, list) =>
        Effect.gen(function*() {
          const r = yield* holding(runId, yield* nowMs)
          r.licenses = [...(r.licenses ?? []), ...list]
        }),
      absentees: (runId, limit) =>
        Effect.map(requireRun(runId), (r) => {
          const all = absenteesOf(r)
          return {
            total: all.length,
            first: all.slice(0, Math.max(0, limit)).map((a): Absentee => ({
              externalId: a.externalId,
              status: a.status,
              absentRuns: a.absentRuns
            }))
          }
        }),
      confirm: (runId, verdicts) =>
        Effect.gen(function*() {
          const r = yield* holding(runId, yield* nowMs)
          // A verdict is about an account the listing did not return; one it did return keeps its listing.
          for (const v of verdicts) if (!r.staged.has(v.externalId)) r.verdicts.set(v.externalId, v)
        }),
      settle: (runId, rule: SettleRule) =>
        Effect.gen(function*() {
          const r = yield* holding(runId, yield* nowMs)
          for (const a of absenteesOf(r)) {
            if (r.verdicts.has(a.externalId)) continue
            const verdict = rule === "streak" ? (a.absentRuns >= 1 ? "gone" : "pending") : rule
            r.verdicts.set(a.externalId, { externalId: a.externalId, verdict } as AbsenceVerdict)
          }
        }),
      summarize: (runId) => Effect.map(requireRun(runId), summarizeRun),
      apply: (runId, counters) =>
        Effect.gen(function*() {
          const now = yield* nowMs
          const r = yield* holding(runId, now)
          return applyRun(r, counters, now)
        }),
      hold: (runId, hold: SyncHold, counters) =>
        Effect.gen(function*() {
          const now = yield* nowMs
          const r = yield* holding(runId, now)
          r.run = { ...r.run, status: "held", finishedAt: iso(now), hold, stats: statsOf(r, counters, {}) }
          locks.delete(r.run.connectionId)
          return r.run
        }),
      reopen: (runId, owner, actor) =>
        Effect.gen(function*() {
          const now = yield* nowMs
          const r = yield* requireRun(runId)
          if (r.run.status !== "held") {
            return yield* conflict(`sync run ${runId} is ${r.run.status}, not held: only a held run can be applied`)
          }
          recoverWhere(now, r.run.connectionId)
          const held = takeLock(r.run.connectionId, runId, owner, now)
          if (held !== undefined) {
            return yield* new SyncAlreadyRunning({ connectionId: r.run.connectionId, runId: held.runId })
          }
          r.owner = owner
          r.run = { ...r.run, status: "running", decision: { decision: "apply", actor, at: iso(now) } }
          return r.run
        }),
      discard: (runId, actor) =>
        Effect.gen(function*() {
          const now = yield* nowMs
          const r = yield* requireRun(runId)
          if (r.run.status !== "held") {
            return yield* conflict(`sync run ${runId} is ${r.run.status}, not held: only a held run can be discarded`)
          }
          r.run = { ...r.run, status: "discarded", decision: { decision: "discard", actor, at: iso(now) } }
          r.staged.clear()
          r.verdicts.clear()
          r.licenses = undefined
          return r.run
        }),
      abort: (runId, status, error, counters) =>
        Effect.gen(function*() {
          const now = yield* nowMs
          const r = yield* requireRun(runId)
          if (r.run.status === "running") {
            r.run = { ...r.run, status, finishedAt: iso(now), error, stats: statsOf(r, counters, {}) }
          }
          if (locks.get(r.run.connectionId)?.runId === runId) locks.delete(r.run.connectionId)
          r.staged.clear()
          r.verdicts.clear()
          r.licenses = undefined
          return r.run
        }),
      recover: Effect.map(nowMs, (now) => recoverWhere(now, undefined)),
      get: (id) => Effect.sync(() => Option.map(Option.fromNullable(runs.get(id)), (r) => r.run)),
      list: (connectionId, limit, options) =>
        Effect.sync(() =>
          [...runs.values()].map((r) => r.run)
            .filter((run) =>
              run.connectionId === connectionId && (options?.status === undefined || run.status === options.status) &&
              (options?.before === undefined || run.startedAt < options.before.startedAt ||
                (run.startedAt === options.before.startedAt && run.id < options.before.id))
            )
            .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : a.id < b.id ? 1 : -1))
            .slice(0, clampLimit(limit))
        )
    })

    // --- connections ------------------------------------------------------------------------------------

    const connectionStore = ConnectionStore.of({
      create: (input) =>
        Effect.map(nowMs, (now) => {
          const record: ConnectionRecord = {
            ...defaultSyncSettings,
            ...Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined)),
            id: Crypto.randomUUID(),
            provider: input.provider,
            name: input.name,
            config: JSON.parse(JSON.stringify(input.config ?? null)),
            createdAt: iso(now),
            updatedAt: iso(now)
          }
          connections.set(record.id, record)
          return record
        }),
      get: (id) => Effect.sync(() => Option.fromNullable(connections.get(id))),
      list: Effect.sync(() =>
        [...connections.values()].sort((a, b) =>
          a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1
        )
      ),
      update: (id, patch) =>
        Effect.map(nowMs, (now) => {
          const current = connections.get(id)
          if (current === undefined) return Option.none()
          const defined = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined))
          const next: ConnectionRecord = {
            ...current,
            ...defined,
            config: patch.config === undefined ? current.config : JSON.parse(JSON.stringify(patch.config)),
            updatedAt: iso(now)
          }
          connections.set(id, next)
          return Option.some(next)
        }),
      remove: (id) =>
        Effect.gen(function*() {
          const now = yield* nowMs
          recoverWhere(now, id)
          const lock = locks.get(id)
          if (lock !== undefined) {
            return yield* conflict(
              `connection ${id} cannot be deleted while a sync of it runs (run ${lock.runId}); wait for the sync to ` +
                `finish and try again`
            )
          }
          const executing = reclaim.executing(id, now)
          if (executing !== undefined) {
            return yield* conflict(
              `connection ${id} cannot be deleted while a reclaim plan of it is executing (plan ${executing.id}); ` +
                `wait for its job to finish or stop, and try again (a running plan cannot be cancelled)`
            )
          }
          const existed = connections.delete(id)
          accounts.delete(id)
          events.delete(id)
          licenses.delete(id)
          snapshots.delete(id)
          for (const [runId, r] of runs) if (r.run.connectionId === id) runs.delete(runId)
          reclaim.removeConnection(id)
          return existed
        })
    })

    // --- inventory --------------------------------------------------------------------------------------

    const nowOf = (now: string | undefined) =>
      now === undefined
        ? nowMs
        : Number.isNaN(Date.parse(now))
        ? Effect.fail(new StoreError({ reason: "Internal", description: `"now" is not an ISO-8601 date-time: ${now}` }))
        : Effect.succeed(Date.parse(now))

    const holds = (e: MemEntitlement, product: string) => e.key === product || e.product === product

    const licenseOf = (connectionId: string, key: string) => licenses.get(connectionId)?.get(key)

    const productsOf = (connectionId: string, now: number): Array<ProductSummary> => {
      const byKey = new Map<string, {
        e: MemEntitlement
        assigned: number
        seats: number
        used: [number, number, number]
        unused: [number, number, number]
        deprovisioned: number
        lastActiveAt: string | null
      }>()
      for (const a of accountsOf(connectionId).values()) {
        for (const e of a.entitlements.values()) {
          let row = byKey.get(e.key)
          if (row === undefined) {
            byKey.set(
              e.key,
              row = {
                e,
                assigned: 0,
                seats: 0,
                used: [0, 0, 0],
                unused: [0, 0, 0],
                deprovisioned: 0,
                lastActiveAt: null
              }
            )
          }
          if (e.status === "deprovisioned") row.deprovisioned++
          if (Seats.isAssignment(a, e)) row.assigned++
          if (Seats.isSeat(a, e)) row.seats++
          ;[30, 60, 90].forEach((days, i) => {
            if (Seats.isUsed(a, e, days, now)) row.used[i]!++
            if (Seats.isUnused(a, e, days, now)) row.unused[i]!++
          })
          if (e.lastActiveAt !== null && (row.lastActiveAt === null || e.lastActiveAt > row.lastActiveAt)) {
            row.lastActiveAt = e.lastActiveAt
          }
        }
      }
      const out: Array<ProductSummary> = []
      for (const row of byKey.values()) {
        const l = licenseOf(connectionId, row.e.key)
        out.push({
          key: row.e.key,
          name: row.e.name,
          product: row.e.product,
          site: row.e.site,
          siteHost: row.e.siteHost,
          plan: l?.plan ?? null,
          edition: l?.edition ?? editionOf(l?.plan) ?? null,
          seatsPurchased: l?.seatsPurchased ?? null,
          seatsUsedBySource: l?.seatsUsedBySource ?? null,
          assigned: row.assigned,
          seats: row.seats,
          used30: row.used[0],
          used60: row.used[1],
          used90: row.used[2],
          unused30: row.unused[0],
          unused60: row.unused[1],
          unused90: row.unused[2],
          deprovisioned: row.deprovisioned,
          lastActiveAt: row.lastActiveAt,
          licensed: l !== undefined
        })
      }
      for (const l of licenses.get(connectionId)?.values() ?? []) {
        if (byKey.has(l.key)) continue
        out.push({
          key: l.key,
          name: l.site === undefined ? l.productName : `${l.productName} (${l.site})`,
          product: l.product,
          site: l.site ?? null,
          siteHost: l.siteHost ?? null,
          plan: l.plan ?? null,
          edition: l.edition ?? editionOf(l.plan) ?? null,
          seatsPurchased: l.seatsPurchased ?? null,
          seatsUsedBySource: l.seatsUsedBySource ?? null,
          assigned: 0,
          seats: 0,
          used30: 0,
          used60: 0,
          used90: 0,
          unused30: 0,
          unused60: 0,
          unused90: 0,
          deprovisioned: 0,
          lastActiveAt: null,
          licensed: true
        })
      }
      return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.key < b.key ? -1 : 1))
    }

    const matchesQ = (a: MemAccount, q: string | undefined) => {
      if (q === undefined || q.trim() === "") return true
      const needle = q.trim().toLowerCase()
      return [a.email ?? "", a.displayName, a.externalId].join("\n").toLowerCase().includes(needle)
    }

    const inventory = InventoryStore.of({
      listAccounts: (query: AccountQuery) =>
        Effect.gen(function*() {
          const now = yield* nowOf(query.now)
          const C = query.connectionId
          const cursor = query.cursor === undefined || query.cursor === ""
            ? undefined
            : yield* decodeCursor(query.cursor, `accounts:${query.sort ?? "name"}:${query.order ?? "asc"}`, C)
          const cut = query.inactiveDays === undefined ? undefined : Seats.cutoff(now, query.inactiveDays)
          const rows = [...accountsOf(C).values()].filter((a) =>
            (query.status === undefined || a.status === query.status) &&
            (query.product === undefined || query.product === "" ||
              [...a.entitlements.values()].some((e) => e.status === "active" && holds(e, query.product!))) &&
            (cut === undefined || a.lastActiveAt === null || a.lastActiveAt < cut) &&
            (query.accountType === undefined || a.accountType === query.accountType) &&
            (query.billable === undefined || Seats.isBillableAccount(a) === query.billable) &&
            (query.managed === undefined || a.managed === query.managed) &&
            matchesQ(a, query.q)
          )
          const sort = query.sort ?? "name"
          const page = pageOf(rows, {
            kind: `accounts:${sort}:${query.order ?? "asc"}`,
            connectionId: C,
            value: (a) => sortValue(sort, a, a.lastActiveAt),
            id: (a) => a.externalId,
            order: query.order ?? "asc",
            limit: clampLimit(query.limit),
            cursor
          })
          return { ...page, data: page.data.map(storedOf), total: query.withTotal === false ? -1 : page.total }
        }),
      getAccount: (connectionId, externalId) =>
        Effect.sync(() => {
          const a = accountsOf(connectionId).get(externalId)
          if (a === undefined) return Option.none()
          const history = (events.get(connectionId) ?? []).filter((e) => e.externalId === externalId).slice(
            -HISTORY_LIMIT
          )
            .reverse()
          return Option.some({ account: storedOf(a), history })
        }),
      recordAction: (connectionId, externalId, status: AccountStatus, cause: Exclude<StatusCause, "sync">) =>
        Effect.map(nowMs, (now) => {
          const a = accountsOf(connectionId).get(externalId)
          if (a === undefined) return Option.none()
          const at = iso(now)
          if (a.status !== status) {
            pushEvent(connectionId, {
              at,
              externalId,
              entitlementKey: null,
              from: a.status,
              to: status,
              cause,
              runId: null
            })
          }
          a.status = status
          a.adminActionAt = at
          a.sourceHash = null
          return Option.some(storedOf(a))
        }),
      listSeats: (query: SeatQuery) =>
        Effect.gen(function*() {
          const now = yield* nowOf(query.now)
          const C = query.connectionId
          const sort = query.sort ?? "name"
          const kind = `seats:${sort}:${query.order ?? "asc"}`
          const cursor = query.cursor === undefined || query.cursor === ""
            ? undefined
            : yield* decodeCursor(query.cursor, kind, C)
          const rows: Array<Seat> = []
          for (const a of accountsOf(C).values()) {
            if (!matchesQ(a, query.q)) continue
            for (const e of a.entitlements.values()) {
              if (!Seats.isSeat(a, e)) continue
              if (query.license !== undefined && e.key !== query.license) continue
              if (query.product !== undefined && e.product !== query.product) continue
              if (query.plan !== undefined && licenseOf(C, e.key)?.plan?.toLowerCase() !== query.plan.toLowerCase()) {
                continue
              }
              if (query.unusedDays !== undefined && !Seats.isUnused(a, e, query.unusedDays, now)) continue
              if (query.usedDays !== undefined && !Seats.isUsed(a, e, query.usedDays, now)) continue
              const { entitlements: _e, ...account } = storedOf(a)
              rows.push({ account, entitlement: { ...e } })
            }
          }
          const page = pageOf(rows, {
            kind,
            connectionId: C,
            value: (s) => sortValue(sort, s.account, s.entitlement.lastActiveAt),
            id: (s) => `${s.account.externalId}\u0000${s.entitlement.key}`,
            order: query.order ?? "asc",
            limit: clampLimit(query.limit),
            cursor
          })
          return query.withTotal === false ? { ...page, total: -1 } : page
        }),
      listProducts: (connectionId, now) => Effect.map(nowOf(now), (ms) => productsOf(connectionId, ms)),
      productTrend: (connectionId, count) =>
        Effect.sync(() => {
          const list = snapshots.get(connectionId) ?? []
          if (!(count >= 1)) return []
          const runIds = [...new Set(list.map((s) => s.runId))].slice(-Math.floor(count))
          return list.filter((s) => runIds.includes(s.runId))
        }),
      totals: (connectionId, now) =>
        Effect.map(nowOf(now), (ms): InventoryTotals => {
          const byStatus: Record<AccountStatus, number> = { active: 0, suspended: 0, deprovisioned: 0, unknown: 0 }
          let billableAccounts = 0
          let seats = 0
          const unused = [0, 0, 0]
          const all = [...accountsOf(connectionId).values()]
          for (const a of all) {
            byStatus[a.status]++
            if (Seats.isBillableAccount(a)) billableAccounts++
            for (const e of a.entitlements.values()) {
              if (Seats.isSeat(a, e)) seats++
              ;[30, 60, 90].forEach((days, i) => {
                if (Seats.isUnused(a, e, days, ms)) unused[i]!++
              })
            }
          }
          return {
            accounts: all.length,
            byStatus,
            billableAccounts,
            seats,
            unused30: unused[0]!,
            unused60: unused[1]!,
            unused90: unused[2]!
          }
        })
    })

    // --- audit ------------------------------------------------------------------------------------------

    const auditStore = AuditStore.of({
      append: (event) =>
        Effect.map(nowMs, (now) => {
          const stored: AuditEvent = {
            ...event,
            input: event.input === undefined ? null : JSON.parse(JSON.stringify(event.input)),
            id: String(++auditId),
            at: iso(now)
          }
          audit.push(stored)
          return stored
        }),
      list: (query) =>
        Effect.gen(function*() {
          const scope = query.connectionId ?? "*"
          const cursor = query.cursor === undefined || query.cursor === ""
            ? undefined
            : yield* decodeCursor(query.cursor, "audit", scope)
          const rows = audit.filter((e) =>
            (query.connectionId === undefined || e.connectionId === query.connectionId) &&
            (query.action === undefined || e.action === query.action)
          )
          return pageOf(rows, {
            kind: "audit",
            connectionId: scope,
            value: (e) => Number(e.id),
            id: (e) => e.id.padStart(12, "0"),
            order: "desc",
            limit: clampLimit(query.limit),
            cursor
          })
        })
    })

    return {
      connections: connectionStore,
      sync,
      inventory,
      audit: auditStore,
      reclaim,
      users: makeUserStore(),
      webhooks: makeWebhookStore()
    }
  })

/**
 * The four stores in memory, sharing one state.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  options: MemoryStoreOptions = {}
): Layer.Layer<Stores> =>
  Layer.effectContext(
    Effect.map(make(options), (stores) =>
      Context.make(ConnectionStore, stores.connections).pipe(
        Context.add(SyncStore, stores.sync),
        Context.add(InventoryStore, stores.inventory),
        Context.add(AuditStore, stores.audit),
        Context.add(ReclaimStore, stores.reclaim),
        Context.add(UserStore, stores.users),
        Context.add(WebhookStore, stores.webhooks)
      ))
  )

/**
 * Every storage port of core.
 *
 * @since 0.2.0
 * @category models
 */
export type Stores = ConnectionStore | SyncStore | InventoryStore | AuditStore | ReclaimStore | UserStore | WebhookStore
