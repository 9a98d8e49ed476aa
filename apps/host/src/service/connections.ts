/**
 * Providers and connections: list, create, update, delete and test, each change audited.
 *
 * @since 0.1.0
 */
import type { Capability } from "@seatkeeper/core/Account"
import type { ConnectionRecord, StoreError } from "@seatkeeper/core/LicenseStore"
import type { ConfigField } from "@seatkeeper/core/ProviderConfig"
import { describeConfig } from "@seatkeeper/core/ProviderConfig"
import type { ProviderError } from "@seatkeeper/core/ProviderError"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { configObjectIssues, maskConfig, mergeConfig, validateConfig } from "../connectionConfig.js"
import { InvalidInput, NotFound } from "../errors.js"
import { providerById } from "../ProviderRegistry.js"
import { CreateConnection, decodeBody, UpdateConnection, VerifyConfig } from "../inputs.js"
import { type ConnectionView, connectionView } from "../views.js"
import type { Actor, HostContext } from "./HostContext.js"

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

/**
 * @since 0.1.0
 * @category models
 */
export interface Connections {
  readonly listProviders: Effect.Effect<ReadonlyArray<ProviderView>>
  readonly listConnections: Effect.Effect<ReadonlyArray<ConnectionView>, StoreError>
  readonly getConnection: (id: string) => Effect.Effect<ConnectionView, NotFound | StoreError>
  /** `input` is the `POST /api/connections` body: `{provider, name, config, syncIntervalMinutes?}`. */
  readonly createConnection: (input: unknown, actor: Actor) => Effect.Effect<ConnectionView, InvalidInput | StoreError>
  /** `input` is `{name?, config?, syncIntervalMinutes?}`; `config` merges into the stored one (secrets kept when blank). */
  readonly updateConnection: (
    id: string,
    input: unknown,
    actor: Actor
  ) => Effect.Effect<ConnectionView, NotFound | InvalidInput | StoreError>
  /** Deletes the connection and what was synced under it; fails `Conflict` while a sync runs. */
  readonly deleteConnection: (id: string, actor: Actor) => Effect.Effect<void, NotFound | StoreError>
  /** Checks the stored credentials against the upstream organisation. */
  readonly verifyConnection: (
    id: string,
    actor: Actor
  ) => Effect.Effect<{ readonly ok: true }, NotFound | ProviderError | StoreError>
  /** Checks a config before it is saved (`{provider, config}`, the same fields as a create). */
  readonly verifyConfig: (
    input: unknown,
    actor: Actor
  ) => Effect.Effect<{ readonly ok: true }, InvalidInput | ProviderError | StoreError>
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const makeConnections = (ctx: HostContext): Connections => {
  const { store, registry } = ctx

  const view = (record: ConnectionRecord) =>
    Effect.map(store.listRuns(record.id, 1), (runs) => connectionView(record, providerById(registry, record.provider), runs[0]))

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

  const validateCreate = (input: unknown) =>
    Effect.gen(function*() {
      const body = yield* decodeBody(CreateConnection, input)
      const { config, provider } = yield* validateProviderConfig(body.provider, body.config)
      return { body, provider, config }
    })

  const createConnection = (input: unknown, actor: Actor) =>
    Effect.gen(function*() {
      const { body, config, provider } = yield* validateCreate(input)
      const record = yield* store.createConnection({
        provider: provider.id,
        name: body.name,
        config,
        syncIntervalMinutes: body.syncIntervalMinutes
      })
      yield* ctx.audit({
        actor,
        action: "connection.create",
        connectionId: record.id,
        target: record.id,
        input: { provider: provider.id, name: body.name, config: maskConfig(provider, config), syncIntervalMinutes: body.syncIntervalMinutes },
        outcome: "ok",
        detail: null
      })
      return yield* view(record)
    })

  const updateConnection = (id: string, input: unknown, actor: Actor) =>
    Effect.gen(function*() {
      const body = yield* decodeBody(UpdateConnection, input)
      const existing = yield* ctx.requireConnection(id)
      const provider = providerById(registry, existing.provider)
      let config: unknown = undefined
      if (body.config !== undefined) {
        if (provider === undefined) {
          return yield* Effect.fail(InvalidInput.fromIssues([{ path: ["config"], message: `provider "${existing.provider}" is not registered on this host` }]))
        }
        config = yield* validateConfig(provider, mergeConfig(provider, existing.config, body.config))
      }
      const updated = yield* store.updateConnection(id, {
        name: body.name,
        config,
        syncIntervalMinutes: body.syncIntervalMinutes
      })
      if (updated._tag === "None") return yield* Effect.fail(new NotFound({ resource: "connection", id }))
      yield* ctx.audit({
        actor,
        action: "connection.update",
        connectionId: id,
        target: id,
        input: {
          ...(body.name === undefined ? {} : { name: body.name }),
          ...(config === undefined ? {} : { config: maskConfig(provider, config) }),
          ...(body.syncIntervalMinutes === undefined ? {} : { syncIntervalMinutes: body.syncIntervalMinutes })
        },
        outcome: "ok",
        detail: null
      })
      return yield* view(updated.value)
    })

  const deleteConnection = (id: string, actor: Actor) =>
    Effect.gen(function*() {
      const existing = yield* ctx.requireConnection(id)
      const deleted = yield* store.deleteConnection(id).pipe(
        Effect.tapError((e) =>
          ctx.audit({ actor, action: "connection.delete", connectionId: id, target: id, input: { name: existing.name }, outcome: "error", detail: e.message })
        )
      )
      if (!deleted) return yield* Effect.fail(new NotFound({ resource: "connection", id }))
      // The connection is gone; the audit event keeps its id so the trail still says what happened.
      yield* ctx.audit({ actor, action: "connection.delete", connectionId: id, target: id, input: { name: existing.name }, outcome: "ok", detail: null })
    })

  const verifyConnection = (id: string, actor: Actor) =>
    Effect.gen(function*() {
      const record = yield* ctx.requireConnection(id)
      yield* ctx.connect(record).pipe(
        Effect.flatMap((connection) => connection.verify),
        Effect.tapBoth({
          onFailure: (e) => ctx.audit({ actor, action: "connection.verify", connectionId: id, target: id, input: {}, outcome: "error", detail: e.message }),
          onSuccess: () => ctx.audit({ actor, action: "connection.verify", connectionId: id, target: id, input: {}, outcome: "ok", detail: null })
        })
      )
      return { ok: true } as const
    })

  const verifyConfig = (input: unknown, actor: Actor) =>
    Effect.gen(function*() {
      const body = yield* decodeBody(VerifyConfig, input)
      const { config, provider } = yield* validateProviderConfig(body.provider, body.config)
      const auditInput = { provider: provider.id, config: maskConfig(provider, config) }
      // `config` was just validated, so decoding it again cannot fail.
      const decoded = yield* Effect.orDie(Schema.decodeUnknown(provider.configSchema)(config))
      yield* ctx.connectWith(provider, decoded).pipe(
        Effect.flatMap((connection) => connection.verify),
        Effect.tapBoth({
          onFailure: (e) => ctx.audit({ actor, action: "connection.verify", connectionId: null, target: null, input: auditInput, outcome: "error", detail: e.message }),
          onSuccess: () => ctx.audit({ actor, action: "connection.verify", connectionId: null, target: null, input: auditInput, outcome: "ok", detail: null })
        })
      )
      return { ok: true } as const
    })

  return {
    listProviders: Effect.sync(() =>
      Object.values(registry).map((p) => ({
        id: p.id,
        displayName: p.displayName,
        description: p.description,
        capabilities: [...p.capabilities],
        configFields: describeConfig(p.configSchema)
      }))
    ),
    listConnections: Effect.flatMap(store.listConnections, (records) => Effect.forEach(records, view)),
    getConnection: (id) => Effect.flatMap(ctx.requireConnection(id), view),
    createConnection,
    updateConnection,
    deleteConnection,
    verifyConnection,
    verifyConfig
  }
}
