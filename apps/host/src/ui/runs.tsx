/**
 * How a sync run reads on the pages: its outcome in a line, a held run's numbers with the Apply and Discard
 * forms (invariant 10), and the decision made on a run.
 *
 * @since 0.2.0
 */
import type { HoldReason } from "@seatkeeper/core/SyncRun"
import type { FC } from "hono/jsx"
import type { SyncView } from "../views.js"
import { formatCount } from "./format.js"
import { Badge, CsrfField, When } from "./layout.js"
import { paths } from "./paths.js"
import { can } from "./roles.js"
import type { Session } from "./Sessions.js"

const holdReasons: Record<HoldReason, (threshold: number) => string> = {
  threshold: (t) => `it would deprovision more than ${t} % of the active accounts`,
  emptyRoster: () => "the listing came back empty after a non-empty one",
  lookupCap: () => "more accounts were missing from the listing than a sync confirms one by one (lookups per run)"
}

/**
 * Why a run was held, in words: `it would deprovision more than 10 % of the active accounts`.
 *
 * @since 0.2.0
 * @category formatting
 */
export const holdReasonText = (run: SyncView): string =>
  run.hold === null ? "" : (holdReasons[run.hold.reason] ?? (() => run.hold!.reason))(run.hold.thresholdPercent)

const percent = (part: number, whole: number) =>
  whole === 0 ? "" : ` (${(Math.round((part / whole) * 1000) / 10).toLocaleString("en-US")} %)`

/**
 * Who decided a run and how: `applied by admin 3 min ago`.
 *
 * @since 0.2.0
 * @category components
 */
export const Decision: FC<{ run: SyncView }> = ({ run }) => {
  if (run.decision === null) {
    return run.status === "superseded"
      ? <span class="muted small">a later sync read the organisation again</span>
      : null
  }
  const { actor, decision } = run.decision
  // A newer sync supersedes a held one (the system decides): its reading is older than the new one.
  const who = decision === "apply"
    ? `applied by ${actor}`
    : decision === "discard"
    ? `discarded by ${actor}`
    : "superseded by a later sync"
  return (
    <span class="muted small">
      {`${who} `}
      <When at={run.decision.at} ageOnly />
    </span>
  )
}

/**
 * A held run: why it was held, what applying it would do, and the two decisions.
 *
 * @since 0.2.0
 * @category components
 */
export const HeldRun: FC<{ run: SyncView; session: Session; headingLevel?: 2 | 3 }> = (
  { headingLevel, run, session }
) => {
  const hold = run.hold
  const p = paths.connection(run.connectionId)
  const headingId = `held-${run.id}`
  const heading = "A sync is waiting for your decision"
  return (
    <section class="held" aria-labelledby={headingId}>
      {headingLevel === 2 ? <h2 id={headingId}>{heading}</h2> : <h3 id={headingId}>{heading}</h3>}
      <p>
        {`The sync that finished `}
        <When at={run.finishedAt} ageOnly />
        {` read ${formatCount(run.stats.accounts)} accounts. `}
        {`It was held, not applied, because ${holdReasonText(run)}. `}
        Nothing of it shows until you decide.
      </p>
      {hold === null ? null : (
        <dl class="facts">
          <dt>Would deprovision</dt>
          <dd>
            <strong class="would-deprovision">{formatCount(hold.wouldDeprovision)}</strong>
            {` of ${formatCount(hold.activeAccounts)} active accounts`}
            {percent(hold.wouldDeprovision, hold.activeAccounts)}
          </dd>
          <dt>Missing from the listing</dt>
          <dd>{`${formatCount(hold.absent)} accounts`}</dd>
          <dt>Threshold</dt>
          <dd>{`${hold.thresholdPercent.toLocaleString("en-US")} % of the active accounts (connection settings)`}</dd>
          {/* The threshold's own sentence says what the lines above say; the others carry advice. */}
          {hold.reason === "threshold" ? null : (
            <>
              <dt>Before you decide</dt>
              <dd>{hold.message}</dd>
            </>
          )}
        </dl>
      )}
      {can(session, "operator")
        ? (
          <div class="actions">
            <form method="post" action={p.applyRun(run.id)} class="inline">
              <CsrfField session={session} />
              <button type="submit" class="danger">Apply this sync</button>
            </form>
            <form method="post" action={p.discardRun(run.id)} class="inline">
              <CsrfField session={session} />
              <button type="submit">Discard it</button>
            </form>
          </div>
        )
        : <p class="muted small">An operator decides: your role ({session.principal.role}) cannot.</p>}
      <p class="muted small">
        Apply records what the sync read, deprovisioning those accounts in Seatkeeper; nothing changes in the
        organisation itself. Discard keeps the data as it is; the next sync reads the organisation again.
      </p>
    </section>
  )
}

/**
 * A sync's outcome in one line, with its error and hint when it failed.
 *
 * @since 0.1.0
 * @category components
 */
export const SyncOutcome: FC<{ sync: SyncView | null }> = ({ sync }) => {
  if (sync === null) return <p class="muted">Never synced. Sync now to load its accounts.</p>
  return (
    <div>
      <p>
        Last sync <Badge status={sync.status} /> {sync.status === "running"
          ? (
            <>
              started <When at={sync.startedAt} ageOnly />
            </>
          )
          : (
            <>
              finished <When at={sync.finishedAt} ageOnly />, {formatCount(sync.stats.accounts)} accounts read
            </>
          )}
        {sync.decision === null ? null : (
          <>
            {", "}
            <Decision run={sync} />
          </>
        )}
      </p>
      {sync.error == null ? null : (
        <div class="alert" role="status">
          <p>{sync.error.message}</p>
          {sync.error.hint === undefined ? null : (
            <p>
              <span class="muted">What to do:</span> {sync.error.hint}
            </p>
          )}
        </div>
      )}
    </div>
  )
}

/**
 * What deciding a run did, in a sentence for the notice after it.
 *
 * @since 0.2.0
 * @category formatting
 */
export const decidedText = (run: SyncView): string | undefined => {
  if (run.decision?.decision === "apply" && run.status === "succeeded") {
    const s = run.stats
    return `Sync applied: ${formatCount(s.deprovisioned)} accounts deprovisioned, ${formatCount(s.created)} new, ` +
      `${formatCount(s.updated)} changed.`
  }
  if (run.decision?.decision === "discard" && run.status === "discarded") {
    return "Sync discarded: nothing of it was applied. The next sync reads the organisation again."
  }
  return undefined
}
