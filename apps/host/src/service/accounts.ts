/**
 * Accounts, per-product apps and the audit log; suspend and restore (or their dry runs), each audited.
 *
 * @since 0.1.0
 */
import type { AccountStatus } from "@seatkeeper/core/Account"
import type { AppSummary, AuditEvent, Page } from "@seatkeeper/core/LicenseStore"
import { StoreError } from "@seatkeeper/core/LicenseStore"
import * as Provider from "@seatkeeper/core/Provider"
import { ProviderError } from "@seatkeeper/core/ProviderError"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import { InvalidInput, NotFound } from "../errors.js"
import { AccountAction, type AccountFilters, type AuditQuery, decodeBody } from "../inputs.js"
import { type AccountDetailView, type AccountView, accountView } from "../views.js"
import type { Actor, HostContext } from "./HostContext.js"

/**
 * What a suspend or restore did (or, for a dry run, would do).
 *
 * @since 0.1.0
 * @category views
 */
export interface ActionView {
  readonly name: "suspend" | "restore"
  readonly dryRun: boolean
  readonly from: AccountStatus
  readonly to: AccountStatus
  readonly reason: string | null
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ActionResult {
  readonly account: AccountView
  readonly action: ActionView
}

type ListError = NotFound | InvalidInput | StoreError

/**
 * @since 0.1.0
 * @category models
 */
export interface Accounts {
  readonly listAccounts: (connectionId: string, filters: AccountFilters) => Effect.Effect<Page<AccountView>, ListError>
  readonly getAccount: (connectionId: string, externalId: string) => Effect.Effect<AccountDetailView, NotFound | StoreError>
  readonly listApps: (connectionId: string) => Effect.Effect<ReadonlyArray<AppSummary>, NotFound | StoreError>
  readonly listAppAccounts: (
    connectionId: string,
    key: string,
    filters: AccountFilters
  ) => Effect.Effect<Page<AccountView>, ListError>
  /** `input` is `{reason?, dryRun?}`. A dry run calls nothing upstream and changes nothing. */
  readonly suspend: (
    connectionId: string,
    externalId: string,
    input: unknown,
    actor: Actor
  ) => Effect.Effect<ActionResult, NotFound | InvalidInput | ProviderError | StoreError>
  readonly restore: Accounts["suspend"]
  readonly listAudit: (query: AuditQuery) => Effect.Effect<Page<AuditEvent>, InvalidInput | StoreError>
}

/** The store rejects a cursor it did not make with `Corrupt`: that is the caller's input, so a 400. */
const badCursor = (cursor: string | undefined) => (e: StoreError): Effect.Effect<never, InvalidInput | StoreError> =>
  cursor !== undefined && e.reason === "Corrupt"
    ? Effect.fail(InvalidInput.fromIssues([{ path: ["cursor"], message: "cursor is not one this list returned; start again without it" }]))
    : Effect.fail(e)

const targetStatus = { suspend: "suspended", restore: "active" } as const

/**
 * @since 0.1.0
 * @category constructors
 */
export const makeAccounts = (
  ctx: HostContext,
  options: {
    /**
     * Where suspends and restores run. Owned by the host, so that stopping it cancels a call in flight
     * and audits it before the store closes, instead of leaving it running on a closed store, unrecorded.
     */
    readonly fibers?: FiberSet.FiberSet<unknown, unknown> | undefined
  } = {}
): Accounts => {
  const { store } = ctx

  const owned = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
    options.fibers === undefined ? effect : Effect.flatMap(FiberSet.run(options.fibers, effect), Fiber.join)

  const listAccounts = (connectionId: string, filters: AccountFilters) =>
    ctx.requireConnection(connectionId).pipe(
      Effect.zipRight(store.listAccounts({ connectionId, ...filters })),
      Effect.catchTag("StoreError", badCursor(filters.cursor)),
      Effect.map((page) => ({ ...page, data: page.data.map(accountView) }))
    )

  const listAppAccounts = (connectionId: string, key: string, filters: AccountFilters) =>
    ctx.requireConnection(connectionId).pipe(
      Effect.zipRight(store.listAppAccounts({ connectionId, entitlementKey: key, ...filters })),
      Effect.catchTag("StoreError", badCursor(filters.cursor)),
      Effect.map((page) => ({ ...page, data: page.data.map(accountView) }))
    )

  const getAccount = (connectionId: string, externalId: string) =>
    ctx.requireConnection(connectionId).pipe(
      Effect.zipRight(store.getAccount(connectionId, externalId)),
      Effect.flatMap(Option.match({
        onNone: () => Effect.fail(new NotFound({ resource: "account", id: externalId })),
        onSome: ({ account, history }) => Effect.succeed({ ...accountView(account), history })
      }))
    )

  const act = (name: "suspend" | "restore") => (connectionId: string, externalId: string, input: unknown, actor: Actor) =>
    // Only the upstream call can be interrupted (the host stopping): once it has answered, the local
    // status and the audit event are written whatever happens.
    owned(Effect.uninterruptibleMask((restore) => Effect.gen(function*() {
      const body = yield* decodeBody(AccountAction, input ?? {})
      const record = yield* ctx.requireConnection(connectionId)
      const found = yield* store.getAccount(connectionId, externalId)
      if (Option.isNone(found)) return yield* Effect.fail(new NotFound({ resource: "account", id: externalId }))
      const before = found.value.account
      const action: ActionView = {
        name,
        dryRun: body.dryRun,
        from: before.status,
        to: targetStatus[name],
        reason: body.reason ?? null
      }
      const audit = (outcome: AuditEvent["outcome"], detail: string | null) =>
        ctx.audit({
          actor,
          action: `account.${name}`,
          connectionId,
          target: externalId,
          input: { reason: action.reason, dryRun: body.dryRun },
          outcome,
          detail
        })

      const upstream = Effect.gen(function*() {
        const provider = yield* ctx.providerOf(record)
        if (!provider.capabilities.has(name)) {
          return yield* Effect.fail(
            new ProviderError({ reason: "Unsupported", provider: provider.id, operation: name, description: `${provider.displayName} does not support ${name}` })
          )
        }
        // A dry run stops here: it has checked what it can without calling anything upstream.
        if (body.dryRun) return false
        const connection = yield* ctx.connect(record)
        const call = yield* Provider.action(connection, name)
        yield* call(externalId, { reason: body.reason })
        return true
      })
      const applied = yield* restore(upstream).pipe(
        Effect.tapError((e) => audit("error", e.message)),
        Effect.onInterrupt(() =>
          audit(
            "error",
            `interrupted: the host stopped while the ${name} was in progress; if ${record.provider} received it, ` +
              "the next sync shows the account's status"
          ).pipe(Effect.ignore)
        )
      )

      if (!applied) {
        yield* audit("dry-run", `would change ${action.from} to ${action.to}; nothing was called`)
        return { account: accountView(before), action }
      }
      const after = yield* store.setAccountStatus(connectionId, externalId, action.to, name).pipe(
        Effect.tapError((e) => audit("error", `done upstream, but the local status was not recorded (${e.message}); the next sync records it`))
      )
      yield* audit("ok", `${action.from} -> ${action.to}`)
      return { account: accountView(Option.getOrElse(after, () => before)), action }
    })))

  return {
    listAccounts,
    getAccount,
    listApps: (connectionId) => ctx.requireConnection(connectionId).pipe(Effect.zipRight(store.listApps(connectionId))),
    listAppAccounts,
    suspend: act("suspend"),
    restore: act("restore"),
    listAudit: (query) => store.listAudit(query).pipe(Effect.catchTag("StoreError", badCursor(query.cursor)))
  }
}
