/**
 * What the logged-in person may do, for the pages: a control their role cannot use is not shown, and a
 * form their role cannot send is not served (403). The services check the role of every change
 * themselves; the pages never replace that check.
 *
 * @since 0.2.0
 */
import { allows, type Role } from "@seatkeeper/core/User"
import type * as Effect from "effect/Effect"
import type { ErrorDescription, Forbidden } from "../errors.js"
import { requireRole } from "../services/Users.js"
import type { Session } from "./Sessions.js"

/**
 * Whether the session's role allows what `role` may do.
 *
 * @since 0.2.0
 * @category utils
 */
export const can = (session: Session | undefined, role: Role): boolean =>
  session !== undefined && allows(session.principal.role, role)

/**
 * Fails `Forbidden` (403, in the service's words) unless the session's role allows `role`.
 *
 * @since 0.2.0
 * @category utils
 */
export const needs = (session: Session, role: Role, what: string): Effect.Effect<void, Forbidden> =>
  requireRole(session.principal, role, what)

/**
 * The roles in order, with what each may do (the users page explains them).
 *
 * @since 0.2.0
 * @category constants
 */
export const roleHelp: ReadonlyArray<readonly [Role, string]> = [
  ["viewer", "reads everything"],
  ["operator", "also syncs, suspends and restores, writes reclaim policies, makes, executes and undoes plans"],
  ["approver", "also approves plans (never their own under four eyes)"],
  ["admin", "also manages connections, users, prices and webhooks"]
]

/**
 * The 403 a page answers when the session's role does not allow `role`, in the words of the services.
 *
 * @since 0.2.0
 * @category utils
 */
export const forbidden = (session: Session, role: Role, what: string): ErrorDescription => ({
  status: 403,
  code: "forbidden",
  message: `${session.principal.name} (${session.principal.role}) may not ${what}: it needs the ${role} role`,
  hint: "ask an admin to change your role, or log in as someone who has it"
})
