/**
 * `@seatkeeper/provider-atlassian/sandbox`: a simulated Atlassian Cloud organisation served over real
 * HTTP on loopback, for the adapter's tests, benchmarks, the host's demo and consumers' own tests.
 *
 * - {@link startSandbox} starts one (Promise API); {@link make} is the same as a scoped Effect.
 * - `url` stands in for `https://api.atlassian.com`; the key is sent as `Authorization: Bearer <apiKey>`.
 * - Endpoints: see ApiRoutes.ts (v1 users, orgs and last-active dates; v2 directories, user search,
 *   suspend/restore and workspaces; user-management profile, manage and lifecycle).
 * - Roster control (`addUsers`, `updateUser`, `removeUser`), workspaces (`addWorkspaces`, ...), faults
 *   and scenarios (`injectFault`, e.g. `rosterChange`, `echoHeaders`), cursor mode (`setCursorMode`),
 *   empty-org mode (`setEmptyOrg`), a fixed-window rate limit (`setRateLimit`) and the request log are
 *   available in process and over HTTP under `/__sandbox/` (see ControlApi.ts for the table).
 * - `node dist/sandbox/cli.js --help` runs one as a separate process.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import type { AtlassianSandbox, SandboxOptions } from "./Sandbox.js"
import { startSandbox } from "./Sandbox.js"

export type { V2SearchBody, WorkspaceQuery, WorkspacesBody } from "./Bodies.js"
export type {
  PendingFault,
  SandboxErrorShape,
  SandboxFault,
  SandboxFaultOptions,
  SandboxFaultStatus,
  SandboxFaultTarget,
  SandboxRoute
} from "./Faults.js"
export { SANDBOX_ROUTES, validateFault } from "./Faults.js"
export type { SandboxRateLimit } from "./RateLimitWindow.js"
export { formatReset } from "./RateLimitWindow.js"
export type { AddUsersOptions } from "./Roster.js"
export type { AtlassianSandbox, CursorMode, RosterChangeRecord, SandboxOptions, SandboxRequest } from "./Sandbox.js"
export { DEFAULT_API_KEY, DEFAULT_ORG_ID, startSandbox } from "./Sandbox.js"
export type { SandboxProductAccess, SandboxUser, SandboxUserInput, SandboxUserPatch } from "./SandboxUser.js"
export {
  defaultReferenceTime,
  generateUnmanagedUser,
  generateUser,
  generateUsers,
  productCatalog,
  SANDBOX_ONLY_FIELDS
} from "./SandboxUser.js"
export type { V2Expand } from "./Wire.js"
export { compositeStatus } from "./Wire.js"
export type { SandboxDirectory, SandboxWorkspace, SandboxWorkspaceInput, SandboxWorkspacePatch } from "./Workspaces.js"
export { defaultWorkspaces, hostOf, productAri } from "./Workspaces.js"

/**
 * A sandbox that lives as long as the enclosing `Scope`.
 *
 * @example
 * ```ts
 * Effect.scoped(Effect.gen(function*() {
 *   const sandbox = yield* Sandbox.make({ users: 10 })
 *   // ... point the adapter at sandbox.url
 * }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options?: SandboxOptions): Effect.Effect<AtlassianSandbox, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => startSandbox(options)),
    (sandbox) => Effect.promise(() => sandbox.close())
  )
