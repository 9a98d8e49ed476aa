/**
 * Reads the five error-body shapes of the Atlassian admin APIs (API-NOTES §4.2) and non-JSON bodies, and
 * maps a failed response to a `ProviderError` with the troubleshooting hint a user needs.
 *
 * @since 0.1.0
 */
import { ProviderError, type ProviderErrorReason } from "@seatkeeper/core/ProviderError"

/**
 * What an error body said, whatever its shape.
 *
 * @since 0.1.0
 * @category models
 */
export interface AtlassianErrorBody {
  /** `ADMIN-404-2`, `forbidden.action`, `429`, ... */
  readonly code: string | undefined
  readonly message: string | undefined
  /** The `reason.key` of a `forbidden.action` (e.g. `externalDirectory.scim`). */
  readonly restriction: string | undefined
}

const MAX_TEXT = 200

const str = (u: unknown): string | undefined =>
  typeof u === "string" && u !== "" ? u : typeof u === "number" ? String(u) : undefined

const excerpt = (text: string): string | undefined => {
  const plain = text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim()
  if (plain === "") return undefined
  return plain.length > MAX_TEXT ? `${plain.slice(0, MAX_TEXT)}…` : plain
}

/**
 * Parses an error body of any of the five shapes:
 * 1. Org API `{"errors":[{"status":"404","code":"ADMIN-404-2","title","detail"}]}`
 * 2. v2 user API, same envelope (`ADMIN-UAM-...`)
 * 3. gateway `{"code":429,"message":"..."}`
 * 4. 403 NoPerms `{"timestamp","path","status":403,"error":"Forbidden","message","requestId"}`
 * 5. user management `{"key":"forbidden.action","context":{"reason":{"key":"externalDirectory.scim"}}}`
 * and anything else (HTML, empty, truncated JSON) as text.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseErrorBody = (body: string): AtlassianErrorBody => {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    return { code: undefined, message: excerpt(body), restriction: undefined }
  }
  if (typeof json !== "object" || json === null) {
    return { code: undefined, message: excerpt(body), restriction: undefined }
  }
  const o = json as Record<string, unknown>
  if (Array.isArray(o.errors) && o.errors.length > 0) {
    const first = o.errors[0] as Record<string, unknown>
    const title = str(first?.title)
    const detail = str(first?.detail)
    return {
      code: str(first?.code),
      message: title && detail && title !== detail ? `${title}: ${detail}` : (detail ?? title),
      restriction: undefined
    }
  }
  if (typeof o.key === "string") {
    const context = o.context as Record<string, unknown> | undefined
    const reason = context?.reason as Record<string, unknown> | undefined
    return {
      code: o.key,
      message: str(context?.message) ?? str(o.message),
      restriction: str(reason?.key)
    }
  }
  if (typeof o.requestId === "string" || typeof o.timestamp === "string") {
    return { code: str(o.error), message: str(o.message), restriction: undefined }
  }
  return { code: str(o.code), message: str(o.message), restriction: undefined }
}

/**
 * The troubleshooting hints, from Atlassian's own guidance.
 *
 * @since 0.1.0
 * @category hints
 */
export const hints = {
  unauthorized:
    "Check the API key: it must be an organization API key from admin.atlassian.com → Settings → API keys, " +
    "created by the admin whose email you entered, not expired (keys last at most a year) and not revoked. " +
    "A personal API token from id.atlassian.com does not work with the admin API.",
  forbidden:
    "The key's owner needs organization admin rights, the Organization API must be enabled for the " +
    "organization, and the organization ID must be the one in admin.atlassian.com/o/<organization ID>/.",
  forbiddenLifecycle:
    "Suspending and restoring accounts needs an organization API key created WITHOUT scopes " +
    "(Atlassian offers no scope for account lifecycle), owned by an organization admin.",
  orgNotFound: "No organization with this ID is visible to the key: check the organization ID in admin.atlassian.com.",
  accountNotFound: "Atlassian has no such account in this organization; it may have been deleted. Sync again.",
  incomplete:
    "Atlassian returned fewer accounts than it reported in meta.total, so nothing was changed. Sync again; " +
    "note that this API lists only managed accounts (on your organization's verified domains).",
  rateLimited: "Atlassian kept rate-limiting the requests; lower the connection's request budget or sync later.",
  unavailable: "Atlassian did not answer properly; this is usually temporary. Try again in a few minutes."
} as const

const restrictionHints: Record<string, string> = {
  "externalDirectory.scim":
    "This account is provisioned by SCIM from your identity provider: suspend or deactivate it there.",
  "externalDirectory.google": "This account is synced from Google Workspace: suspend it in Google Workspace.",
  "managedAccount": "This account is not managed by your organization (not on a verified domain), so it cannot be deactivated here.",
  "administrative": "Atlassian does not allow this action on an administrator account.",
  "administrative.notMyself": "You cannot deactivate your own account or another administrator this way.",
  "myselfOnly": "Atlassian allows this action only on the key owner's own account.",
  "blocked.exportControl": "This account was deactivated because of US export controls and cannot be restored by API."
}

const reasonOf = (status: number): ProviderErrorReason => {
  if (status === 401) return "Unauthorized"
  if (status === 403) return "Forbidden"
  if (status === 404) return "NotFound"
  if (status === 429) return "RateLimited"
  if (status >= 500) return "Unavailable"
  return "InvalidResponse"
}

const isLifecycle = (operation: string) => operation === "suspend" || operation === "restore"

/**
 * Maps a failed response to a `ProviderError` with a hint.
 *
 * @since 0.1.0
 * @category errors
 */
export const classify = (input: {
  readonly operation: string
  readonly status: number
  readonly body: string
}): ProviderError => {
  const parsed = parseErrorBody(input.body)
  const reason = reasonOf(input.status)
  let hint: string | undefined
  switch (reason) {
    case "Unauthorized":
      hint = hints.unauthorized
      break
    case "Forbidden":
      hint = parsed.restriction !== undefined
        ? (restrictionHints[parsed.restriction] ?? `Atlassian refused the action (${parsed.restriction}).`)
        : parsed.code === "forbidden.targetUnverified"
        ? restrictionHints.managedAccount
        : isLifecycle(input.operation)
        ? hints.forbiddenLifecycle
        : hints.forbidden
      break
    case "NotFound":
      hint = parsed.code === "accountNotFound" || parsed.code === "notFound" || parsed.code === "ADMIN-404-8"
        ? hints.accountNotFound
        : isLifecycle(input.operation)
        ? hints.accountNotFound
        : hints.orgNotFound
      break
    case "RateLimited":
      hint = hints.rateLimited
      break
    case "Unavailable":
      hint = hints.unavailable
      break
    default:
      hint = undefined
  }
  const said = parsed.message ?? parsed.code
  const description = said === undefined
    ? `Atlassian answered HTTP ${input.status}`
    : `Atlassian answered HTTP ${input.status}: ${said}${parsed.restriction ? ` (${parsed.restriction})` : ""}`
  return new ProviderError({
    reason,
    provider: "atlassian",
    operation: input.operation,
    status: input.status,
    description,
    hint,
    code: parsed.code
  })
}
