/**
 * The HTTP toolkit every provider adapter sends its requests through. One `ProviderHttp` per connection:
 *
 * - requests go only to the connection's origin (a foreign absolute URL, e.g. a `links.next` pointing
 *   elsewhere, is refused before anything is sent, so the API key never leaves for another host), and
 *   redirects are not followed (with the fetch client, and with Node's undici client, which never follows
 *   them);
 * - every attempt takes a slot of the organisation's request budget first (DESIGN.md invariant 5);
 * - each attempt has a timeout; a non-2xx response is classified by the adapter into a `ProviderError`;
 * - retries follow DESIGN.md invariant 6, as an Effect `Schedule`: idempotent calls retry on 429, 5xx,
 *   timeouts and transport errors, non-idempotent ones only on 429; everything else fails at once. The wait
 *   is the larger of a capped exponential backoff with jitter and the server's `Retry-After` /
 *   `X-RateLimit-Reset`, however long (invariant 5); 429s are bounded by the `Deadline` (a sync's, else 30
 *   minutes from the call), transient failures by a count;
 * - secret headers are `Redacted` until the request is built, their names are redacted in traces, and every
 *   form of the secret is scrubbed from upstream text before it reaches an error (invariant 12).
 *
 * Waits use Effect's `Clock`, so tests can drive them with `TestClock`.
 *
 * @since 0.1.0
 */
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FiberRef from "effect/FiberRef"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleInterval from "effect/ScheduleInterval"
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"
import * as Instant from "./Instant.js"
import type { RequestStats } from "./Provider.js"
import { ProviderError } from "./ProviderError.js"
import type { BudgetPolicy } from "./RequestBudget.js"
import { RequestBudget } from "./RequestBudget.js"
import * as Secrets from "./Secrets.js"

// =============================================================================
// models
// =============================================================================

/**
 * Retry limits. Use this to tune how long a call keeps trying before it fails.
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryOptions {
  /** Retries after transient failures (5xx, timeouts, transport errors) of idempotent calls. Default 4. */
  readonly maxRetries?: number | undefined
  /**
   * A bound on retries after 429 responses, for callers that want one. Default none: a 429 storm is waited
   * out until the `Deadline`, never counted out (invariant 5).
   */
  readonly maxRateLimitRetries?: number | undefined
  /** First backoff delay; it doubles on every retry of the same kind. Default 500 ms. */
  readonly baseDelay?: Duration.DurationInput | undefined
  /** Cap of the backoff delay. Default 30 s. */
  readonly maxDelay?: Duration.DurationInput | undefined
  /**
   * Cap of the client's own backoff. A wait the server asks for (`Retry-After`, `X-RateLimit-Reset`) is
   * honoured however long, as long as it ends before the `Deadline`. Default 5 min.
   */
  readonly maxWait?: Duration.DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ProviderHttpOptions {
  /** The provider's id, e.g. `atlassian`; names it in errors and logs. */
  readonly provider: string
  /** The only origin requests may go to; relative request URLs are resolved against it. */
  readonly baseUrl: string
  /**
   * Headers added to every request. Give secrets as `Redacted` (e.g. `Redacted.make(\`Bearer ${key}\`)`):
   * they are unwrapped only when the request is built, and their names are redacted in traces and logs.
   */
  readonly headers: Record<string, string | Redacted.Redacted>
  /** The request budget every attempt draws from; `policy: undefined` means no pacing. */
  readonly budget: { readonly key: string; readonly policy: BudgetPolicy | undefined }
  /** Maps a non-2xx response to a `ProviderError`, with the adapter's error shapes and hints. */
  readonly classify: (input: {
    readonly operation: string
    readonly status: number
    readonly headers: Headers.Headers
    readonly body: string
  }) => ProviderError
  readonly retry?: RetryOptions | undefined
  /**
   * Timeout of one attempt (until the response headers, and the body for `json`). Default: the
   * {@link ProviderHttpDefaults} in context, else 30 s.
   */
  readonly timeout?: Duration.DurationInput | undefined
}

/**
 * Defaults for what an adapter leaves unset in {@link ProviderHttpOptions}: the per-attempt `timeout` and
 * the `retry` limits. Unprovided, the built-in defaults apply (30 s, 4 retries from 500 ms). A host provides
 * it from its environment (`SEATKEEPER_PROVIDER_TIMEOUT_MS`, `SEATKEEPER_PROVIDER_RETRY_DELAY_MS`), so
 * tests can shorten waits without any change to production defaults.
 *
 * @since 0.1.0
 * @category models
 */
export class ProviderHttpDefaults extends Context.Reference<ProviderHttpDefaults>()(
  "@seatkeeper/core/ProviderHttp/ProviderHttpDefaults",
  {
    defaultValue: (): {
      readonly timeout?: Duration.DurationInput | undefined
      readonly retry?: RetryOptions | undefined
    } => ({})
  }
) {}

/**
 * When the work a call belongs to must end (epoch milliseconds): a sync provides its run's deadline. A 429
 * whose wait would end after it fails at once with `RateLimited` instead of waiting in vain. Without one,
 * each call has 30 minutes.
 *
 * @since 0.2.0
 * @category models
 */
export class Deadline extends Context.Reference<Deadline>()("@seatkeeper/core/ProviderHttp/Deadline", {
  defaultValue: (): Option.Option<number> => Option.none()
}) {}

/**
 * Whose requests these are, for the request budget: a sync's pages are `background` (the default); a
 * person's suspend or a plan's action is `interactive` and takes the next free slot first.
 *
 * @since 0.2.0
 * @category models
 */
export class Priority extends Context.Reference<Priority>()("@seatkeeper/core/ProviderHttp/Priority", {
  defaultValue: (): "interactive" | "background" => "background"
}) {}

/**
 * How long a call may wait out 429s when no `Deadline` is set.
 *
 * @since 0.2.0
 * @category constants
 */
export const DEFAULT_DEADLINE = Duration.minutes(30)

/**
 * @since 0.1.0
 * @category models
 */
export interface ProviderHttp {
  /**
   * Sends a request (URL relative to `baseUrl`, or absolute on its origin) and returns the 2xx response,
   * its body unread. Anything else fails with the classified `ProviderError`.
   */
  readonly execute: (
    operation: string,
    request: HttpClientRequest.HttpClientRequest,
    options: { readonly idempotent: boolean }
  ) => Effect.Effect<HttpClientResponse.HttpClientResponse, ProviderError>
  /**
   * Sends a request and decodes its 2xx JSON body with `schema`. Malformed JSON or a body that does not
   * match fails with `InvalidResponse` naming the field path.
   */
  readonly json: <A, I>(
    operation: string,
    request: HttpClientRequest.HttpClientRequest,
    schema: Schema.Schema<A, I>,
    options: { readonly idempotent: boolean }
  ) => Effect.Effect<A, ProviderError>
  /** Requests sent, retries made and 429 responses seen so far. */
  readonly stats: Effect.Effect<RequestStats>
}

// =============================================================================
// headers and origins
// =============================================================================

/**
 * Parses an ISO-8601 instant with or without seconds (`2023-10-11T12:35Z`, `2023-10-11T12:35:07Z`,
 * `2023-10-11T12:35:07+00:00`, `2023-10-11T12:35+0000`). A time without an offset is UTC, as Atlassian
 * documents its reset time.
 *
 * @since 0.1.0
 * @category utils
 */
export const parseIsoInstant = (value: string): Option.Option<number> => Instant.parseMillis(value)

const untilInstant = (at: number, now: number): Duration.Duration => Duration.millis(Math.max(0, at - now))

/**
 * How long the server asks the client to wait: `Retry-After` (delta seconds or an HTTP-date) first, else
 * `X-RateLimit-Reset` (an ISO-8601 instant with or without seconds, or epoch seconds). A time in the past
 * gives zero; no usable header gives `None`.
 *
 * @since 0.1.0
 * @category utils
 */
export const retryDelayFromHeaders = (headers: Headers.Headers, now: number): Option.Option<Duration.Duration> => {
  const retryAfter = Headers.get(headers, "retry-after").pipe(Option.map((v) => v.trim()))
  if (Option.isSome(retryAfter)) {
    const value = retryAfter.value
    if (/^\d+(\.\d+)?$/.test(value)) return Option.some(Duration.seconds(Number(value)))
    const date = Date.parse(value)
    if (!Number.isNaN(date)) return Option.some(untilInstant(date, now))
  }
  const reset = Headers.get(headers, "x-ratelimit-reset").pipe(Option.map((v) => v.trim()))
  if (Option.isSome(reset)) {
    const value = reset.value
    // Epoch seconds (no reset delta is ever a billion seconds long).
    if (/^\d{10,}$/.test(value)) return Option.some(untilInstant(Number(value) * 1000, now))
    const instant = parseIsoInstant(value)
    if (Option.isSome(instant)) return Option.some(untilInstant(instant.value, now))
  }
  return Option.none()
}

/**
 * Whether two URLs have the same origin (scheme, host and port). Unparsable input is never the same origin.
 *
 * @since 0.1.0
 * @category utils
 */
export const sameOrigin = (a: string | URL, b: string | URL): boolean => {
  try {
    return new URL(a).origin === new URL(b).origin
  } catch {
    return false
  }
}

/**
 * Succeeds with the parsed URL when it is on `baseUrl`'s origin; otherwise fails with `InvalidResponse`
 * naming the foreign origin (never its path, query or credentials).
 *
 * @since 0.1.0
 * @category utils
 */
export const assertSameOrigin = (
  url: string | URL,
  options: { readonly baseUrl: string; readonly provider: string; readonly operation: string }
): Effect.Effect<URL, ProviderError> =>
  Effect.suspend(() => {
    const base = new URL(options.baseUrl)
    let target: URL
    try {
      target = new URL(url, base)
    } catch {
      return Effect.fail(
        new ProviderError({
          reason: "InvalidResponse",
          provider: options.provider,
          operation: options.operation,
          description: "refused to send a request to a malformed URL"
        })
      )
    }
    if (target.origin === base.origin) return Effect.succeed(target)
    return Effect.fail(
      new ProviderError({
        reason: "InvalidResponse",
        provider: options.provider,
        operation: options.operation,
        description: `refused to send a request to ${target.origin}: requests may only go to ${base.origin}`,
        hint: `The provider pointed to another host. Seatkeeper never sends credentials outside ${base.origin}; ` +
          `check the connection's base URL.`
      })
    )
  })

/**
 * Resolves a relative request URL against a base URL with exactly one `/` between them
 * (`https://api.example.com/admin` + `v1/orgs` → `https://api.example.com/admin/v1/orgs`), so the relative
 * part can never become part of the host.
 *
 * @since 0.1.0
 * @category utils
 */
export const joinUrl = (baseUrl: string, path: string): string =>
  path === "" ? baseUrl : `${baseUrl.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`

// =============================================================================
// decoding
// =============================================================================

/**
 * `schema` with a fast path for large pages: an input `is` accepts is passed on as it is (no copy, no
 * field-by-field decoding, which costs more than the JSON parse of a page of 100 users), and anything else
 * is decoded by `schema`, so a bad answer still fails with the same issues at the same paths.
 *
 * `is` must accept only inputs that `schema` decodes to the same values; it may be stricter (what it
 * refuses is only slower). Properties `schema` does not name stay on the value: read only those it names.
 *
 * @since 0.2.0
 * @category decoding
 */
export const withFastPath = <A, I>(
  schema: Schema.Schema<A, I>,
  is: (input: unknown) => boolean
): Schema.Schema<A, I> => {
  const decode = ParseResult.decodeUnknown(schema)
  const encode = ParseResult.encodeUnknown(schema)
  return Schema.declare([], {
    decode: () => (input, options) => (is(input) ? ParseResult.succeed(input as A) : decode(input, options)),
    encode: () => (input, options) => encode(input, options)
  }, { identifier: AST.getIdentifierAnnotation(schema.ast).pipe(Option.getOrElse(() => "FastPath")) })
}

// =============================================================================
// retry policy
// =============================================================================

/**
 * What kind of failure an attempt ended in, which decides whether it is retried.
 *
 * @since 0.1.0
 * @category retry
 */
export type FailureKind = "rateLimited" | "transient" | "permanent"

/**
 * The failure kind of an HTTP status: 429 is `rateLimited`, 5xx `transient`, everything else `permanent`.
 *
 * @since 0.1.0
 * @category retry
 */
export const failureKindOfStatus = (status: number): FailureKind =>
  // 501 Not Implemented says the server does not do this at all: asking again cannot help.
  status === 429 ? "rateLimited" : status >= 500 && status <= 599 && status !== 501 ? "transient" : "permanent"

/**
 * Retries made so far, per kind.
 *
 * @since 0.1.0
 * @category retry
 */
export interface RetryState {
  readonly rateLimited: number
  readonly transient: number
}

/**
 * Whether a failure of `kind` is retried, given the retries made so far. Non-idempotent calls retry only
 * on 429 (the provider has not applied them); permanent failures never. 429s have no count bound unless
 * `maxRateLimitRetries` gives one: the deadline bounds them.
 *
 * @since 0.1.0
 * @category retry
 */
export const shouldRetry = (
  kind: FailureKind,
  state: RetryState,
  options: {
    readonly idempotent: boolean
    readonly maxRetries: number
    readonly maxRateLimitRetries?: number | undefined
  }
): boolean =>
  kind === "rateLimited"
    ? options.maxRateLimitRetries === undefined || state.rateLimited < options.maxRateLimitRetries
    : kind === "transient"
    ? options.idempotent && state.transient < options.maxRetries
    : false

/**
 * The wait before retry number `retry` (1-based) of one kind: `baseDelay * 2^(retry-1)` capped at
 * `maxDelay` and `maxWait`, scaled by `jitter` in [0.5, 1], and raised to the server's `hint` if larger:
 * what the server asks for is honoured however long (the deadline decides whether it is worth waiting).
 *
 * @since 0.1.0
 * @category retry
 */
export const retryDelay = (options: {
  readonly retry: number
  readonly baseDelay: Duration.Duration
  readonly maxDelay: Duration.Duration
  readonly maxWait: Duration.Duration
  readonly jitter: number
  readonly hint: Option.Option<Duration.Duration>
}): Duration.Duration => {
  const exponential = Duration.toMillis(options.baseDelay) * 2 ** Math.max(0, options.retry - 1)
  const capped = Math.min(exponential, Duration.toMillis(options.maxDelay), Duration.toMillis(options.maxWait))
  const backoff = capped * (0.5 + 0.5 * options.jitter)
  const hinted = Option.match(options.hint, {
    onNone: () => backoff,
    onSome: (h) => Math.max(backoff, Duration.toMillis(h))
  })
  return Duration.millis(Math.round(hinted))
}

// =============================================================================
// constructor
// =============================================================================

/** How one attempt failed, before the retry decision. */
interface AttemptFailure {
  readonly kind: FailureKind
  readonly error: ProviderError
  /** Short, secret-free words for logs: `HTTP 503`, `connection reset (ECONNRESET)`. */
  readonly summary: string
  readonly headers: Headers.Headers | undefined
}

/**
 * How an attempt reads a 2xx response: `read` under the attempt's timeout (the body), `finish` after it
 * (parsing, synchronously: a large value is better made outside the fibers of the timeout).
 */
interface Reader<R, A> {
  readonly read: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<R, AttemptFailure>
  readonly finish: (received: R) => Either.Either<A, AttemptFailure>
}

/** Why the schedule stopped retrying, for the final error's words. */
type StopReason = { readonly _tag: "Exhausted" } | { readonly _tag: "Deadline"; readonly until: number }

const errorCode = (cause: unknown): string | undefined => {
  for (let c: unknown = cause, depth = 0; c !== null && typeof c === "object" && depth < 5; depth++) {
    const code = (c as { readonly code?: unknown }).code
    if (typeof code === "string") return code
    c = (c as { readonly cause?: unknown }).cause
  }
  return undefined
}

const excerpt = (text: string, max: number): string => {
  const flat = text.replace(/\s+/g, " ").trim()
  return flat.length <= max ? flat : `${flat.slice(0, max)}…`
}

const rebuild = (error: ProviderError, description: string): ProviderError =>
  new ProviderError({
    reason: error.reason,
    provider: error.provider,
    operation: error.operation,
    status: error.status,
    description,
    hint: error.hint,
    code: error.code
  })

/**
 * Builds the HTTP toolkit of one connection. Needs the `HttpClient` to send with and the `RequestBudget`
 * to pace with. An invalid `baseUrl` is a bug in the adapter (config schemas check URLs) and dies.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: ProviderHttpOptions
): Effect.Effect<ProviderHttp, never, HttpClient.HttpClient | RequestBudget> =>
  Effect.gen(function*() {
    if (!URL.canParse(options.baseUrl)) {
      return yield* Effect.dieMessage(
        `${options.provider}: invalid base URL ${
          JSON.stringify(options.baseUrl.slice(0, 100))
        }; expected an absolute http(s) URL`
      )
    }
    const client = yield* HttpClient.HttpClient
    const budget = yield* RequestBudget
    // Declared at once, so every connection to the same organisation paces by the strictest policy.
    if (options.budget.policy !== undefined) yield* budget.register(options.budget.key, options.budget.policy)
    // Counters of this connection's traffic (one fiber at a time updates them: JavaScript runs one at a time).
    const counters = { requests: 0, retries: 0, rateLimited: 0 }

    const provider = options.provider
    const origin = new URL(options.baseUrl).origin
    const defaults = yield* ProviderHttpDefaults
    const retry: RetryOptions = { ...defaults.retry, ...options.retry }
    const timeout = Duration.decode(options.timeout ?? defaults.timeout ?? Duration.seconds(30))
    const maxRetries = retry.maxRetries ?? 4
    const maxRateLimitRetries = retry.maxRateLimitRetries
    const baseDelay = Duration.decode(retry.baseDelay ?? Duration.millis(500))
    const maxDelay = Duration.decode(retry.maxDelay ?? Duration.seconds(30))
    const maxWait = Duration.decode(retry.maxWait ?? Duration.minutes(5))
    const secretValues = Object.entries(options.headers).filter(([, value]) => Redacted.isRedacted(value))
    const secretNames = secretValues.map(([name]) => name.toLowerCase())
    // Upstream text (error bodies) may echo what it was sent: no form of a secret leaves this module in it.
    const scrub = Secrets.makeScrubber(secretValues.map(([, value]) => value as Redacted.Redacted<string>))
    const headerValues = (): Record<string, string> =>
      Object.fromEntries(
        Object.entries(options.headers).map((
          [name, value]
        ) => [name, Redacted.isRedacted(value) ? Redacted.value(value) : value])
      )

    const providerError = (
      operation: string,
      fields: { readonly reason: ProviderError["reason"]; readonly description: string; readonly hint?: string }
    ) => new ProviderError({ provider, operation, ...fields })

    // Resolves the URL, refuses foreign origins, and only then adds the headers (and so the secret).
    const base = new URL(options.baseUrl)
    const prepare = (operation: string, request: HttpClientRequest.HttpClientRequest) =>
      Effect.suspend(() => {
        const resolved = URL.canParse(request.url)
          ? request
          : HttpClientRequest.updateUrl(request, (path) => joinUrl(options.baseUrl, path))
        const url = HttpClientRequest.toUrl(resolved)
        if (Option.isNone(url)) {
          return Effect.fail(providerError(operation, {
            reason: "InvalidConfig",
            description: "the request URL is not a valid URL",
            hint: "Check the connection's base URL."
          }))
        }
        if (url.value.origin !== base.origin) {
          return assertSameOrigin(url.value, { baseUrl: options.baseUrl, provider, operation }).pipe(
            Effect.as(undefined as never)
          )
        }
        return Effect.succeed([HttpClientRequest.setHeaders(resolved, headerValues()), url.value] as const)
      })

    const transportFailure = (operation: string, cause: unknown): AttemptFailure => {
      const code = errorCode(cause)
      const what = code === "ECONNRESET" || code === "UND_ERR_SOCKET"
        ? "the connection was reset"
        : code === "ECONNREFUSED"
        ? "the connection was refused"
        : "the request failed in transport"
      return {
        kind: "transient",
        summary: `${what}${code === undefined ? "" : ` (${code})`}`,
        headers: undefined,
        error: providerError(operation, {
          reason: "Unavailable",
          description: `could not reach ${origin}: ${what}${code === undefined ? "" : ` (${code})`}`,
          hint: `Check that ${origin} is reachable from this host (network, proxy, firewall) and try again.`
        })
      }
    }

    // A redirect is answered, not followed: following it would send the request (if not the key) to
    // wherever the server points. It then reaches `classify` like any other non-2xx response.
    const withoutRedirects = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
      Effect.flatMap(Effect.serviceOption(FetchHttpClient.RequestInit), (init) =>
        Effect.provideService(effect, FetchHttpClient.RequestInit, {
          ...Option.getOrElse(init, () => ({})),
          redirect: "manual"
        }))

    // One attempt: a budget slot, then the request under the timeout, then `read` on a 2xx response, then
    // (past the timeout) `finish`.
    const attempt = <R, A>(
      operation: string,
      request: HttpClientRequest.HttpClientRequest,
      { finish, read }: Reader<R, A>
    ): Effect.Effect<A, AttemptFailure> =>
      Effect.flatMap(Priority, (priority) =>
        budget.take(options.budget.key, options.budget.policy, priority)).pipe(
          Effect.mapError((error): AttemptFailure => ({
            kind: "permanent",
            summary: "request budget unavailable",
            headers: undefined,
            error: providerError(operation, {
              reason: "Unavailable",
              description: `the request budget could not be reserved: ${error.message}`,
              hint: "The request budget store (Redis, when several hosts share one budget) must be reachable; " +
                "check its address and that it is running."
            })
          })),
          Effect.zipRight(
            withoutRedirects(Effect.suspend(() => {
              counters.requests++
              return client.execute(request)
            })).pipe(
              Effect.catchAll((error): Effect.Effect<never, AttemptFailure> =>
                error._tag === "RequestError" && error.reason !== "Transport"
                  ? Effect.fail({
                    kind: "permanent",
                    summary: `request could not be built (${error.reason})`,
                    headers: undefined,
                    error: providerError(operation, {
                      reason: "InvalidConfig",
                      description: `the request could not be built (${error.reason})`
                    })
                  })
                  : Effect.fail(transportFailure(operation, error.cause))
              ),
              Effect.flatMap((response) =>
                response.status >= 200 && response.status < 300
                  ? read(response)
                  : Effect.flatMap(
                    response.text.pipe(Effect.orElseSucceed(() =>
                      ""
                    )),
                    (body): Effect.Effect<never, AttemptFailure> => {
                      const error = options.classify({
                        operation,
                        status: response.status,
                        headers: response.headers,
                        body: scrub(body)
                      })
                      const kind = failureKindOfStatus(response.status)
                      if (kind === "rateLimited") counters.rateLimited++
                      return Effect.fail({
                        kind,
                        error: scrubError(error),
                        summary: `HTTP ${response.status}`,
                        headers: response.headers
                      })
                    }
                  )
              ),
              Effect.timeoutFail({
                duration: timeout,
                onTimeout: (): AttemptFailure => ({
                  kind: "transient",
                  summary: `no response within ${Duration.format(timeout)}`,
                  headers: undefined,
                  error: providerError(operation, {
                    reason: "Unavailable",
                    description: `no response from ${origin} within ${Duration.format(timeout)}`,
                    hint: "The provider is slow or unreachable; try again later."
                  })
                })
              })
            )
          ),
          Effect.flatMap((received) => {
            const done = finish(received)
            return Either.isRight(done) ? Effect.succeed(done.right) : Effect.fail(done.left)
          })
        )

    // An adapter's classify may quote the body in any field: every text field is scrubbed again.
    const scrubError = (error: ProviderError): ProviderError =>
      new ProviderError({
        reason: error.reason,
        provider: error.provider,
        operation: error.operation,
        status: error.status,
        description: scrub(error.description),
        hint: error.hint === undefined ? undefined : scrub(error.hint),
        code: error.code === undefined ? undefined : scrub(error.code)
      })

    // The retry policy of one call (invariants 5 and 6), as a Schedule over the attempts' failures. `stop`
    // is told why it stopped, for the final error's words.
    const retrySchedule = (
      operation: string,
      idempotent: boolean,
      deadline: number,
      stop: (reason: StopReason) => void
    ): Schedule.Schedule<RetryState, AttemptFailure> =>
      Schedule.makeWithState<RetryState, AttemptFailure, RetryState>(
        { rateLimited: 0, transient: 0 },
        (now, failure, state) =>
          Effect.gen(function*() {
            if (!shouldRetry(failure.kind, state, { idempotent, maxRetries, maxRateLimitRetries })) {
              stop({ _tag: "Exhausted" })
              return [state, state, ScheduleDecision.done] as const
            }
            const next: RetryState = failure.kind === "rateLimited"
              ? { ...state, rateLimited: state.rateLimited + 1 }
              : { ...state, transient: state.transient + 1 }
            const delay = retryDelay({
              retry: failure.kind === "rateLimited" ? next.rateLimited : next.transient,
              baseDelay,
              maxDelay,
              maxWait,
              jitter: yield* Random.next,
              hint: failure.headers === undefined ? Option.none() : retryDelayFromHeaders(failure.headers, now)
            })
            const until = now + Duration.toMillis(delay)
            if (until > deadline) {
              stop({ _tag: "Deadline", until })
              return [state, state, ScheduleDecision.done] as const
            }
            const attempts = state.rateLimited + state.transient + 1
            counters.retries++
            yield* Effect.logWarning(
              `${provider} ${operation}: ${failure.summary}; retry ${attempts} in ${Duration.format(delay)}`
            ).pipe(Effect.annotateLogs({ provider, operation }))
            return [next, next, ScheduleDecision.continueWith(ScheduleInterval.after(until))] as const
          })
      )

    const giveUp = (
      idempotent: boolean,
      attempts: number,
      stop: StopReason,
      failure: AttemptFailure
    ): ProviderError => {
      if (stop._tag === "Deadline") {
        return rebuild(
          failure.error,
          `${failure.error.description} (gave up after ${attempts} attempts: the next try, at ` +
            `${new Date(stop.until).toISOString()}, would come after the deadline)`
        )
      }
      const suffix = attempts > 1
        ? ` (gave up after ${attempts} attempts)`
        : failure.kind === "transient" && !idempotent
        ? ` (not retried: ${failure.error.operation} may already have taken effect)`
        : ""
      return suffix === "" ? failure.error : rebuild(failure.error, failure.error.description + suffix)
    }

    // The first attempt runs alone; the retry schedule is set up only once it has failed (most calls never
    // do), and its first step sees that failure, as `Effect.retry` would have shown it.
    const withRetries = <A>(
      operation: string,
      idempotent: boolean,
      started: number,
      once: Effect.Effect<A, AttemptFailure>
    ): Effect.Effect<A, ProviderError> =>
      Effect.catchAll(once, (first) =>
        Effect.flatMap(Deadline, (deadlineOf) => {
          const deadline = Option.getOrElse(deadlineOf, () => started + Duration.toMillis(DEFAULT_DEADLINE))
          let attempts = 1
          let stopped: StopReason = { _tag: "Exhausted" }
          let pending: AttemptFailure | undefined = first
          const again = Effect.suspend(() => {
            if (pending !== undefined) {
              const failure = pending
              pending = undefined
              return Effect.fail(failure)
            }
            attempts++
            return once
          })
          return again.pipe(
            Effect.retry(retrySchedule(operation, idempotent, deadline, (reason) => {
              stopped = reason
            })),
            Effect.catchAll((failure) => Effect.fail(giveUp(idempotent, attempts, stopped, failure)))
          )
        }))

    const debugEnabled = Effect.map(
      FiberRef.get(FiberRef.currentMinimumLogLevel),
      LogLevel.lessThanEqual(LogLevel.Debug)
    )

    const run = <R, A>(
      operation: string,
      input: HttpClientRequest.HttpClientRequest,
      idempotent: boolean,
      read: Reader<R, A>
    ): Effect.Effect<A, ProviderError> =>
      Effect.flatMap(prepare(operation, input), ([request, url]) =>
        Effect.flatMap(Effect.zip(Clock.currentTimeMillis, debugEnabled), ([started, debug]) => {
          const calls = withRetries(operation, idempotent, started, attempt(operation, request, read))
          if (!debug) {
            return calls
          }
          return Effect.logDebug(`${provider} ${operation}: ${request.method} ${url.origin}${url.pathname}`).pipe(
            Effect.annotateLogs({ provider, operation }),
            Effect.zipRight(calls)
          )
        })).pipe(Effect.locallyWith(Headers.currentRedactedNames, (names) => [...names, ...secretNames]))

    const invalidBody = (operation: string, description: string) =>
      providerError(operation, {
        reason: "InvalidResponse",
        description,
        hint: "The provider or a proxy in between answered with something other than its API; try again later."
      })

    // A body that breaks off is a transport failure to retry; one that is not JSON is the provider's
    // answer: never retried.
    const unreadable = (operation: string, description: string | undefined, cause: unknown): AttemptFailure =>
      errorCode(cause) === undefined && !isAbort(cause)
        ? {
          kind: "permanent",
          summary: "invalid JSON",
          headers: undefined,
          error: invalidBody(
            operation,
            description?.includes("Unexpected end") || cause === undefined
              ? "the response body is empty or not valid JSON where JSON was expected"
              : "the response is not valid JSON"
          )
        }
        : transportFailure(operation, cause)

    const misshapen = (operation: string, error: ParseResult.ParseError): AttemptFailure => {
      const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
      const listed = issues.slice(0, 3).map((issue) =>
        `at ${issue.path.length === 0 ? "(root)" : issue.path.join(".")}: ${scrub(excerpt(issue.message, 100))}`
      )
      const more = issues.length > 3 ? `; and ${issues.length - 3} more` : ""
      return {
        kind: "permanent",
        summary: "unexpected shape",
        headers: undefined,
        error: providerError(operation, {
          reason: "InvalidResponse",
          description: `the response does not have the expected shape: ${listed.join("; ")}${more}`,
          hint: "The provider's API may have changed; please report this with the operation name."
        })
      }
    }

    // The body as `schemaBodyJson` reads it: the text under the attempt's timeout, then `JSON.parse` and the
    // schema in one synchronous step.
    const decodeWith = <A, I>(operation: string, schema: Schema.Schema<A, I>): Reader<string, A> => {
      const decode = Schema.decodeUnknownEither(schema)
      return {
        read: (response) =>
          Effect.mapError(response.text, (error) =>
            unreadable(operation, error.description, error.cause)),
        finish: (text) => {
          let json: unknown
          try {
            json = text === "" ? null : JSON.parse(text)
          } catch (cause) {
            return Either.left(unreadable(operation, undefined, cause))
          }
          const decoded = decode(json)
          return Either.isRight(decoded) ? Either.right(decoded.right) : Either.left(misshapen(operation, decoded.left))
        }
      }
    }

    const asIs: Reader<HttpClientResponse.HttpClientResponse, HttpClientResponse.HttpClientResponse> = {
      read: Effect.succeed,
      finish: Either.right
    }

    return {
      execute: (operation, request, { idempotent }) =>
        run(operation, request, idempotent, asIs),
      json: (operation, request, schema, { idempotent }) => {
        const accepting = Option.isSome(Headers.get(request.headers, "accept"))
          ? request
          : HttpClientRequest.acceptJson(request)
        return run(operation, accepting, idempotent, decodeWith(operation, schema))
      },
      stats: Effect.sync((): RequestStats => ({ ...counters }))
    }
  })

const isAbort = (cause: unknown): boolean =>
  typeof cause === "object" && cause !== null && (cause as { readonly name?: unknown }).name === "AbortError"
