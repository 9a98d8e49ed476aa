/**
 * `/connections/:id/reclaim`: a connection's reclaim policies, its plans and its savings; the policy form
 * (`/reclaim/policies/new`, `/reclaim/policies/:policyId`: which seats, the inactivity threshold, whom to
 * spare, the safety settings), with the service's field errors next to the fields; archiving a policy;
 * and "Make plan" (`/reclaim/policies/:policyId/plans`), which leads to the plan's review page.
 *
 * @since 0.2.0
 */
import type { ProductSummary } from "@seatkeeper/core/Inventory"
import type { ReclaimPolicy } from "@seatkeeper/core/Reclaim"
import type { Plan, StoredPolicy } from "@seatkeeper/core/ReclaimStore"
import * as Effect from "effect/Effect"
import type { Context, Hono } from "hono"
import type { FC } from "hono/jsx"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import type { ErrorDescription } from "../../errors.js"
import { NotFound } from "../../errors.js"
import { type Host, runOperation } from "../../http/Host.js"
import { Accounts } from "../../services/Accounts.js"
import { Connections } from "../../services/Connections.js"
import { Reclaim } from "../../services/Reclaim.js"
import type { ConnectionView } from "../../views.js"
import { describedBy, FormErrors, InputField, linesOf, numberOrText, TextareaField } from "../fields.js"
import { formatCount } from "../format.js"
import { Badge, ConnectionTabs, CsrfField, ErrorBox, Layout, Notice, TableBox, When } from "../layout.js"
import { paths } from "../paths.js"
import { formatMoney, SavingsPanel, scopeText } from "../reclaim.js"
import { errorPage, fieldIssues, noticeOf, readFormWithLists, renderPage } from "../render.js"
import { can, forbidden } from "../roles.js"
import type { PagesEnv } from "../security.js"
import type { Session } from "../Sessions.js"

// =============================================================================
// the policy form
// =============================================================================

interface PolicyFormState {
  readonly values: Readonly<Record<string, string>>
  readonly products: ReadonlyArray<string>
  readonly plans: ReadonlyArray<string>
  /** How many exemption rows the form shows. */
  readonly rows: number
  readonly errors: ReadonlyMap<string, string>
  readonly error?: ErrorDescription | undefined
}

const MIN_ROWS = 2
const MAX_ROWS = 200

const blankState: PolicyFormState = {
  values: { scope: "seats", inactiveDays: "90", admins: "on" },
  products: [],
  plans: [],
  rows: MIN_ROWS,
  errors: new Map()
}

const stateOf = (policy: ReclaimPolicy): PolicyFormState => {
  const values: Record<string, string> = {
    name: policy.name,
    scope: policy.scope._tag,
    inactiveDays: String(policy.inactiveDays),
    admins: policy.exclude.admins ? "on" : "",
    excludeAccounts: policy.exclude.accounts.join("\n"),
    excludeGroups: policy.exclude.groups.join("\n"),
    newerThanDays: String(policy.exclude.newerThanDays),
    maxDataAgeHours: String(policy.maxDataAgeHours),
    fourEyesAbove: String(policy.fourEyesAbove),
    undoDays: String(policy.undoDays)
  }
  policy.exclude.exemptions.forEach((x, i) => {
    values[`ex.${i}.externalId`] = x.externalId
    values[`ex.${i}.reason`] = x.reason
    values[`ex.${i}.until`] = x.until.slice(0, 10)
  })
  return {
    values,
    products: policy.scope._tag === "seats" ? policy.scope.products : [],
    plans: policy.scope._tag === "seats" ? policy.scope.plans : [],
    rows: Math.max(MIN_ROWS, policy.exclude.exemptions.length + 1),
    errors: new Map()
  }
}

const rowsOf = (values: Readonly<Record<string, string>>): number => {
  const n = Number.parseInt(values.exemptionRows ?? "", 10)
  return Number.isFinite(n) ? Math.min(MAX_ROWS, Math.max(MIN_ROWS, n)) : MIN_ROWS
}

/**
 * The policy a form describes, as the service takes it (`{ policy }`), and for each exemption sent the
 * row of the form it came from (blank rows are left out), so an error lands next to its row.
 */
const policyFromForm = (
  state: PolicyFormState
): { readonly body: unknown; readonly exemptionRows: ReadonlyArray<number> } => {
  const v = state.values
  const exemptions: Array<Record<string, string>> = []
  const exemptionRows: Array<number> = []
  for (let row = 0; row < state.rows; row++) {
    const externalId = (v[`ex.${row}.externalId`] ?? "").trim()
    const reason = v[`ex.${row}.reason`] ?? ""
    const until = (v[`ex.${row}.until`] ?? "").trim()
    if (externalId === "" && reason.trim() === "" && until === "") continue
    exemptions.push({ externalId, reason, until })
    exemptionRows.push(row)
  }
  const optional = (key: string) => {
    const n = numberOrText(v[key])
    return n === undefined ? {} : { [key]: n }
  }
  const policy = {
    name: v.name ?? "",
    scope: v.scope === "accounts"
      ? { _tag: "accounts" }
      : { _tag: "seats", products: state.products, plans: state.plans },
    inactiveDays: numberOrText(v.inactiveDays),
    exclude: {
      admins: v.admins === "on",
      accounts: linesOf(v.excludeAccounts),
      groups: linesOf(v.excludeGroups),
      ...optional("newerThanDays"),
      exemptions
    },
    ...optional("maxDataAgeHours"),
    ...optional("fourEyesAbove"),
    ...optional("undoDays")
  }
  return { body: { policy }, exemptionRows }
}

/** The service's issue paths (`policy.exclude.exemptions.0.reason`) as the form's field keys. */
const formErrors = (error: ErrorDescription, exemptionRows: ReadonlyArray<number>): Map<string, string> => {
  const out = new Map<string, string>()
  const add = (key: string, message: string) => out.set(key, out.has(key) ? `${out.get(key)}; ${message}` : message)
  for (const [path, message] of fieldIssues(error)) {
    const parts = path.split(".")
    if (parts[0] === "policy") parts.shift()
    const [first, second, third, fourth] = parts
    if (first === "exclude") {
      if (second === "exemptions" && third !== undefined && fourth !== undefined) {
        add(`ex.${exemptionRows[Number(third)] ?? third}.${fourth}`, message)
      } else if (second === "exemptions") add("exemptions", message)
      else if (second === "accounts") add("excludeAccounts", message)
      else if (second === "groups") add("excludeGroups", message)
      else if (second === "newerThanDays") add("newerThanDays", message)
      else if (second === "admins") add("admins", message)
      else add(parts.join("."), message)
    } else if (first === "scope") add("scope", message)
    else add(first ?? "", message)
  }
  return out
}

const shownKeys = new Set([
  "name",
  "scope",
  "inactiveDays",
  "admins",
  "excludeAccounts",
  "excludeGroups",
  "newerThanDays",
  "exemptions",
  "maxDataAgeHours",
  "fourEyesAbove",
  "undoDays"
])
const isShown = (key: string) => shownKeys.has(key) || /^ex\.\d+\.(externalId|reason|until)$/.test(key)

/** `Confluence (acme)` → `Confluence`. */
const productName = (name: string) => name.replace(/\s*\([^)]*\)\s*$/, "")

/** The products a policy can name (product keys, each once), with any the policy names already. */
const productChoices = (products: ReadonlyArray<ProductSummary>, chosen: ReadonlyArray<string>) => {
  const out = new Map<string, string>()
  for (const p of products) if (!out.has(p.product)) out.set(p.product, productName(p.name))
  for (const key of chosen) {
    if (out.has(key)) continue
    const instance = products.find((p) => p.key === key)
    out.set(key, instance === undefined ? key : instance.name)
  }
  return [...out.entries()].sort(([, a], [, b]) => a.localeCompare(b))
}

const planChoices = (products: ReadonlyArray<ProductSummary>, chosen: ReadonlyArray<string>) =>
  [...new Set([...products.flatMap((p) => (p.plan === null ? [] : [p.plan])), ...chosen])].sort()

const Checks: FC<
  { name: string; idPrefix: string; choices: ReadonlyArray<readonly [string, string]>; checked: ReadonlyArray<string> }
> = (
  { checked, choices, idPrefix, name }
) => (
  <ul class="checks">
    {choices.map(([value, label], i) => (
      <li class="check">
        <input type="checkbox" id={`${idPrefix}-${i}`} name={name} value={value} checked={checked.includes(value)} />
        <label for={`${idPrefix}-${i}`}>
          {label}
          {label === value ? null : <span class="muted small mono">{` ${value}`}</span>}
        </label>
      </li>
    ))}
  </ul>
)

const PolicyForm: FC<{
  action: string
  cancel: string
  state: PolicyFormState
  session: Session
  products: ReadonlyArray<ProductSummary>
  readOnly: boolean
}> = ({ action, cancel, products, readOnly, session, state }) => {
  const v = state.values
  const e = state.errors
  const rows = Array.from({ length: state.rows }, (_, i) => i)
  const exemptionsHelp =
    "Spared until the start of that day (UTC): parental leave, seasonal staff. Blank rows are ignored."
  const fields = (
    <>
      <InputField
        id="p-name"
        name="name"
        label="Policy name"
        value={v.name}
        errors={e}
        required
        help="How the policy and its plans are listed, e.g. “Jira seats idle 90 days”."
      />
      <fieldset>
        <legend>Which seats</legend>
        {e.get("scope") === undefined ? null : <p class="error" id="p-scope-error">{e.get("scope")}</p>}
        <div class="check">
          <input type="radio" id="p-scope-seats" name="scope" value="seats" checked={v.scope !== "accounts"} />
          <label for="p-scope-seats">Seats of some products or plans</label>
        </div>
        <div class="check">
          <input type="radio" id="p-scope-accounts" name="scope" value="accounts" checked={v.scope === "accounts"} />
          <label for="p-scope-accounts">Whole accounts (every seat they hold)</label>
        </div>
        <div class="field">
          <span class="label">Products</span>
          <p class="help">For seats: none ticked means every product.</p>
          {productChoices(products, state.products).length === 0
            ? <p class="muted small">No products yet: sync the connection.</p>
            : (
              <Checks
                name="products"
                idPrefix="p-product"
                choices={productChoices(products, state.products)}
                checked={state.products}
              />
            )}
        </div>
        <div class="field">
          <span class="label">Plans</span>
          <p class="help">For seats: none ticked means every plan.</p>
          {planChoices(products, state.plans).length === 0
            ? <p class="muted small">No plans reported.</p>
            : (
              <Checks
                name="plans"
                idPrefix="p-plan"
                choices={planChoices(products, state.plans).map((p) => [p, p] as const)}
                checked={state.plans}
              />
            )}
        </div>
      </fieldset>
      <InputField
        id="p-inactiveDays"
        name="inactiveDays"
        type="number"
        min={1}
        max={3650}
        label="Inactive for at least (days)"
        value={v.inactiveDays}
        errors={e}
        required
        help="A seat is idle when its product has not been used for this many days (or never, on an account older than that)."
      />
      <fieldset>
        <legend>Never reclaim from</legend>
        <div class="field">
          <div class="check">
            <input
              type="checkbox"
              id="p-admins"
              name="admins"
              checked={v.admins === "on"}
              aria-describedby={describedBy("p-admins", undefined, e.get("admins"))}
            />
            <label for="p-admins">Administrators (any role whose name says admin)</label>
          </div>
          {e.get("admins") === undefined ? null : <p class="error" id="p-admins-error">{e.get("admins")}</p>}
        </div>
        <TextareaField
          id="p-excludeAccounts"
          name="excludeAccounts"
          label="These accounts"
          value={v.excludeAccounts}
          errors={e}
          help="Account ids, one per line."
        />
        <TextareaField
          id="p-excludeGroups"
          name="excludeGroups"
          label="Members of these groups"
          value={v.excludeGroups}
          errors={e}
          help="Group names, one per line."
        />
        <InputField
          id="p-newerThanDays"
          name="newerThanDays"
          type="number"
          min={0}
          max={3650}
          label="Accounts newer than (days)"
          value={v.newerThanDays}
          errors={e}
          placeholder="30"
          help="Accounts that joined less than this many days ago. Default 30."
        />
        <fieldset class="exemptions">
          <legend>Exemptions until a date</legend>
          <p class="help" id="p-exemptions-help">{exemptionsHelp}</p>
          {e.get("exemptions") === undefined ? null : <p class="error">{e.get("exemptions")}</p>}
          {rows.map((row) => (
            <fieldset class="row">
              <legend class="small">{`Exemption ${row + 1}`}</legend>
              <div class="rows">
                <InputField
                  id={`p-ex-${row}-externalId`}
                  name={`ex.${row}.externalId`}
                  label="Account id"
                  value={v[`ex.${row}.externalId`]}
                  errors={e}
                />
                <InputField
                  id={`p-ex-${row}-reason`}
                  name={`ex.${row}.reason`}
                  label="Reason"
                  value={v[`ex.${row}.reason`]}
                  errors={e}
                />
                <InputField
                  id={`p-ex-${row}-until`}
                  name={`ex.${row}.until`}
                  type="date"
                  label="Until"
                  value={v[`ex.${row}.until`]}
                  errors={e}
                />
              </div>
            </fieldset>
          ))}
          {readOnly
            ? null
            : (
              <button type="submit" name="intent" value="more-rows" class="small" formnovalidate>
                Add an exemption row
              </button>
            )}
        </fieldset>
      </fieldset>
      <fieldset>
        <legend>Safety</legend>
        <InputField
          id="p-maxDataAgeHours"
          name="maxDataAgeHours"
          type="number"
          min={1}
          max={720}
          label="Act only on data younger than (hours)"
          value={v.maxDataAgeHours}
          errors={e}
          placeholder="48"
          help="A plan made from an older sync cannot be executed: sync first. Default 48."
        />
        <InputField
          id="p-fourEyesAbove"
          name="fourEyesAbove"
          type="number"
          min={0}
          label="Four eyes above (accounts)"
          value={v.fourEyesAbove}
          errors={e}
          placeholder="10"
          help="A plan acting on more accounts than this needs an approver other than its author; 0: every plan. Default 10."
        />
        <InputField
          id="p-undoDays"
          name="undoDays"
          type="number"
          min={0}
          max={365}
          label="Undo possible for (days)"
          value={v.undoDays}
          errors={e}
          placeholder="14"
          help="How long after execution an account, or the whole plan, can be undone. Default 14."
        />
      </fieldset>
    </>
  )
  return (
    <form method="post" action={action} class="stack" novalidate>
      <CsrfField session={session} />
      <input type="hidden" name="exemptionRows" value={String(state.rows)} />
      <FormErrors errors={e} shown={isShown} error={state.error} />
      {readOnly ? <fieldset class="plain" disabled>{fields}</fieldset> : fields}
      <div class="actions">
        {readOnly ? null : <button type="submit" name="intent" value="save" class="primary">Save policy</button>}
        <a href={cancel}>{readOnly ? "Back to Reclaim" : "Cancel"}</a>
      </div>
    </form>
  )
}

// =============================================================================
// lists
// =============================================================================

/**
 * A table of plans, newest first.
 *
 * @since 0.2.0
 * @category components
 */
export const PlansTable: FC<
  { plans: ReadonlyArray<Plan>; label: string; connectionNames?: ReadonlyMap<string, string> | undefined }
> = (
  { connectionNames, label, plans }
) => (
  <TableBox label={label}>
    <table>
      <caption>{plans.length === 1 ? "1 plan" : `${formatCount(plans.length)} plans, newest first`}</caption>
      <thead>
        <tr>
          <th scope="col">Made</th>
          {connectionNames === undefined ? null : <th scope="col">Connection</th>}
          <th scope="col">Policy</th>
          <th scope="col">Status</th>
          <th scope="col" class="num">Accounts</th>
          <th scope="col" class="num">Seats</th>
          <th scope="col" class="wrap">A month</th>
          <th scope="col">By</th>
          <th scope="col">Approved by</th>
        </tr>
      </thead>
      <tbody>
        {plans.map((plan) => (
          <tr>
            <td>
              <a href={paths.connection(plan.connectionId).plan(plan.id)}>
                <When at={plan.createdAt} />
              </a>
            </td>
            {connectionNames === undefined ? null : (
              <td>
                <a href={paths.connection(plan.connectionId).reclaim}>
                  {connectionNames.get(plan.connectionId) ?? plan.connectionId}
                </a>
              </td>
            )}
            <td>
              <a href={paths.connection(plan.connectionId).plan(plan.id)}>{plan.policyName}</a>
              <span class="muted small">{` v${plan.policyVersion}`}</span>
            </td>
            <td>
              <Badge status={plan.status} />
            </td>
            <td class="num">{formatCount(plan.accounts)}</td>
            <td class="num">{formatCount(plan.seats)}</td>
            <td class="small">{formatMoney(plan.monthly)}</td>
            <td>{plan.createdBy}</td>
            <td>{plan.approvedBy ?? <span class="muted">—</span>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  </TableBox>
)

const PoliciesTable: FC<{ connectionId: string; policies: ReadonlyArray<StoredPolicy>; session: Session }> = (
  { connectionId, policies, session }
) => {
  const p = paths.connection(connectionId)
  return (
    <TableBox label="Reclaim policies">
      <table>
        <caption>{`${formatCount(policies.length)} ${policies.length === 1 ? "policy" : "policies"}`}</caption>
        <thead>
          <tr>
            <th scope="col">Policy</th>
            <th scope="col" class="wrap">Which seats</th>
            <th scope="col" class="num">Idle days</th>
            <th scope="col">Changed</th>
            <th scope="col">Plan</th>
          </tr>
        </thead>
        <tbody>
          {policies.map((policy) => (
            <tr>
              <th scope="row">
                <a href={p.policy(policy.id)}>{policy.policy.name}</a>
                <div class="muted small">{`version ${policy.version}`}</div>
              </th>
              <td class="small">{scopeText(policy.policy)}</td>
              <td class="num">{formatCount(policy.policy.inactiveDays)}</td>
              <td class="small">
                <When at={policy.updatedAt} ageOnly />
              </td>
              <td>
                {can(session, "operator")
                  ? (
                    <form method="post" action={p.makePlan(policy.id)} class="inline">
                      <CsrfField session={session} />
                      <button type="submit" class="small primary" aria-label={`Make plan from ${policy.policy.name}`}>
                        Make plan
                      </button>
                    </form>
                  )
                  : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableBox>
  )
}

// =============================================================================
// routes
// =============================================================================

const Crumbs: FC<{ connection: ConnectionView; here?: string | undefined }> = ({ connection, here }) => (
  <p class="crumbs">
    <a href={paths.dashboard}>Dashboard</a> / <a href={paths.connection(connection.id).accounts}>{connection.name}</a>
    {" / "}
    {here === undefined ? "Reclaim" : (
      <>
        <a href={paths.connection(connection.id).reclaim}>Reclaim</a> / {here}
      </>
    )}
  </p>
)

/**
 * @since 0.2.0
 * @category routes
 */
export const reclaimRoutes = (pages: Hono<PagesEnv>, host: Host) => {
  const overview = async (c: Context<PagesEnv>, id: string, error?: ErrorDescription, errorTitle?: string) => {
    const outcome = await runOperation(
      host,
      Effect.all({
        connection: Connections.get(id),
        policies: Reclaim.listPolicies(id),
        plans: Reclaim.listPlans({ connectionId: id, limit: 50 }),
        savings: Reclaim.savings(id)
      })
    )
    if (outcome._tag === "Failure") return errorPage(c, outcome.error, "Connection not found")
    const { connection, plans, policies, savings } = outcome.value
    const session = c.get("session")
    const p = paths.connection(id)
    const live = policies.filter((x) => !x.archived)
    const archived = policies.filter((x) => x.archived)
    return renderPage(
      c,
      <Layout title={`${connection.name}: reclaim`} session={session} notice={noticeOf(c)}>
        <Crumbs connection={connection} />
        <h1>{connection.name}</h1>
        <ConnectionTabs id={id} current="reclaim" session={session} />
        {error === undefined ? null : <ErrorBox error={error} title={errorTitle ?? "That did not work"} />}
        <p>
          A policy says which idle seats to take back and whom to spare. A plan applies it to the last applied sync:
          each account with its evidence and the provider's answer, for review. Nothing changes until an approver
          approves the plan and it is executed; what it did can be undone for a while.
        </p>
        <h2>Policies</h2>
        {live.length === 0
          ? <p class="muted">No policies yet.</p>
          : <PoliciesTable connectionId={id} policies={live} session={session} />}
        {can(session, "operator")
          ? (
            <p>
              <a class="button primary" href={p.newPolicy}>New policy</a>
            </p>
          )
          : null}
        {archived.length === 0 ? null : (
          <details>
            <summary>{`Archived policies (${archived.length})`}</summary>
            <ul class="plain">
              {archived.map((x) => (
                <li>
                  <a href={p.policy(x.id)}>{x.policy.name}</a> <Badge status="archived" />
                </li>
              ))}
            </ul>
          </details>
        )}
        <h2>Plans</h2>
        {plans.length === 0
          ? <p class="muted">No plans yet.</p>
          : <PlansTable plans={plans} label="Plans of this connection" />}
        <SavingsPanel connectionId={id} savings={savings} session={session} headingLevel={2} />
      </Layout>,
      (error?.status ?? 200) as ContentfulStatusCode
    )
  }

  pages.get("/connections/:id/reclaim", (c) => overview(c, c.req.param("id")))

  /** The connection and its products (the form's choices), and the policy when one is named. */
  const load = (id: string, policyId: string | undefined) =>
    Effect.all({
      connection: Connections.get(id),
      products: Accounts.products(id),
      policy: policyId === undefined
        ? Effect.succeed(undefined)
        : Reclaim.getPolicy(policyId).pipe(
          Effect.filterOrFail((x) => x.connectionId === id, () => new NotFound({ resource: "policy", id: policyId }))
        )
    })

  const formPage = (
    c: Context<PagesEnv>,
    loaded: {
      readonly connection: ConnectionView
      readonly products: ReadonlyArray<ProductSummary>
      readonly policy: StoredPolicy | undefined
    },
    state: PolicyFormState,
    plans: ReadonlyArray<Plan>,
    status: ContentfulStatusCode = 200
  ) => {
    const { connection, policy, products } = loaded
    const session = c.get("session")
    const p = paths.connection(connection.id)
    const readOnly = !can(session, "operator") || policy?.archived === true
    const title = policy === undefined ? "New reclaim policy" : `Policy “${policy.policy.name}”`
    return renderPage(
      c,
      <Layout title={`${connection.name}: ${title}`} session={session} notice={noticeOf(c)}>
        <Crumbs connection={connection} here={policy === undefined ? "New policy" : policy.policy.name} />
        <h1>{title}</h1>
        {policy === undefined ? null : (
          <p class="muted small">
            {`Version ${policy.version}, changed `}
            <When at={policy.updatedAt} />
            {` by ${policy.createdBy}. `}
            {policy.archived
              ? <Badge status="archived" />
              : "Saving makes a new version; plans keep the version they were made from."}
          </p>
        )}
        {readOnly && policy?.archived !== true
          ? (
            <Notice tone="info">
              {`Your role (${session.principal.role}) can read this policy; an operator changes it.`}
            </Notice>
          )
          : null}
        <PolicyForm
          action={policy === undefined ? p.newPolicy : p.policy(policy.id)}
          cancel={p.reclaim}
          state={state}
          session={session}
          products={products}
          readOnly={readOnly}
        />
        {policy === undefined ? null : (
          <>
            <h2>Plans of this policy</h2>
            {plans.length === 0
              ? <p class="muted">No plans yet.</p>
              : <PlansTable plans={plans} label="Plans of this policy" />}
            {readOnly ? null : (
              <div class="actions">
                <form method="post" action={p.makePlan(policy.id)} class="inline">
                  <CsrfField session={session} />
                  <button type="submit" class="primary">Make plan</button>
                </form>
                <form method="post" action={p.archivePolicy(policy.id)} class="inline">
                  <CsrfField session={session} />
                  <button type="submit" class="danger">Archive policy</button>
                </form>
              </div>
            )}
          </>
        )}
      </Layout>,
      status
    )
  }

  pages.get("/connections/:id/reclaim/policies/new", async (c) => {
    const session = c.get("session")
    if (!can(session, "operator")) {
      return errorPage(c, forbidden(session, "operator", "write reclaim policies"), "Not allowed")
    }
    const loaded = await runOperation(host, load(c.req.param("id"), undefined))
    if (loaded._tag === "Failure") return errorPage(c, loaded.error, "Connection not found")
    return formPage(c, loaded.value, blankState, [])
  })

  pages.get("/connections/:id/reclaim/policies/:policyId", async (c) => {
    const policyId = c.req.param("policyId")
    const loaded = await runOperation(
      host,
      Effect.all({ loaded: load(c.req.param("id"), policyId), plans: Reclaim.listPlans({ policyId, limit: 20 }) })
    )
    if (loaded._tag === "Failure") return errorPage(c, loaded.error, "Policy not found")
    return formPage(c, loaded.value.loaded, stateOf(loaded.value.loaded.policy!.policy), loaded.value.plans)
  })

  const save = async (c: Context<PagesEnv>, policyId: string | undefined) => {
    const id = c.req.param("id")!
    const session = c.get("session")
    const { list, values } = await readFormWithLists(c)
    const loaded = await runOperation(host, load(id, policyId))
    if (loaded._tag === "Failure") {
      return errorPage(c, loaded.error, policyId === undefined ? "Connection not found" : "Policy not found")
    }
    const state: PolicyFormState = {
      values,
      products: list("products"),
      plans: list("plans"),
      rows: rowsOf(values),
      errors: new Map()
    }
    const plans = policyId === undefined
      ? undefined
      : await runOperation(host, Reclaim.listPlans({ policyId, limit: 20 }))
    const planList = plans?._tag === "Success" ? plans.value : []
    if (values.intent === "more-rows") {
      return formPage(c, loaded.value, { ...state, rows: Math.min(MAX_ROWS, state.rows + 1) }, planList)
    }
    const { body, exemptionRows } = policyFromForm(state)
    const outcome = await runOperation(
      host,
      policyId === undefined
        ? Reclaim.createPolicy(id, body, session.principal)
        : Reclaim.updatePolicy(policyId, body, session.principal)
    )
    if (outcome._tag === "Success") {
      return c.redirect(
        `${paths.connection(id).policy(outcome.value.id)}?notice=${
          policyId === undefined ? "policy-created" : "policy-saved"
        }`,
        303
      )
    }
    if (outcome.error.status === 403) return errorPage(c, outcome.error, "Not allowed")
    const errors = formErrors(outcome.error, exemptionRows)
    return formPage(
      c,
      loaded.value,
      errors.size > 0 ? { ...state, errors } : { ...state, error: outcome.error },
      planList,
      outcome.error.status as ContentfulStatusCode
    )
  }

  pages.post("/connections/:id/reclaim/policies/new", (c) => save(c, undefined))
  pages.post("/connections/:id/reclaim/policies/:policyId", (c) => save(c, c.req.param("policyId")))

  pages.post("/connections/:id/reclaim/policies/:policyId/archive", async (c) => {
    const id = c.req.param("id")
    const policyId = c.req.param("policyId")
    const outcome = await runOperation(
      host,
      Effect.zipRight(load(id, policyId), Reclaim.archivePolicy(policyId, c.get("session").principal))
    )
    if (outcome._tag === "Success") return c.redirect(`${paths.connection(id).reclaim}?notice=policy-archived`, 303)
    if (outcome.error.status === 403) return errorPage(c, outcome.error, "Not allowed")
    return errorPage(c, outcome.error, "Not archived")
  })

  pages.post("/connections/:id/reclaim/policies/:policyId/plans", async (c) => {
    const id = c.req.param("id")
    const policyId = c.req.param("policyId")
    const outcome = await runOperation(
      host,
      Effect.zipRight(load(id, policyId), Reclaim.makePlan(policyId, c.get("session").principal))
    )
    if (outcome._tag === "Success") {
      return c.redirect(`${paths.connection(id).plan(outcome.value.id)}?notice=plan-made`, 303)
    }
    if (outcome.error.status === 404) return errorPage(c, outcome.error, "Policy not found")
    if (outcome.error.status === 403) return errorPage(c, outcome.error, "Not allowed")
    // No applied sync yet, an archived policy, the provider unreachable: said on the Reclaim page.
    return overview(c, id, outcome.error, "No plan was made")
  })
}
