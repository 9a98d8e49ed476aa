/**
 * The `WebhookStore` of `@seatkeeper/core` over `@effect/sql`. A webhook's signing secret is kept encrypted
 * like a connection's config (AES-256-GCM under a key derived from `SEATKEEPER_SECRET_KEY`, bound to the
 * webhook's id), and read back only by `targets`, for the sender; deliveries are a log, newest first.
 *
 * @since 0.2.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import * as SqlSchema from "@effect/sql/SqlSchema"
import type { StoreError } from "@seatkeeper/core/StoreError"
import {
  type Delivery,
  type Webhook,
  type WebhookEvent,
  WebhookEvent as WebhookEventSchema,
  WebhookStore,
  type WebhookTarget
} from "@seatkeeper/core/Webhook"
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"
import * as Keys from "./internal/keys.js"
import { DeliveryRow, WebhookRow, WebhookTargetRow } from "./internal/rows.js"
import * as SecretBox from "./internal/secretBox.js"
import { contains, iso, orStoreError, text } from "./internal/sql.js"
import * as Migrations from "./Migrations.js"

const columns = "id, url, events_json, created_by, created_at"

const encodeEvents = Schema.encode(Schema.parseJson(Schema.Array(WebhookEventSchema)))

/**
 * The webhook store over the `SqlClient` in context; the schema must be migrated (the layers do it).
 *
 * @since 0.2.0
 * @category constructors
 */
export const make: Effect.Effect<WebhookStore["Type"], never, SqlClient.SqlClient | Keys.StoreKeys> = Effect.gen(
  function*() {
    const sql = yield* SqlClient.SqlClient
    const keys = yield* Keys.StoreKeys
    const context = (id: string) => `webhook:${id}`

    const findById = SqlSchema.findOne({
      Request: Schema.String,
      Result: WebhookRow,
      execute: (id) => sql`SELECT ${sql.literal(columns)} FROM webhooks WHERE id = ${id}`
    })

    const findAll = SqlSchema.findAll({
      Request: Schema.Void,
      Result: WebhookRow,
      execute: () => sql`SELECT ${sql.literal(columns)} FROM webhooks ORDER BY seq`
    })

    // The events are a JSON array of their literals: the quoted name matches exactly one of them.
    const findTargets = SqlSchema.findAll({
      Request: Schema.String,
      Result: WebhookTargetRow,
      execute: (event) =>
        sql`SELECT ${sql.literal(columns)}, secret_ciphertext FROM webhooks
          WHERE ${contains(sql, sql`events_json`, JSON.stringify(event))} ORDER BY seq`
    })

    const findDeliveries = SqlSchema.findAll({
      Request: Schema.Struct({ webhookId: Schema.String, limit: Schema.Number }),
      Result: DeliveryRow,
      execute: ({ limit, webhookId }) =>
        sql`SELECT id, webhook_id, event, at, attempts, status, detail FROM webhook_deliveries
          WHERE webhook_id = ${webhookId} ORDER BY id DESC LIMIT ${limit}`
    })

    const create = Effect.fn("SqlWebhookStore.create")(function*(input: {
      readonly url: string
      readonly events: ReadonlyArray<WebhookEvent>
      readonly secret: Redacted.Redacted<string>
      readonly createdBy: string
    }) {
      const at = iso(yield* Clock.currentTimeMillis)
      const id = Crypto.randomUUID()
      return yield* Effect.gen(function*() {
        yield* sql`INSERT INTO webhooks ${
          sql.insert({
            id,
            url: text(input.url),
            events_json: yield* encodeEvents(input.events),
            secret_ciphertext: SecretBox.encrypt(keys, context(id), Redacted.value(input.secret)),
            created_by: text(input.createdBy),
            created_at: at
          })
        }`
        return Option.getOrThrow(yield* findById(id))
      }).pipe(orStoreError("cannot save the webhook"))
    })

    const list = findAll(undefined).pipe(
      Effect.map((hooks): ReadonlyArray<Webhook> => hooks),
      orStoreError("cannot list the webhooks"),
      Effect.withSpan("SqlWebhookStore.list")
    )

    const get = (id: string) =>
      findById(id).pipe(
        Effect.map((hook): Option.Option<Webhook> => hook),
        orStoreError("cannot read the webhook"),
        Effect.withSpan("SqlWebhookStore.get")
      )

    const remove = Effect.fn("SqlWebhookStore.remove")(function*(id: string) {
      const deleted = yield* sql`DELETE FROM webhooks WHERE id = ${id} RETURNING id`.pipe(
        orStoreError("cannot delete the webhook")
      )
      return deleted.length > 0
    })

    const targets = Effect.fn("SqlWebhookStore.targets")(function*(event: WebhookEvent) {
      const rows = yield* findTargets(event).pipe(orStoreError("cannot read the webhooks"))
      return yield* Effect.forEach(rows, ({ sealed, ...hook }) =>
        Effect.map(
          SecretBox.decrypt(keys, context(hook.id), sealed, `the signing secret of webhook ${hook.id}`),
          (secret): WebhookTarget => ({ ...hook, secret: Redacted.make(secret) })
        ))
    })

    const recordDelivery = Effect.fn("SqlWebhookStore.recordDelivery")(function*(delivery: Omit<Delivery, "id">) {
      yield* sql`INSERT INTO webhook_deliveries ${
        sql.insert({
          webhook_id: delivery.webhookId,
          event: delivery.event,
          at: delivery.at,
          attempts: delivery.attempts,
          status: delivery.status,
          detail: text(delivery.detail)
        })
      }`.pipe(orStoreError("cannot record the webhook's delivery"))
    })

    const deliveries = (webhookId: string, limit: number) =>
      (limit >= 1 ? findDeliveries({ webhookId, limit: Math.floor(limit) }) : Effect.succeed([])).pipe(
        Effect.map((rows): ReadonlyArray<Delivery> => rows),
        orStoreError("cannot read the webhook's deliveries"),
        Effect.withSpan("SqlWebhookStore.deliveries")
      )

    return WebhookStore.of({ create, list, remove, targets, get, recordDelivery, deliveries })
  }
)

/**
 * The webhook store over the `SqlClient` in context, with the schema migrated.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (
  options: { readonly secretKey: Redacted.Redacted<string> }
): Layer.Layer<WebhookStore, StoreError, SqlClient.SqlClient> =>
  Layer.effect(WebhookStore, make).pipe(Layer.provide(Layer.merge(Keys.layer(options.secretKey), Migrations.layer)))
