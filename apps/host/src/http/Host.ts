/**
 * What HTTP handlers (API routes and web pages) get: the runtime to run host operations on, the admin
 * token check, and the rendering of errors.
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as ManagedRuntime from "effect/ManagedRuntime"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type { Context } from "hono"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import * as Crypto from "node:crypto"
import { describeError, type ErrorDescription, type HostError, internalError } from "../errors.js"
import type { Accounts } from "../services/Accounts.js"
import type { AuditLog } from "../services/AuditLog.js"
import type { Connections } from "../services/Connections.js"
import type { Metrics } from "../services/Metrics.js"
import type { Reclaim } from "../services/Reclaim.js"
import type { Syncs } from "../services/Syncs.js"
import type { Upstream } from "../services/Upstream.js"
import type { Users } from "../services/Users.js"
import type { Webhooks } from "../services/Webhooks.js"

/**
 * The services a handler can run effects against.
 *
 * @since 0.1.0
 * @category models
 */
export type HostServices = Connections | Syncs | Accounts | AuditLog | Upstream | Metrics | Reclaim | Users | Webhooks

/**
 * @since 0.1.0
 * @category models
 */
export interface Host {
  readonly runtime: ManagedRuntime.ManagedRuntime<HostServices, unknown>
  readonly adminToken: Redacted.Redacted<string>
  /** A token that may read `/metrics` only (`SEATKEEPER_METRICS_TOKEN`), beside the admin token. */
  readonly metricsToken?: Redacted.Redacted<string> | undefined
}

/**
 * The outcome of a host operation: its value, or how to show its failure.
 *
 * @since 0.1.0
 * @category models
 */
export type Outcome<A> =
  | { readonly _tag: "Success"; readonly value: A }
  | { readonly _tag: "Failure"; readonly error: ErrorDescription }

/**
 * Runs a host operation and describes its failure for a user. Unexpected failures (defects) are logged
 * and described as a generic internal error; expected ones keep their message and hint.
 *
 * @since 0.1.0
 * @category running
 */
export const runOperation = async <A>(
  host: Host,
  effect: Effect.Effect<A, HostError, HostServices>
): Promise<Outcome<A>> => {
  const exit = await host.runtime.runPromiseExit(effect)
  if (Exit.isSuccess(exit)) return { _tag: "Success", value: exit.value }
  const failure = Cause.failureOption(exit.cause)
  if (Option.isSome(failure) && isHostError(failure.value)) {
    return { _tag: "Failure", error: describeError(failure.value) }
  }
  host.runtime.runFork(Effect.logError("request failed unexpectedly", exit.cause))
  return { _tag: "Failure", error: internalError }
}

const hostErrorTags = new Set([
  "NotFound",
  "InvalidInput",
  "ProviderError",
  "StoreError",
  "SyncAlreadyRunning",
  "Forbidden",
  "Conflict"
])

const isHostError = (u: unknown): u is HostError =>
  typeof u === "object" && u !== null && "_tag" in u && hostErrorTags.has(String(u._tag))

/**
 * The JSON error body of the API: `{"error": {"code", "message", "hint"?, "details"?}}`.
 *
 * @since 0.1.0
 * @category rendering
 */
export const errorBody = (e: ErrorDescription) => ({
  error: {
    code: e.code,
    message: e.message,
    ...(e.hint === undefined ? {} : { hint: e.hint }),
    ...(e.details === undefined ? {} : { details: e.details })
  }
})

/**
 * @since 0.1.0
 * @category rendering
 */
export const jsonError = (c: Context, e: ErrorDescription): Response => c.json(errorBody(e), e.status)

/**
 * Runs a host operation and answers with its value as JSON (`status`, 200 by default) or its error.
 *
 * @since 0.1.0
 * @category rendering
 */
export const respond = async <A>(
  c: Context,
  host: Host,
  effect: Effect.Effect<A, HostError, HostServices>,
  status: ContentfulStatusCode = 200
): Promise<Response> => {
  const outcome = await runOperation(host, effect)
  return outcome._tag === "Success" ? c.json(outcome.value as never, status) : jsonError(c, outcome.error)
}

const digest = (s: string) => Crypto.createHash("sha256").update(s, "utf8").digest()

/**
 * Whether `given` is the admin token. Both sides are hashed first, so the comparison takes the same time
 * whatever the lengths and wherever they differ.
 *
 * @since 0.1.0
 * @category auth
 */
export const isAdminToken = (host: Host, given: string | undefined): boolean =>
  given !== undefined && Crypto.timingSafeEqual(digest(given), digest(Redacted.value(host.adminToken)))

/**
 * Whether `given` may read `/metrics`: the admin token, or the metrics token when one is set.
 *
 * @since 0.2.0
 * @category auth
 */
export const isMetricsToken = (host: Host, given: string | undefined): boolean =>
  isAdminToken(host, given) ||
  (given !== undefined && host.metricsToken !== undefined &&
    Crypto.timingSafeEqual(digest(given), digest(Redacted.value(host.metricsToken))))

/**
 * A problem with the HTTP request itself (body too large, wrong content type, malformed JSON), thrown by
 * helpers and answered by the app's error handler.
 *
 * @since 0.1.0
 * @category errors
 */
export class RequestProblem extends Error {
  constructor(readonly description: ErrorDescription) {
    super(description.message)
  }
}

/**
 * Reads a JSON request body. An empty body is `undefined` (operations treat it as no input); any other
 * body must be `application/json` (415 otherwise) and parse (400 otherwise).
 *
 * @since 0.1.0
 * @category requests
 */
export const readJson = async (c: Context): Promise<unknown> => {
  const text = await c.req.text()
  if (text.trim() === "") return undefined
  const type = (c.req.header("content-type") ?? "").split(";")[0]!.trim().toLowerCase()
  if (type !== "application/json" && !type.endsWith("+json")) {
    throw new RequestProblem({
      status: 415,
      code: "unsupported_media_type",
      message: `expected a JSON body (Content-Type: application/json), got ${type === "" ? "no content type" : type}`
    })
  }
  try {
    return JSON.parse(text)
  } catch {
    // Not the parser's message: it quotes the body, which may hold a secret.
    throw new RequestProblem({ status: 400, code: "invalid_json", message: "the body is not valid JSON" })
  }
}
