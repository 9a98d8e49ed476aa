/**
 * The raw Atlassian admin API: the calls Seatkeeper makes, over `@effect/platform` HttpClient, with the
 * org's request budget, retries, secret scrubbing and error mapping of `@seatkeeper/core/ProviderHttp`.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as Pagination from "@seatkeeper/core/Pagination"
import type { RequestStats } from "@seatkeeper/core/Provider"
import { ProviderError } from "@seatkeeper/core/ProviderError"
import * as ProviderHttp from "@seatkeeper/core/ProviderHttp"
import type { RequestBudget } from "@seatkeeper/core/RequestBudget"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { type AtlassianConfig, DEFAULT_BASE_URL, DEFAULT_RATE_LIMIT } from "./AtlassianConfig.js"
import { classify } from "./AtlassianError.js"
import {
  isUsersPage,
  isV2UsersPage,
  ManageResponse,
  OrgResponse,
  ProfileResponse,
  UsersPage,
  type V2User,
  V2UsersPage,
  WorkspacesPage
} from "./AtlassianSchema.js"

// The listings' pages: a page as documented is used as parsed, anything else is decoded (and refused) in full.
const usersPage = ProviderHttp.withFastPath(UsersPage, isUsersPage)
const v2UsersPage = ProviderHttp.withFastPath(V2UsersPage, isV2UsersPage)

/**
 * What the directory search asks Atlassian to add to each user.
 *
 * @since 0.2.0
 * @category constants
 */
export const DIRECTORY_EXPAND = ["productAccess", "groups", "platformRoles"] as const

/**
 * Users per page of the directory search (Atlassian's documented default is 50; 100 is the maximum
 * third parties report).
 *
 * @since 0.2.0
 * @category constants
 */
export const DIRECTORY_PAGE_SIZE = 100

/**
 * @since 0.1.0
 * @category models
 */
export interface AtlassianClient {
  readonly organizationId: string
  readonly baseUrl: string
  /** The budget key shared by every call to this organization. */
  readonly budgetKey: string
  /** `GET /admin/v1/orgs/{orgId}` */
  readonly getOrg: Effect.Effect<OrgResponse, ProviderError>
  /** `GET /admin/v1/orgs/{orgId}/users`, following `links.next` until there is none. */
  readonly usersPages: Stream.Stream<UsersPage, ProviderError>
  /** `POST /admin/v2/orgs/{orgId}/directories/-/users/search`, following the bare cursor in `links.next`. */
  readonly directoryUsersPages: Stream.Stream<V2UsersPage, ProviderError>
  /**
   * The ids of the accounts whose access is suspended in the directory (`membershipStatus: suspended`),
   * from the directory search. The v1 listing cannot tell: a suspended account stays `active` there.
   */
  readonly suspendedMemberIds: Effect.Effect<ReadonlySet<string>, ProviderError>
  /** The directory search for one account id: `None` when no directory has it. */
  readonly directoryUser: (
    accountId: string,
    operation?: string
  ) => Effect.Effect<Option.Option<V2User>, ProviderError>
  /**
   * `GET /users/{accountId}/manage/profile`: `None` when Atlassian answers 404 with its own account-not-found
   * body. Any other 404 (a proxy's, a wrong base URL's) fails: it confirms nothing about the account.
   */
  readonly profile: (accountId: string) => Effect.Effect<Option.Option<ProfileResponse>, ProviderError>
  /** `GET /users/{accountId}/manage?privileges=lifecycle.enablement` */
  readonly manage: (accountId: string) => Effect.Effect<ManageResponse, ProviderError>
  /** `POST /admin/v2/orgs/{orgId}/workspaces`, the cursor in the body. */
  readonly workspacesPages: Stream.Stream<WorkspacesPage, ProviderError>
  /** `POST /users/{accountId}/manage/lifecycle/disable` with `{message}` (or `{}`). */
  readonly disable: (accountId: string, message: string | undefined) => Effect.Effect<void, ProviderError>
  /** `POST /users/{accountId}/manage/lifecycle/enable`, without a body (the OpenAPI document defines none). */
  readonly enable: (accountId: string) => Effect.Effect<void, ProviderError>
  /** `POST /admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/suspend` (no body). */
  readonly directorySuspend: (directoryId: string, accountId: string) => Effect.Effect<void, ProviderError>
  /** `POST /admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/restore` (no body). */
  readonly directoryRestore: (directoryId: string, accountId: string) => Effect.Effect<void, ProviderError>
  readonly stats: Effect.Effect<RequestStats>
}

/**
 * The base URL without a trailing slash, so paths join predictably.
 *
 * @since 0.1.0
 * @category utils
 */
export const normalizeBaseUrl = (baseUrl: string | undefined): string =>
  (baseUrl === undefined || baseUrl.trim() === "" ? DEFAULT_BASE_URL : baseUrl.trim()).replace(/\/+$/, "")

// Names the form of a bad link, never its text: upstream text may carry anything, a secret included.
const invalidNext = (operation: string, form: string) =>
  new ProviderError({
    reason: "InvalidResponse",
    provider: "atlassian",
    operation,
    description: `the listing's links.next is not an absolute http(s) URL (${form}); paging stopped and nothing ` +
      `is changed`,
    hint: "Atlassian's answer did not have the documented shape; try again later, and report it if it persists."
  })

/**
 * A v1 `links.next`: an absolute http(s) URL, or the end of the listing. Anything else is an answer
 * Seatkeeper cannot follow (resolved against the base URL it would become a request Atlassian never
 * offered), so it fails.
 */
const nextUrl = (
  operation: string,
  next: string | null | undefined
): Effect.Effect<Option.Option<string>, ProviderError> => {
  if (next === null || next === undefined || next === "") return Effect.succeed(Option.none())
  if (!URL.canParse(next)) {
    return Effect.fail(invalidNext(operation, next.startsWith("/") ? "a relative reference" : "not a URL"))
  }
  const protocol = new URL(next).protocol
  if (protocol === "https:" || protocol === "http:") return Effect.succeed(Option.some(next))
  const form = /^[a-z][a-z0-9+.-]{0,15}:$/i.test(protocol) ? `scheme ${protocol}` : "a URL of another scheme"
  return Effect.fail(invalidNext(operation, form))
}

/** A v2 `links.next` is a bare cursor; tolerate a URL carrying one in `cursor`. */
const nextCursor = (next: string | null | undefined): Option.Option<string> => {
  if (next === null || next === undefined || next === "") return Option.none()
  if (URL.canParse(next)) {
    const cursor = new URL(next).searchParams.get("cursor")
    if (cursor !== null && cursor !== "") return Option.some(cursor)
  }
  return Option.some(next)
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  config: AtlassianConfig
): Effect.Effect<AtlassianClient, never, HttpClient.HttpClient | RequestBudget> =>
  Effect.gen(function*() {
    const baseUrl = normalizeBaseUrl(config.baseUrl)
    const org = encodeURIComponent(config.organizationId)
    const orgPath = `/admin/v1/orgs/${org}`
    const v2Path = `/admin/v2/orgs/${org}`
    const budgetKey = `atlassian:${new URL(baseUrl).host}:${config.organizationId}`
    const bearer = Redacted.make(`Bearer ${Redacted.value(config.apiKey)}`)
    // ProviderHttp has removed the key's own encodings; this also catches it inside a blob encoded whole.
    const http = yield* ProviderHttp.make({
      provider: "atlassian",
      baseUrl,
      headers: {
        authorization: bearer,
        accept: "application/json"
      },
      budget: { key: budgetKey, policy: config.rateLimit ?? DEFAULT_RATE_LIMIT },
      classify: ({ body, operation, status }) => classify({ operation, status, body })
    })
    const user = (accountId: string) => `${baseUrl}/users/${encodeURIComponent(accountId)}/manage`

    const usersPages = Pagination.cursorPages(
      `${baseUrl}${orgPath}/users`,
      (url) =>
        http.json("accounts", HttpClientRequest.get(url), usersPage, { idempotent: true }).pipe(
          Effect.flatMap((page) => Effect.map(nextUrl("accounts", page.links?.next), (next) => [page, next] as const))
        ),
      // The next link is known once a page is parsed: it is requested while the page is mapped and staged.
      { provider: "atlassian", operation: "accounts", prefetch: true }
    )

    const search = (operation: string, body: Record<string, unknown>) =>
      http.json(
        operation,
        HttpClientRequest.post(`${baseUrl}${v2Path}/directories/-/users/search`).pipe(
          HttpClientRequest.bodyUnsafeJson(body)
        ),
        v2UsersPage,
        // A search changes nothing: asking again is harmless.
        { idempotent: true }
      )

    const directoryUsersPages = Pagination.cursorPages(
      Option.none<string>(),
      (cursor) =>
        search("accounts", {
          limit: DIRECTORY_PAGE_SIZE,
          expand: DIRECTORY_EXPAND,
          ...Option.match(cursor, { onNone: () => ({}), onSome: (c) => ({ cursor: c }) })
        }).pipe(
          Effect.map((page) => [page, Option.map(nextCursor(page.links?.next), Option.some)] as const)
        ),
      {
        provider: "atlassian",
        operation: "accounts",
        key: (cursor) => Option.getOrElse(cursor, () => ""),
        prefetch: true
      }
    )

    const suspendedMemberIds = Stream.runFold(
      Pagination.cursorPages(
        Option.none<string>(),
        (cursor) =>
          search("accounts", {
            limit: DIRECTORY_PAGE_SIZE,
            membershipStatus: ["suspended"],
            ...Option.match(cursor, { onNone: () => ({}), onSome: (c) => ({ cursor: c }) })
          }).pipe(
            Effect.map((page) => [page, Option.map(nextCursor(page.links?.next), Option.some)] as const)
          ),
        { provider: "atlassian", operation: "accounts", key: (cursor) => Option.getOrElse(cursor, () => "") }
      ),
      new Set<string>(),
      (ids, page) => {
        // The filter is the server's; an answer that ignored it must not suspend anyone here.
        for (const u of page.data) if (u.membershipStatus === "suspended") ids.add(u.accountId)
        return ids
      }
    )

    const workspacesPages = Pagination.cursorPages(
      Option.none<string>(),
      (cursor) =>
        http.json(
          "licenses",
          HttpClientRequest.post(`${baseUrl}${v2Path}/workspaces`).pipe(
            // "When a cursor is provided in the request body, no other properties may be present."
            HttpClientRequest.bodyUnsafeJson(
              Option.match(cursor, { onNone: () => ({ limit: 100 }), onSome: (c) => ({ cursor: c }) })
            )
          ),
          WorkspacesPage,
          { idempotent: true }
        ).pipe(Effect.map((page) => [page, Option.map(nextCursor(page.links?.next), Option.some)] as const)),
      { provider: "atlassian", operation: "licenses", key: (cursor) => Option.getOrElse(cursor, () => "") }
    )

    // Only the user-management API's own answers say the account is not there (NotFound.Account).
    const noneOnNotFound = <A>(effect: Effect.Effect<A, ProviderError>) =>
      effect.pipe(
        Effect.map(Option.some),
        Effect.catchIf(
          (e) => e.reason === "NotFound" && (e.code === "accountNotFound" || e.code === "notFound"),
          () => Effect.succeedNone
        )
      )

    const lifecycle = (accountId: string, action: "disable" | "enable", message: string | undefined) => {
      const request = HttpClientRequest.post(`${user(accountId)}/lifecycle/${action}`)
      return http.execute(
        action === "disable" ? "suspend" : "restore",
        // disable: the spec requires a body, its message is optional; enable takes none.
        action === "disable"
          ? HttpClientRequest.bodyUnsafeJson(request, message === undefined || message === "" ? {} : { message })
          : request,
        // Disabling or enabling twice leaves the same state, so a retry after a lost answer is harmless.
        { idempotent: true }
      ).pipe(Effect.asVoid)
    }

    const directory = (directoryId: string, accountId: string, action: "suspend" | "restore") =>
      http.execute(
        action,
        HttpClientRequest.post(
          `${baseUrl}${v2Path}/directories/${encodeURIComponent(directoryId)}/users/` +
            `${encodeURIComponent(accountId)}/${action}`
        ),
        // Suspending or restoring twice leaves the same state.
        { idempotent: true }
      ).pipe(Effect.asVoid)

    return {
      organizationId: config.organizationId,
      baseUrl,
      budgetKey,
      getOrg: http.json("verify", HttpClientRequest.get(`${baseUrl}${orgPath}`), OrgResponse, { idempotent: true }),
      usersPages,
      directoryUsersPages,
      suspendedMemberIds,
      directoryUser: (accountId, operation = "lookup") =>
        search(operation, { accountIds: [accountId], expand: DIRECTORY_EXPAND, limit: 1 }).pipe(
          Effect.map((page) => Option.fromNullable(page.data.find((u) => u.accountId === accountId)))
        ),
      profile: (accountId) =>
        noneOnNotFound(
          http.json("lookup", HttpClientRequest.get(`${user(accountId)}/profile`), ProfileResponse, {
            idempotent: true
          })
        ),
      manage: (accountId) =>
        http.json(
          "preflight",
          HttpClientRequest.get(user(accountId)).pipe(
            HttpClientRequest.setUrlParam("privileges", "lifecycle.enablement")
          ),
          ManageResponse,
          { idempotent: true }
        ),
      workspacesPages,
      disable: (accountId, message) => lifecycle(accountId, "disable", message),
      enable: (accountId) => lifecycle(accountId, "enable", undefined),
      directorySuspend: (directoryId, accountId) => directory(directoryId, accountId, "suspend"),
      directoryRestore: (directoryId, accountId) => directory(directoryId, accountId, "restore"),
      stats: http.stats
    } satisfies AtlassianClient
  })
