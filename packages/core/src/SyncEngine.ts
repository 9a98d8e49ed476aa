/**
 * The sync engine: streams a connection's roster into the store under a run, confirms what the listing no
 * longer returned, and applies the run in one commit when, and only when, the listing ended complete and
 * the change is not too large to apply unreviewed.
 *
 * - Invariant 1: a failed, cancelled or interrupted run is aborted, which drops what it staged; nothing a
 *   user sees changes.
 * - Invariant 2: "complete" is the roster ending with no next page and at least as many distinct accounts
 *   as the source's last reported total. Absence from a complete listing is evidence, not proof: every
 *   absent account is looked up (within the same budget) before it is deprovisioned; a provider without a
 *   lookup needs two consecutive complete absences, and a listing whose total moved while paging (a shifted
 *   roster) proves no absence at all.
 * - Invariant 10: a run that would deprovision more than the connection's share of active accounts, that
 *   lists nobody where there were accounts, or that has more absentees than it may look up, is held.
 * - Invariant 5: the run has a deadline (default 30 minutes); 429s are waited out until it, and no longer.
 * - Invariant 8: the run holds the connection's sync lock from `start` to its end, renewed by a heartbeat;
 *   a run that loses its lock stops.
 *
 * Memory is O(chunk): accounts are staged as they arrive, and distinct accounts are counted by the store.
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
import type { ProviderAccount } from "./Account.js"
import { defaultSyncSettings, type SyncSettings } from "./Connection.js"
import type { ProviderConnection, RequestStats } from "./Provider.js"
import { incomplete } from "./Provider.js"
import { ProviderError } from "./ProviderError.js"
import * as ProviderHttp from "./ProviderHttp.js"
import type { StoreError, SyncAlreadyRunning } from "./StoreError.js"
import type { RunCounters, SyncHold, SyncRun, SyncRunError } from "./SyncRun.js"
import { noCounters } from "./SyncRun.js"
import { type AbsenceVerdict, type RunSummary, SyncStore } from "./SyncStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface ExecuteOptions {
  /** Accounts staged per store write. Default 500. */
  readonly chunkSize?: number | undefined
  /** How often the run renews its lock's lease. Default 10 seconds (the store's lease is 30). */
  readonly heartbeatEvery?: Duration.DurationInput | undefined
  /** The connection's hold threshold, lookup cap and deadline. Default `defaultSyncSettings`. */
  readonly settings?: Partial<Pick<SyncSettings, "holdThresholdPercent" | "maxLookups" | "deadlineMinutes">> | undefined
  /** Lookups in flight at once (they still queue on the organisation's request budget). Default 4. */
  readonly lookupConcurrency?: number | undefined
}

const NO_REQUESTS: RequestStats = { requests: 0, retries: 0, rateLimited: 0 }

const logFailure = (reason: string, message: string) =>
  Effect.logWarning("sync failed; nothing was applied").pipe(Effect.annotateLogs({ reason, error: message }))

/** What the work of a run ends with when it does not fail: apply it, or hold it with these numbers. */
type Outcome = { readonly _tag: "Apply" } | { readonly _tag: "Hold"; readonly hold: SyncHold }

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`

/**
 * Whether a complete, confirmed run may be applied or must be held (invariant 10), from its summary.
 *
 * @since 0.2.0
 * @category decisions
 */
export const decide = (
  summary: RunSummary,
  options: { readonly holdThresholdPercent: number; readonly overLookupCap: boolean; readonly maxLookups: number }
): Outcome => {
  const base = {
    wouldDeprovision: summary.wouldDeprovision,
    absent: summary.absent,
    activeAccounts: summary.activeBefore,
    thresholdPercent: options.holdThresholdPercent
  }
  if (summary.staged === 0 && summary.accountsBefore > 0) {
    return {
      _tag: "Hold",
      hold: {
        ...base,
        reason: "emptyRoster",
        message: `the listing returned no accounts where ${plural(summary.accountsBefore, "account")} were; ` +
          `applying it would deprovision ${
            plural(summary.wouldDeprovision, "account")
          }. An organisation that suddenly ` +
          `lists nobody usually lost a verified domain or its key's permissions: check before applying`
      }
    }
  }
  if (options.overLookupCap) {
    return {
      _tag: "Hold",
      hold: {
        ...base,
        reason: "lookupCap",
        message: `${plural(summary.absent, "account")} the listing did not return, more than the ` +
          `${options.maxLookups.toLocaleString("en-US")} a run confirms one by one; applying it deprovisions them ` +
          `without confirmation`
      }
    }
  }
  const limit = (options.holdThresholdPercent / 100) * summary.activeBefore
  if (summary.wouldDeprovision > 0 && summary.wouldDeprovision > limit) {
    return {
      _tag: "Hold",
      hold: {
        ...base,
        reason: "threshold",
        message: `applying it would deprovision ${plural(summary.wouldDeprovision, "account")}, more than ` +
          `${options.holdThresholdPercent} % of the ${plural(summary.activeBefore, "active account")}`
      }
    }
  }
  return { _tag: "Apply" }
}

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
): Effect.Effect<SyncRun, StoreError | SyncAlreadyRunning, SyncStore> =>
  Effect.flatMap(SyncStore, (store) => store.start(connectionId, owner))

// Renews the lease until the work ends. A lost lock (`Conflict`) ends the run; a passing store error is
// retried at the next beat, since the lease outlives a few missed beats.
const heartbeatOf = (
  store: SyncStore["Type"],
  runId: string,
  every: Duration.Duration
): Effect.Effect<never, StoreError> =>
  Effect.sleep(every).pipe(
    Effect.zipRight(
      store.heartbeat(runId).pipe(
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

/**
 * Runs a started sync to its end and returns the finished run: `succeeded` when the roster ended complete
 * and the run was applied; `held` when it would change too much at once; `failed` (with the provider's
 * reason and hint) or `interrupted` otherwise, with nothing applied. Never fails: the outcome is the run.
 * When the calling fiber is interrupted (e.g. SIGTERM), the run is recorded as interrupted first and the
 * interruption then goes on.
 *
 * @since 0.1.0
 * @category running
 */
export const execute = (
  run: SyncRun,
  connect: Effect.Effect<ProviderConnection, ProviderError>,
  options: ExecuteOptions = {}
): Effect.Effect<SyncRun, never, SyncStore> =>
  Effect.gen(function*() {
    const store = yield* SyncStore
    const chunkSize = Math.max(1, Math.floor(options.chunkSize ?? 500))
    // Three beats per lease (at most one per 10 s): a run never loses its lock to a slow write or two.
    const every = options.heartbeatEvery !== undefined
      ? Duration.decode(options.heartbeatEvery)
      : store.leaseDuration === undefined
      ? Duration.seconds(10)
      : Duration.min(Duration.seconds(10), Duration.millis(Math.max(1, Duration.toMillis(store.leaseDuration) / 3)))
    const settings = { ...defaultSyncSettings, ...options.settings }
    const deadline = Duration.minutes(settings.deadlineMinutes)
    const concurrency = Math.max(1, Math.floor(options.lookupConcurrency ?? 4))
    const connection = yield* Ref.make(Option.none<ProviderConnection>())
    const counters = yield* Ref.make<RunCounters>(noCounters)
    const requestStats = Ref.get(connection).pipe(
      Effect.flatMap(Option.match({ onNone: () => Effect.succeed(NO_REQUESTS), onSome: (c) => c.requestStats }))
    )
    const finalCounters = Effect.zipWith(Ref.get(counters), requestStats, (c, r) => ({ ...c, ...r }))

    const confirmAbsent = (live: ProviderConnection, staged: number, shifted: boolean) =>
      Effect.gen(function*() {
        const absent = yield* store.absentees(run.id, settings.maxLookups + 1)
        if (absent.total === 0) return false
        const lookup = live.lookup
        if (lookup === undefined) {
          // Without a lookup only a second complete absence proves anything, and a shifted roster none.
          yield* store.settle(run.id, shifted || staged === 0 ? "pending" : "streak")
          return false
        }
        if (absent.total > settings.maxLookups) {
          yield* store.settle(run.id, "unconfirmed")
          return true
        }
        const batches = Chunk.toReadonlyArray(Chunk.chunksOf(Chunk.fromIterable(absent.first), 100))
        for (const batch of batches) {
          const verdicts = yield* Effect.forEach(batch, (absentee) =>
            lookup(absentee.externalId).pipe(
              Effect.map(Option.match({
                onNone: (): AbsenceVerdict => ({ externalId: absentee.externalId, verdict: "gone" }),
                onSome: (account): AbsenceVerdict => ({ externalId: absentee.externalId, verdict: "present", account })
              }))
            ), { concurrency })
          yield* Ref.update(counters, (c) => ({ ...c, lookups: c.lookups + batch.length }))
          yield* store.confirm(run.id, verdicts)
        }
        return false
      })

    let providerId = "sync"
    const work: Effect.Effect<Outcome, ProviderError | StoreError> = Effect.gen(function*() {
      const live = yield* connect
      providerId = live.provider
      yield* Ref.set(connection, Option.some(live))
      let staged = 0
      let first: number | undefined
      let last: number | undefined
      let pages = 0
      // Pages into store writes of `chunkSize` accounts, array to array (no stream element per account).
      let buffer: Array<ProviderAccount> = []
      const full = (accounts: ReadonlyArray<ProviderAccount>): Array<ReadonlyArray<ProviderAccount>> => {
        const chunks: Array<ReadonlyArray<ProviderAccount>> = []
        for (let i = 0; i < accounts.length; i++) {
          buffer.push(accounts[i]!)
          if (buffer.length === chunkSize) {
            chunks.push(buffer)
            buffer = []
          }
        }
        return chunks
      }
      const rest = Stream.suspend(() => {
        const tail = buffer
        buffer = []
        return tail.length === 0 ? Stream.empty : Stream.make(tail)
      })
      yield* live.roster.pipe(
        Stream.mapConcat((page) => {
          pages++
          if (page.total !== undefined) {
            if (first === undefined) first = page.total
            last = page.total
          }
          return full(page.accounts)
        }),
        Stream.concat(rest),
        Stream.runForEach((accounts) =>
          Effect.map(store.stage(run.id, accounts), (progress) => {
            staged = progress.staged
          })
        )
      )
      const shifted = first !== undefined && last !== first
      yield* Ref.update(counters, (c) => ({
        ...c,
        totalAtStart: first ?? null,
        totalAtEnd: last ?? null,
        rosterShifted: shifted
      }))
      if (last !== undefined && staged < last) {
        return yield* incomplete({ provider: live.provider, total: last, returned: staged, hint: live.incompleteHint })
      }
      if (shifted) {
        yield* Effect.logInfo("the roster moved while it was paged; every absence is confirmed").pipe(
          Effect.annotateLogs({ totalAtStart: first, totalAtEnd: last, pages })
        )
      }
      if (live.licenses !== undefined) {
        yield* live.licenses.pipe(
          Stream.grouped(chunkSize),
          Stream.runForEach((chunk) =>
            store.stageLicenses(run.id, Chunk.toReadonlyArray(chunk)).pipe(
              Effect.zipRight(Ref.update(counters, (c) => ({ ...c, licenses: c.licenses + chunk.length })))
            )
          )
        )
      }
      const overLookupCap = yield* confirmAbsent(live, staged, shifted)
      const summary = yield* store.summarize(run.id)
      return decide(summary, {
        holdThresholdPercent: settings.holdThresholdPercent,
        overLookupCap,
        maxLookups: settings.maxLookups
      })
    })

    const deadlined = Effect.gen(function*() {
      const now = yield* Clock.currentTimeMillis
      return yield* work.pipe(
        // Provider calls wait out 429s until the deadline and no longer (invariant 5).
        Effect.provideService(ProviderHttp.Deadline, Option.some(now + Duration.toMillis(deadline))),
        Effect.timeoutFail({
          duration: deadline,
          onTimeout: () =>
            new ProviderError({
              reason: "Unavailable",
              provider: providerId,
              operation: "sync",
              description: `the sync did not finish within its deadline of ${
                Duration.format(deadline)
              }; nothing was applied`,
              hint:
                "The provider was slow or rate limited the whole time. Try again later, or raise the connection's " +
                "sync deadline."
            })
        })
      )
    })

    const abort = (status: "failed" | "interrupted", error: SyncRunError) =>
      Effect.gen(function*() {
        const stats = yield* finalCounters
        return yield* store.abort(run.id, status, error, stats).pipe(
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

    const finish = (exit: Exit.Exit<Outcome, ProviderError | StoreError>): Effect.Effect<SyncRun> =>
      Exit.match(exit, {
        onSuccess: (outcome) =>
          Effect.flatMap(finalCounters, (stats) =>
            (outcome._tag === "Apply" ? store.apply(run.id, stats) : store.hold(run.id, outcome.hold, stats)).pipe(
              Effect.tap((done) =>
                Effect.logInfo(done.status === "held" ? "sync held for review; nothing was applied" : "sync succeeded")
                  .pipe(Effect.annotateLogs({ ...done.stats, hold: done.hold?.reason }))
              ),
              Effect.catchAll((error) => abort("failed", { reason: "Store", message: error.message }))
            )),
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
      restore(Effect.raceFirst(deadlined, heartbeatOf(store, run.id, every))).pipe(
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
): Effect.Effect<SyncRun, StoreError | SyncAlreadyRunning, SyncStore> =>
  Effect.flatMap(start(connectionId, owner), (started) => execute(started, connect, options))

/**
 * Applies a held run an admin approved: takes the connection's lock again (fails `SyncAlreadyRunning`
 * while another run holds it, `Conflict` when the run is no longer held), then applies it in one commit.
 * What an admin did to an account after the run started still wins (invariant 11).
 *
 * @since 0.2.0
 * @category running
 */
export const applyHeld = (
  runId: string,
  owner: string,
  actor: string
): Effect.Effect<SyncRun, StoreError | SyncAlreadyRunning, SyncStore> =>
  Effect.gen(function*() {
    const store = yield* SyncStore
    const reopened = yield* store.reopen(runId, owner, actor)
    const { stats } = reopened
    const counters: RunCounters = {
      requests: stats.requests,
      retries: stats.retries,
      rateLimited: stats.rateLimited,
      lookups: stats.lookups,
      totalAtStart: stats.totalAtStart,
      totalAtEnd: stats.totalAtEnd,
      rosterShifted: stats.rosterShifted,
      licenses: stats.licenses
    }
    return yield* store.apply(runId, counters).pipe(
      Effect.catchAll((error) =>
        store.abort(runId, "failed", { reason: "Store", message: error.message }, counters).pipe(
          Effect.zipRight(Effect.fail(error))
        )
      ),
      Effect.uninterruptible
    )
  }).pipe(Effect.withSpan("SyncEngine.applyHeld", { attributes: { runId } }))

/**
 * Discards a held run: nothing of it is applied.
 *
 * @since 0.2.0
 * @category running
 */
export const discardHeld = (runId: string, actor: string): Effect.Effect<SyncRun, StoreError, SyncStore> =>
  Effect.flatMap(SyncStore, (store) => store.discard(runId, actor)).pipe(
    Effect.withSpan("SyncEngine.discardHeld", { attributes: { runId } })
  )
