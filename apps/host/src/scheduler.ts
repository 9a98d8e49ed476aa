/**
 * Scheduled syncs: every connection with `syncIntervalMinutes > 0` syncs that often, counted from the
 * start of its last run. Due connections are checked every 30 seconds.
 *
 * @since 0.1.0
 */
import type { StoreError } from "@seatkeeper/core/LicenseStore"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import { Seatkeeper } from "./Seatkeeper.js"
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
 * Starts the syncs due at `now` and returns their run ids. A connection whose sync another process has
 * just started is skipped; a failure of one connection does not stop the others.
 *
 * @since 0.1.0
 * @category scheduling
 */
export const runDueSyncs = (now: number): Effect.Effect<ReadonlyArray<string>, StoreError, Seatkeeper> =>
  Effect.gen(function*() {
    const seatkeeper = yield* Seatkeeper
    const connections = yield* seatkeeper.listConnections
    const started: Array<string> = []
    for (const connection of connections.filter((c) => isDue(c, now))) {
      yield* seatkeeper.startSync(connection.id, "scheduler").pipe(
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
  })

/**
 * Runs the scheduler for as long as the layer lives.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: Layer.Layer<never, never, Seatkeeper> = Layer.scopedDiscard(
  Effect.forkScoped(
    Effect.flatMap(Clock.currentTimeMillis, runDueSyncs).pipe(
      Effect.catchAllCause((cause) => Effect.logError("scheduler check failed", cause)),
      Effect.repeat(Schedule.spaced(CHECK_EVERY))
    )
  )
)
