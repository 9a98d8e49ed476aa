/**
 * The host's application service: every operation the HTTP API and the web pages offer, as Effects over
 * the store and the providers. Handlers stay thin: they decode a request, call one of these and render
 * the result or the error (see `errors.ts`).
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberSet from "effect/FiberSet"
import * as Layer from "effect/Layer"
import { processOwner } from "@seatkeeper/store/SyncOwner"
import { type Accounts, makeAccounts } from "./service/accounts.js"
import { type Connections, makeConnections } from "./service/connections.js"
import { makeHostContext } from "./service/HostContext.js"
import { makeSyncs, type Syncs } from "./service/syncs.js"

export type { ActionResult, ActionView } from "./service/accounts.js"
export type { ProviderView } from "./service/connections.js"
export type { Actor } from "./service/HostContext.js"

/**
 * @since 0.1.0
 * @category tags
 */
export class Seatkeeper extends Context.Tag("@seatkeeper/host/Seatkeeper")<
  Seatkeeper,
  Connections & Syncs & Accounts
>() {}

/**
 * Runs one operation of the service: `use((s) => s.listAccounts(id, filters))`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const use = <A, E>(f: (seatkeeper: Seatkeeper["Type"]) => Effect.Effect<A, E>): Effect.Effect<A, E, Seatkeeper> =>
  Effect.flatMap(Seatkeeper, f)

/**
 * Needs the store, the provider registry, an `HttpClient` and the request budget. Running syncs, suspends
 * and restores belong to this layer's scope: closing it interrupts them (a sync is marked `interrupted`
 * with nothing applied; an action in flight is audited as interrupted) before the store below it closes.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = Layer.scoped(
  Seatkeeper,
  Effect.gen(function*() {
    const ctx = yield* makeHostContext
    const fibers = yield* FiberSet.make<unknown, unknown>()
    return Seatkeeper.of({
      ...makeConnections(ctx),
      ...makeSyncs(ctx, { fibers, owner: processOwner }),
      ...makeAccounts(ctx, { fibers })
    })
  })
)
