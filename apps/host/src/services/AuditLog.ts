/**
 * The audit trail as the host writes it (invariant 9): every connection change, sync start and finish,
 * held-run decision, suspend and restore, with the actor, the input (secrets masked by the caller) and
 * the outcome.
 *
 * @since 0.2.0
 */
import { type AuditEvent, type AuditQuery, AuditStore } from "@seatkeeper/core/Audit"
import type { Page } from "@seatkeeper/core/Inventory"
import type { StoreError } from "@seatkeeper/core/StoreError"
import * as Effect from "effect/Effect"
import { type InvalidInput } from "../errors.js"
import { badCursor } from "../inputs.js"

/**
 * Who asked for an operation, as the audit log records it: `admin` (the bootstrap token), `scheduler`,
 * `system`, or a user's name.
 *
 * @since 0.2.0
 * @category models
 */
export type Actor = string

/**
 * @since 0.2.0
 * @category services
 */
export class AuditLog extends Effect.Service<AuditLog>()("app/AuditLog", {
  effect: Effect.gen(function*() {
    const store = yield* AuditStore
    return {
      record: (event: Omit<AuditEvent, "id" | "at">): Effect.Effect<void, StoreError> =>
        Effect.asVoid(store.append(event)),
      /** A cursor the store did not make (`Corrupt`) is the caller's input: a 400 with the field named. */
      list: (query: AuditQuery): Effect.Effect<Page<AuditEvent>, InvalidInput | StoreError> =>
        store.list(query).pipe(Effect.catchTag("StoreError", badCursor(query.cursor)))
    } as const
  })
}) {}
