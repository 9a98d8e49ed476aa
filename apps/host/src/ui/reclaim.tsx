/**
 * How reclaiming reads on the pages: money per currency, the savings panel of a connection, a plan's
 * progress bar (a `<progress>` element and the counts in words: it needs no script, the page reloads
 * itself while the plan runs), and what a policy's scope and a preflight answer say in words.
 *
 * @since 0.2.0
 */
import type { Money, ReclaimPolicy } from "@seatkeeper/core/Reclaim"
import type { Plan, PlanItem } from "@seatkeeper/core/ReclaimStore"
import type { FC } from "hono/jsx"
import type { SavingsView } from "../services/Reclaim.js"
import { formatCount } from "./format.js"
import { paths } from "./paths.js"
import { can } from "./roles.js"
import type { Session } from "./Sessions.js"

/**
 * `1,234.50 EUR + 20.00 USD` (currencies are never added up); `fallback` when there is none.
 *
 * @since 0.2.0
 * @category formatting
 */
export const formatMoney = (money: Money, fallback = "—"): string => {
  const parts = Object.entries(money)
    .filter(([, amount]) => amount !== 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, amount]) =>
      `${amount.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${currency}`
    )
  return parts.length === 0 ? fallback : parts.join(" + ")
}

const isEmpty = (money: Money) => Object.values(money).every((a) => a === 0)

/**
 * A connection's savings: what unused seats cost a month (per inactivity bucket), what executed plans
 * saved once a sync confirmed the seats gone, and what waits for that confirmation.
 *
 * @since 0.2.0
 * @category components
 */
export const SavingsPanel: FC<{ connectionId: string; savings: SavingsView; session: Session; headingLevel?: 2 | 3 }> =
  (
    { connectionId, headingLevel, savings, session }
  ) => {
    const p = paths.connection(connectionId)
    const potential = [
      [30, savings.potential.unused30, savings.unpriced.unused30],
      [60, savings.potential.unused60, savings.unpriced.unused60],
      [90, savings.potential.unused90, savings.unpriced.unused90]
    ] as const
    const nothingPriced = potential.every(([, money]) => isEmpty(money)) && isEmpty(savings.realised) &&
      isEmpty(savings.awaitingConfirmation)
    const Heading = headingLevel === 2 ? "h2" : "h3"
    return (
      <section class="panel savings" aria-labelledby={`savings-${connectionId}`}>
        <Heading id={`savings-${connectionId}`}>Savings a month</Heading>
        <dl class="facts">
          {potential.map(([days, money, unpriced]) => (
            <>
              <dt>{`Seats unused ${days}+ days`}</dt>
              <dd class={`potential-${days}`}>
                <strong>{formatMoney(money, "nothing priced")}</strong>
                {unpriced === 0
                  ? null
                  : <span class="muted small">{` + ${formatCount(unpriced)} seats without a price`}</span>}
              </dd>
            </>
          ))}
          <dt>Realised</dt>
          <dd class="realised">
            <strong>{formatMoney(savings.realised, "none yet")}</strong>{" "}
            <span class="muted small">seats freed by executed plans that a later sync confirmed gone</span>
          </dd>
          <dt>Awaiting confirmation</dt>
          <dd class="awaiting">
            <strong>{formatMoney(savings.awaitingConfirmation, "none")}</strong>{" "}
            <span class="muted small">freed, until the next sync confirms it</span>
          </dd>
        </dl>
        <p class="small">
          {nothingPriced ? "No prices are set, so no savings can be counted. " : null}
          <a href={p.prices}>{can(session, "admin") ? "Set prices per seat" : "Prices per seat"}</a>
          {" · "}
          <a href={p.reclaim}>Reclaim idle seats</a>
        </p>
      </section>
    )
  }

/**
 * The accounts not acted on yet.
 *
 * @since 0.2.0
 * @category utils
 */
export const remainingOf = (plan: Plan): number => plan.progress.pending + plan.progress.acting

/**
 * A plan's progress: a bar of the accounts finished, and the counts done / refused / failed / skipped /
 * undone / remaining in words (the bar is never the only signal).
 *
 * @since 0.2.0
 * @category components
 */
export const PlanProgressBar: FC<{ plan: Plan }> = ({ plan }) => {
  const p = plan.progress
  const remaining = remainingOf(plan)
  const total = p.pending + p.acting + p.done + p.refused + p.failed + p.skipped + p.undone
  const finished = total - remaining
  const counts: ReadonlyArray<readonly [string, string, number]> = [
    ["done", "Done", p.done],
    ["refused", "Refused", p.refused],
    ["failed", "Failed", p.failed],
    ["skipped", "Skipped", p.skipped],
    ...(p.undone === 0 ? [] : [["undone", "Undone", p.undone] as const]),
    ["remaining", "Remaining", remaining]
  ]
  return (
    <div class="plan-progress">
      <progress
        class="plan"
        id={`progress-${plan.id}`}
        max={Math.max(1, total)}
        value={finished}
        aria-label={`${formatCount(finished)} of ${formatCount(total)} accounts finished`}
      >
        {`${formatCount(finished)} of ${formatCount(total)}`}
      </progress>
      <dl class="counts">
        {counts.map(([key, label, n]) => (
          <div>
            <dt>{label}</dt>
            <dd class={`count-${key}`}>{formatCount(n)}</dd>
          </div>
        ))}
        <div>
          <dt>Accounts</dt>
          <dd class="count-total">{formatCount(total)}</dd>
        </div>
      </dl>
    </div>
  )
}

/**
 * A policy's scope in words: `Seats of jira-software (plan Standard)`, `Whole accounts`.
 *
 * @since 0.2.0
 * @category formatting
 */
export const scopeText = (policy: ReclaimPolicy): string => {
  if (policy.scope._tag === "accounts") return "Whole accounts (every seat they hold)"
  const products = policy.scope.products.length === 0 ? "every product" : policy.scope.products.join(", ")
  const plans = policy.scope.plans.length === 0 ? "" : ` (plans ${policy.scope.plans.join(", ")})`
  return `Seats of ${products}${plans}`
}

/**
 * The provider's read-only answer for an account of a plan, in words.
 *
 * @since 0.2.0
 * @category components
 */
export const PreflightAnswer: FC<{ item: PlanItem }> = ({ item }) => {
  const answer = item.preflight
  if (answer === null) return <span class="muted small">not asked: the provider has no preflight</span>
  return answer.allowed
    ? (
      <>
        <span class="badge b-green">would go ahead</span>
        <div class="small">{answer.methodLabel}</div>
      </>
    )
    : (
      <>
        <span class="badge b-red">would be refused</span>
        <div class="small">{answer.reason ?? "the provider would refuse it"}</div>
        {answer.hint === null ? null : <div class="muted small">{`What to do: ${answer.hint}`}</div>}
      </>
    )
}
