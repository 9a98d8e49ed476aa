/**
 * The raw __DISPLAY__ API: the calls Seatkeeper makes, through `@seatkeeper/core/ProviderHttp` (request
 * budget, retries that honour Retry-After, origin guard, redacted secrets), and the mapping of its error
 * responses to `ProviderError`s with hints.
 *
 * TODO(__ID__): this speaks the generated sandbox's API (`GET /me`, `GET /users?cursor=` with
 * `{ users, total, next }`, `GET /users/{id}`, `POST /users/{id}/suspend|restore`). Replace the paths, the
 * wire schemas and the error hints with the real API's, and change the sandbox to match, so the conformance
 * suite keeps passing.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Pagination from "@seatkeeper/core/Pagination"
import type { RequestStats } from "@seatkeeper/core/Provider"
import { ProviderError, type ProviderErrorReason } from "@seatkeeper/core/ProviderError"
import * as ProviderHttp from "@seatkeeper/core/ProviderHttp"
import type { RequestBudget } from "@seatkeeper/core/RequestBudget"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Stream from "effect/Stream"
import { type __NAME__Config, DEFAULT_RATE_LIMIT } from "./__NAME__Config.js"

/**
 * A user as the API returns it. Keep enums open (`Schema.String`): an unknown status must not fail a sync.
 * Keep instants as strings (the provider reads them strictly) and `products` optional: a user without it is
 * one the API said nothing about, which is not a user with no products (invariant 2).
 *
 * @since 0.1.0
 * @category schemas
 */
export const User = Schema.Struct({
  id: Schema.NonEmptyString,
  email: Schema.optional(Schema.NullOr(Schema.String)),
  name: Schema.String,
  status: Schema.String,
  lastActiveAt: Schema.optional(Schema.NullOr(Schema.String)),
  products: Schema.optional(Schema.Array(Schema.Struct({ key: Schema.String, name: Schema.String })))
})

/**
 * @since 0.1.0
 * @category models
 */
export type User = typeof User.Type

/**
 * A page of users. `next` is absent on the last page, and that is the only end of the listing.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UsersPage = Schema.Struct({
  users: Schema.Array(User),
  total: Schema.optional(Schema.NullOr(Schema.Number)),
  next: Schema.optional(Schema.NullOr(Schema.String))
})

/**
 * @since 0.1.0
 * @category models
 */
export type UsersPage = typeof UsersPage.Type

/**
 * The troubleshooting hints. TODO(__ID__): say where in __DISPLAY__ the user fixes each problem.
 *
 * @since 0.1.0
 * @category hints
 */
export const hints = {
  unauthorized: "Check the API key: it must be an admin API key of __DISPLAY__, not expired and not revoked.",
  forbidden: "The key is valid but may not do this: its owner needs admin rights in __DISPLAY__.",
  notFound: "__DISPLAY__ has no such user; it may have been deleted. Sync again.",
  rateLimited: "__DISPLAY__ kept rate-limiting the requests; lower the connection's request budget or sync later.",
  unavailable: "__DISPLAY__ did not answer properly; this is usually temporary. Try again in a few minutes.",
  incomplete: "__DISPLAY__ returned fewer users than it reported, so nothing was changed. Sync again."
} as const

const reasonOf = (status: number): ProviderErrorReason =>
  status === 401
    ? "Unauthorized"
    : status === 403
    ? "Forbidden"
    : status === 404
    ? "NotFound"
    : status === 429
    ? "RateLimited"
    : status >= 500
    ? "Unavailable"
    : "InvalidResponse"

/**
 * Maps a failed response to a `ProviderError` with a hint. Never put a secret in the description.
 *
 * @since 0.1.0
 * @category errors
 */
export const classify = (input: { readonly operation: string; readonly status: number; readonly body: string }): ProviderError => {
  const reason = reasonOf(input.status)
  let message: string | undefined
  try {
    const parsed = JSON.parse(input.body) as { readonly message?: unknown }
    message = typeof parsed.message === "string" ? parsed.message : undefined
  } catch {
    message = input.body.trim() === "" ? undefined : input.body.replace(/\s+/g, " ").trim().slice(0, 200)
  }
  return new ProviderError({
    reason,
    provider: "__ID__",
    operation: input.operation,
    status: input.status,
    description: message === undefined
      ? `__DISPLAY__ answered HTTP ${input.status}`
      : `__DISPLAY__ answered HTTP ${input.status}: ${message}`,
    hint: reason === "Unauthorized"
      ? hints.unauthorized
      : reason === "Forbidden"
      ? hints.forbidden
      : reason === "NotFound"
      ? hints.notFound
      : reason === "RateLimited"
      ? hints.rateLimited
      : reason === "Unavailable"
      ? hints.unavailable
      : undefined
  })
}

/**
 * @since 0.1.0
 * @category models
 */
export interface __NAME__Client {
  /** The budget key shared by every call to this __DISPLAY__ account. */
  readonly budgetKey: string
  /** `GET /me`: checks the key. */
  readonly verify: Effect.Effect<void, ProviderError>
  /** `GET /users`, following `next` until there is none. */
  readonly usersPages: Stream.Stream<UsersPage, ProviderError>
  /** `GET /users/{id}`: `None` when the API answers 404 (the user is gone), the user otherwise. */
  readonly findUser: (id: string) => Effect.Effect<Option.Option<User>, ProviderError>
  /** `POST /users/{id}/suspend` or `/restore`. */
  readonly setSuspended: (id: string, suspended: boolean) => Effect.Effect<void, ProviderError>
  readonly stats: Effect.Effect<RequestStats>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  config: __NAME__Config
): Effect.Effect<__NAME__Client, never, HttpClient.HttpClient | RequestBudget> =>
  Effect.gen(function*() {
    const baseUrl = config.baseUrl.replace(/\/+$/, "")
    // TODO(__ID__): one budget per upstream organization: put the organization's ID in the key.
    const budgetKey = `__ID__:${baseUrl}`
    const http = yield* ProviderHttp.make({
      provider: "__ID__",
      baseUrl,
      headers: {
        authorization: Redacted.make(`Bearer ${Redacted.value(config.apiKey)}`),
        accept: "application/json"
      },
      budget: { key: budgetKey, policy: config.rateLimit ?? DEFAULT_RATE_LIMIT },
      classify: ({ body, operation, status }) => classify({ operation, status, body })
    })

    const usersPages = Pagination.cursorPages(
      "",
      (cursor: string) =>
        Effect.map(
          http.json("accounts", HttpClientRequest.get(`${baseUrl}/users?${new URLSearchParams({ cursor })}`), UsersPage, {
            idempotent: true
          }),
          (page) => [page, Option.fromNullable(page.next || undefined)] as const
        ),
      { provider: "__ID__", operation: "accounts" }
    )

    return {
      budgetKey,
      verify: Effect.asVoid(http.execute("verify", HttpClientRequest.get(`${baseUrl}/me`), { idempotent: true })),
      usersPages,
      findUser: (id) =>
        http.json("lookup", HttpClientRequest.get(`${baseUrl}/users/${encodeURIComponent(id)}`), User, {
          idempotent: true
        }).pipe(
          Effect.map(Option.some),
          // Only a 404 says the user is gone; every other failure fails the lookup (and the sync with it).
          // TODO(__ID__): if the real API answers a removed user otherwise (a `deleted` status, 410), say so here.
          Effect.catchIf((e) => e.reason === "NotFound" && e.status === 404, () => Effect.succeed(Option.none<User>()))
        ),
      setSuspended: (id, suspended) =>
        http.execute(
          suspended ? "suspend" : "restore",
          HttpClientRequest.post(`${baseUrl}/users/${encodeURIComponent(id)}/${suspended ? "suspend" : "restore"}`),
          // Suspending twice leaves the same state, so a retry after a lost answer is harmless.
          { idempotent: true }
        ).pipe(Effect.asVoid),
      stats: http.stats
    }
  })
