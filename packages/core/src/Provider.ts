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
import { sanitizeAccount } from "./Account.js"
import type { ActionKind, ActionOptions, ActionPreflight, ActionReceipt, ActionTarget } from "./Action.js"
import type { License } from "./License.js"
import { ProviderError } from "./ProviderError.js"
import type { RequestBudget } from "./RequestBudget.js"

export type { ActionOptions, ActionTarget } from "./Action.js"

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
 * Where a last-activity value comes from and how far it can be trusted, as the provider documents it.
 * Accounts and entitlements name their source by `id`.
 *
 * @since 0.2.0
 * @category models
 */
export interface ActivitySource {
  readonly id: string
  /** Short, for a column: `Atlassian product activity`. */
  readonly label: string
  /** What counts as activity: `a page view of 2 s or more in the product`. */
  readonly definition: string
  /** How late the source may report activity, in hours (Atlassian: up to 24). */
  readonly maxLagHours?: number | undefined
}

/**
 * Suspends or restores one account; the receipt names the provider's method that was used.
 *
 * @since 0.2.0
 * @category models
 */
export type AccountAction = (
  target: string | ActionTarget,
  options?: ActionOptions
) => Effect.Effect<ActionReceipt, ProviderError>

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
  /**
   * The listing, page by page, in source order, with the source's totals: what the sync engine reads. It
   * ends only when the source says there is no next page; text is cleaned of control characters. An
   * account can appear on two pages when the roster moves while paging; the engine passes it once and
   * checks the total itself, so nothing here holds more than a page.
   */
  readonly roster: Stream.Stream<AccountPage, ProviderError>
  /**
   * Every account exactly once: for scripts. Ends only when the source is exhausted, and fails with
   * `Incomplete` when fewer accounts came back than the source's last reported total. Holds the ids seen.
   */
  readonly accounts: Stream.Stream<ProviderAccount, ProviderError>
  /**
   * Reads one account directly: `Some` while the source still has it, `None` when it is gone (Atlassian:
   * the profile answers 404 or `closed`). The sync engine confirms every account a complete listing did
   * not return with it before deprovisioning (invariant 2).
   */
  readonly lookup?: ((externalId: string) => Effect.Effect<Option.Option<ProviderAccount>, ProviderError>) | undefined
  /** Products, plans and seats bought, one per product instance, where the provider can say. */
  readonly licenses?: Stream.Stream<License, ProviderError> | undefined
  /**
   * What an action would do to an account, read-only: which method applies and whether it would be refused.
   * `options.method` previews that method (as the action itself would use it) instead of the default.
   */
  readonly preflight?:
    | ((
      target: string | ActionTarget,
      action: ActionKind,
      options?: { readonly method?: string | undefined }
    ) => Effect.Effect<ActionPreflight, ProviderError>)
    | undefined
  readonly suspend?: AccountAction | undefined
  readonly restore?: AccountAction | undefined
  /** Cumulative HTTP counters of this connection. */
  readonly requestStats: Effect.Effect<RequestStats>
  /** What to tell the user when the roster comes back shorter than the source said, e.g. a missing scope. */
  readonly incompleteHint?: string | undefined
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
  /** The sources of last-activity values its accounts name, for showing their provenance. */
  readonly activitySources?: ReadonlyArray<ActivitySource> | undefined
  /**
   * The methods a suspend or restore may be asked to use (`ActionOptions.method`), so a host can refuse any
   * other as bad input before calling the provider. Unset: the provider has no choice of method.
   */
  readonly actionMethods?: ReadonlyArray<string> | undefined
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
 * The id of an action target given as a string or an object.
 *
 * @since 0.2.0
 * @category utils
 */
export const targetOf = (target: string | ActionTarget): ActionTarget =>
  typeof target === "string" ? { externalId: target } : target

/**
 * Builds a connection from an adapter's pages: the `roster` cleans text of control characters, and the
 * checked `accounts` stream is derived from it (duplicates passed once, `Incomplete` on a roster shorter
 * than the source's last reported total). Lookups are cleaned the same way.
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
  readonly lookup?: ProviderConnection["lookup"]
  readonly licenses?: ProviderConnection["licenses"]
  readonly preflight?: ProviderConnection["preflight"]
  readonly suspend?: AccountAction | undefined
  readonly restore?: AccountAction | undefined
}): ProviderConnection => {
  const roster = Stream.map(options.pages, (page) => ({ ...page, accounts: page.accounts.map(sanitizeAccount) }))
  const lookup = options.lookup
  return {
    provider: options.provider,
    budgetKey: options.budgetKey,
    verify: options.verify,
    roster,
    accounts: checkedAccounts(roster, { provider: options.provider, hint: options.incompleteHint }),
    requestStats: options.requestStats,
    incompleteHint: options.incompleteHint,
    lookup: lookup === undefined ? undefined : (id) => Effect.map(lookup(id), Option.map(sanitizeAccount)),
    licenses: options.licenses,
    preflight: options.preflight,
    suspend: options.suspend,
    restore: options.restore
  }
}

/**
 * The error of a roster that came back shorter than the source said it was.
 *
 * @since 0.2.0
 * @category errors
 */
export const incomplete = (options: {
  readonly provider: string
  readonly total: number
  readonly returned: number
  readonly hint?: string | undefined
}): ProviderError =>
  new ProviderError({
    reason: "Incomplete",
    provider: options.provider,
    operation: "accounts",
    description: `the source reported ${options.total} accounts but returned ${options.returned}; the roster is ` +
      `treated as truncated and nothing is changed`,
    hint: options.hint
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
          ? Effect.fail(incomplete({ provider: options.provider, total, returned: seen.size, hint: options.hint }))
          : Effect.void
      )
    ).pipe(Stream.drain)
    return Stream.concat(body, check)
  })

/**
 * Fails with `Unsupported` when a connection does not offer an action.
 *
 * @since 0.1.0
 * @category utils
 */
export const action = (
  connection: ProviderConnection,
  name: ActionKind
): Effect.Effect<AccountAction, ProviderError> =>
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
