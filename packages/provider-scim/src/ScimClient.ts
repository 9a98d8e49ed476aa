/**
 * The raw SCIM 2.0 calls Seatkeeper makes, over `@effect/platform` HttpClient, with the connection's
 * request budget, retries, origin guard and error mapping of `@seatkeeper/core/ProviderHttp`.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Pagination from "@seatkeeper/core/Pagination"
import type { RequestStats } from "@seatkeeper/core/Provider"
import { ProviderError } from "@seatkeeper/core/ProviderError"
import * as ProviderHttp from "@seatkeeper/core/ProviderHttp"
import type { RequestBudget } from "@seatkeeper/core/RequestBudget"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Stream from "effect/Stream"
import { DEFAULT_DIALECT, DEFAULT_PAGE_SIZE, DEFAULT_RATE_LIMIT, type ScimConfig } from "./ScimConfig.js"
import { classify, hints } from "./ScimError.js"
import { JsonObject, ListResponse, PatchOpSchema, User, UserSchema } from "./ScimSchema.js"

/**
 * What the service's `/ServiceProviderConfig` says Seatkeeper can use (RFC 7643 §5, RFC 9865 §3).
 *
 * @since 0.1.0
 * @category models
 */
export interface ServiceFeatures {
  /** Whether the service served a ServiceProviderConfig at all; without one, the RFC defaults are assumed. */
  readonly advertised: boolean
  /** `patch.supported`. Assumed when not advertised; a PATCH answered 405 or 501 turns it off. */
  readonly patch: boolean
  /** `pagination.cursor` (RFC 9865): list with `cursor`/`nextCursor` instead of `startIndex`. */
  readonly cursor: boolean
  /** The most resources per page the service states (`pagination.maxPageSize`, `filter.maxResults`). */
  readonly maxPageSize: number | undefined
}

/**
 * Reads a ServiceProviderConfig leniently: a missing or malformed part means "not offered".
 *
 * @since 0.1.0
 * @category parsing
 */
export const readServiceFeatures = (spc: JsonObject): ServiceFeatures => {
  const part = (name: string): Record<string, unknown> => {
    const value = spc[name]
    return typeof value === "object" && value !== null ? value as Record<string, unknown> : {}
  }
  const yes = (u: unknown) => u === true || u === "true"
  const positive = (u: unknown) => {
    const n = typeof u === "string" ? Number(u) : u
    return typeof n === "number" && Number.isInteger(n) && n > 0 ? n : undefined
  }
  const limits = [positive(part("pagination").maxPageSize), positive(part("filter").maxResults)]
    .filter((n): n is number => n !== undefined)
  return {
    advertised: true,
    patch: yes(part("patch").supported),
    cursor: yes(part("pagination").cursor),
    maxPageSize: limits.length === 0 ? undefined : Math.min(...limits)
  }
}

/**
 * The features assumed of a service that serves no ServiceProviderConfig: PATCH (falling back to PUT if it
 * is refused) and index paging.
 *
 * @since 0.1.0
 * @category models
 */
export const assumedFeatures: ServiceFeatures = {
  advertised: false,
  patch: true,
  cursor: false,
  maxPageSize: undefined
}

/**
 * How `active` is set on a service: `patch` (`PATCH /Users/{id}`) or `put` (`GET` then `PUT` of the whole
 * user, where PATCH is not supported).
 *
 * @since 0.2.0
 * @category models
 */
export type Transport = "patch" | "put"

/**
 * @since 0.1.0
 * @category models
 */
export interface ScimClientService {
  readonly appName: string
  readonly baseUrl: string
  /** The budget key shared by every call to this SCIM service. */
  readonly budgetKey: string
  /** `GET /ServiceProviderConfig`, read once per connection (a failure is not kept: the next call asks again). */
  readonly serviceFeatures: Effect.Effect<ServiceFeatures, ProviderError>
  /** The page size asked for: the dialect's cap (default 100), lowered to what the service states. */
  readonly pageSize: Effect.Effect<number, ProviderError>
  /** One page of one user: checks the token and the base URL. */
  readonly probe: Effect.Effect<void, ProviderError>
  /**
   * `GET /Users` page by page: with `cursor`/`nextCursor` when the service offers it (RFC 9865), else with
   * `startIndex`/`count` until `totalResults` is reached, advancing by the number of users each page really
   * holds. An empty page before `totalResults` fails with `Incomplete`; a short page never ends the listing.
   */
  readonly usersPages: Stream.Stream<ListResponse, ProviderError>
  /** `GET /Users/{id}`, the resource whole. */
  readonly getUser: (operation: string, id: string) => Effect.Effect<JsonObject, ProviderError>
  /**
   * `GET /Users/{id}` as a User: `None` when the service answers 404 (the user is gone), the user otherwise.
   * A 404 web page (a proxy's) and a resource with another `id` fail with `InvalidResponse`: neither shows
   * the user is gone.
   */
  readonly findUser: (operation: string, id: string) => Effect.Effect<Option.Option<User>, ProviderError>
  /** How `active` would be set now: PATCH, or PUT where the service does not support PATCH. */
  readonly transport: (operation: string) => Effect.Effect<Transport, ProviderError>
  /**
   * Sets `active`: `PATCH /Users/{id}` with the dialect's op, or, where the service does not support PATCH,
   * `GET` then `PUT` of the whole user with `active` changed. Succeeds with the transport it used.
   */
  readonly setActive: (
    operation: "suspend" | "restore",
    id: string,
    active: boolean
  ) => Effect.Effect<Transport, ProviderError>
  readonly stats: Effect.Effect<RequestStats>
}

/**
 * The base URL without a trailing slash, so paths join predictably.
 *
 * @since 0.1.0
 * @category utils
 */
export const normalizeBaseUrl = (baseUrl: string): string => baseUrl.trim().replace(/\/+$/, "")

const SCIM_JSON = "application/scim+json"

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  config: ScimConfig
): Effect.Effect<ScimClientService, never, HttpClient.HttpClient | RequestBudget> =>
  Effect.gen(function*() {
    const app = config.appName
    const baseUrl = normalizeBaseUrl(config.baseUrl)
    const patchOp = config.dialect?.patchOp ?? DEFAULT_DIALECT.patchOp
    // One budget per SCIM service: two apps on one host with different paths (tenants) get their own.
    const budgetKey = `scim:${baseUrl}`
    const http = yield* ProviderHttp.make({
      provider: "scim",
      baseUrl,
      headers: {
        authorization: Redacted.make(`Bearer ${Redacted.value(config.bearerToken)}`),
        accept: `${SCIM_JSON}, application/json`
      },
      budget: { key: budgetKey, policy: config.rateLimit ?? DEFAULT_RATE_LIMIT },
      classify: ({ body, headers, operation, status }) => classify({ app, operation, status, body, headers, patchOp })
    })

    const fail = (operation: string, reason: ProviderError["reason"], description: string, hint?: string) =>
      Effect.fail(new ProviderError({ reason, provider: "scim", operation, description, hint }))

    const cachedFeatures = yield* Ref.make(Option.none<ServiceFeatures>())
    // Read on behalf of `operation`, so that a bad token fails the connection test as "verify", a sync as
    // "accounts", and so on.
    const features = (operation: string) =>
      Effect.flatMap(
        Ref.get(cachedFeatures),
        Option.match({
          onSome: Effect.succeed,
          onNone: () =>
            http.json(operation, HttpClientRequest.get(`${baseUrl}/ServiceProviderConfig`), JsonObject, {
              idempotent: true
            }).pipe(
              Effect.map(readServiceFeatures),
              // A service without (a readable) ServiceProviderConfig still lists users: assume the RFC defaults.
              // Bad tokens, rate limits and outages are not swallowed: the next call would meet them anyway.
              Effect.catchIf(
                (e) =>
                  e.reason === "NotFound" || e.reason === "Unsupported" || e.reason === "Forbidden" ||
                  e.reason === "InvalidResponse",
                () => Effect.succeed(assumedFeatures)
              ),
              Effect.tap((found) => Ref.set(cachedFeatures, Option.some(found)))
            )
        })
      )

    const serviceFeatures = features("serviceProviderConfig")

    const pageSizeOf = (offered: ServiceFeatures) =>
      Math.max(
        1,
        Math.min(config.dialect?.pageSizeCap ?? DEFAULT_PAGE_SIZE, offered.maxPageSize ?? Number.POSITIVE_INFINITY)
      )

    const list = (operation: string, params: Record<string, string>) =>
      http.json(operation, HttpClientRequest.get(`${baseUrl}/Users?${new URLSearchParams(params)}`), ListResponse, {
        idempotent: true
      })

    const indexPages = (count: number) =>
      Stream.paginateEffect(1, (startIndex: number) =>
        Effect.flatMap(list("accounts", { startIndex: String(startIndex), count: String(count) }), (page) => {
          const total = page.totalResults
          if (total === undefined) {
            return fail(
              "accounts",
              "InvalidResponse",
              "the user list has no totalResults, which SCIM requires, so there is no telling whether every user was read",
              `${app}'s SCIM service does not follow RFC 7644 here; report it to ${app}.`
            )
          }
          const got = page.Resources?.length ?? 0
          const next = startIndex + got
          if (next - 1 >= total) {
            return Effect.succeed([page, Option.none<number>()] as const)
          }
          if (got === 0) {
            return fail(
              "accounts",
              "Incomplete",
              `${app} returned an empty page at startIndex ${startIndex} while it reports ${total} users; ` +
                "the roster is treated as truncated and nothing is changed",
              hints.incomplete(app)
            )
          }
          // The service may return fewer than asked (a server-side cap): go on from what it really returned.
          return Effect.succeed([page, Option.some(next)] as const)
        }))

    const cursorPages = (count: number) =>
      Pagination.cursorPages(
        "",
        (cursor: string) =>
          Effect.map(
            list("accounts", { cursor, count: String(count) }),
            (page) =>
              [page, Option.fromNullable(page.nextCursor || undefined)] as const
          ),
        { provider: "scim", operation: "accounts" }
      )

    const usersPages = Stream.unwrap(
      Effect.map(features("accounts"), (offered) =>
        offered.cursor ? cursorPages(pageSizeOf(offered)) : indexPages(pageSizeOf(offered)))
    )

    const probe = Effect.flatMap(features("verify"), (offered) =>
      list("verify", offered.cursor ? { cursor: "", count: "1" } : { startIndex: "1", count: "1" })).pipe(Effect.asVoid)

    const userUrl = (id: string) =>
      `${baseUrl}/Users/${encodeURIComponent(id)}`

    const getUser = (operation: string, id: string) =>
      http.json(operation, HttpClientRequest.get(userUrl(id)), JsonObject, { idempotent: true })

    const findUser = (operation: string, id: string) =>
      http.json(operation, HttpClientRequest.get(userUrl(id)), User, { idempotent: true }).pipe(
        Effect.flatMap((user) =>
          user.id === id
            ? Effect.succeed(Option.some(user))
            : fail(
              operation,
              "InvalidResponse",
              `${app} answered the request for user ${id} with user ${user.id}`,
              `${app}'s SCIM service does not follow RFC 7644 here; report it to ${app}.`
            )
        ),
        // Only the service's own 404 says the user is gone (ScimError turns a proxy's web page into InvalidResponse).
        Effect.catchIf((e) =>
          e.reason === "NotFound" && e.status === 404, () =>
          Effect.succeed(Option.none<User>()))
      )

    const transport = (operation: string) =>
      Effect.map(features(operation), (offered): Transport => (offered.patch ? "patch" : "put"))

    const scimBody = (request: HttpClientRequest.HttpClientRequest, body: unknown) =>
      HttpClientRequest.bodyText(request, JSON.stringify(body), SCIM_JSON)

    // Some services answer 200 with the user yet leave `active` as it was: that is not a success.
    const checkApplied =
      (operation: string, id: string, active: boolean, hint: string) =>
      (response: HttpClientResponse.HttpClientResponse) =>
        Effect.flatMap(
          Effect.orElseSucceed(response.text, () =>
            ""),
          (text) => {
            let reported: unknown
            try {
              reported = text.trim() === "" ? undefined : (JSON.parse(text) as { readonly active?: unknown }).active
            } catch {
              reported = undefined
            }
            return typeof reported === "boolean" && reported !== active
              ? fail(
                operation,
                "InvalidResponse",
                `${app} accepted the change of user ${id} but still reports active=${reported}`,
                hint
              )
              : Effect.void
          }
        )

    const patchActive = (operation: "suspend" | "restore", id: string, active: boolean) =>
      http.execute(
        operation,
        scimBody(HttpClientRequest.patch(userUrl(id)), {
          schemas: [PatchOpSchema],
          Operations: [{ op: patchOp, path: "active", value: active }]
        }),
        // Setting active to the same value twice leaves the same state: a retry after a lost answer is harmless.
        { idempotent: true }
      ).pipe(
        Effect.flatMap(checkApplied(operation, id, active, hints.patchShape(app, patchOp))),
        Effect.as("patch" as const)
      )

    const putActive = (operation: "suspend" | "restore", id: string, active: boolean) =>
      Effect.gen(function*() {
        const current = yield* getUser(operation, id)
        // PUT replaces the whole user: send back what the service returned, without the read-only `meta`.
        const { meta: _meta, ...user } = current
        const schemas = Array.isArray(user.schemas) ? user.schemas : [UserSchema]
        const response = yield* http.execute(
          operation,
          scimBody(HttpClientRequest.put(userUrl(id)), {
            ...user,
            schemas,
            id: typeof user.id === "string" ? user.id : id,
            active
          }),
          { idempotent: true }
        ).pipe(Effect.mapError((error) =>
          error.reason === "InvalidConfig" && error.status === 400
            ? new ProviderError({ ...errorFields(error), reason: "InvalidResponse", hint: hints.putRejected(app) })
            : error
        ))
        yield* checkApplied(operation, id, active, hints.putRejected(app))(response)
        return "put" as const
      })

    const setActive = (
      operation: "suspend" | "restore",
      id: string,
      active: boolean
    ): Effect.Effect<Transport, ProviderError> =>
      Effect.flatMap(features(operation), (offered) =>
        offered.patch
          ? patchActive(operation, id, active).pipe(
            Effect.catchIf(
              // PATCH advertised (or assumed) but refused as a method: remember, and use PUT from now on.
              (e) =>
                e.status === 405 || e.status === 501,
              () =>
                Ref.set(cachedFeatures, Option.some({ ...offered, patch: false })).pipe(
                  Effect.zipRight(putActive(operation, id, active))
                )
            )
          )
          : putActive(operation, id, active))

    return ({
      appName: app,
      baseUrl,
      budgetKey,
      serviceFeatures,
      pageSize: Effect.map(serviceFeatures, pageSizeOf),
      probe,
      usersPages,
      getUser,
      findUser,
      transport,
      setActive,
      stats: http.stats
    })
  })

const errorFields = (error: ProviderError) => ({
  reason: error.reason,
  provider: error.provider,
  operation: error.operation,
  status: error.status,
  description: error.description,
  hint: error.hint,
  code: error.code
})
