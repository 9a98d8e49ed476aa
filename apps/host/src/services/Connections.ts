/**
 * Providers and connections: list, create, update, delete and test, each change audited. A change of where
 * a connection sends its secret (base URL, organisation) is refused unless the secret is entered again
 * (invariant 12).
 *
 * @since 0.2.0
 */
import type { Capability } from "@seatkeeper/core/Account"
import { type ConnectionRecord, ConnectionStore } from "@seatkeeper/core/Connection"
import type { ProviderDefinition } from "@seatkeeper/core/Provider"
import type { ConfigField } from "@seatkeeper/core/ProviderConfig"
import { describeConfig } from "@seatkeeper/core/ProviderConfig"
import type { StoreError } from "@seatkeeper/core/StoreError"
import { SyncStore } from "@seatkeeper/core/SyncStore"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { configObjectIssues, maskConfig, mergeConfig, rebindingIssues, validateConfig } from "../connectionConfig.js"
import { InvalidInput, NotFound } from "../errors.js"
import { CreateConnection, decodeBody, UpdateConnection, VerifyConfig } from "../inputs.js"
import { providerById } from "../ProviderRegistry.js"
import { type ConnectionView, connectionView } from "../views.js"
import { AuditLog } from "./AuditLog.js"
import { Upstream } from "./Upstream.js"
import { type Principal, requireRole } from "./Users.js"

/**
 * A provider as `GET /api/providers` shows it: what it can do and the fields of its settings form.
 *
 * @since 0.1.0
 * @category views
 */
export interface ProviderView {
  readonly id: string
  readonly displayName: string
  readonly description: string
  readonly capabilities: ReadonlyArray<Capability>
  readonly configFields: ReadonlyArray<ConfigField>
}

const settingsOf = (body: {
  readonly syncIntervalMinutes?: number | undefined
  readonly holdThresholdPercent?: number | undefined
  readonly maxLookups?: number | undefined
  readonly deadlineMinutes?: number | undefined
}) => ({
  ...(body.syncIntervalMinutes === undefined ? {} : { syncIntervalMinutes: body.syncIntervalMinutes }),
  ...(body.holdThresholdPercent === undefined ? {} : { holdThresholdPercent: body.holdThresholdPercent }),
  ...(body.maxLookups === undefined ? {} : { maxLookups: body.maxLookups }),
  ...(body.deadlineMinutes === undefined ? {} : { deadlineMinutes: body.deadlineMinutes })
})

/**
 * @since 0.2.0
 * @category services
 */
export class Connections extends Effect.Service<Connections>()("app/Connections", {
  accessors: true,
  effect: Effect.gen(function*() {
    const store = yield* ConnectionStore
    const runs = yield* SyncStore
    const upstream = yield* Upstream
    const audit = yield* AuditLog
    const { registry } = upstream

    const view = (record: ConnectionRecord) =>
      Effect.map(
        runs.list(record.id, 1),
        (latest) => connectionView(record, providerById(registry, record.provider), latest[0])
      )

    const require = (id: string): Effect.Effect<ConnectionRecord, NotFound | StoreError> =>
      store.get(id).pipe(
        Effect.flatMap(Option.match({
          onNone: () => Effect.fail(new NotFound({ resource: "connection", id })),
          onSome: Effect.succeed
        }))
      )

    const validateProviderConfig = (providerId: string, input: unknown) =>
      Effect.gen(function*() {
        const provider = providerById(registry, providerId)
        if (provider === undefined) {
          return yield* Effect.fail(InvalidInput.fromIssues([{
            path: ["provider"],
            message: `unknown provider "${providerId}"; known: ${Object.keys(registry).join(", ")}`
          }]))
        }
        const notObject = configObjectIssues(input)
        if (notObject.length > 0) return yield* Effect.fail(InvalidInput.fromIssues(notObject))
        const config = yield* validateConfig(provider, input)
        return { provider, config }
      })

    // Connecting sends nothing; it declares the connection's request budget, so connections to one
    // organisation pace by the strictest of their policies from the start.
    const declareBudget = (record: ConnectionRecord) => upstream.connect(record).pipe(Effect.ignore)

    const listProviders: Effect.Effect<ReadonlyArray<ProviderView>> = Effect.sync(() =>
      Object.values(registry).map((p: ProviderDefinition) => ({
        id: p.id,
        displayName: p.displayName,
        description: p.description,
        capabilities: [...p.capabilities],
        configFields: describeConfig(p.configSchema)
      }))
    )

    // Every change checks the caller's role here, whichever door it came through (API, page, CLI).
    const create = Effect.fn("Connections.create")(function*(input: unknown, principal: Principal) {
      yield* requireRole(principal, "admin", "manage connections")
      const actor = principal.name
      const body = yield* decodeBody(CreateConnection, input)
      const { config, provider } = yield* validateProviderConfig(body.provider, body.config)
      const settings = settingsOf(body)
      const record = yield* store.create({ provider: provider.id, name: body.name, config, ...settings })
      yield* declareBudget(record)
      yield* audit.record({
        actor,
        action: "connection.create",
        connectionId: record.id,
        target: record.id,
        input: { provider: provider.id, name: body.name, config: maskConfig(provider, config), ...settings },
        outcome: "ok",
        detail: null
      })
      return yield* view(record)
    })

    const update = Effect.fn("Connections.update")(function*(id: string, input: unknown, principal: Principal) {
      yield* requireRole(principal, "admin", "manage connections")
      const actor = principal.name
      const body = yield* decodeBody(UpdateConnection, input)
      const existing = yield* require(id)
      const provider = providerById(registry, existing.provider)
      let config: Record<string, unknown> | undefined = undefined
      if (body.config !== undefined) {
        if (provider === undefined) {
          return yield* Effect.fail(InvalidInput.fromIssues([{
            path: ["config"],
            message: `provider "${existing.provider}" is not registered on this host`
          }]))
        }
        // Moving a stored secret to a new destination needs the secret typed again (invariant 12).
        const rebinding = rebindingIssues(provider, existing.config, body.config)
        if (rebinding.length > 0) return yield* Effect.fail(InvalidInput.fromIssues(rebinding))
        config = yield* validateConfig(provider, mergeConfig(provider, existing.config, body.config))
      }
      const settings = settingsOf(body)
      const updated = yield* store.update(id, { name: body.name, config, ...settings })
      if (Option.isNone(updated)) return yield* Effect.fail(new NotFound({ resource: "connection", id }))
      yield* declareBudget(updated.value)
      yield* audit.record({
        actor,
        action: "connection.update",
        connectionId: id,
        target: id,
        input: {
          ...(body.name === undefined ? {} : { name: body.name }),
          ...(config === undefined ? {} : { config: maskConfig(provider, config) }),
          ...settings
        },
        outcome: "ok",
        detail: null
      })
      return yield* view(updated.value)
    })

    const remove = Effect.fn("Connections.remove")(function*(id: string, principal: Principal) {
      yield* requireRole(principal, "admin", "manage connections")
      const actor = principal.name
      const existing = yield* require(id)
      const record = (outcome: "ok" | "error", detail: string | null) =>
        audit.record({
          actor,
          action: "connection.delete",
          connectionId: id,
          target: id,
          input: { name: existing.name },
          outcome,
          detail
        })
      const deleted = yield* store.remove(id).pipe(Effect.tapError((e) => record("error", e.message)))
      if (!deleted) return yield* Effect.fail(new NotFound({ resource: "connection", id }))
      // The connection is gone; the audit event keeps its id so the trail still says what happened.
      yield* record("ok", null)
    })

    const verify = Effect.fn("Connections.verify")(function*(id: string, principal: Principal) {
      yield* requireRole(principal, "operator", "test connections")
      const actor = principal.name
      const record = yield* require(id)
      const audited = (outcome: "ok" | "error", detail: string | null) =>
        audit.record({ actor, action: "connection.verify", connectionId: id, target: id, input: {}, outcome, detail })
      yield* upstream.connect(record).pipe(
        Effect.flatMap((connection) => connection.verify),
        Effect.tapBoth({ onFailure: (e) => audited("error", e.message), onSuccess: () => audited("ok", null) })
      )
      return { ok: true } as const
    })

    const verifyConfig = Effect.fn("Connections.verifyConfig")(function*(input: unknown, principal: Principal) {
      yield* requireRole(principal, "admin", "manage connections")
      const actor = principal.name
      const body = yield* decodeBody(VerifyConfig, input)
      const { config, provider } = yield* validateProviderConfig(body.provider, body.config)
      const auditInput = { provider: provider.id, config: maskConfig(provider, config) }
      const audited = (outcome: "ok" | "error", detail: string | null) =>
        audit.record({
          actor,
          action: "connection.verify",
          connectionId: null,
          target: null,
          input: auditInput,
          outcome,
          detail
        })
      // `config` was just validated, so decoding it again cannot fail.
      const decoded = yield* Effect.orDie(Schema.decodeUnknown(provider.configSchema)(config))
      yield* upstream.connectWith(provider, decoded).pipe(
        Effect.flatMap((connection) => connection.verify),
        Effect.tapBoth({ onFailure: (e) => audited("error", e.message), onSuccess: () => audited("ok", null) })
      )
      return { ok: true } as const
    })

    /** Declares every stored connection's request budget: at start-up, before any sync draws on it. */
    const declareBudgets = Effect.flatMap(
      store.list,
      (records) => Effect.forEach(records, declareBudget, { discard: true })
    )

    return {
      listProviders,
      list: Effect.flatMap(store.list, (records) => Effect.forEach(records, view)),
      get: (id: string): Effect.Effect<ConnectionView, NotFound | StoreError> => Effect.flatMap(require(id), view),
      require,
      create,
      update,
      remove,
      verify,
      verifyConfig,
      declareBudgets
    } as const
  })
}) {}
