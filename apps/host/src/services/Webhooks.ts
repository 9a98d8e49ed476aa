/**
 * Webhooks: each event a person should hear about (a plan ready for approval, a plan executed, a sync
 * failed or held) is POSTed as Slack-compatible JSON (`text` plus the event's data) to every webhook
 * subscribed to it, signed with an HMAC-SHA256 of `<timestamp>.<body>` in `X-Seatkeeper-Signature:
 * t=<unix seconds>,v1=<hex>`, and retried with backoff. Deliveries run in the background and are recorded.
 *
 * @since 0.2.0
 */
import { BaseUrl } from "@seatkeeper/core/ProviderConfig"
import type { StoreError } from "@seatkeeper/core/StoreError"
import {
  type Webhook,
  type WebhookEvent,
  WebhookEvent as WebhookEventSchema,
  WebhookStore
} from "@seatkeeper/core/Webhook"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"
import { type Forbidden, NotFound } from "../errors.js"
import { decodeBody } from "../inputs.js"
import { AuditLog } from "./AuditLog.js"
import { type Principal, requireRole } from "./Users.js"

/**
 * The body of `POST /api/webhooks`.
 *
 * @since 0.2.0
 * @category bodies
 */
export const CreateWebhook = Schema.Struct({
  url: BaseUrl("https://hooks.slack.com/services/…").annotations({ description: "Where events are POSTed" }),
  events: Schema.NonEmptyArray(WebhookEventSchema),
  /** The signing secret; at least 16 characters. Generated when left out (shown once). */
  secret: Schema.optional(
    Schema.String.pipe(Schema.minLength(16, { message: () => "secret must be at least 16 characters" }))
  )
})

/**
 * The signature header value of a body sent at `timestamp` (unix seconds).
 *
 * @since 0.2.0
 * @category utils
 */
export const sign = (secret: string, timestamp: number, body: string): string =>
  `t=${timestamp},v1=${Crypto.createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`

class DeliveryFailed extends Schema.TaggedError<DeliveryFailed>()("DeliveryFailed", { detail: Schema.String }) {}

/**
 * @since 0.2.0
 * @category services
 */
export class Webhooks extends Effect.Service<Webhooks>()("app/Webhooks", {
  accessors: true,
  scoped: Effect.gen(function*() {
    const store = yield* WebhookStore
    const audit = yield* AuditLog
    const fibers = yield* FiberSet.make<unknown, unknown>()

    const deliverOne = (
      target: { readonly id: string; readonly url: string; readonly secret: Redacted.Redacted<string> },
      event: WebhookEvent,
      body: string
    ) =>
      Effect.gen(function*() {
        let attempts = 0
        const attempt = Effect.tryPromise({
          try: async () => {
            attempts++
            const timestamp = Math.floor(Date.now() / 1000)
            const res = await fetch(target.url, {
              method: "POST",
              headers: {
                "content-type": "application/json",
                "x-seatkeeper-event": event,
                "x-seatkeeper-signature": sign(Redacted.value(target.secret), timestamp, body)
              },
              body,
              redirect: "manual",
              signal: AbortSignal.timeout(10_000)
            })
            await res.arrayBuffer().catch(() => undefined)
            if (res.status >= 300) throw new Error(`HTTP ${res.status}`)
            return res.status
          },
          catch: (e) => new DeliveryFailed({ detail: e instanceof Error ? e.message : String(e) })
        })
        const outcome = yield* attempt.pipe(
          Effect.retry(
            Schedule.exponential("500 millis", 2).pipe(Schedule.jittered, Schedule.intersect(Schedule.recurs(4)))
          ),
          Effect.either
        )
        yield* store.recordDelivery({
          webhookId: target.id,
          event,
          at: new Date().toISOString(),
          attempts,
          status: outcome._tag === "Right" ? "delivered" : "failed",
          detail: outcome._tag === "Right" ? `HTTP ${outcome.right}` : outcome.left.detail
        })
      }).pipe(Effect.catchAllCause((cause) => Effect.logWarning("a webhook delivery could not be recorded", cause)))

    /** Sends `event` to every webhook subscribed to it, in the background. */
    const notify = (event: WebhookEvent, text: string, data: Record<string, unknown>): Effect.Effect<void> =>
      Effect.gen(function*() {
        const targets = yield* store.targets(event)
        if (targets.length === 0) return
        const body = JSON.stringify({ text, event, ...data })
        for (const target of targets) yield* FiberSet.run(fibers, deliverOne(target, event, body))
      }).pipe(Effect.catchAllCause((cause) => Effect.logWarning("webhooks could not be read", cause)))

    const create = Effect.fn("Webhooks.create")(function*(input: unknown, principal: Principal) {
      yield* requireRole(principal, "admin", "manage webhooks")
      const body = yield* decodeBody(CreateWebhook, input)
      const secret = body.secret ?? `whsec_${Crypto.randomBytes(24).toString("base64url")}`
      const webhook = yield* store.create({
        url: body.url,
        events: body.events,
        secret: Redacted.make(secret),
        createdBy: principal.name
      })
      yield* audit.record({
        actor: principal.name,
        action: "webhook.create",
        connectionId: null,
        target: webhook.id,
        input: { url: body.url, events: body.events },
        outcome: "ok",
        detail: null
      })
      // The secret is shown once, when generated; a secret the admin typed is not echoed back.
      return { ...webhook, ...(body.secret === undefined ? { secret } : {}) }
    })

    const remove = Effect.fn("Webhooks.remove")(function*(id: string, principal: Principal) {
      yield* requireRole(principal, "admin", "manage webhooks")
      if (!(yield* store.remove(id))) return yield* Effect.fail(new NotFound({ resource: "webhook", id }))
      yield* audit.record({
        actor: principal.name,
        action: "webhook.delete",
        connectionId: null,
        target: id,
        input: {},
        outcome: "ok",
        detail: null
      })
    })

    return {
      notify,
      create,
      remove,
      list: (principal: Principal): Effect.Effect<ReadonlyArray<Webhook>, StoreError | Forbidden> =>
        Effect.zipRight(requireRole(principal, "admin", "list webhooks"), store.list),
      deliveries: Effect.fn("Webhooks.deliveries")(function*(id: string, principal: Principal) {
        yield* requireRole(principal, "admin", "read webhook deliveries")
        // An unknown webhook is a 404, not an empty list that reads as "nothing was sent".
        if (Option.isNone(yield* store.get(id))) return yield* Effect.fail(new NotFound({ resource: "webhook", id }))
        return yield* store.deliveries(id, 50)
      })
    } as const
  })
}) {}
