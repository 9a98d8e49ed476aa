/**
 * The HTTP toolkit every provider adapter sends its requests through. One `ProviderHttp` per connection:
 *
 * - requests go only to the connection's origin (a foreign absolute URL, e.g. a `links.next` pointing
 *   elsewhere, is refused before anything is sent, so the API key never leaves for another host), and
 *   redirects are not followed (with the fetch client);
 * - every attempt takes a slot of the organisation's request budget first (DESIGN.md invariant 5);
 * - each attempt has a timeout; a non-2xx response is classified by the adapter into a `ProviderError`;
 * - retries follow DESIGN.md invariant 6: idempotent calls retry on 429, 5xx, timeouts and transport
 *   errors, non-idempotent ones only on 429; everything else fails at once. The wait is the larger of a
 *   capped exponential backoff with jitter and the server's `Retry-After` / `X-RateLimit-Reset`;
 * - secret headers are `Redacted` until the request is built, and their names are redacted in traces.
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
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type { RequestStats } from "./Provider.js"
import { ProviderError } from "./ProviderError.js"
import type { BudgetPolicy } from "./RequestBudget.js"
import { RequestBudget } from "./RequestBudget.js"

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
  /** Retries after 429 responses. Default 20, so a 429 storm is waited out but never loops forever. */
  readonly maxRateLimitRetries?: number | undefined
  /** First backoff delay; it doubles on every retry of the same kind. Default 500 ms. */
  readonly baseDelay?: Duration.DurationInput | undefined
  /** Cap of the backoff delay. Default 30 s. */
  readonly maxDelay?: Duration.DurationInput | undefined
  /** Cap of any single wait, including one the server asks for. Default 5 min. */
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

const isoInstant =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?$/

/**
 * Parses an ISO-8601 instant with or without seconds (`2023-10-11T12:35Z`, `2023-10-11T12:35:07Z`,
 * `2023-10-11T12:35:07+00:00`, `2023-10-11T12:35+0000`). A time without an offset is UTC, as Atlassian
 * documents its reset time.
 *
 * @since 0.1.0
 * @category utils
 */
export const parseIsoInstant = (value: string): Option.Option<number> => {
  const m = isoInstant.exec(value.trim())
  if (m === null) return Option.none()
  const [, y, mo, d, h, mi, s, frac, zone] = m
  const millis = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, "0"))
  const utc = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s ?? "0"), millis)
  if (Number.isNaN(utc)) return Option.none()
  let offsetMinutes = 0
  if (zone !== undefined && zone !== "Z" && zone !== "z") {
    const digits = zone.slice(1).replace(":", "")
    const sign = zone.startsWith("-") ? -1 : 1
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || "0"))
  }
  return Option.some(utc - offsetMinutes * 60_000)
}

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
 * on 429 (the provider has not applied them); permanent failures never.
 *
 * @since 0.1.0
 * @category retry
 */
export const shouldRetry = (
  kind: FailureKind,
  state: RetryState,
  options: { readonly idempotent: boolean; readonly maxRetries: number; readonly maxRateLimitRetries: number }
): boolean =>
  kind === "rateLimited"
    ? state.rateLimited < options.maxRateLimitRetries
    : kind === "transient"
    ? options.idempotent && state.transient < options.maxRetries
    : false

/**
 * The wait before retry number `retry` (1-based) of one kind: `baseDelay * 2^(retry-1)` capped at
 * `maxDelay`, scaled by `jitter` in [0.5, 1], raised to the server's `hint` if larger, and capped at
 * `maxWait`.
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
  const backoff = Math.min(exponential, Duration.toMillis(options.maxDelay)) * (0.5 + 0.5 * options.jitter)
  const hinted = Option.match(options.hint, { onNone: () => backoff, onSome: (h) => Math.max(backoff, Duration.toMillis(h)) })
  return Duration.millis(Math.round(Math.min(hinted, Duration.toMillis(options.maxWait))))
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
        `${options.provider}: invalid base URL ${JSON.stringify(options.baseUrl.slice(0, 100))}; expected an absolute http(s) URL`
      )
    }
    const client = yield* HttpClient.HttpClient
    const budget = yield* RequestBudget
    const stats = yield* Ref.make<RequestStats>({ requests: 0, retries: 0, rateLimited: 0 })

    const provider = options.provider
    const origin = new URL(options.baseUrl).origin
    const defaults = yield* ProviderHttpDefaults
    const retry: RetryOptions = {
      maxRetries: options.retry?.maxRetries ?? defaults.retry?.maxRetries,
      maxRateLimitRetries: options.retry?.maxRateLimitRetries ?? defaults.retry?.maxRateLimitRetries,
      baseDelay: options.retry?.baseDelay ?? defaults.retry?.baseDelay,
      maxDelay: options.retry?.maxDelay ?? defaults.retry?.maxDelay,
      maxWait: options.retry?.maxWait ?? defaults.retry?.maxWait
    }
    const timeout = Duration.decode(options.timeout ?? defaults.timeout ?? Duration.seconds(30))
    const maxRetries = retry.maxRetries ?? 4
    const maxRateLimitRetries = retry.maxRateLimitRetries ?? 20
    const baseDelay = Duration.decode(retry.baseDelay ?? Duration.millis(500))
    const maxDelay = Duration.decode(retry.maxDelay ?? Duration.seconds(30))
    const maxWait = Duration.decode(retry.maxWait ?? Duration.minutes(5))
    const secretNames = Object.entries(options.headers)
      .filter(([, value]) => Redacted.isRedacted(value))
      .map(([name]) => name.toLowerCase())
    const headerValues = (): Record<string, string> =>
      Object.fromEntries(
        Object.entries(options.headers).map(([name, value]) => [name, Redacted.isRedacted(value) ? Redacted.value(value) : value])
      )

    const providerError = (
      operation: string,
      fields: { readonly reason: ProviderError["reason"]; readonly description: string; readonly hint?: string }
    ) => new ProviderError({ provider, operation, ...fields })

    // Resolves the URL, refuses foreign origins, and only then adds the headers (and so the secret).
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
        return assertSameOrigin(url.value, { baseUrl: options.baseUrl, provider, operation }).pipe(
          Effect.as([HttpClientRequest.setHeaders(resolved, headerValues()), url.value] as const)
        )
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

    // One attempt: a budget slot, then the request under the timeout, then `read` on a 2xx response.
    const attempt = <A>(
      operation: string,
      request: HttpClientRequest.HttpClientRequest,
      read: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, AttemptFailure>
    ): Effect.Effect<A, AttemptFailure> =>
      budget.take(options.budget.key, options.budget.policy).pipe(
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
        Effect.zipRight(Ref.update(stats, (s) => ({ ...s, requests: s.requests + 1 }))),
        Effect.zipRight(
          withoutRedirects(client.execute(request)).pipe(
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
                  response.text.pipe(Effect.orElseSucceed(() => "")),
                  (body): Effect.Effect<never, AttemptFailure> => {
                    const error = options.classify({
                      operation,
                      status: response.status,
                      headers: response.headers,
                      body
                    })
                    const kind = failureKindOfStatus(response.status)
                    const counted = kind === "rateLimited"
                      ? Ref.update(stats, (s) => ({ ...s, rateLimited: s.rateLimited + 1 }))
                      : Effect.void
                    return Effect.zipRight(
                      counted,
                      Effect.fail({ kind, error, summary: `HTTP ${response.status}`, headers: response.headers })
                    )
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
        )
      )

    // The retry loop. A hand loop rather than a Schedule: the wait depends on the failed response's
    // headers, and 429s and transient failures have separate limits.
    const run = <A>(
      operation: string,
      input: HttpClientRequest.HttpClientRequest,
      idempotent: boolean,
      read: (response: HttpClientResponse.HttpClientResponse) => Effect.Effect<A, AttemptFailure>
    ): Effect.Effect<A, ProviderError> =>
      Effect.flatMap(prepare(operation, input), ([request, url]) => {
        const target = `${request.method} ${url.origin}${url.pathname}`
        const loop = (state: RetryState): Effect.Effect<A, ProviderError> =>
          Effect.logDebug(`${provider} ${operation}: ${target}`).pipe(
            Effect.zipRight(attempt(operation, request, read)),
            Effect.catchAll((failure) => {
              const attempts = state.rateLimited + state.transient + 1
              if (!shouldRetry(failure.kind, state, { idempotent, maxRetries, maxRateLimitRetries })) {
                const suffix = attempts > 1
                  ? ` (gave up after ${attempts} attempts)`
                  : failure.kind === "transient" && !idempotent
                  ? ` (not retried: ${operation} may already have taken effect)`
                  : ""
                return Effect.fail(suffix === "" ? failure.error : rebuild(failure.error, failure.error.description + suffix))
              }
              const next: RetryState = failure.kind === "rateLimited"
                ? { ...state, rateLimited: state.rateLimited + 1 }
                : { ...state, transient: state.transient + 1 }
              return Effect.gen(function*() {
                const now = yield* Clock.currentTimeMillis
                const jitter = yield* Random.next
                const delay = retryDelay({
                  retry: failure.kind === "rateLimited" ? next.rateLimited : next.transient,
                  baseDelay,
                  maxDelay,
                  maxWait,
                  jitter,
                  hint: failure.headers === undefined ? Option.none() : retryDelayFromHeaders(failure.headers, now)
                })
                yield* Ref.update(stats, (s) => ({ ...s, retries: s.retries + 1 }))
                yield* Effect.logWarning(
                  `${provider} ${operation}: ${failure.summary}; retry ${attempts} in ${Duration.format(delay)}`
                )
                yield* Effect.sleep(delay)
                return yield* loop(next)
              })
            })
          )
        return loop({ rateLimited: 0, transient: 0 })
      }).pipe(
        Effect.locallyWith(Headers.currentRedactedNames, (names) => [...names, ...secretNames]),
        Effect.annotateLogs({ provider, operation })
      )

    const readText = (operation: string) => (response: HttpClientResponse.HttpClientResponse) =>
      Effect.mapError(response.text, (error) => transportFailure(operation, error.cause))

    const decode = <A, I>(operation: string, schema: Schema.Schema<A, I>, text: string): Effect.Effect<A, ProviderError> => {
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        return Effect.fail(providerError(operation, {
          reason: "InvalidResponse",
          description: text.trim() === ""
            ? "the response body is empty where JSON was expected"
            : `the response is not valid JSON (it begins with ${JSON.stringify(excerpt(text, 40))})`,
          hint: "The provider or a proxy in between answered with something other than its API; try again later."
        }))
      }
      return Schema.decodeUnknown(schema)(json).pipe(
        Effect.mapError((error) => {
          const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
          const listed = issues.slice(0, 3).map((issue) =>
            `at ${issue.path.length === 0 ? "(root)" : issue.path.join(".")}: ${excerpt(issue.message, 100)}`
          )
          const more = issues.length > 3 ? `; and ${issues.length - 3} more` : ""
          return providerError(operation, {
            reason: "InvalidResponse",
            description: `the response does not have the expected shape: ${listed.join("; ")}${more}`,
            hint: "The provider's API may have changed; please report this with the operation name."
          })
        })
      )
    }

    return {
      execute: (operation, request, { idempotent }) => run(operation, request, idempotent, Effect.succeed),
      json: (operation, request, schema, { idempotent }) => {
        const accepting = Option.isSome(Headers.get(request.headers, "accept"))
          ? request
          : HttpClientRequest.acceptJson(request)
        return run(operation, accepting, idempotent, readText(operation)).pipe(
          Effect.flatMap((text) => decode(operation, schema, text))
        )
      },
      stats: Ref.get(stats)
    }
  })
