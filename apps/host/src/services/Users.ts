/**
 * People and their roles: who a token belongs to (the bootstrap admin token, or a user's own token, which
 * the store keeps only as a SHA-256), and managing users (admins only), each change audited.
 *
 * @since 0.2.0
 */
import type { StoreError } from "@seatkeeper/core/StoreError"
import { allows, type Role, User, UserName, UserStore } from "@seatkeeper/core/User"
import { Role as RoleSchema } from "@seatkeeper/core/User"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"
import { Forbidden, InvalidInput, NotFound } from "../errors.js"
import { decodeBody } from "../inputs.js"
import { AuditLog } from "./AuditLog.js"

/**
 * Who is asking: the bootstrap admin (`admin`), or a user.
 *
 * @since 0.2.0
 * @category models
 */
export interface Principal {
  readonly name: string
  readonly role: Role
  readonly userId: string | null
}

/**
 * The bootstrap admin token's principal.
 *
 * @since 0.2.0
 * @category constants
 */
export const bootstrapAdmin: Principal = { name: "admin", role: "admin", userId: null }

/**
 * The scheduler's principal: it starts the syncs a connection's interval asks for (an operator's right)
 * and nothing more.
 *
 * @since 0.2.0
 * @category constants
 */
export const schedulerPrincipal: Principal = { name: "scheduler", role: "operator", userId: null }

/**
 * What a role may do, in words, for a 403 that says what is needed.
 *
 * @since 0.2.0
 * @category utils
 */
export const requireRole = (principal: Principal, required: Role, what: string): Effect.Effect<void, Forbidden> =>
  allows(principal.role, required)
    ? Effect.void
    : Effect.fail(
      new Forbidden({ message: `${principal.name} (${principal.role}) may not ${what}: it needs the ${required} role` })
    )

// One message for a role that is none of them, instead of Schema's "Expected ..." per role (the OpenAPI
// document keeps the enum).
const RoleInput = Schema.String.pipe(
  Schema.filter((r): r is Role => (RoleSchema.literals as ReadonlyArray<string>).includes(r), {
    message: () => `role must be one of ${RoleSchema.literals.join(", ")}`,
    jsonSchema: { enum: [...RoleSchema.literals] }
  })
)

/**
 * The body of `POST /api/users`.
 *
 * @since 0.2.0
 * @category bodies
 */
export const CreateUser = Schema.Struct({ name: UserName, role: RoleInput })

/**
 * The body of `PATCH /api/users/:id`.
 *
 * @since 0.2.0
 * @category bodies
 */
export const UpdateUser = Schema.Struct({
  role: Schema.optional(RoleInput),
  disabled: Schema.optional(Schema.Boolean),
  /** `true` issues a new token (shown once) and revokes the old one. */
  newToken: Schema.optional(Schema.Boolean)
})

/**
 * A user with the token issued now: the only time it is shown.
 *
 * @since 0.2.0
 * @category views
 */
export const UserWithToken = Schema.Struct({ ...User.fields, token: Schema.String }).annotations({
  identifier: "UserWithToken"
})

/**
 * A token's SHA-256 (hex): what the store keeps, and what a web session keeps to re-check its login.
 *
 * @since 0.2.0
 * @category utils
 */
export const hashOf = (token: string) => Crypto.createHash("sha256").update(token, "utf8").digest("hex")

// A recognisable prefix, so a leaked token is found by secret scanners and never mistaken for a password.
const newToken = () => `sk_${Crypto.randomBytes(32).toString("base64url")}`

/**
 * @since 0.2.0
 * @category services
 */
export class Users extends Effect.Service<Users>()("app/Users", {
  accessors: true,
  effect: Effect.gen(function*() {
    const store = yield* UserStore
    const audit = yield* AuditLog

    /**
     * The principal of a token's hash (`hashOf`); `None` when it is nobody's (or a disabled user's). Both
     * sides are hashes, compared in constant time, so the time taken never tells how much of a guess matched.
     */
    const authenticateHash = (
      hash: string,
      adminToken: Redacted.Redacted<string>
    ): Effect.Effect<Option.Option<Principal>, StoreError> => {
      const given = Buffer.from(hash.padEnd(64, "0").slice(0, 64), "hex")
      if (
        given.length === 32 && Crypto.timingSafeEqual(given, Buffer.from(hashOf(Redacted.value(adminToken)), "hex"))
      ) {
        return Effect.succeed(Option.some(bootstrapAdmin))
      }
      return Effect.map(store.byTokenHash(hash), Option.map((u) => ({ name: u.name, role: u.role, userId: u.id })))
    }

    /** The principal of a token; `None` when it is nobody's (or a disabled user's). */
    const authenticate = (token: string, adminToken: Redacted.Redacted<string>) =>
      authenticateHash(hashOf(token), adminToken)

    const create = Effect.fn("Users.create")(function*(input: unknown, principal: Principal) {
      yield* requireRole(principal, "admin", "manage users")
      const body = yield* decodeBody(CreateUser, input)
      const token = newToken()
      const user = yield* store.create({
        name: body.name,
        role: body.role,
        tokenHash: hashOf(token),
        createdBy: principal.name
      }).pipe(
        Effect.catchIf(
          (e) => e.reason === "Conflict",
          () =>
            Effect.fail(
              InvalidInput.fromIssues([{
                path: ["name"],
                message: `a user named ${body.name} exists; pick another name`
              }])
            )
        )
      )
      yield* audit.record({
        actor: principal.name,
        action: "user.create",
        connectionId: null,
        target: user.id,
        input: { name: body.name, role: body.role },
        outcome: "ok",
        detail: null
      })
      return { ...user, token }
    })

    const update = Effect.fn("Users.update")(function*(id: string, input: unknown, principal: Principal) {
      yield* requireRole(principal, "admin", "manage users")
      const body = yield* decodeBody(UpdateUser, input)
      const token = body.newToken === true ? newToken() : undefined
      const updated = yield* store.update(id, {
        role: body.role,
        disabled: body.disabled,
        tokenHash: token === undefined ? undefined : hashOf(token)
      })
      if (Option.isNone(updated)) return yield* Effect.fail(new NotFound({ resource: "user", id }))
      yield* audit.record({
        actor: principal.name,
        action: "user.update",
        connectionId: null,
        target: id,
        input: { ...body, ...(token === undefined ? {} : { newToken: true }) },
        outcome: "ok",
        detail: null
      })
      return token === undefined ? updated.value : { ...updated.value, token }
    })

    return {
      authenticate,
      authenticateHash,
      create,
      update,
      list: (principal: Principal) => Effect.zipRight(requireRole(principal, "admin", "list users"), store.list)
    } as const
  })
}) {}
