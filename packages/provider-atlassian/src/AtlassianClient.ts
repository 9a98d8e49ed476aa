/**
 * The raw Atlassian admin API: the calls Seatkeeper makes, over `@effect/platform` HttpClient, with the
 * org's request budget, retries and error mapping of `@seatkeeper/core/ProviderHttp`.
 *
 * @since 0.1.0
 */
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Pagination from "@seatkeeper/core/Pagination"
import type { RequestStats } from "@seatkeeper/core/Provider"
import type { ProviderError } from "@seatkeeper/core/ProviderError"
import * as ProviderHttp from "@seatkeeper/core/ProviderHttp"
import type { RequestBudget } from "@seatkeeper/core/RequestBudget"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Stream from "effect/Stream"
import { type AtlassianConfig, DEFAULT_BASE_URL, DEFAULT_RATE_LIMIT } from "./AtlassianConfig.js"
import { classify } from "./AtlassianError.js"
import { OrgResponse, UsersPage } from "./AtlassianSchema.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface AtlassianClientService {
  readonly organizationId: string
  readonly baseUrl: string
  /** The budget key shared by every call to this organization. */
  readonly budgetKey: string
  /** `GET /admin/v1/orgs/{orgId}` */
  readonly getOrg: Effect.Effect<OrgResponse, ProviderError>
  /** `GET /admin/v1/orgs/{orgId}/users`, following `links.next` until there is none. */
  readonly usersPages: Stream.Stream<UsersPage, ProviderError>
  /** `POST /users/{accountId}/manage/lifecycle/disable` with `{message}`. */
  readonly disable: (accountId: string, message: string | undefined) => Effect.Effect<void, ProviderError>
  /** `POST /users/{accountId}/manage/lifecycle/enable`. */
  readonly enable: (accountId: string) => Effect.Effect<void, ProviderError>
  readonly stats: Effect.Effect<RequestStats>
}

/**
 * @since 0.1.0
 * @category tags
 */
export class AtlassianClient extends Context.Tag("@seatkeeper/provider-atlassian/AtlassianClient")<
  AtlassianClient,
  AtlassianClientService
>() {}

/**
 * The base URL without a trailing slash, so paths join predictably.
 *
 * @since 0.1.0
 * @category utils
 */
export const normalizeBaseUrl = (baseUrl: string | undefined): string =>
  (baseUrl === undefined || baseUrl.trim() === "" ? DEFAULT_BASE_URL : baseUrl.trim()).replace(/\/+$/, "")

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  config: AtlassianConfig
): Effect.Effect<AtlassianClientService, never, HttpClient.HttpClient | RequestBudget> =>
  Effect.gen(function*() {
    const baseUrl = normalizeBaseUrl(config.baseUrl)
    const orgPath = `/admin/v1/orgs/${encodeURIComponent(config.organizationId)}`
    const budgetKey = `atlassian:${new URL(baseUrl).host}:${config.organizationId}`
    const http = yield* ProviderHttp.make({
      provider: "atlassian",
      baseUrl,
      headers: {
        authorization: Redacted.make(`Bearer ${Redacted.value(config.apiKey)}`),
        accept: "application/json"
      },
      budget: { key: budgetKey, policy: config.rateLimit ?? DEFAULT_RATE_LIMIT },
      classify: ({ body, operation, status }) => classify({ operation, status, body })
    })

    const usersPage = (url: string) =>
      http.json("accounts", HttpClientRequest.get(url), UsersPage, { idempotent: true })

    const usersPages = Pagination.cursorPages(
      `${baseUrl}${orgPath}/users`,
      (url) =>
        Effect.map(usersPage(url), (page) => [page, Option.fromNullable(page.links?.next || undefined)] as const),
      { provider: "atlassian", operation: "accounts" }
    )

    const lifecycle = (accountId: string, action: "disable" | "enable", body: Record<string, string>) =>
      http.execute(
        action === "disable" ? "suspend" : "restore",
        HttpClientRequest.post(`${baseUrl}/users/${encodeURIComponent(accountId)}/manage/lifecycle/${action}`).pipe(
          HttpClientRequest.bodyUnsafeJson(body)
        ),
        // Disabling or enabling twice leaves the same state, so a retry after a lost answer is harmless.
        { idempotent: true }
      ).pipe(Effect.asVoid)

    return AtlassianClient.of({
      organizationId: config.organizationId,
      baseUrl,
      budgetKey,
      getOrg: http.json("verify", HttpClientRequest.get(`${baseUrl}${orgPath}`), OrgResponse, { idempotent: true }),
      usersPages,
      disable: (accountId, message) =>
        lifecycle(accountId, "disable", message === undefined || message === "" ? {} : { message }),
      enable: (accountId) => lifecycle(accountId, "enable", {}),
      stats: http.stats
    })
  })
