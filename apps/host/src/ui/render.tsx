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
export const renderPage = (c: Context<any>, page: Child, status: ContentfulStatusCode = 200): Response | Promise<Response> =>
  c.html(page as never, status)

/**
 * A submitted form's fields as strings.
 *
 * @since 0.1.0
 * @category requests
 */
export const readForm = async (c: Context<any>): Promise<Record<string, string>> =>
  formValues(await c.req.parseBody() as Record<string, unknown>)

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
      <p><a href={paths.dashboard}>Back to the dashboard</a></p>
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
  "sync-started": "Sync started. This page reloads every few seconds until it finishes."
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
