/**
 * The host's own errors, and how every error the host can meet is shown to a user: an HTTP status, a
 * stable code, a message and, where there is one, a hint. The API renders it as JSON; web pages can
 * render the same description as HTML.
 *
 * @since 0.1.0
 */
import { ProviderError } from "@seatkeeper/core/ProviderError"
import type { ProviderErrorReason } from "@seatkeeper/core/ProviderError"
import { StoreError, SyncAlreadyRunning } from "@seatkeeper/core/StoreError"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category errors
 */
export class NotFound extends Schema.TaggedError<NotFound>("@seatkeeper/host/NotFound")("NotFound", {
  resource: Schema.Literal("connection", "account", "sync", "provider", "app", "user", "policy", "plan", "webhook"),
  id: Schema.String
}) {
  override get message(): string {
    return `${this.resource} ${JSON.stringify(this.id)} not found`
  }
}

/**
 * The caller may not do this: their role does not allow it, or a rule forbids it (four eyes).
 *
 * @since 0.2.0
 * @category errors
 */
export class Forbidden extends Schema.TaggedError<Forbidden>("@seatkeeper/host/Forbidden")("Forbidden", {
  message: Schema.String,
  hint: Schema.optional(Schema.String)
}) {}

/**
 * A request the current state refuses (a plan not approved, data too old to act on).
 *
 * @since 0.2.0
 * @category errors
 */
export class Conflict extends Schema.TaggedError<Conflict>("@seatkeeper/host/Conflict")("Conflict", {
  message: Schema.String,
  hint: Schema.optional(Schema.String)
}) {}

/**
 * One problem with one input field; `path` is where it sits in the request (`["config", "baseUrl"]`).
 *
 * @since 0.1.0
 * @category models
 */
export interface FieldIssue {
  readonly path: ReadonlyArray<string | number>
  readonly message: string
}

/**
 * Input that does not fit: every field problem at once, so a form can mark them all.
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidInput extends Schema.TaggedError<InvalidInput>("@seatkeeper/host/InvalidInput")("InvalidInput", {
  message: Schema.String,
  issues: Schema.Array(
    Schema.Struct({ path: Schema.Array(Schema.Union(Schema.String, Schema.Number)), message: Schema.String })
  )
}) {
  /** Field issues from a Schema parse error, under `prefix`. */
  static fromParseError(
    error: ParseResult.ParseError,
    prefix: ReadonlyArray<string | number> = []
  ): ReadonlyArray<FieldIssue> {
    const issues = ParseResult.ArrayFormatter.formatErrorSync(error).map((issue) => ({
      path: [...prefix, ...issue.path.map((p) => (typeof p === "symbol" ? String(p) : p))],
      message: issue.message
    }))
    // An optional field that is present but wrong fails both union members: its own schema (the useful
    // issue) and `undefined` ("Expected undefined, actual ..."). Keep only the useful one.
    const key = (path: ReadonlyArray<string | number>) => path.join("\u0000")
    return issues.filter((issue) =>
      !(issue.message.startsWith("Expected undefined") &&
        issues.some((other) =>
          other !== issue && !other.message.startsWith("Expected undefined") &&
          key(other.path.slice(0, issue.path.length)) === key(issue.path)
        ))
    )
  }

  static fromIssues(issues: ReadonlyArray<FieldIssue>): InvalidInput {
    const summary = issues.slice(0, 3).map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ")
    return new InvalidInput({
      message: `invalid input (${summary}${issues.length > 3 ? `; and ${issues.length - 3} more` : ""})`,
      issues: issues.map((i) => ({ path: [...i.path], message: i.message }))
    })
  }
}

/**
 * Every error a host service can fail with.
 *
 * @since 0.1.0
 * @category models
 */
export type HostError = NotFound | InvalidInput | ProviderError | StoreError | SyncAlreadyRunning | Forbidden | Conflict

/**
 * How an error is shown to a user.
 *
 * @since 0.1.0
 * @category models
 */
export interface ErrorDescription {
  readonly status: 400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 500 | 502 | 503
  readonly code: string
  readonly message: string
  readonly hint?: string | undefined
  readonly details?: unknown
}

/**
 * Provider failures. Our own 401/403 mean "your admin token is wrong", so an upstream that rejects the
 * connection's API key must not answer 401/403 here (a UI would log the admin out): it is 502, an
 * upstream that refused our request, with the code saying why. Passing upstream 404 through as 404 would
 * read as "no such connection/account here", so it is 502 too. Failures worth retrying later are 503.
 * A stored config the provider cannot use, or an action it does not offer, is 422: the request is
 * understood but cannot be carried out until the admin edits the connection.
 */
const providerStatus: Record<ProviderErrorReason, ErrorDescription["status"]> = {
  Unauthorized: 502,
  Forbidden: 502,
  NotFound: 502,
  InvalidResponse: 502,
  Incomplete: 502,
  RateLimited: 503,
  Unavailable: 503,
  InvalidConfig: 422,
  Unsupported: 422
}

const snake = (s: string) => s.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase()

/** Operations on one account: a refusal there is the provider's answer about that account, not an outage. */
const ACCOUNT_OPERATIONS = new Set(["suspend", "restore", "preflight"])

/**
 * The provider's refusal of one action (an account managed by SCIM or Google, an account it does not have)
 * is 409 or 404 with the provider's reason and hint: a 5xx would invite retries, and proxies replace a 5xx
 * page with their own.
 */
const statusOf = (e: ProviderError): ErrorDescription["status"] =>
  ACCOUNT_OPERATIONS.has(e.operation) && e.reason === "Forbidden"
    ? 409
    : ACCOUNT_OPERATIONS.has(e.operation) && e.reason === "NotFound"
    ? 404
    : providerStatus[e.reason]

const codeOf = (e: ProviderError): string =>
  ACCOUNT_OPERATIONS.has(e.operation) && e.reason === "Forbidden"
    ? "provider_refused"
    : ACCOUNT_OPERATIONS.has(e.operation) && e.reason === "NotFound"
    ? "provider_account_not_found"
    : `provider_${snake(e.reason)}`

/**
 * @since 0.1.0
 * @category utils
 */
export const describeProviderError = (e: ProviderError): ErrorDescription => ({
  status: statusOf(e),
  code: codeOf(e),
  message: e.message,
  hint: e.hint,
  details: {
    provider: e.provider,
    operation: e.operation,
    reason: e.reason,
    ...(e.status === undefined ? {} : { upstreamStatus: e.status }),
    ...(e.code === undefined ? {} : { upstreamCode: e.code })
  }
})

/**
 * Maps any host error to what the user sees.
 *
 * @since 0.1.0
 * @category utils
 */
export const describeError = (error: HostError): ErrorDescription => {
  if (error instanceof NotFound) {
    return { status: 404, code: `${error.resource}_not_found`, message: error.message }
  }
  if (error instanceof InvalidInput) {
    return { status: 400, code: "invalid_request", message: error.message, details: { issues: error.issues } }
  }
  if (error instanceof SyncAlreadyRunning) {
    return {
      status: 409,
      code: "sync_running",
      message: error.message,
      hint: `wait for it to finish: GET /api/syncs/${error.runId}`,
      details: { runId: error.runId }
    }
  }
  if (error instanceof Forbidden) return { status: 403, code: "forbidden", message: error.message, hint: error.hint }
  if (error instanceof Conflict) return { status: 409, code: "conflict", message: error.message, hint: error.hint }
  if (error instanceof ProviderError) return describeProviderError(error)
  if (error instanceof StoreError) {
    switch (error.reason) {
      case "NotFound":
        return { status: 404, code: "not_found", message: error.message }
      case "Conflict":
        return { status: 409, code: "conflict", message: error.message }
      case "Unavailable":
        return {
          status: 503,
          code: "store_unavailable",
          message: error.message,
          hint: "check that the database is reachable"
        }
      default:
        return { status: 500, code: "store_error", message: error.message }
    }
  }
  return internalError
}

/**
 * What an unexpected failure (a defect) shows: nothing of its internals.
 *
 * @since 0.1.0
 * @category constants
 */
export const internalError: ErrorDescription = {
  status: 500,
  code: "internal_error",
  message: "an unexpected error occurred; the host log has the details"
}
