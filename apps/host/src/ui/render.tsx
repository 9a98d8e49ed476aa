/**
 * Answering with a page: rendering, reading a form post, and the error pages.
 *
 * @since 0.1.0
 */
import type { Context } from "hono"
import type { Child } from "hono/jsx"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import type { ErrorDescription, FieldIssue } from "../errors.js"
import { formValues } from "./configForm.js"
import { ErrorBox, Layout } from "./layout.js"
import { paths } from "./paths.js"
import type { PagesEnv } from "./security.js"

/**
 * @since 0.1.0
 * @category rendering
 */
export const renderPage = (
  c: Context<any>,
  page: Child,
  status: ContentfulStatusCode = 200
): Response | Promise<Response> => c.html(page as never, status)

/**
 * A submitted form's fields as strings.
 *
 * @since 0.1.0
 * @category requests
 */
export const readForm = async (c: Context<any>): Promise<Record<string, string>> =>
  formValues(await c.req.parseBody() as Record<string, unknown>)

/**
 * A submitted form's fields as strings, and the values of fields sent more than once (checkboxes sharing
 * a name) as lists.
 *
 * @since 0.2.0
 * @category requests
 */
export const readFormWithLists = async (
  c: Context<any>
): Promise<{ readonly values: Record<string, string>; readonly list: (name: string) => ReadonlyArray<string> }> => {
  const all = await c.req.parseBody({ all: true }) as Record<string, unknown>
  const values: Record<string, string> = {}
  for (const [k, v] of Object.entries(all)) {
    if (typeof v === "string") values[k] = v
    else if (Array.isArray(v) && typeof v.at(-1) === "string") values[k] = v.at(-1) as string
  }
  const list = (name: string): ReadonlyArray<string> => {
    const v = all[name]
    return typeof v === "string" ? [v] : Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : []
  }
  return { values, list }
}

/**
 * A page that only says what went wrong, with the failure's status.
 *
 * @since 0.1.0
 * @category rendering
 */
export const errorPage = (c: Context<PagesEnv>, error: ErrorDescription, title = "Something went wrong") =>
  renderPage(
    c,
    <Layout title={title} session={c.get("session")}>
      <h1>{title}</h1>
      <ErrorBox error={error} />
      <p>
        <a href={paths.dashboard}>Back to the dashboard</a>
      </p>
    </Layout>,
    error.status as ContentfulStatusCode
  )

/**
 * The field issues of a failure (an `InvalidInput`'s `details.issues`), by dotted path.
 *
 * @since 0.1.0
 * @category utils
 */
export const fieldIssues = (error: ErrorDescription): Map<string, string> => {
  const out = new Map<string, string>()
  const issues = (error.details as { issues?: ReadonlyArray<FieldIssue> } | undefined)?.issues ?? []
  for (const issue of issues) {
    const key = issue.path.join(".")
    out.set(key, out.has(key) ? `${out.get(key)}; ${issue.message}` : issue.message)
  }
  return out
}

const notices: Record<string, string> = {
  created: "Connection saved. Sync it to load its accounts.",
  saved: "Settings saved.",
  deleted: "Connection deleted.",
  "sync-started": "Sync started. This page reloads every few seconds until it finishes.",
  "policy-created": "Policy saved. Make a plan from it to see whom it would reclaim from.",
  "policy-saved": "Policy saved as a new version. Plans made before keep the version they were made from.",
  "policy-archived": "Policy archived. Its plans stay.",
  "plan-made": "Plan made. Nothing changes until it is approved and executed.",
  approved: "Plan approved. It can be executed now.",
  "execute-started": "Execution started. This page reloads every few seconds until the plan is done.",
  cancelled: "Plan cancelled. Nothing was changed.",
  "prices-saved": "Prices saved.",
  "role-changed": "Role changed.",
  "user-disabled": "User disabled: their token and their sessions no longer work.",
  "user-enabled": "User enabled again.",
  "webhook-removed": "Webhook removed."
}

/**
 * The confirmation named by `?notice=` (a fixed set: nothing from the query string is shown as such).
 *
 * @since 0.1.0
 * @category utils
 */
export const noticeOf = (c: Context<any>): string | undefined => {
  const key = c.req.query("notice") ?? ""
  return Object.hasOwn(notices, key) ? notices[key] : undefined
}
