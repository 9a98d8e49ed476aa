/**
 * Actions on one account (suspend, restore) and their read-only preflight: which of the provider's methods
 * applies to the account, and whether the provider would refuse it, before anything is changed.
 *
 * @since 0.2.0
 */
import * as Schema from "effect/Schema"

/**
 * What Seatkeeper asks a provider to do to an account.
 *
 * @since 0.2.0
 * @category models
 */
export const ActionKind = Schema.Literal("suspend", "restore")

/**
 * @since 0.2.0
 * @category models
 */
export type ActionKind = typeof ActionKind.Type

/**
 * The account an action is for: its id and what the last sync knew of it, so the adapter can choose its
 * method (Atlassian: lifecycle disable for a managed account, directory suspend for an unmanaged one)
 * without another request.
 *
 * @since 0.2.0
 * @category models
 */
export interface ActionTarget {
  readonly externalId: string
  readonly managed?: boolean | undefined
  /** Administrative roles (`atlassian/org-admin`): some providers refuse actions on admins. */
  readonly roles?: ReadonlyArray<string> | undefined
  readonly attributes?: Readonly<Record<string, string>> | undefined
}

/**
 * Options of a suspend or restore.
 *
 * @since 0.2.0
 * @category models
 */
export interface ActionOptions {
  /** Why the account is suspended; providers that can store a message (Atlassian) send it. */
  readonly reason?: string | undefined
  /**
   * The provider's method to use (`ActionReceipt.method` of the suspend a restore undoes), so a restore
   * reverses exactly what was done. Default: the method the adapter picks for the target.
   */
  readonly method?: string | undefined
}

/**
 * What an action did: the provider's method, named for people and for the journal.
 *
 * @since 0.2.0
 * @category models
 */
export class ActionReceipt extends Schema.Class<ActionReceipt>("@seatkeeper/core/ActionReceipt")({
  /** The adapter's id of the method (`lifecycle`, `directory`, `scim-active`). */
  method: Schema.String,
  /** What it is called for a person (`Deactivate the Atlassian account (lifecycle disable)`). */
  methodLabel: Schema.String
}) {}

/**
 * The provider's read-only answer to "what would this action do to this account?".
 *
 * @since 0.2.0
 * @category models
 */
export class ActionPreflight extends Schema.Class<ActionPreflight>("@seatkeeper/core/ActionPreflight")({
  action: ActionKind,
  method: Schema.String,
  methodLabel: Schema.String,
  /** Whether the provider would carry it out. */
  allowed: Schema.Boolean,
  /** Why it would be refused, in words (`managed by SCIM`), and the provider's own code. */
  reason: Schema.optional(Schema.String),
  code: Schema.optional(Schema.String),
  hint: Schema.optional(Schema.String)
}) {}
