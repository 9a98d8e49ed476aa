/**
 * `/plans` (every plan, newest first) and a plan's review page, `/connections/:id/plans/:planId`: its
 * summary (accounts, seats freed per product and plan, what they cost a month, the data's age, status,
 * author and approver), its accounts paged and filtered by state (action, evidence, the provider's
 * preflight answer, state, result), the CSV export, what changed since the previous plan of the policy,
 * and the decisions: approve (an approver; under four eyes not the author, and the page says why),
 * execute, cancel, undo (the whole plan or one account). While the plan runs the page reloads itself
 * and shows a progress bar with the counts, without script.
 *
 * @since 0.2.0
 */
import type { ActivitySource } from "@seatkeeper/core/Provider"
import { monthlyCost, type Price } from "@seatkeeper/core/Reclaim"
import type { FreedSeatCount, Plan, PlanItem } from "@seatkeeper/core/ReclaimStore"
import { PlanItemState } from "@seatkeeper/core/ReclaimStore"
import * as Effect from "effect/Effect"
import type { Context, Hono } from "hono"
import type { Child, FC } from "hono/jsx"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import { type Column, csvResponse } from "../../csv.js"
import type { ErrorDescription } from "../../errors.js"
import { NotFound } from "../../errors.js"
import { type Host, runOperation } from "../../http/Host.js"
import { decodeQuery } from "../../inputs.js"
import { providerById } from "../../ProviderRegistry.js"
import { Connections } from "../../services/Connections.js"
import { ItemsQuery, Reclaim } from "../../services/Reclaim.js"
import { Upstream } from "../../services/Upstream.js"
import { formatCount, formatTime } from "../format.js"
import { Badge, CsrfField, ErrorBox, Layout, TableBox, When } from "../layout.js"
import { type ListQuery, Pager, PageSizeField, RangeCaption, startOf } from "../lists.js"
import { paths, withQuery } from "../paths.js"
import { formatMoney, PlanProgressBar, PreflightAnswer, remainingOf, scopeText } from "../reclaim.js"
import { errorPage, fieldIssues, noticeOf, readForm, renderPage } from "../render.js"
import { can } from "../roles.js"
import type { PagesEnv } from "../security.js"
import type { Session } from "../Sessions.js"
import { PlansTable } from "./reclaim.js"

const DAY_MS = 86_400_000
const HOUR_MS = 3_600_000
/** How many times the page reloads waiting for a just-started execution to claim the plan. */
const CLAIM_WAITS = 10
/** The most names the comparison lists of each kind. */
const COMPARE_SHOWN = 50

const productName = (name: string) => name.replace(/\s*\([^)]*\)\s*$/, "")

interface FreedRow {
  readonly product: string
  readonly name: string
  readonly plan: string | null
  readonly seats: number
  readonly monthly: { readonly amount: number; readonly currency: string } | undefined
}

/** The seats a plan frees per product and plan, with what they cost a month at the prices set now. */
const freedRows = (
  counts: ReadonlyArray<FreedSeatCount>,
  prices: ReadonlyArray<Price>
): ReadonlyArray<FreedRow> =>
  counts
    .map((c) => ({ ...c, name: productName(c.name) }))
    .map((r) => {
      const unit = monthlyCost(prices, r.product, r.plan)
      return {
        ...r,
        monthly: unit === undefined
          ? undefined
          : { amount: Math.round(unit.amount * r.seats * 100) / 100, currency: unit.currency }
      }
    })
    .sort((a, b) => a.name.localeCompare(b.name) || (a.plan ?? "").localeCompare(b.plan ?? ""))

/** Until when the plan's done actions can be undone (from when it finished, or started). */
const undoDeadline = (plan: Plan): number | undefined => {
  const from = plan.finishedAt ?? plan.startedAt
  return from === null ? undefined : Date.parse(from) + plan.policy.undoDays * DAY_MS
}

const itemUndoable = (plan: Plan, item: PlanItem, now: number) =>
  item.state === "done" && plan.status !== "running" &&
  Date.parse(item.doneAt ?? plan.createdAt) + plan.policy.undoDays * DAY_MS >= now

const Evidence: FC<{ item: PlanItem; sources: ReadonlyArray<ActivitySource> }> = ({ item, sources }) => (
  <ul class="plain small evidence">
    {item.seats.map((seat) => {
      const source = seat.activitySource === null ? undefined : sources.find((s) => s.id === seat.activitySource)
      return (
        <li>
          <span>{seat.name}</span>
          {seat.plan === null ? null : <span class="muted">{` · ${seat.plan}`}</span>}
          {": last active "}
          {seat.lastActiveAt === null ? <span class="muted">never</span> : <When at={seat.lastActiveAt} ageOnly />}
          {seat.activitySource === null ? null : (
            <div class="muted">
              {source === undefined ? `source: ${seat.activitySource}` : source.label}
              {source?.maxLagHours == null ? null : ` · may lag up to ${source.maxLagHours} h`}
            </div>
          )}
        </li>
      )
    })}
  </ul>
)

const ItemRow: FC<
  { plan: Plan; item: PlanItem; session: Session; sources: ReadonlyArray<ActivitySource>; now: number }
> = (
  { item, now, plan, session, sources }
) => {
  const p = paths.connection(plan.connectionId)
  return (
    <tr class={`item state-${item.state}`}>
      <th scope="row">
        <a href={p.account(item.externalId)}>{item.displayName}</a>
        {item.email === null ? null : <div class="small anywhere">{item.email}</div>}
        <div class="mono muted">{item.externalId}</div>
      </th>
      <td class="small">
        {item.action}
        {item.preflight === null ? null : <div class="muted">{item.preflight.method}</div>}
      </td>
      <td>
        <Evidence item={item} sources={sources} />
      </td>
      <td class="preflight">
        <PreflightAnswer item={item} />
      </td>
      <td class="state">
        <Badge status={item.state} />
        {item.result === null ? null : <div class="small anywhere result">{item.result}</div>}
        {item.doneAt === null ? null : (
          <div class="muted small">
            <When at={item.doneAt} ageOnly />
          </div>
        )}
        {item.undoneAt === null ? null : (
          <div class="muted small">
            {"undone "}
            <When at={item.undoneAt} ageOnly />
          </div>
        )}
      </td>
      <td>
        {can(session, "operator") && itemUndoable(plan, item, now)
          ? (
            <form method="post" action={p.planAction(plan.id, "undo")} class="inline">
              <CsrfField session={session} />
              <input type="hidden" name="externalId" value={item.externalId} />
              <button type="submit" class="small" aria-label={`Undo ${item.displayName}`}>Undo</button>
            </form>
          )
          : null}
      </td>
    </tr>
  )
}

/** What the session may decide on the plan now, each with why not. */
const Decisions: FC<{ plan: Plan; session: Session; now: number }> = ({ now, plan, session }) => {
  const p = paths.connection(plan.connectionId)
  const me = session.principal
  const blocks: Array<Child> = []
  const form = (action: "approve" | "execute" | "cancel" | "undo", label: string, tone: "primary" | "danger" | "") => (
    <form method="post" action={p.planAction(plan.id, action)} class="inline">
      <CsrfField session={session} />
      <button type="submit" class={tone}>{label}</button>
    </form>
  )
  if (plan.status === "review") {
    const fourEyesAuthor = plan.fourEyes && plan.createdBy === me.name
    if (can(session, "approver") && !fourEyesAuthor) {
      blocks.push(form("approve", "Approve plan", "primary"))
    } else if (can(session, "approver")) {
      blocks.push(
        <span class="approve-blocked">
          <button type="button" class="primary" disabled aria-describedby="approve-why">Approve plan</button>{" "}
          <span id="approve-why" class="small">
            {`Four eyes: you made this plan, so another approver approves it (it acts on more than ${plan.policy.fourEyesAbove} accounts).`}
          </span>
        </span>
      )
    } else {
      blocks.push(
        <p class="small approve-blocked" id="approve-why">
          {`Waiting for an approver${plan.fourEyes ? ` other than ${plan.createdBy} (four eyes)` : ""}. ` +
            `Your role (${me.role}) cannot approve plans.`}
        </p>
      )
    }
  }
  if (can(session, "operator") && (plan.status === "approved" || plan.status === "stopped")) {
    if (plan.blockedBecause === null) {
      blocks.push(form("execute", plan.status === "stopped" ? "Resume execution" : "Execute plan", "danger"))
    } else blocks.push(<p class="small">{`It cannot be executed: ${plan.blockedBecause}.`}</p>)
  }
  if (
    can(session, "operator") && (plan.status === "checking" || plan.status === "review" || plan.status === "approved")
  ) {
    blocks.push(form("cancel", "Cancel plan", ""))
  }
  const deadline = undoDeadline(plan)
  if (can(session, "operator") && plan.progress.done > 0 && plan.status !== "running") {
    if (deadline !== undefined && deadline >= now) {
      blocks.push(form("undo", `Undo the whole plan (${formatCount(plan.progress.done)} accounts)`, ""))
    } else blocks.push(<p class="small">The grace period to undo this plan is over.</p>)
  }
  if (blocks.length === 0) return null
  return (
    <section class="panel decisions" aria-labelledby="decide">
      <h2 id="decide">Decide</h2>
      <div class="actions">{blocks}</div>
      {deadline === undefined || plan.progress.done === 0 ?
        null :
        (
          <p class="muted small">
            {`Undo restores each account's status and products as they were before, until ${
              formatTime(new Date(deadline).toISOString())
            }.`}
          </p>
        )}
    </section>
  )
}

const StateFilter: FC<{ action: string; query: ListQuery; error: string | undefined }> = ({ action, error, query }) => (
  <form method="get" action={action} class="filters" aria-label="Filter the plan's accounts">
    <div class="field">
      <label for="item-state">State</label>
      <select id="item-state" name="state" aria-invalid={error === undefined ? undefined : "true"}>
        <option value="">Any</option>
        {PlanItemState.literals.map((s) => <option value={s} selected={query.state === s}>{s}</option>)}
      </select>
      {error === undefined ? null : <p class="error">{error}</p>}
    </div>
    <PageSizeField id="item-limit" value={query.limit} />
    <button type="submit" class="primary">Filter</button>
  </form>
)

/** The CSV export of a plan's accounts (the same columns as `GET /api/plans/:id/items.csv`). */
const csvColumns: ReadonlyArray<Column<PlanItem>> = [
  { header: "externalId", cell: (i) => i.externalId },
  { header: "displayName", cell: (i) => i.displayName },
  { header: "email", cell: (i) => i.email },
  { header: "action", cell: (i) => i.action },
  { header: "method", cell: (i) => i.preflight?.methodLabel },
  { header: "allowed", cell: (i) => i.preflight?.allowed },
  { header: "refusedBecause", cell: (i) => i.preflight?.reason },
  { header: "seats", cell: (i) => i.seats.map((s) => s.name).join("; ") },
  { header: "lastActive", cell: (i) => i.seats.map((s) => `${s.product}: ${s.lastActiveAt ?? "never"}`).join("; ") },
  { header: "monthly", cell: (i) => Object.entries(i.monthly).map(([c, a]) => `${a} ${c}`).join("; ") },
  { header: "state", cell: (i) => i.state },
  { header: "result", cell: (i) => i.result }
]

/**
 * @since 0.2.0
 * @category routes
 */
export const planRoutes = (pages: Hono<PagesEnv>, host: Host) => {
  pages.get(paths.plans, async (c) => {
    const outcome = await runOperation(
      host,
      Effect.all({ plans: Reclaim.listPlans({ limit: 100 }), connections: Connections.list })
    )
    if (outcome._tag === "Failure") return errorPage(c, outcome.error)
    const { connections, plans } = outcome.value
    const names = new Map(connections.map((x) => [x.id, x.name]))
    return renderPage(
      c,
      <Layout title="Plans" session={c.get("session")} section="plans">
        <h1>Reclaim plans</h1>
        <p class="muted">
          Every plan, newest first. A plan is made from a policy on a connection's Reclaim page.
        </p>
        {plans.length === 0
          ? (
            <p class="muted">
              No plans yet. {connections.length === 0 ? null : (
                <>
                  Start from a connection's Reclaim page: {connections.map((x, i) => (
                    <>
                      {i > 0 ? ", " : ""}
                      <a href={paths.connection(x.id).reclaim}>{x.name}</a>
                    </>
                  ))}.
                </>
              )}
            </p>
          )
          : <PlansTable plans={plans} label="Reclaim plans" connectionNames={names} />}
      </Layout>
    )
  })

  const ownPlan = (id: string, planId: string) =>
    Reclaim.getPlan(planId).pipe(
      Effect.filterOrFail((plan) => plan.connectionId === id, () => new NotFound({ resource: "plan", id: planId }))
    )

  const planPage = async (
    c: Context<PagesEnv>,
    banner?: { readonly error: ErrorDescription; readonly title: string }
  ) => {
    const id = c.req.param("id")!
    const planId = c.req.param("planId")!
    const query: ListQuery = c.req.query()
    const loaded = await runOperation(
      host,
      Effect.all({
        connection: Connections.get(id),
        plan: ownPlan(id, planId),
        prices: Reclaim.listPrices(id),
        freed: Reclaim.freedSeats(planId),
        comparison: Reclaim.compare(planId)
      }).pipe(
        Effect.bind(
          "sources",
          ({ connection }) =>
            Effect.map(Upstream, (u) => providerById(u.registry, connection.provider)?.activitySources ?? [])
        )
      )
    )
    if (loaded._tag === "Failure") return errorPage(c, loaded.error, "Plan not found")
    const { comparison, connection, freed, plan, prices, sources } = loaded.value
    const listed = await runOperation(
      host,
      decodeQuery(ItemsQuery, { state: query.state, limit: query.limit, cursor: query.cursor }).pipe(
        Effect.flatMap((q) =>
          Reclaim.listItems(planId, { ...q, limit: q.limit === 100 && query.limit === undefined ? 50 : q.limit })
        )
      )
    )
    const session = c.get("session")
    const now = Date.now()
    const p = paths.connection(id)
    const here = p.plan(planId)
    const filterErrors = listed._tag === "Failure" ? fieldIssues(listed.error) : new Map<string, string>()
    const ageHours = (now - Date.parse(plan.dataAt)) / HOUR_MS
    const tooOld = ageHours > plan.policy.maxDataAgeHours &&
      (plan.status === "review" || plan.status === "approved" || plan.status === "stopped")
    const notice = c.req.query("notice")
    const wait = Number.parseInt(c.req.query("wait") ?? "0", 10) || 0
    // A started execution claims the plan in the background: reload until it runs (a few times at most).
    const claiming = notice === "execute-started" && plan.status === "approved" && wait < CLAIM_WAITS
    const running = plan.status === "running"
    // A plan being checked with the provider reloads too, until it is in review.
    const checking = plan.status === "checking"
    const undone = notice === "undone" ? Number.parseInt(c.req.query("count") ?? "", 10) : Number.NaN
    const rows = freedRows(freed, prices)
    const stateError = filterErrors.get("state") ?? filterErrors.get("limit") ?? filterErrors.get("cursor")
    return renderPage(
      c,
      <Layout
        title={`Plan ${plan.policyName} · ${connection.name}`}
        session={session}
        notice={Number.isFinite(undone)
          ? `Undone: ${formatCount(undone)} ${undone === 1 ? "account" : "accounts"} restored as they were.`
          : notice === "execute-started" && !running && !claiming
          ? undefined
          : noticeOf(c)}
        refreshSeconds={running || checking || claiming ? 2 : undefined}
        refreshUrl={claiming ? withQuery(here, { ...query, wait: wait + 1 }) : undefined}
      >
        <p class="crumbs">
          <a href={paths.dashboard}>Dashboard</a> / <a href={p.accounts}>{connection.name}</a> /{" "}
          <a href={p.reclaim}>Reclaim</a> / Plan
        </p>
        <h1>{`Plan “${plan.policyName}”`}</h1>
        {banner === undefined ? null : <ErrorBox error={banner.error} title={banner.title} />}
        <section class="panel summary" aria-labelledby="plan-summary">
          <h2 id="plan-summary">Summary</h2>
          <dl class="facts">
            <dt>Status</dt>
            <dd>
              <Badge status={plan.status} />
              {checking
                ? (
                  <span class="small checking">
                    {` asking the provider about each account before it can be approved: ` +
                      `${formatCount(plan.accounts - plan.progress.unchecked)} of ${
                        formatCount(plan.accounts)
                      } checked`}
                  </span>
                )
                : null}
              {plan.stoppedBecause === null
                ? null
                : <span class="small">{` stopped because ${plan.stoppedBecause}`}</span>}
            </dd>
            <dt>Policy</dt>
            <dd>
              <a href={p.policy(plan.policyId)}>{plan.policyName}</a>
              <span class="muted small">
                {` version ${plan.policyVersion}: ${scopeText(plan.policy)}, idle ${plan.policy.inactiveDays}+ days`}
              </span>
            </dd>
            <dt>Made</dt>
            <dd>
              <When at={plan.createdAt} />
              {" by "}
              <strong class="author">{plan.createdBy}</strong>
            </dd>
            <dt>Approved</dt>
            <dd class="approver">
              {plan.approvedBy === null
                ? plan.cancelledBy === null
                  ? <span class="muted">not yet</span>
                  : <span>{`cancelled by ${plan.cancelledBy}`}</span>
                : (
                  <>
                    <strong>{plan.approvedBy}</strong>
                    {plan.approvedAt === null ? null : (
                      <>
                        {", "}
                        <When at={plan.approvedAt} />
                      </>
                    )}
                  </>
                )}
            </dd>
            <dt>Four eyes</dt>
            <dd>
              {plan.fourEyes
                ? `yes: its author cannot approve it (more than ${plan.policy.fourEyesAbove} accounts)`
                : "no"}
            </dd>
            <dt>Data</dt>
            <dd class="data-age">
              {"the sync that finished "}
              <When at={plan.dataAt} />
              {tooOld
                ? (
                  <div class="error small">
                    {`Older than the policy's ${plan.policy.maxDataAgeHours} hours: it cannot be executed. Sync, then make a new plan.`}
                  </div>
                )
                : null}
              {plan.blockedBecause === null
                ? null
                : <div class="error small">{`Cannot be executed: ${plan.blockedBecause}`}</div>}
            </dd>
            <dt>Accounts</dt>
            <dd class="accounts">{formatCount(plan.accounts)}</dd>
            <dt>Seats freed</dt>
            <dd class="seats">{formatCount(plan.seats)}</dd>
            <dt>Cost a month</dt>
            <dd class="monthly">
              {formatMoney(plan.monthly, "no prices set")}
              {plan.unpriced === 0
                ? null
                : <span class="muted small">{` + ${formatCount(plan.unpriced)} seats without a price`}</span>}
            </dd>
            {plan.startedAt === null ? null : (
              <>
                <dt>Executed</dt>
                <dd>
                  {"started "}
                  <When at={plan.startedAt} />
                  {plan.finishedAt === null ? null : (
                    <>
                      {", finished "}
                      <When at={plan.finishedAt} />
                    </>
                  )}
                </dd>
              </>
            )}
          </dl>
        </section>
        {rows.length === 0 ? null : (
          <TableBox label="Seats freed per product and plan">
            <table>
              <caption>Seats freed per product and plan (cost at the prices set now)</caption>
              <thead>
                <tr>
                  <th scope="col">Product</th>
                  <th scope="col">Plan</th>
                  <th scope="col" class="num">Seats</th>
                  <th scope="col" class="num">A month</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr>
                    <th scope="row">
                      {r.name}
                      <div class="mono muted">{r.product}</div>
                    </th>
                    <td>{r.plan ?? <span class="muted">not reported</span>}</td>
                    <td class="num">{formatCount(r.seats)}</td>
                    <td class="num">
                      {r.monthly === undefined
                        ? <span class="muted">no price</span>
                        : formatMoney({ [r.monthly.currency]: r.monthly.amount })}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableBox>
        )}
        <section class="panel" aria-labelledby="plan-progress">
          <h2 id="plan-progress">Progress</h2>
          <PlanProgressBar plan={plan} />
          {running ? <p class="muted small">Executing: this page reloads every 2 seconds.</p> : null}
          {plan.status === "done" && remainingOf(plan) === 0
            ? <p class="small">Every account of the plan was acted on.</p>
            : null}
        </section>
        <Decisions plan={plan} session={session} now={now} />
        <h2>Accounts</h2>
        <p class="small">
          <a href={p.planCsv(planId)} download>Export every account as CSV</a>
          <span class="muted">{` · evidence as of the sync that finished ${formatTime(plan.dataAt)}`}</span>
        </p>
        <StateFilter action={here} query={query} error={stateError} />
        {listed._tag === "Failure"
          ? filterErrors.size > 0 ? null : <ErrorBox error={listed.error} />
          : listed.value.total === 0
          ? (
            <p class="muted">
              {query.state ? `No account of this plan is ${query.state}.` : "This plan acts on no account."}{" "}
              <span class="total">0</span>
            </p>
          )
          : (
            <>
              <TableBox label="Accounts of the plan">
                <table class="items">
                  <RangeCaption
                    start={startOf(query)}
                    shown={listed.value.data.length}
                    total={listed.value.total}
                    noun={query.state ? `${query.state} accounts` : "accounts"}
                  />
                  <thead>
                    <tr>
                      <th scope="col">Account</th>
                      <th scope="col">Action</th>
                      <th scope="col" class="wrap">Evidence: last activity per product</th>
                      <th scope="col" class="wrap">Provider's answer</th>
                      <th scope="col">State</th>
                      <th scope="col">
                        <span class="muted small">Undo</span>
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {listed.value.data.map((item) => (
                      <ItemRow plan={plan} item={item} session={session} sources={sources} now={now} />
                    ))}
                  </tbody>
                </table>
              </TableBox>
              <Pager base={here} query={query} page={listed.value} limit={Number(query.limit) || 50} />
            </>
          )}
        <h2>Compared with the previous plan</h2>
        {comparison.previousPlanId === null
          ? <p class="muted compare">This is the first plan of this policy.</p>
          : (
            <div class="compare">
              <p>
                {"Against "}
                <a href={p.plan(comparison.previousPlanId)}>the previous plan of this policy</a>
                {`: ${formatCount(comparison.added.length)} new, ${
                  formatCount(comparison.dropped.length)
                } dropped out.`}
              </p>
              {([["added", "New in this plan", comparison.added], [
                "dropped",
                "Dropped out since the previous plan",
                comparison.dropped
              ]] as const).map(
                ([key, label, named]) =>
                  named.length === 0 ? null : (
                    <>
                      <h3>{label}</h3>
                      <ul class={`plain ${key}`}>
                        {named.slice(0, COMPARE_SHOWN).map((x) => (
                          <li>
                            <a href={p.account(x.externalId)}>{x.displayName}</a>{" "}
                            <span class="mono muted">{x.externalId}</span>
                          </li>
                        ))}
                      </ul>
                      {named.length > COMPARE_SHOWN
                        ? (
                          <p class="muted small">
                            {`and ${formatCount(named.length - COMPARE_SHOWN)} more`}
                          </p>
                        )
                        : null}
                    </>
                  )
              )}
            </div>
          )}
        <h2>Spared by the policy</h2>
        {plan.excluded.length === 0 ? <p class="muted">The policy spared no idle account.</p> : (
          <details>
            <summary>{`${formatCount(plan.excluded.length)} idle accounts the policy keeps, with why`}</summary>
            <TableBox label="Accounts spared by the policy">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Account</th>
                    <th scope="col">Why</th>
                  </tr>
                </thead>
                <tbody>
                  {plan.excluded.map((x) => (
                    <tr>
                      <th scope="row">
                        <a href={p.account(x.externalId)}>{x.displayName}</a>
                      </th>
                      <td class="small">
                        <span class="badge b-grey">{x.reason}</span> {x.detail}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableBox>
          </details>
        )}
      </Layout>,
      (banner?.error.status ?? (listed._tag === "Failure" ? listed.error.status : 200)) as ContentfulStatusCode
    )
  }

  pages.get("/connections/:id/plans/:planId", (c) => planPage(c))

  pages.get("/connections/:id/plans/:planId/items.csv", async (c) => {
    const id = c.req.param("id")
    const planId = c.req.param("planId")
    const outcome = await runOperation(
      host,
      Effect.zipRight(
        ownPlan(id, planId),
        csvResponse({
          filename: `seatkeeper-plan-${planId}.csv`,
          columns: csvColumns,
          fetch: (cursor) => Reclaim.listItems(planId, { limit: 500, cursor })
        })
      )
    )
    if (outcome._tag === "Failure") return errorPage(c, outcome.error, "Plan not found")
    return outcome.value
  })

  const titles = {
    approve: "Not approved",
    execute: "Not executed",
    cancel: "Not cancelled",
    undo: "Not undone"
  } as const

  for (const action of ["approve", "execute", "cancel", "undo"] as const) {
    pages.post(`/connections/:id/plans/:planId/${action}`, async (c) => {
      const id = c.req.param("id")
      const planId = c.req.param("planId")
      const principal = c.get("session").principal
      const form = await readForm(c)
      const externalId = form.externalId === undefined || form.externalId === "" ? undefined : form.externalId
      const outcome = await runOperation(
        host,
        Effect.zipRight(
          ownPlan(id, planId),
          action === "approve"
            ? Effect.as(Reclaim.approve(planId, principal), undefined)
            : action === "execute"
            ? Effect.as(Reclaim.execute(planId, principal), undefined)
            : action === "cancel"
            ? Effect.as(Reclaim.cancel(planId, principal), undefined)
            : Effect.map(
              Reclaim.undo(planId, externalId === undefined ? {} : { externalId }, principal),
              (r) => r.undone
            )
        )
      )
      const here = paths.connection(id).plan(planId)
      if (outcome._tag === "Success") {
        if (action === "undo") return c.redirect(withQuery(here, { notice: "undone", count: outcome.value ?? 0 }), 303)
        const notice = action === "approve" ? "approved" : action === "execute" ? "execute-started" : "cancelled"
        return c.redirect(withQuery(here, { notice }), 303)
      }
      if (outcome.error.status === 404 && outcome.error.code === "plan_not_found") {
        return errorPage(c, outcome.error, "Plan not found")
      }
      // Refused (403: the role, four eyes) or not possible now (409): said on the plan's page.
      return planPage(c, { error: outcome.error, title: titles[action] })
    })
  }
}
