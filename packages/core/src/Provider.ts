/**
 * The provider port: what an adapter supplies so that Seatkeeper can list, check and act on the accounts of
 * one upstream organisation.
 *
 * A provider is a value (`ProviderDefinition`) that makes connections from a config, because the host
 * holds many connections, several to the same provider.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import type { Capability, ProviderAccount } from "./Account.js"
import { ProviderError } from "./ProviderError.js"
import type { RequestBudget } from "./RequestBudget.js"

/**
 * One page of accounts as the source returned it, with the source's total when it reports one
 * (Atlassian's `meta.total`, SCIM's `totalResults`).
 *
 * @since 0.1.0
 * @category models
 */
export interface AccountPage {
  readonly accounts: ReadonlyArray<ProviderAccount>
  readonly total: number | undefined
}

/**
 * Counters of the HTTP traffic a connection has made, for sync statistics.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestStats {
  readonly requests: number
  readonly retries: number
  readonly rateLimited: number
}

/**
 * Options of a suspend or restore.
 *
 * @since 0.1.0
 * @category models
 */
export interface ActionOptions {
  /** Why the account is suspended; providers that can store a message (Atlassian) send it. */
  readonly reason?: string | undefined
}

/**
 * A live connection to one upstream organisation.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProviderConnection {
  /** The provider's id, e.g. `atlassian`. */
  readonly provider: string
  /** The request budget this connection draws from: one per upstream organisation, e.g. `atlassian:<orgId>`. */
  readonly budgetKey: string
  /** Checks the credentials and that the organisation can be reached. */
  readonly verify: Effect.Effect<void, ProviderError>
  /** The raw pages, in source order. Ends only when the source says there is no next page. */
  readonly pages: Stream.Stream<AccountPage, ProviderError>
  /**
   * Every account exactly once. Ends only when the source is exhausted, and fails with `Incomplete` when
   * fewer accounts came back than the source's last reported total.
   */
  readonly accounts: Stream.Stream<ProviderAccount, ProviderError>
  /** Cumulative HTTP counters of this connection. */
  readonly requestStats: Effect.Effect<RequestStats>
  readonly suspend?: ((externalId: string, options?: ActionOptions) => Effect.Effect<void, ProviderError>) | undefined
  readonly restore?: ((externalId: string, options?: ActionOptions) => Effect.Effect<void, ProviderError>) | undefined
}

/**
 * A provider: an id, a display name, a config schema (whose `title`/`description` annotations drive the
 * host's settings form; secrets are `Schema.Redacted`), its capabilities and `connect`.
 *
 * @since 0.1.0
 * @category models
 */
export interface ProviderDefinition<Config = any, ConfigEncoded = any> {
  readonly id: string
  readonly displayName: string
  readonly description: string
  readonly configSchema: Schema.Schema<Config, ConfigEncoded>
  readonly capabilities: ReadonlySet<Capability>
  readonly connect: (
    config: Config
  ) => Effect.Effect<ProviderConnection, ProviderError, HttpClient.HttpClient | RequestBudget>
}

/**
 * Declares a provider, checking its shape at compile time.
 *
 * @since 0.1.0
 * @category constructors
 */
export const define = <Config, ConfigEncoded>(
  definition: ProviderDefinition<Config, ConfigEncoded>
): ProviderDefinition<Config, ConfigEncoded> => definition

/**
 * Builds a connection from an adapter's pages, deriving the checked `accounts` stream: duplicates (an
 * account on two pages because the roster moved while paging) are passed once, and a roster shorter than
 * the source's last reported total fails with `Incomplete` instead of ending, so that nothing downstream
 * mistakes a truncated roster for a complete one.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeConnection = (options: {
  readonly provider: string
  readonly budgetKey: string
  readonly verify: Effect.Effect<void, ProviderError>
  readonly pages: Stream.Stream<AccountPage, ProviderError>
  readonly requestStats: Effect.Effect<RequestStats>
  readonly incompleteHint?: string | undefined
  readonly suspend?: ((externalId: string, options?: ActionOptions) => Effect.Effect<void, ProviderError>) | undefined
  readonly restore?: ((externalId: string, options?: ActionOptions) => Effect.Effect<void, ProviderError>) | undefined
}): ProviderConnection => ({
  provider: options.provider,
  budgetKey: options.budgetKey,
  verify: options.verify,
  pages: options.pages,
  requestStats: options.requestStats,
  accounts: checkedAccounts(options.pages, { provider: options.provider, hint: options.incompleteHint }),
  suspend: options.suspend,
  restore: options.restore
})

/**
 * Flattens pages into accounts, once each, and fails with `Incomplete` when the source reported a total
 * larger than the number of distinct accounts it returned.
 *
 * @since 0.1.0
 * @category combinators
 */
export const checkedAccounts = (
  pages: Stream.Stream<AccountPage, ProviderError>,
  options: { readonly provider: string; readonly hint?: string | undefined }
): Stream.Stream<ProviderAccount, ProviderError> =>
  Stream.suspend(() => {
    const seen = new Set<string>()
    let total: number | undefined
    const body = pages.pipe(
      Stream.mapConcat((page) => {
        if (page.total !== undefined) total = page.total
        const fresh: Array<ProviderAccount> = []
        for (const account of page.accounts) {
          if (seen.has(account.externalId)) continue
          seen.add(account.externalId)
          fresh.push(account)
        }
        return fresh
      })
    )
    const check = Stream.fromEffect(
      Effect.suspend(() =>
        total !== undefined && seen.size < total
          ? Effect.fail(
            new ProviderError({
              reason: "Incomplete",
              provider: options.provider,
              operation: "accounts",
              description:
                `the source reported ${total} accounts but returned ${seen.size}; the roster is treated as truncated and nothing is changed`,
              hint: options.hint
            })
          )
          : Effect.void
      )
    ).pipe(Stream.drain)
    return Stream.concat(body, check)
  })

/**
 * The capabilities a connection really offers, from its optional actions.
 *
 * @since 0.1.0
 * @category utils
 */
export const connectionCapabilities = (connection: ProviderConnection): ReadonlySet<Capability> => {
  const caps = new Set<Capability>(["accounts"])
  if (connection.suspend) caps.add("suspend")
  if (connection.restore) caps.add("restore")
  return caps
}

/**
 * Fails with `Unsupported` when a connection does not offer an action.
 *
 * @since 0.1.0
 * @category utils
 */
export const action = (
  connection: ProviderConnection,
  name: "suspend" | "restore"
): Effect.Effect<(externalId: string, options?: ActionOptions) => Effect.Effect<void, ProviderError>, ProviderError> =>
  Option.match(Option.fromNullable(connection[name]), {
    onNone: () =>
      Effect.fail(
        new ProviderError({
          reason: "Unsupported",
          provider: connection.provider,
          operation: name,
          description: `${connection.provider} does not support ${name}`
        })
      ),
    onSome: Effect.succeed
  })
