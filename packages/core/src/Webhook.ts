/**
 * Webhooks: a URL per event kind that hears about what needs a person (a plan ready for approval, a
 * plan executed, a sync failed or held), as Slack-compatible JSON signed with an HMAC header.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import type * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type { StoreError } from "./StoreError.js"

/**
 * @since 0.2.0
 * @category models
 */
export const WebhookEvent = Schema.Literal("plan.ready", "plan.executed", "sync.failed", "sync.held")

/**
 * @since 0.2.0
 * @category models
 */
export type WebhookEvent = typeof WebhookEvent.Type

/**
 * A webhook as shown: never its secret.
 *
 * @since 0.2.0
 * @category models
 */
export const Webhook = Schema.Struct({
  id: Schema.String,
  url: Schema.String,
  events: Schema.Array(WebhookEvent),
  createdBy: Schema.String,
  createdAt: Schema.String
})

/**
 * @since 0.2.0
 * @category models
 */
export interface Webhook extends Schema.Schema.Type<typeof Webhook> {}

/**
 * A webhook with its signing secret, for the sender only.
 *
 * @since 0.2.0
 * @category models
 */
export interface WebhookTarget extends Webhook {
  readonly secret: Redacted.Redacted<string>
}

/**
 * One attempt to deliver an event, kept for the admin to see.
 *
 * @since 0.2.0
 * @category models
 */
export const Delivery = Schema.Struct({
  id: Schema.String,
  webhookId: Schema.String,
  event: WebhookEvent,
  at: Schema.String,
  attempts: Schema.Int,
  status: Schema.Literal("delivered", "failed"),
  /** The receiver's HTTP status, or what went wrong. */
  detail: Schema.String
})

/**
 * @since 0.2.0
 * @category models
 */
export interface Delivery extends Schema.Schema.Type<typeof Delivery> {}

/**
 * The storage port of webhooks. Secrets are stored encrypted, like connection secrets.
 *
 * @since 0.2.0
 * @category tags
 */
export class WebhookStore extends Context.Tag("@seatkeeper/core/WebhookStore")<WebhookStore, {
  readonly create: (input: {
    readonly url: string
    readonly events: ReadonlyArray<WebhookEvent>
    readonly secret: Redacted.Redacted<string>
    readonly createdBy: string
  }) => Effect.Effect<Webhook, StoreError>
  readonly list: Effect.Effect<ReadonlyArray<Webhook>, StoreError>
  readonly remove: (id: string) => Effect.Effect<boolean, StoreError>
  /** The webhooks subscribed to an event, with their secrets. */
  readonly targets: (event: WebhookEvent) => Effect.Effect<ReadonlyArray<WebhookTarget>, StoreError>
  readonly get: (id: string) => Effect.Effect<Option.Option<Webhook>, StoreError>
  readonly recordDelivery: (delivery: Omit<Delivery, "id">) => Effect.Effect<void, StoreError>
  /** Newest first. */
  readonly deliveries: (webhookId: string, limit: number) => Effect.Effect<ReadonlyArray<Delivery>, StoreError>
}>() {}
