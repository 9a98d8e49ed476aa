/**
 * Reads the five error-body shapes of the Atlassian admin APIs (API-NOTES §4.2) and non-JSON bodies, and
 * maps a failed response to a `ProviderError` with the troubleshooting hint a user needs.
 *
 * @since 0.1.0
 */
import { ProviderError, type ProviderErrorReason } from "@seatkeeper/core/ProviderError"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { ErrorBody } from "./AtlassianSchema.js"

/**
 * What an error body said, whatever its shape.
 *
 * @since 0.1.0
 * @category models
 */
export interface AtlassianErrorBody {
  /**
   * Which of the shapes it was: the Org and v2 APIs' `{errors}` envelope (`application`), the
   * user-management API's `{key}` (`userManagement`), the 403 `noPerms`, the gateway's `proxy`, or `text`.
   */
  readonly shape?: "application" | "userManagement" | "noPerms" | "proxy" | "text" | undefined
  /** `ADMIN-404-2`, `forbidden.action`, `429`, ... */
  readonly code: string | undefined
  readonly message: string | undefined
  /** The `reason.key` of a `forbidden.action` (e.g. `externalDirectory.scim`). */
  readonly restriction: string | undefined
}

const MAX_TEXT = 200

const excerpt = (text: string): string | undefined => {
  const plain = text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim()
  if (plain === "") return undefined
  return plain.length > MAX_TEXT ? `${plain.slice(0, MAX_TEXT)}…` : plain
}

// Upstream words are kept short: an error is read by people, and a long body is usually an echo of the request.
const text = (value: string | number | null | undefined): string | undefined =>
  value === null || value === undefined || value === "" ? undefined : excerpt(String(value))

const decodeErrorBody = Schema.decodeUnknownOption(Schema.parseJson(ErrorBody))

/**
 * Parses an error body of any of the five shapes (`ErrorBody`, a `Schema.Union`):
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
export const parseErrorBody = (body: string): AtlassianErrorBody =>
  Option.match(decodeErrorBody(body), {
    onNone: () => ({ shape: "text", code: undefined, message: excerpt(body), restriction: undefined }),
    onSome: (parsed): AtlassianErrorBody => {
      if ("errors" in parsed) {
        const first = parsed.errors[0]
        const title = text(first.title)
        const detail = text(first.detail)
        return {
          shape: "application",
          code: text(first.code),
          message: title && detail && title !== detail ? excerpt(`${title}: ${detail}`) : (detail ?? title),
          restriction: undefined
        }
      }
      if ("key" in parsed) {
        return {
          shape: "userManagement",
          code: excerpt(parsed.key),
          message: text(parsed.context?.message) ?? text(parsed.message),
          restriction: text(parsed.context?.reason?.key)
        }
      }
      if ("requestId" in parsed) {
        return { shape: "noPerms", code: text(parsed.error), message: text(parsed.message), restriction: undefined }
      }
      return { shape: "proxy", code: text(parsed.code), message: text(parsed.message), restriction: undefined }
    }
  })

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
  forbidden: "The key's owner needs organization admin rights, the Organization API must be enabled for the " +
    "organization, and the organization ID must be the one in admin.atlassian.com/o/<organization ID>/.",
  forbiddenLifecycle: "Suspending and restoring accounts needs an organization API key created WITHOUT scopes " +
    "(Atlassian offers no scope for account lifecycle), owned by an organization admin.",
  orgNotFound: "No organization with this ID is visible to the key: check the organization ID in admin.atlassian.com.",
  accountNotFound: "Atlassian has no such account in this organization; it may have been deleted. Sync again.",
  incomplete: "Atlassian returned fewer accounts than it reported in meta.total, so nothing was changed. Sync again; " +
    "note that this API lists only managed accounts (on your organization's verified domains).",
  rateLimited: "Atlassian kept rate-limiting the requests; lower the connection's request budget or sync later.",
  forbiddenUserManagement:
    "Reading an account's profile uses Atlassian's user-management API: it needs an organization API key created " +
    "WITHOUT scopes, owned by an organization admin, and works only for managed accounts (on a verified domain).",
  directorySuspend:
    "Suspending access in a directory needs an organization API key of an organization admin; Atlassian does not " +
    "suspend organization admins (remove the admin role first).",
  directoryNotFound:
    "Atlassian has no such directory in this organization; sync again to read the account's directory.",
  invalidCursor:
    "Atlassian refused a page cursor: the roster changed while it was being read, or the cursor expired. Nothing " +
    "was changed; sync again.",
  unavailable: "Atlassian did not answer properly; this is usually temporary. Try again in a few minutes."
} as const

/**
 * What each restriction reason of Atlassian's manageability answers means, in a few words.
 *
 * @since 0.2.0
 * @category hints
 */
export const restrictionReasons: Readonly<Record<string, string>> = {
  "externalDirectory.scim": "managed by SCIM (your identity provider)",
  "externalDirectory.google": "managed by Google Workspace",
  "managedAccount": "not managed by your organization (not on a verified domain)",
  "administrative": "an administrator account",
  "administrative.notMyself": "your own account or another administrator's",
  "myselfOnly": "an action only the account's owner may take",
  "blocked.exportControl": "blocked by US export controls"
}

/**
 * The hint for a restriction reason.
 *
 * @since 0.2.0
 * @category hints
 */
export const restrictionHint = (key: string): string =>
  Object.hasOwn(restrictionHints, key) ? restrictionHints[key]! : `Atlassian refused the action (${key}).`

const restrictionHints: Record<string, string> = {
  "externalDirectory.scim":
    "This account is provisioned by SCIM from your identity provider: suspend or deactivate it there.",
  "externalDirectory.google": "This account is synced from Google Workspace: suspend it in Google Workspace.",
  "managedAccount":
    "This account is not managed by your organization (not on a verified domain), so it cannot be deactivated here.",
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

const isLifecycle = (operation: string) =>
  operation === "suspend" || operation === "restore" || operation === "preflight"

const isAction = (operation: string) => operation === "suspend" || operation === "restore"

const forbiddenHint = (operation: string, parsed: AtlassianErrorBody): string => {
  if (parsed.restriction !== undefined) return restrictionHint(parsed.restriction)
  if (parsed.code === "forbidden.targetUnverified" || parsed.code === "forbidden.unclaimedDomain") {
    return restrictionHints.managedAccount!
  }
  // The v2 directory API refuses an admin's suspend, or a key without the rights, with ADMIN-UAM-403-*.
  if (parsed.code?.startsWith("ADMIN-UAM-403") && isAction(operation)) return hints.directorySuspend
  if (isLifecycle(operation)) return hints.forbiddenLifecycle
  // Only the user-management API answers `{key}`: here, a profile read (a lookup).
  if (parsed.shape === "userManagement") return hints.forbiddenUserManagement
  return hints.forbidden
}

const notFoundHint = (operation: string, parsed: AtlassianErrorBody): string => {
  if (parsed.code === "ADMIN-UAM-404-2") return hints.directoryNotFound
  if (parsed.code === "accountNotFound" || parsed.code === "notFound" || parsed.code === "ADMIN-404-8") {
    return hints.accountNotFound
  }
  if (parsed.code === "ADMIN-UAM-404-1" || isLifecycle(operation) || operation === "lookup") {
    return hints.accountNotFound
  }
  return hints.orgNotFound
}

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
      hint = forbiddenHint(input.operation, parsed)
      break
    case "NotFound":
      hint = notFoundHint(input.operation, parsed)
      break
    case "RateLimited":
      hint = hints.rateLimited
      break
    case "Unavailable":
      hint = hints.unavailable
      break
    default:
      hint = parsed.code === "ADMIN-400-1" ? hints.invalidCursor : undefined
  }
  const said = parsed.message ?? parsed.code
  // A known restriction in words first ("the account is managed by SCIM"), Atlassian's code after it.
  const restricted = parsed.restriction !== undefined && Object.hasOwn(restrictionReasons, parsed.restriction)
    ? `the account is ${restrictionReasons[parsed.restriction]}; `
    : ""
  const description = said === undefined
    ? `Atlassian answered HTTP ${input.status}`
    : `Atlassian answered HTTP ${input.status}: ${restricted}${said}${
      parsed.restriction ? ` (${parsed.restriction})` : ""
    }`
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
