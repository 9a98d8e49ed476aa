/**
 * Syncs: start one in the background (one at a time per connection, across processes), read runs, decide
 * held runs (apply or discard, audited), and recover runs a stopped process left `running` (audited as
 * finished, invariant 9).
 *
 * @since 0.2.0
 */
import { ConnectionStore } from "@seatkeeper/core/Connection"
import type { StoreError, SyncAlreadyRunning } from "@seatkeeper/core/StoreError"
import * as SyncEngine from "@seatkeeper/core/SyncEngine"
import type { SyncRun } from "@seatkeeper/core/SyncRun"
import { SyncStore } from "@seatkeeper/core/SyncStore"
import { processOwner } from "@seatkeeper/store/SyncOwner"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { type InvalidInput, NotFound } from "../errors.js"
import { invalidCursor } from "../inputs.js"
import type { SyncView } from "../views.js"
import { type Actor, AuditLog } from "./AuditLog.js"
import { Metrics } from "./Metrics.js"
import { Upstream } from "./Upstream.js"
import { type Principal, requireRole } from "./Users.js"
import { Webhooks } from "./Webhooks.js"

/**
 * A page of a connection's runs: newest first, and the cursor of the next page (`null` after the oldest).
 *
 * @since 0.2.0
 * @category views
 */
export interface RunsPage {
  readonly data: ReadonlyArray<SyncView>
  readonly nextCursor: string | null
}

// A position in the runs list: the last run of a page, by the list's order (`startedAt`, then `id`). Not
// signed: it names a run any reader of the list may see, and a forged one only moves the page.
const RunCursor = Schema.compose(
  Schema.StringFromBase64Url,
  Schema.parseJson(Schema.Tuple(Schema.String, Schema.String))
)
const encodeCursor = (run: SyncRun) => Schema.encodeSync(RunCursor)([run.startedAt, run.id])
const decodeCursor = (cursor: string) =>
  Schema.decodeUnknown(RunCursor)(cursor).pipe(
    Effect.map(([startedAt, id]) => ({ startedAt, id })),
    Effect.mapError(invalidCursor)
  )

const outcomeOf = (run: SyncRun) => (run.status === "succeeded" ? "ok" : run.status === "held" ? "held" : "error")

const detailOf = (run: SyncRun): string =>
  run.status === "held" && run.hold !== null
    ? `held: ${run.hold.message}`
    : run.error === null
    ? run.status
    : `${run.status}: ${run.error.message}`

/**
 * @since 0.2.0
 * @category services
 */
export class Syncs extends Effect.Service<Syncs>()("app/Syncs", {
  accessors: true,
  scoped: Effect.gen(function*() {
    const store = yield* SyncStore
    const connections = yield* ConnectionStore
    const upstream = yield* Upstream
    const audit = yield* AuditLog
    const metrics = yield* Metrics
    const webhooks = yield* Webhooks
    // Running syncs belong to this service's scope: closing it interrupts them (marked `interrupted`,
    // nothing applied) before the store below closes.
    const fibers = yield* FiberSet.make<unknown, unknown>()
    const owner = processOwner

    const require = (id: string): Effect.Effect<SyncRun, NotFound | StoreError> =>
      store.get(id).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new NotFound({ resource: "sync", id })),
          onSome: Effect.succeed
        }))
      )

    const requireConnection = (id: string) =>
      connections.get(id).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new NotFound({ resource: "connection", id })),
          onSome: Effect.succeed
        }))
      )

    // Someone should hear of a run that failed or waits for a decision; a succeeded run is news to no one.
    const announce = (run: SyncRun, name: string): Effect.Effect<void> =>
      run.status === "failed"
        ? webhooks.notify(
          "sync.failed",
          `Sync of ${name} failed: ${run.error?.message ?? "unknown error"}` +
            (run.error?.hint === undefined ? "" : `. What to do: ${run.error.hint}`),
          { runId: run.id, connectionId: run.connectionId, connectionName: name, reason: run.error?.reason ?? null }
        )
        : run.status === "held"
        ? webhooks.notify(
          "sync.held",
          `Sync of ${name} is held for review, nothing applied: ${run.hold?.message ?? "it would change too much"}`,
          { runId: run.id, connectionId: run.connectionId, connectionName: name, reason: run.hold?.reason ?? null }
        )
        : Effect.void

    const finish =
      (run: SyncRun, actor: Actor, provider: string, name: string) => (exit: Exit.Exit<SyncRun, unknown>) => {
        const final = Exit.isSuccess(exit)
          ? Effect.succeed(Option.some(exit.value))
          : store.get(run.id).pipe(Effect.orElseSucceed(() => Option.none<SyncRun>()))
        return final.pipe(
          Effect.flatMap((found) => {
            const detail = Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)
              ? "interrupted"
              : Option.match(found, { onNone: () => "unknown", onSome: detailOf })
            const outcome = Option.match(found, { onNone: () => "error" as const, onSome: outcomeOf })
            return Option.match(found, { onNone: () => Effect.void, onSome: (r) => metrics.recordRun(r, provider) })
              .pipe(
                Effect.zipRight(Option.match(found, { onNone: () => Effect.void, onSome: (r) => announce(r, name) })),
                Effect.zipRight(audit.record({
                  actor,
                  action: "sync.finish",
                  connectionId: run.connectionId,
                  target: run.id,
                  input: {},
                  outcome,
                  detail
                })),
                Effect.zipRight(
                  Effect.annotateLogs(Effect.logInfo("sync finished"), {
                    runId: run.id,
                    connectionId: run.connectionId,
                    status: Option.match(found, { onNone: () => "unknown", onSome: (r) => r.status })
                  })
                )
              )
          }),
          Effect.catchAllCause((cause) => Effect.logError("could not audit the end of a sync", cause))
        )
      }

    const start = Effect.fn("Syncs.start")(function*(connectionId: string, principal: Principal) {
      yield* requireRole(principal, "operator", "start syncs")
      const actor = principal.name
      const record = yield* requireConnection(connectionId)
      // A run whose lease expired is recovered here, audited, before the lock is taken: the store would
      // otherwise recover it itself while taking the lock, and its end would never reach the audit trail. A
      // lease that runs out between the two is left to the next recover (the store's start waits
      // `TAKEOVER_GRACE_MS` past a lease before it takes the lock over), so this start answers 409.
      yield* recover
      const run = yield* SyncEngine.start(connectionId, owner).pipe(Effect.provideService(SyncStore, store))
      yield* audit.record({
        actor,
        action: "sync.start",
        connectionId,
        target: run.id,
        input: {},
        outcome: "ok",
        detail: null
      })
      yield* Effect.annotateLogs(Effect.logInfo("sync started"), { runId: run.id, connectionId, actor })
      yield* FiberSet.run(
        fibers,
        SyncEngine.execute(run, upstream.connect(record), {
          settings: {
            holdThresholdPercent: record.holdThresholdPercent,
            maxLookups: record.maxLookups,
            deadlineMinutes: record.deadlineMinutes
          }
        }).pipe(
          Effect.provideService(SyncStore, store),
          Effect.onExit(finish(run, actor, record.provider, record.name)),
          // A fork inherits the uninterruptible region below; the run itself must stay interruptible
          // (its own races, and the host stopping).
          Effect.interruptible
        )
      )
      return run as SyncView
    }, (effect) =>
      // Between taking the lock and forking the run nothing may stop us half way: the run would stay
      // `running` until its lease expired and recovery found it.
      Effect.uninterruptible(effect))

    const decided = (run: SyncRun, actor: Actor, action: "sync.apply" | "sync.discard") =>
      audit.record({
        actor,
        action,
        connectionId: run.connectionId,
        target: run.id,
        input: {},
        outcome: run.status === "succeeded" || run.status === "discarded" ? "ok" : "error",
        detail: run.status === "succeeded"
          ? `applied: ${run.stats.deprovisioned} deprovisioned, ${run.stats.created} created, ${run.stats.updated} updated`
          : run.status
      })

    const auditRefusal =
      (id: string, actor: Actor, action: "sync.apply" | "sync.discard") => (error: { readonly message: string }) =>
        Effect.flatMap(Effect.option(require(id)), (run) =>
          audit.record({
            actor,
            action,
            connectionId: Option.match(run, { onNone: () => null, onSome: (r) => r.connectionId }),
            target: id,
            input: {},
            outcome: "error",
            detail: error.message
          })).pipe(Effect.ignore)

    /** Applies a held run: its lock is taken again, the run applied in one commit, the decision audited. */
    const apply = Effect.fn("Syncs.apply")(function*(id: string, principal: Principal) {
      yield* requireRole(principal, "operator", "apply held syncs")
      const actor = principal.name
      yield* require(id)
      const run = yield* SyncEngine.applyHeld(id, owner, actor).pipe(
        Effect.provideService(SyncStore, store),
        Effect.tapError(auditRefusal(id, actor, "sync.apply"))
      )
      yield* decided(run, actor, "sync.apply")
      return run as SyncView
    })

    /** Discards a held run: nothing of it is applied; the decision is audited. */
    const discard = Effect.fn("Syncs.discard")(function*(id: string, principal: Principal) {
      yield* requireRole(principal, "operator", "discard held syncs")
      const actor = principal.name
      yield* require(id)
      const run = yield* SyncEngine.discardHeld(id, actor).pipe(
        Effect.provideService(SyncStore, store),
        Effect.tapError(auditRefusal(id, actor, "sync.discard"))
      )
      yield* decided(run, actor, "sync.discard")
      return run as SyncView
    })

    /**
     * Marks runs whose lease expired (their process stopped) `interrupted` and audits each as finished, so
     * the connection can sync again and the trail says what happened to the run.
     */
    const recover = Effect.gen(function*() {
      const recovered = yield* store.recover
      for (const run of recovered) {
        const provider = yield* connections.get(run.connectionId).pipe(
          Effect.map(Option.match({ onNone: () => "unknown", onSome: (c) => c.provider }))
        )
        yield* metrics.recordRun(run, provider)
        yield* audit.record({
          actor: "system",
          action: "sync.finish",
          connectionId: run.connectionId,
          target: run.id,
          input: {},
          outcome: "error",
          detail: detailOf(run)
        })
      }
      if (recovered.length > 0) {
        yield* Effect.logWarning("recovered sync runs of a stopped process as interrupted").pipe(
          Effect.annotateLogs({ runIds: recovered.map((r) => r.id) })
        )
      }
      return recovered
    }).pipe(Effect.withSpan("Syncs.recover"))

    return {
      start,
      get: (id: string): Effect.Effect<SyncView, NotFound | StoreError> => require(id),
      list: (connectionId: string, limit: number): Effect.Effect<ReadonlyArray<SyncView>, NotFound | StoreError> =>
        requireConnection(connectionId).pipe(Effect.zipRight(store.list(connectionId, limit))),
      /** A page of the history, after the run `cursor` names (a `nextCursor` of the page before). */
      page: (
        connectionId: string,
        limit: number,
        cursor: string | undefined
      ): Effect.Effect<RunsPage, NotFound | InvalidInput | StoreError> =>
        Effect.gen(function*() {
          yield* requireConnection(connectionId)
          const before = cursor === undefined ? undefined : yield* decodeCursor(cursor)
          const runs = yield* store.list(connectionId, limit + 1, { before })
          const data = runs.slice(0, limit)
          return { data, nextCursor: runs.length > limit ? encodeCursor(data.at(-1)!) : null }
        }),
      applyHeld: apply,
      discardHeld: discard,
      recover
    } as const
  })
}) {}

/**
 * What starting a sync can fail with.
 *
 * @since 0.2.0
 * @category models
 */
export type StartError = NotFound | SyncAlreadyRunning | StoreError
