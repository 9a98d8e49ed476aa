/**
 * Reads SCIM error bodies (RFC 7644 §3.12: `{"schemas":[...Error], "status", "scimType", "detail"}`) and
 * anything else a service or a proxy answers with, and maps a failed response to a `ProviderError` with
 * the hint a user needs.
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
export interface ScimErrorBody {
  /** RFC 7644 §3.12 `scimType` (`uniqueness`, `mutability`, `invalidValue`, ...; RFC 9865 adds `expiredCursor`, ...). */
  readonly scimType: string | undefined
  /** `detail`, or the message of a non-SCIM body. */
  readonly detail: string | undefined
}

const MAX_TEXT = 200

const str = (u: unknown): string | undefined =>
  typeof u === "string" && u.trim() !== "" ? u.trim() : typeof u === "number" ? String(u) : undefined

const excerpt = (text: string | undefined): string | undefined => {
  if (text === undefined) return undefined
  const plain = text.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ").trim()
  if (plain === "") return undefined
  return plain.length > MAX_TEXT ? `${plain.slice(0, MAX_TEXT)}…` : plain
}

/**
 * Parses a SCIM error body, and the shapes services send instead of it (`{"message"}`, `{"error"}`,
 * `{"errors":[{"message"}]}`, `{"Errors":[{"description"}]}`), and anything else (HTML, empty, truncated
 * JSON) as text.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseErrorBody = (body: string): ScimErrorBody => {
  let json: unknown
  try {
    json = JSON.parse(body)
  } catch {
    return { scimType: undefined, detail: excerpt(body) }
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return { scimType: undefined, detail: excerpt(body) }
  }
  const o = json as Record<string, unknown>
  const listed = Array.isArray(o.errors) ? o.errors[0] : Array.isArray(o.Errors) ? o.Errors[0] : undefined
  const first = typeof listed === "object" && listed !== null ? listed as Record<string, unknown> : undefined
  const detail = str(o.detail) ?? str(o.message) ?? str(o.error_description) ?? str(o.error) ??
    str(first?.detail) ?? str(first?.message) ?? str(first?.description)
  return { scimType: str(o.scimType), detail: excerpt(detail) }
}

/**
 * The troubleshooting hints.
 *
 * @since 0.1.0
 * @category hints
 */
export const hints = {
  unauthorized: (app: string) =>
    `Check the bearer token: it must be the SCIM (provisioning) token from ${app}'s admin settings, copied whole, ` +
    "not expired and not revoked. Seatkeeper sends it as Authorization: Bearer <token>.",
  forbidden: (app: string) =>
    `The token is valid but may not do this: in ${app}, the token's owner needs admin or provisioning rights, and ` +
    "SCIM provisioning must be enabled (some apps offer it only on some plans).",
  forbiddenAction: (app: string) =>
    `${app} refused to change this user. Some apps protect owners and admins (LaunchDarkly will not deactivate an ` +
    `owner) or users managed elsewhere: change the user in ${app}'s admin console.`,
  usersNotFound: (app: string) =>
    `${app} has no SCIM Users endpoint at this base URL: check the base URL (the SCIM root, e.g. ` +
    "https://api.example.com/scim/v2, without /Users) and that SCIM provisioning is enabled.",
  accountNotFound: (app: string) => `${app} has no such user; it may have been deleted. Sync again.`,
  notScim: (app: string) =>
    `Something in front of ${app}'s SCIM service (a proxy or gateway) answered with a web page instead of a SCIM ` +
    "error, so this is not taken as the user being gone. Check the base URL and the network path, then sync again.",
  deletes: (app: string) =>
    `Suspend or remove the user in ${app}'s admin console. If ${app} in fact deactivates on active=false, ` +
    "set the connection's dialect \"What active=false does\" to active-false.",
  unknownMethod: (method: string) =>
    `The SCIM adapter has one method, scim-active (it sets active); "${method}" is not one of its methods, so ` +
    "nothing was changed. Restore without a method, or with scim-active, to set active=true.",
  rateLimited: (app: string) =>
    `${app} kept rate-limiting the requests; lower the connection's request budget or sync later.`,
  unavailable: (app: string) =>
    `${app}'s SCIM service did not answer properly; this is usually temporary. Try again in a few minutes.`,
  notImplemented: (app: string) => `${app}'s SCIM service does not implement this call.`,
  incomplete: (app: string) =>
    `${app} returned fewer users than it reported in totalResults, so nothing was changed. Sync again; if it ` +
    "persists, the service's paging is inconsistent: try a smaller page size cap in the dialect.",
  cursorExpired: (app: string) =>
    `${app}'s paging cursor expired or was refused before the listing finished, so nothing was changed. Sync again; ` +
    "a larger request budget pages faster.",
  pageSize: (app: string) =>
    `${app} refused the page size Seatkeeper asked for: set a smaller page size cap in the connection's dialect.`,
  patchShape: (app: string, op: string) =>
    `${app} did not accept a PATCH that sets active with op "${op}": set the dialect's PATCH operation to ` +
    `"${op === "add" ? "replace" : "add"}" and try again.`,
  mutability: (app: string) =>
    `${app} does not let its SCIM clients change active for this user: deactivate the user in ${app}'s admin console.`,
  uniqueness: (app: string) =>
    `${app} reported a conflict with another user (uniqueness); the user record may be out of step: check it in ${app}.`,
  putRejected: (app: string) =>
    `${app} does not support PATCH, and rejected the full user record Seatkeeper sent back with active changed; ` +
    `change the user in ${app}'s admin console.`
} as const

const isAction = (operation: string) => operation === "suspend" || operation === "restore"

// The calls that name one user (`/Users/{id}`): a 404 there means the user, not the endpoint, is missing.
const isUserCall = (operation: string) => isAction(operation) || operation === "lookup" || operation === "preflight"

// A web page (a proxy's or gateway's 404) is not the SCIM service speaking: it cannot confirm a user is gone.
const looksLikeHtml = (body: string, headers: Readonly<Record<string, string>> | undefined) =>
  /^\s*</.test(body) || (headers?.["content-type"] ?? "").toLowerCase().startsWith("text/html")

const baseReason = (status: number): ProviderErrorReason => {
  if (status === 401) return "Unauthorized"
  if (status === 403) return "Forbidden"
  if (status === 404) return "NotFound"
  if (status === 429) return "RateLimited"
  if (status === 501) return "Unsupported"
  if (status >= 500) return "Unavailable"
  return "InvalidResponse"
}

/**
 * Maps a failed response to a `ProviderError` with a hint. `app` is the connection's app name (hints name
 * it); `patchOp` the dialect's PATCH operation, named in the hint of a refused PATCH. A 404 on a call that
 * names one user (`suspend`, `restore`, `lookup`, `preflight`) is that user missing; a `lookup` answered
 * 404 with a web page (a proxy's) is `InvalidResponse`, because it does not show the user is gone.
 *
 * @since 0.1.0
 * @category errors
 */
export const classify = (input: {
  readonly app: string
  readonly operation: string
  readonly status: number
  readonly body: string
  readonly headers?: Readonly<Record<string, string>> | undefined
  readonly patchOp?: string | undefined
}): ProviderError => {
  const { app, operation, status } = input
  if (status === 404 && operation === "lookup" && looksLikeHtml(input.body, input.headers)) {
    return new ProviderError({
      reason: "InvalidResponse",
      provider: "scim",
      operation,
      status,
      description: `${app} answered HTTP 404 with a web page, not a SCIM error`,
      hint: hints.notScim(app)
    })
  }
  const parsed = parseErrorBody(input.body)
  const scimType = parsed.scimType
  let reason = baseReason(status)
  let hint: string | undefined
  switch (reason) {
    case "Unauthorized":
      hint = hints.unauthorized(app)
      break
    case "Forbidden":
      hint = isAction(operation) ? hints.forbiddenAction(app) : hints.forbidden(app)
      break
    case "NotFound":
      hint = isUserCall(operation) ? hints.accountNotFound(app) : hints.usersNotFound(app)
      break
    case "RateLimited":
      hint = hints.rateLimited(app)
      break
    case "Unsupported":
      hint = hints.notImplemented(app)
      break
    case "Unavailable":
      hint = hints.unavailable(app)
      break
    default: {
      // 400, 409 and the other 4xx: the scimType says what was wrong.
      if (scimType === "expiredCursor" || scimType === "invalidCursor") {
        reason = "Incomplete"
        hint = hints.cursorExpired(app)
      } else if (scimType === "tooMany" || scimType === "invalidCount") {
        reason = "InvalidConfig"
        hint = hints.pageSize(app)
      } else if (scimType === "mutability" && isAction(operation)) {
        reason = "Unsupported"
        hint = hints.mutability(app)
      } else if (scimType === "uniqueness") {
        hint = hints.uniqueness(app)
      } else if (isAction(operation) && status === 400) {
        // Most actions are PATCHes; the PUT fallback turns this into its own hint (ScimClient).
        reason = "InvalidConfig"
        hint = hints.patchShape(app, input.patchOp ?? "replace")
      }
    }
  }
  const said = [scimType, parsed.detail].filter((s) => s !== undefined).join(": ")
  const description = said === ""
    ? `${app} answered HTTP ${status}`
    : `${app} answered HTTP ${status}: ${said}`
  return new ProviderError({
    reason,
    provider: "scim",
    operation,
    status,
    description,
    hint,
    code: scimType
  })
}
