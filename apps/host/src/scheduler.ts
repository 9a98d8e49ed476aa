/**
 * Scheduled syncs: every connection with `syncIntervalMinutes > 0` syncs that often, counted from the
 * start of its last run. Every 30 seconds the scheduler first recovers runs whose process stopped (their
 * lease expired: marked interrupted and audited), then starts the syncs that are due, so a connection
 * whose run was abandoned syncs again instead of being skipped forever. Reclaim plans whose job stopped
 * (another process died mid-execution) are resumed on the same tick.
 *
 * @since 0.1.0
 */
import type { StoreError } from "@seatkeeper/core/StoreError"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import { Connections } from "./services/Connections.js"
import { Reclaim } from "./services/Reclaim.js"
import { Syncs } from "./services/Syncs.js"
import { schedulerPrincipal } from "./services/Users.js"
import type { ConnectionView } from "./views.js"

/**
 * @since 0.1.0
 * @category constants
 */
export const CHECK_EVERY = Duration.seconds(30)

/**
 * Whether a connection's next scheduled sync is due at `now` (epoch milliseconds).
 *
 * @since 0.1.0
 * @category utils
 */
export const isDue = (connection: ConnectionView, now: number): boolean => {
  if (connection.syncIntervalMinutes <= 0) return false
  const last = connection.lastSync
  if (last === null) return true
  if (last.status === "running") return false
  return Date.parse(last.startedAt) + connection.syncIntervalMinutes * 60_000 <= now
}

/**
 * Recovers abandoned runs, then starts the syncs due at `now` and returns their run ids. A connection whose
 * sync another process has just started is skipped; a failure of one connection does not stop the others.
 *
 * @since 0.1.0
 * @category scheduling
 */
export const runDueSyncs = (now: number): Effect.Effect<ReadonlyArray<string>, StoreError, Syncs | Connections> =>
  Effect.gen(function*() {
    yield* Syncs.recover
    const connections = yield* Connections.list
    const started: Array<string> = []
    for (const connection of connections.filter((c) => isDue(c, now))) {
      yield* Syncs.start(connection.id, schedulerPrincipal).pipe(
        Effect.tap((run) => Effect.sync(() => started.push(run.id))),
        Effect.catchTag("SyncAlreadyRunning", () => Effect.void),
        Effect.catchAll((e) =>
          Effect.logWarning("scheduled sync could not start").pipe(
            Effect.annotateLogs({ connectionId: connection.id, error: e.message })
          )
        )
      )
    }
    return started
  }).pipe(Effect.withSpan("Scheduler.runDueSyncs"))

/**
 * Runs the scheduler for as long as the layer lives.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<never, never, Syncs | Connections | Reclaim> = Layer.scopedDiscard(
  Effect.forkScoped(
    Effect.flatMap(Clock.currentTimeMillis, runDueSyncs).pipe(
      Effect.catchAllCause((cause) => Effect.logError("scheduler check failed", cause)),
      Effect.zipRight(Reclaim.resume.pipe(
        Effect.catchAllCause((cause) => Effect.logError("resuming reclaim plans failed", cause))
      )),
      Effect.repeat(Schedule.spaced(CHECK_EVERY))
    )
  )
)
