/**
 * The inventory as users read it (accounts, seats, products, totals) and the two things they do to it:
 * suspend and restore an account (or a dry run of either, answered by the provider's read-only preflight
 * where it has one), each audited.
 *
 * @since 0.2.0
 */
import type { ActionPreflight, ActionReceipt } from "@seatkeeper/core/Action"
import { ActionKind } from "@seatkeeper/core/Action"
import { ConnectionStore } from "@seatkeeper/core/Connection"
import type { InventoryTotals, Page, ProductSnapshot, ProductSummary } from "@seatkeeper/core/Inventory"
import { InventoryStore } from "@seatkeeper/core/Inventory"
import * as Provider from "@seatkeeper/core/Provider"
import { ProviderError } from "@seatkeeper/core/ProviderError"
import { type StoreError } from "@seatkeeper/core/StoreError"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { Conflict, InvalidInput, NotFound } from "../errors.js"
import { AccountAction, type AccountFilters, badCursor, decodeBody, type SeatFilters } from "../inputs.js"
import { providerById } from "../ProviderRegistry.js"
import { type AccountDetailView, type AccountView, accountView, activitySourcesOf, type SeatView } from "../views.js"
import { AuditLog } from "./AuditLog.js"
import { Upstream } from "./Upstream.js"
import { type Principal, requireRole } from "./Users.js"

/**
 * What a suspend or restore did (or, for a dry run, would do).
 *
 * @since 0.1.0
 * @category views
 */
export const ActionView = Schema.Struct({
  name: ActionKind,
  dryRun: Schema.Boolean,
  from: Schema.String,
  to: Schema.String,
  reason: Schema.NullOr(Schema.String),
  /** The provider's method (`lifecycle`, `directory`), when known. */
  method: Schema.NullOr(Schema.String),
  methodLabel: Schema.NullOr(Schema.String),
  /** A dry run's preflight answer: whether the provider would carry it out, and why not. */
  preflight: Schema.NullOr(Schema.Struct({
    allowed: Schema.Boolean,
    reason: Schema.NullOr(Schema.String),
    code: Schema.NullOr(Schema.String),
    hint: Schema.NullOr(Schema.String)
  })),
  /** In words: `would change active → suspended`, `would be refused: managed by SCIM`. */
  summary: Schema.String
}).annotations({ identifier: "Action" })

/**
 * @since 0.1.0
 * @category views
 */
export interface ActionView extends Schema.Schema.Type<typeof ActionView> {}

/**
 * @since 0.1.0
 * @category models
 */
export interface ActionResult {
  readonly account: AccountView
  readonly action: ActionView
}

const targetStatus = { suspend: "suspended", restore: "active" } as const

const preflightView = (p: ActionPreflight) => ({
  allowed: p.allowed,
  reason: p.reason ?? null,
  code: p.code ?? null,
  hint: p.hint ?? null
})

/**
 * @since 0.2.0
 * @category services
 */
export class Accounts extends Effect.Service<Accounts>()("app/Accounts", {
  accessors: true,
  scoped: Effect.gen(function*() {
    const inventory = yield* InventoryStore
    const connections = yield* ConnectionStore
    const upstream = yield* Upstream
    const audit = yield* AuditLog
    // Suspends and restores run here, owned by the host: stopping it cancels a call in flight and audits it
    // before the store closes, instead of leaving it running on a closed store, unrecorded.
    const fibers = yield* FiberSet.make<unknown, unknown>()
    const owned = <A, E>(effect: Effect.Effect<A, E>): Effect.Effect<A, E> =>
      Effect.flatMap(FiberSet.run(fibers, effect), Fiber.join)

    const requireConnection = (id: string) =>
      connections.get(id).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new NotFound({ resource: "connection", id })),
          onSome: Effect.succeed
        }))
      )

    // `withTotal: false` (an export walking every page): the store does not count, and `total` is -1.
    const list = Effect.fn("Accounts.list")(function*(
      connectionId: string,
      filters: AccountFilters,
      options?: { readonly withTotal?: boolean | undefined }
    ) {
      yield* requireConnection(connectionId)
      const page = yield* inventory.listAccounts({ connectionId, ...filters, withTotal: options?.withTotal }).pipe(
        Effect.catchTag("StoreError", badCursor(filters.cursor))
      )
      return { ...page, data: page.data.map(accountView) } satisfies Page<AccountView>
    })

    const get = Effect.fn("Accounts.get")(function*(connectionId: string, externalId: string) {
      const record = yield* requireConnection(connectionId)
      const found = yield* inventory.getAccount(connectionId, externalId)
      if (Option.isNone(found)) return yield* Effect.fail(new NotFound({ resource: "account", id: externalId }))
      const { account, history } = found.value
      return {
        ...accountView(account),
        history,
        activitySources: activitySourcesOf(account, providerById(upstream.registry, record.provider))
      } satisfies AccountDetailView
    })

    const seats = Effect.fn("Accounts.seats")(function*(
      connectionId: string,
      filters: SeatFilters,
      options?: { readonly withTotal?: boolean | undefined }
    ) {
      yield* requireConnection(connectionId)
      const page = yield* inventory.listSeats({ connectionId, ...filters, withTotal: options?.withTotal }).pipe(
        Effect.catchTag("StoreError", badCursor(filters.cursor))
      )
      return {
        ...page,
        data: page.data.map((seat): SeatView => {
          const { entitlements, ...account } = accountView({ ...seat.account, entitlements: [seat.entitlement] })
          return { account, entitlement: entitlements[0]! }
        })
      } satisfies Page<SeatView>
    })

    const products = (connectionId: string): Effect.Effect<ReadonlyArray<ProductSummary>, NotFound | StoreError> =>
      requireConnection(connectionId).pipe(Effect.zipRight(inventory.listProducts(connectionId)))

    const trend = (
      connectionId: string,
      runs: number
    ): Effect.Effect<ReadonlyArray<ProductSnapshot>, NotFound | StoreError> =>
      requireConnection(connectionId).pipe(Effect.zipRight(inventory.productTrend(connectionId, runs)))

    const totals = (connectionId: string): Effect.Effect<InventoryTotals, NotFound | StoreError> =>
      requireConnection(connectionId).pipe(Effect.zipRight(inventory.totals(connectionId)))

    const act = (name: ActionKind) =>
      Effect.fn(`Accounts.${name}`)(
        function*(connectionId: string, externalId: string, input: unknown, principal: Principal) {
          yield* requireRole(principal, "operator", `${name} accounts`)
          const actor = principal.name
          // No body is every default (a real action); `null` is a body, and not an object.
          const body = yield* decodeBody(AccountAction, input === undefined ? {} : input)
          const record = yield* requireConnection(connectionId)
          const found = yield* inventory.getAccount(connectionId, externalId)
          if (Option.isNone(found)) return yield* Effect.fail(new NotFound({ resource: "account", id: externalId }))
          const before = found.value.account
          const target = {
            externalId,
            managed: before.managed ?? undefined,
            roles: before.roles,
            attributes: before.attributes
          }
          const to = targetStatus[name]
          // Nothing to change: an answer of "changed suspended → suspended" would claim an action that did not
          // happen. The sync's reading, or an earlier action, already put it there.
          if (before.status === to) {
            return yield* Effect.fail(
              new Conflict({
                message: `account ${externalId} is already ${to}: there is nothing to ${name}`,
                hint: name === "suspend"
                  ? "restore it first to suspend it another way, or sync the connection if it changed upstream"
                  : "sync the connection if it changed upstream"
              })
            )
          }
          const record_ = (outcome: "ok" | "error" | "dry-run", detail: string | null, method: string | null) =>
            audit.record({
              actor,
              action: `account.${name}`,
              connectionId,
              target: externalId,
              input: { reason: body.reason ?? null, dryRun: body.dryRun, ...(method === null ? {} : { method }) },
              outcome,
              detail
            })

          // Only the upstream call can be interrupted (the host stopping): once it has answered, the local
          // status and the audit event are written whatever happens.
          return yield* owned(Effect.uninterruptibleMask((restore) =>
            Effect.gen(function*() {
              const provider = yield* upstream.providerOf(record)
              if (!provider.capabilities.has(name)) {
                const error = new ProviderError({
                  reason: "Unsupported",
                  provider: provider.id,
                  operation: name,
                  description: `${provider.displayName} does not support ${name}`
                })
                yield* record_("error", error.message, null)
                return yield* Effect.fail(error)
              }
              const known = provider.actionMethods
              if (body.method !== undefined && known !== undefined && !known.includes(body.method)) {
                return yield* Effect.fail(InvalidInput.fromIssues([{
                  path: ["method"],
                  message: `method must be one of ${known.join(", ")} (${provider.displayName}'s methods); ` +
                    "leave it out to let Seatkeeper pick the one the account needs"
                }]))
              }
              const connection = yield* restore(upstream.connect(record))
              if (body.dryRun) {
                // A dry run changes nothing upstream: at most the provider's read-only preflight answers.
                const preflight = connection.preflight === undefined
                  ? undefined
                  : yield* restore(connection.preflight(target, name, { method: body.method })).pipe(
                    Effect.tapError((e) => record_("error", e.message, null))
                  )
                const summary = preflight !== undefined && !preflight.allowed
                  ? `would be refused: ${preflight.reason ?? "the provider does not allow it"}`
                  : `would change ${before.status} → ${to}${
                    preflight === undefined ? "" : ` (${preflight.methodLabel})`
                  }`
                yield* record_("dry-run", `${summary}; nothing was changed`, preflight?.method ?? null)
                const action: ActionView = {
                  name,
                  dryRun: true,
                  from: before.status,
                  to,
                  reason: body.reason ?? null,
                  method: preflight?.method ?? null,
                  methodLabel: preflight?.methodLabel ?? null,
                  preflight: preflight === undefined ? null : preflightView(preflight),
                  summary
                }
                return { account: accountView(before), action } satisfies ActionResult
              }
              const call = yield* Provider.action(connection, name)
              const receipt: ActionReceipt = yield* restore(call(target, { reason: body.reason, method: body.method }))
                .pipe(
                  Effect.tapError((e) => record_("error", e.message, null)),
                  Effect.onInterrupt(() =>
                    record_(
                      "error",
                      `interrupted: the host stopped while the ${name} was in progress; if ${record.provider} received it, ` +
                        "the next sync shows the account's status",
                      null
                    ).pipe(Effect.ignore)
                  )
                )
              const after = yield* inventory.recordAction(connectionId, externalId, to, name).pipe(
                Effect.tapError((e) =>
                  record_(
                    "error",
                    `done upstream, but the local status was not recorded (${e.message}); the next sync records it`,
                    receipt.method
                  )
                )
              )
              yield* record_("ok", `${before.status} -> ${to} (${receipt.methodLabel})`, receipt.method)
              const action: ActionView = {
                name,
                dryRun: false,
                from: before.status,
                to,
                reason: body.reason ?? null,
                method: receipt.method,
                methodLabel: receipt.methodLabel,
                preflight: null,
                summary: `changed ${before.status} → ${to} (${receipt.methodLabel})`
              }
              return { account: accountView(Option.getOrElse(after, () => before)), action } satisfies ActionResult
            })
          ))
        }
      )

    return {
      list,
      get,
      seats,
      products,
      trend,
      totals,
      suspend: act("suspend"),
      restore: act("restore")
    } as const
  })
}) {}

/**
 * @since 0.2.0
 * @category models
 */
export type AccountsError = NotFound | InvalidInput | ProviderError | StoreError
