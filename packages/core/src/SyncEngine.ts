/**
 * The sync engine: streams a connection's accounts into the store under a run and reconciles them in one
 * commit when, and only when, the stream ends complete.
 *
 * - Invariant 1: a failed, cancelled or interrupted run is aborted, which drops what it staged; nothing a
 *   user sees changes.
 * - Invariant 2: "complete" is the stream ending. `ProviderConnection.accounts` fails with `Incomplete`
 *   rather than ending on a truncated roster, and any failure aborts.
 * - Invariant 8: the run holds the connection's sync lock from `start` to its end, renewed by a heartbeat;
 *   a run that loses its lock stops.
 *
 * Memory is O(chunk): accounts are staged as they arrive.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import {
  LicenseStore,
  type StoreError,
  type SyncAlreadyRunning,
  type SyncRun,
  type SyncRunError
} from "./LicenseStore.js"
import type { ProviderConnection, RequestStats } from "./Provider.js"
import type { ProviderError } from "./ProviderError.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface ExecuteOptions {
  /** Accounts staged per store write. Default 500. */
  readonly chunkSize?: number | undefined
  /** How often the run renews its lock's lease. Default 10 seconds (the store's lease is 30). */
  readonly heartbeatEvery?: Duration.DurationInput | undefined
}

const NO_REQUESTS: RequestStats = { requests: 0, retries: 0, rateLimited: 0 }

const logFailure = (reason: string, message: string) =>
  Effect.logWarning("sync failed; nothing was applied").pipe(Effect.annotateLogs({ reason, error: message }))

/**
 * Takes the connection's sync lock and records a `running` run. Fails `SyncAlreadyRunning` while another
 * run of the connection holds the lock, in any process sharing the store.
 *
 * @since 0.1.0
 * @category running
 */
export const start = (
  connectionId: string,
  owner: string
): Effect.Effect<SyncRun, StoreError | SyncAlreadyRunning, LicenseStore> =>
  Effect.flatMap(LicenseStore, (store) => store.startRun(connectionId, owner))

/**
 * Runs a started sync to its end and returns the finished run: `succeeded` when the account stream ended
 * and the snapshot was committed; `failed` (with the provider's reason and hint) or `interrupted` otherwise,
 * with nothing applied. Never fails: the outcome is the run. When the calling fiber is interrupted (e.g.
 * SIGTERM), the run is recorded as interrupted first and the interruption then goes on.
 *
 * @since 0.1.0
 * @category running
 */
export const execute = (
  run: SyncRun,
  connect: Effect.Effect<ProviderConnection, ProviderError>,
  options: ExecuteOptions = {}
): Effect.Effect<SyncRun, never, LicenseStore> =>
  Effect.gen(function*() {
    const store = yield* LicenseStore
    const chunkSize = Math.max(1, Math.floor(options.chunkSize ?? 500))
    const every = Duration.decode(options.heartbeatEvery ?? Duration.seconds(10))
    const connection = yield* Ref.make(Option.none<ProviderConnection>())
    const requestStats = Ref.get(connection).pipe(
      Effect.flatMap(Option.match({ onNone: () => Effect.succeed(NO_REQUESTS), onSome: (c) => c.requestStats }))
    )

    const stageAll = Effect.gen(function*() {
      const live = yield* connect
      yield* Ref.set(connection, Option.some(live))
      yield* live.accounts.pipe(
        Stream.grouped(chunkSize),
        Stream.runForEach((chunk) => store.stage(run.id, Chunk.toReadonlyArray(chunk)))
      )
      return yield* live.requestStats
    })

    // Renews the lease until the work ends. A lost lock (`Conflict`) ends the run; a passing store error
    // is retried at the next beat, since the lease outlives a few missed beats.
    const heartbeat: Effect.Effect<never, StoreError> = Effect.sleep(every).pipe(
      Effect.zipRight(
        store.heartbeat(run.id).pipe(
          Effect.catchIf(
            (error) => error.reason !== "Conflict",
            (error) =>
              Effect.logWarning("sync heartbeat failed; retrying at the next beat").pipe(
                Effect.annotateLogs({ error: error.message })
              )
          )
        )
      ),
      Effect.forever
    )

    const abort = (status: "failed" | "interrupted", error: SyncRunError) =>
      Effect.gen(function*() {
        const stats = yield* requestStats
        return yield* store.abortRun(run.id, status, error, stats).pipe(
          Effect.catchAll((storeError) =>
            // The store is unreachable: report the outcome anyway. The lock's lease lapses and recovery
            // marks the run interrupted; nothing was committed either way.
            Effect.gen(function*() {
              yield* Effect.logError("cannot record the end of the sync run").pipe(
                Effect.annotateLogs({ error: storeError.message })
              )
              const now = yield* Clock.currentTimeMillis
              return { ...run, status, finishedAt: new Date(now).toISOString(), error } satisfies SyncRun
            })
          )
        )
      })

    const finish = (exit: Exit.Exit<RequestStats, ProviderError | StoreError>): Effect.Effect<SyncRun> =>
      Exit.match(exit, {
        onSuccess: (stats) =>
          store.commitRun(run.id, stats).pipe(
            Effect.tap((done) => Effect.logInfo("sync succeeded").pipe(Effect.annotateLogs({ ...done.stats }))),
            Effect.catchAll((error) => abort("failed", { reason: "Store", message: error.message }))
          ),
        onFailure: (cause) =>
          Option.match(Cause.failureOption(cause), {
            onSome: (error): Effect.Effect<SyncRun> =>
              error._tag === "ProviderError"
                ? abort("failed", {
                  reason: error.reason,
                  message: error.message,
                  ...(error.hint === undefined ? {} : { hint: error.hint })
                }).pipe(Effect.tap(() => logFailure(error.reason, error.message)))
                : abort("failed", { reason: "Store", message: error.message }).pipe(
                  Effect.tap(() => logFailure("Store", error.message))
                ),
            onNone: () =>
              Cause.isInterruptedOnly(cause)
                ? abort("interrupted", {
                  reason: "Interrupted",
                  message: "the sync was cancelled before it finished; nothing was applied"
                }).pipe(Effect.tap(() => Effect.logInfo("sync interrupted")))
                : Effect.logError("sync stopped on a defect", cause).pipe(
                  Effect.zipRight(abort("failed", {
                    reason: "Defect",
                    // The defect itself goes to the log only: it could quote anything, secrets included.
                    message: "the sync stopped on an unexpected internal error; nothing was applied. " +
                      "The host's log has the details"
                  }))
                )
          })
      })

    // Everything after the work is uninterruptible, so an interrupted run is still recorded and its lock
    // released; a pending interruption resumes when the mask ends.
    return yield* Effect.uninterruptibleMask((restore) =>
      restore(Effect.raceFirst(stageAll, heartbeat)).pipe(
        Effect.exit,
        Effect.flatMap(finish)
      )
    )
  }).pipe(
    Effect.annotateLogs({ syncRunId: run.id, connectionId: run.connectionId }),
    Effect.withSpan("SyncEngine.execute", { attributes: { runId: run.id, connectionId: run.connectionId } })
  )

/**
 * `start` then `execute`: fails only when the run cannot start (lock held, store unavailable).
 *
 * @since 0.1.0
 * @category running
 */
export const run = (
  connectionId: string,
  owner: string,
  connect: Effect.Effect<ProviderConnection, ProviderError>,
  options?: ExecuteOptions
): Effect.Effect<SyncRun, StoreError | SyncAlreadyRunning, LicenseStore> =>
  Effect.flatMap(start(connectionId, owner), (started) => execute(started, connect, options))
