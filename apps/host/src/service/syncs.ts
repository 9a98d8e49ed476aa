/**
 * Syncs: start one in the background (one at a time per connection, across processes), read runs.
 *
 * @since 0.1.0
 */
import { LicenseStore, type StoreError, type SyncAlreadyRunning, type SyncRun } from "@seatkeeper/core/LicenseStore"
import * as SyncEngine from "@seatkeeper/core/SyncEngine"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import { NotFound } from "../errors.js"
import { type SyncView, syncView } from "../views.js"
import type { Actor, HostContext } from "./HostContext.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Syncs {
  /**
   * Starts a sync of the connection and returns its run at once (`running`); the sync goes on in the
   * background, owned by the host, and is interrupted (nothing applied) when the host stops.
   */
  readonly startSync: (
    connectionId: string,
    actor: Actor
  ) => Effect.Effect<SyncView, NotFound | SyncAlreadyRunning | StoreError>
  readonly getSync: (id: string) => Effect.Effect<SyncView, NotFound | StoreError>
  readonly listSyncs: (connectionId: string, limit: number) => Effect.Effect<ReadonlyArray<SyncView>, NotFound | StoreError>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const makeSyncs = (
  ctx: HostContext,
  options: {
    /** The background fibers of running syncs; interrupted when the host's scope closes. */
    readonly fibers: FiberSet.FiberSet<unknown, unknown>
    /** Names this process in the store's lock, `host:<pid>:<boot id>`, so a dead owner is recognised. */
    readonly owner: string
  }
): Syncs => {
  const { store } = ctx

  const finish = (run: SyncRun, actor: Actor) => (exit: Exit.Exit<SyncRun, unknown>) => {
    const final = Exit.isSuccess(exit)
      ? Effect.succeed(Option.some(exit.value))
      : store.getRun(run.id).pipe(Effect.orElseSucceed(() => Option.none<SyncRun>()))
    return final.pipe(
      Effect.flatMap((final) => {
        const status = Option.match(final, { onNone: () => "unknown", onSome: (r) => r.status })
        const error = Option.flatMap(final, (r) => Option.fromNullable(r.error))
        const detail = Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)
          ? "interrupted"
          : Option.match(error, { onNone: () => status, onSome: (e) => `${status}: ${e.message}` })
        return Effect.zipRight(
          ctx.audit({
            actor,
            action: "sync.finish",
            connectionId: run.connectionId,
            target: run.id,
            input: {},
            outcome: status === "succeeded" ? "ok" : "error",
            detail
          }),
          Effect.annotateLogs(Effect.logInfo("sync finished"), { runId: run.id, connectionId: run.connectionId, status })
        )
      }),
      Effect.catchAllCause((cause) => Effect.logError("could not audit the end of a sync", cause))
    )
  }

  const startSync = (connectionId: string, actor: Actor) =>
    Effect.gen(function*() {
      const record = yield* ctx.requireConnection(connectionId)
      const run = yield* SyncEngine.start(connectionId, options.owner).pipe(Effect.provideService(LicenseStore, store))
      yield* ctx.audit({ actor, action: "sync.start", connectionId, target: run.id, input: {}, outcome: "ok", detail: null })
      yield* Effect.annotateLogs(Effect.logInfo("sync started"), { runId: run.id, connectionId, actor })
      yield* FiberSet.run(
        options.fibers,
        SyncEngine.execute(run, ctx.connect(record)).pipe(
          Effect.provideService(LicenseStore, store),
          Effect.onExit(finish(run, actor)),
          // A fork inherits the uninterruptible region below; the run itself must stay interruptible
          // (its own races, and the host stopping).
          Effect.interruptible
        )
      )
      return syncView(run)
    }).pipe(
      // Between taking the lock and forking the run nothing may stop us half way: the run would stay
      // `running` until the next start-up recovered it.
      Effect.uninterruptible
    )

  return {
    startSync,
    getSync: (id) =>
      store.getRun(id).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new NotFound({ resource: "sync", id })),
          onSome: (run) => Effect.succeed(syncView(run))
        }))
      ),
    listSyncs: (connectionId, limit) =>
      ctx.requireConnection(connectionId).pipe(
        Effect.zipRight(store.listRuns(connectionId, limit)),
        Effect.map((runs) => runs.map(syncView))
      )
  }
}
