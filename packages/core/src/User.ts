/**
 * People who use a host: each with a role and an API token of their own (kept only as a hash), so every
 * decision is audited with the person, not "admin". The host's bootstrap admin token stays for set-up.
 *
 * - `viewer` reads everything; `operator` also syncs, suspends and restores, writes policies and makes
 *   plans; `approver` also approves plans (never their own, under four eyes); `admin` also manages
 *   connections, users, prices and webhooks.
 *
 * @since 0.2.0
 */
import * as Context from "effect/Context"
import type * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type { StoreError } from "./StoreError.js"

/**
 * @since 0.2.0
 * @category models
 */
export const Role = Schema.Literal("viewer", "operator", "approver", "admin")

/**
 * @since 0.2.0
 * @category models
 */
export type Role = typeof Role.Type

const rank: Record<Role, number> = { viewer: 0, operator: 1, approver: 2, admin: 3 }

/**
 * Whether `role` may do what `required` may.
 *
 * @since 0.2.0
 * @category utils
 */
export const allows = (role: Role, required: Role): boolean => rank[role] >= rank[required]

/**
 * A user's name: what the audit trail shows. Not `admin`, `scheduler` or `system`, which the host uses.
 *
 * @since 0.2.0
 * @category models
 */
export const UserName = Schema.Trim.pipe(
  Schema.pattern(/^[\p{L}\p{N}][\p{L}\p{N} ._@'-]{0,99}$/u, {
    message: () => "a name must start with a letter or digit and hold only letters, digits, spaces and . _ @ ' -"
  }),
  Schema.filter((s) => !["admin", "scheduler", "system"].includes(s.toLowerCase()), {
    message: () => "admin, scheduler and system are names the host uses itself"
  })
)

/**
 * @since 0.2.0
 * @category models
 */
export const User = Schema.Struct({
  id: Schema.String,
  name: Schema.String,
  role: Role,
  createdBy: Schema.String,
  createdAt: Schema.String,
  disabledAt: Schema.NullOr(Schema.String)
})

/**
 * @since 0.2.0
 * @category models
 */
export interface User extends Schema.Schema.Type<typeof User> {}

/**
 * The storage port of users. Tokens are never stored, only their SHA-256 (`tokenHash`, hex).
 *
 * @since 0.2.0
 * @category tags
 */
export class UserStore extends Context.Tag("@seatkeeper/core/UserStore")<UserStore, {
  /** Fails `Conflict` when the name is taken. */
  readonly create: (input: {
    readonly name: string
    readonly role: Role
    readonly tokenHash: string
    readonly createdBy: string
  }) => Effect.Effect<User, StoreError>
  readonly list: Effect.Effect<ReadonlyArray<User>, StoreError>
  readonly get: (id: string) => Effect.Effect<Option.Option<User>, StoreError>
  /** The enabled user whose token has this hash. */
  readonly byTokenHash: (tokenHash: string) => Effect.Effect<Option.Option<User>, StoreError>
  readonly update: (
    id: string,
    patch: {
      readonly role?: Role | undefined
      readonly disabled?: boolean | undefined
      readonly tokenHash?: string | undefined
    }
  ) => Effect.Effect<Option.Option<User>, StoreError>
}>() {}
