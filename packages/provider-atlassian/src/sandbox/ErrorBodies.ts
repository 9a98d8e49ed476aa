/**
 * The error bodies of the Atlassian admin APIs (API-NOTES §4.2): they differ by layer, so the sandbox
 * serves each one where the real service does.
 *
 * @since 0.1.0
 */
import { randomUUID } from "node:crypto"
import { STATUS_CODES } from "node:http"

/**
 * Org API `ApplicationError` envelope; `status` is a string there.
 *
 * @since 0.1.0
 * @category constructors
 */
export const orgError = (status: number, code: string, title: string, detail: string) => ({
  errors: [{ id: randomUUID(), status: String(status), code, title, detail }]
})

/**
 * Gateway `ProxyError` (401, 429 and other gateway answers); `code` is a number there.
 *
 * @since 0.1.0
 * @category constructors
 */
export const gatewayError = (status: number, message: string) => ({ code: status, message })

/**
 * The 403 `NoPermsError` seen when a key may not read the org.
 *
 * @since 0.1.0
 * @category constructors
 */
export const noPermsError = (status: number, path: string) => ({
  timestamp: new Date().toISOString().replace("Z", "+00:00"),
  path: `/api${path}`,
  status,
  error: STATUS_CODES[status] ?? "Error",
  message: "User has no permission to access resource.",
  requestId: randomUUID().slice(0, 15)
})

/**
 * User-management API error `{key}`, or `{key:"forbidden.action",context:{allowed:false,reason:{key}}}`
 * when a restriction reason is given.
 *
 * @since 0.1.0
 * @category constructors
 */
export const userError = (key: string, reason?: string) =>
  reason === undefined ? { key } : { key, context: { allowed: false, reason: { key: reason } } }

/**
 * The default user-management key for a status.
 *
 * @since 0.1.0
 * @category constructors
 */
export const userErrorKey = (status: number, reason: string | undefined): string => {
  switch (status) {
    case 400:
      return "bodyParseFailure"
    case 401:
      return "unauthorized"
    case 403:
      return reason === undefined ? "forbidden" : "forbidden.action"
    case 404:
      return "accountNotFound"
    case 409:
      return "conflict"
    default:
      return "internalServerError"
  }
}

/**
 * The ADMIN code and title an Org API error of this status carries by default.
 *
 * @since 0.1.0
 * @category constructors
 */
export const orgErrorCode = (status: number): { readonly code: string; readonly title: string } => {
  switch (status) {
    case 400:
      return { code: "ADMIN-400-1", title: "Invalid page cursor" }
    case 401:
      return { code: "ADMIN-401-2", title: "Unauthorized" }
    case 403:
      return { code: "ADMIN-403-3", title: "Not allowed to manage the org" }
    case 404:
      return { code: "ADMIN-404-2", title: "Organization not found" }
    case 409:
      return { code: "ADMIN-409-28", title: "Conflict" }
    case 429:
      return { code: "ADMIN-429-1", title: "Limit exceeded" }
    default:
      return { code: "ADMIN-500-1", title: "Internal error" }
  }
}

/**
 * A gateway's HTML error page.
 *
 * @since 0.1.0
 * @category constructors
 */
export const htmlError = (status: number): string => {
  const text = `${status} ${STATUS_CODES[status] ?? "Error"}`
  return `<!DOCTYPE html>\n<html><head><title>${text}</title></head><body><h1>${text}</h1>` +
    `<p>The server encountered a temporary error.</p></body></html>\n`
}

/**
 * v2 user-management `ApiErrorResponse` (API-NOTES §4.2): the org envelope with `ADMIN-UAM-*` codes.
 *
 * @since 0.2.0
 * @category constructors
 */
export const uamError = (status: number, code: string, title: string, detail: string) =>
  orgError(status, code, title, detail)

/**
 * The request's headers as one block of `Name: value` lines, in the encoding an `echoHeaders` fault asks
 * for: as they are (`plain`), URL-encoded, base64, or as a JSON object in a string (quotes escaped once
 * the body is serialized).
 *
 * @since 0.2.0
 * @category constructors
 */
export const headerBlock = (
  rawHeaders: ReadonlyArray<string>,
  encoding: "plain" | "url" | "base64" | "json"
): string => {
  const lines: Array<string> = []
  const object: Record<string, string> = {}
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`)
    object[rawHeaders[i]!] = rawHeaders[i + 1]!
  }
  const block = lines.join("\n")
  switch (encoding) {
    case "plain":
      return block
    case "url":
      return encodeURIComponent(block)
    case "base64":
      return Buffer.from(block, "utf8").toString("base64")
    case "json":
      return JSON.stringify(object)
  }
}
