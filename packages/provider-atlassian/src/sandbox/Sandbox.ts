/**
 * A simulated Atlassian Cloud organisation served over real HTTP on loopback: the v1 managed-accounts
 * listing and org resource, last-active dates, the v2 directories, user search, suspend/restore and
 * workspaces, and the user-management profile, manage and lifecycle calls, with injectable faults,
 * roster scenarios and a gateway-style rate limit.
 *
 * The HTTP side is a Hono app ({@link apiRoutes} and the control API) over a {@link SandboxState}.
 *
 * @since 0.1.0
 */
import { getRequestListener } from "@hono/node-server"
import { Hono } from "hono"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { apiRoutes, unknownRoute } from "./ApiRoutes.js"
import { controlApp } from "./ControlApi.js"
import type { PendingFault, SandboxFault, SandboxFaultOptions } from "./Faults.js"
import type { Env } from "./Http.js"
import { serve } from "./Http.js"
import type { SandboxRateLimit } from "./RateLimitWindow.js"
import type { AddUsersOptions } from "./Roster.js"
import type { SandboxUser, SandboxUserInput, SandboxUserPatch } from "./SandboxUser.js"
import type { CursorMode, SandboxOptions, SandboxRequest } from "./State.js"
import { SandboxState } from "./State.js"
import type { SandboxDirectory, SandboxWorkspace, SandboxWorkspaceInput, SandboxWorkspacePatch } from "./Workspaces.js"

export { DEFAULT_API_KEY, DEFAULT_ORG_ID } from "./State.js"
export type { CursorMode, RosterChangeRecord, SandboxOptions, SandboxRequest } from "./State.js"

/**
 * A running sandbox. `url` stands in for `https://api.atlassian.com`: the listing is at
 * `${url}/admin/v1/orgs/${orgId}/users` and lifecycle calls at `${url}/users/{id}/manage/lifecycle/*`
 * (see ApiRoutes.ts for every endpoint).
 *
 * @since 0.1.0
 * @category models
 */
export interface AtlassianSandbox {
  readonly url: string
  readonly orgId: string
  readonly orgName: string
  readonly apiKey: string
  readonly pageSize: number
  close(): Promise<void>
  /**
   * A copy of the roster in roster order: every user, or (0.2.0) only managed or unmanaged ones. The v1
   * listing serves `users({ claimStatus: "managed" })` in this order.
   */
  users(filter?: { readonly claimStatus?: "managed" | "unmanaged" }): ReadonlyArray<SandboxUser>
  user(id: string): SandboxUser | undefined
  /**
   * Appends `n` generated users (unmanaged ones with `{ claimStatus: "unmanaged" }`, 0.2.0), or the given
   * ones (missing required fields filled in).
   */
  addUsers(n: number | ReadonlyArray<SandboxUserInput>, options?: AddUsersOptions): ReadonlyArray<SandboxUser>
  /** Throws when there is no such user. */
  removeUser(id: string): void
  /** Merges `patch` (a property set to `undefined` is removed). Throws when there is no such user. */
  updateUser(id: string, patch: SandboxUserPatch): SandboxUser
  /** Queues a fault or scenario; matching requests consume queued faults in order. */
  injectFault(fault: SandboxFault, options?: SandboxFaultOptions): void
  clearFaults(): void
  faults(): ReadonlyArray<PendingFault>
  setRateLimit(limit: SandboxRateLimit | false | undefined): void
  readonly rateLimit: SandboxRateLimit | false
  readonly requests: ReadonlyArray<SandboxRequest>
  /**
   * The most requests that arrived within any interval of `windowMs` (sliding, not aligned to the
   * server's window). `include: "accepted"` counts only requests not answered 429; default `"all"`.
   */
  maxRequestsInAnyWindow(windowMs: number, options?: { readonly include?: "all" | "accepted" }): number
  resetLog(): void
  /** @since 0.2.0 */
  readonly cursorMode: CursorMode
  /** @since 0.2.0 */
  setCursorMode(mode: CursorMode): void
  /** @since 0.2.0 */
  readonly emptyOrg: boolean
  /** @since 0.2.0 */
  setEmptyOrg(enabled: boolean): void
  /** @since 0.2.0 */
  directories(): ReadonlyArray<SandboxDirectory>
  /** @since 0.2.0 */
  workspaces(): ReadonlyArray<SandboxWorkspace>
  /** Throws on a duplicate id. @since 0.2.0 */
  addWorkspaces(inputs: ReadonlyArray<SandboxWorkspaceInput>): ReadonlyArray<SandboxWorkspace>
  /** A property set to `undefined` is removed (`usage` then is computed again). @since 0.2.0 */
  updateWorkspace(id: string, patch: SandboxWorkspacePatch): SandboxWorkspace
  /** @since 0.2.0 */
  removeWorkspace(id: string): void
}

class Sandbox extends SandboxState implements AtlassianSandbox {
  private readonly server
  private closing: Promise<void> | undefined

  constructor(options: SandboxOptions) {
    super(options)
    const app = new Hono<Env>({ strict: false })
    app.route("/__sandbox", controlApp(this))
    for (const api of apiRoutes) for (const path of api.paths) app.all(path, serve(this, api))
    app.notFound(serve(this, unknownRoute))
    // Not overriding the global Request/Response: the sandbox shares its process with tests and clients.
    this.server = createServer(getRequestListener(app.fetch, { overrideGlobalObjects: false }))
    // Keep-alive sockets must not hold close() up.
    this.server.keepAliveTimeout = 5_000
  }

  listen(port: number, host: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject)
      this.server.listen(port, host, () => {
        this.server.off("error", reject)
        const address = this.server.address() as AddressInfo
        const hostPart = address.family === "IPv6" ? `[${address.address}]` : address.address
        this.url = `http://${hostPart}:${address.port}`
        this.roster.serveFrom(this.url)
        resolve()
      })
    })
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      for (const timer of this.timers) clearTimeout(timer)
      this.timers.clear()
      this.closing = new Promise<void>((resolve) => {
        this.server.close(() => resolve())
        this.server.closeAllConnections()
      })
    }
    return this.closing
  }
}

/**
 * Starts a sandbox org on loopback. Close it with `close()`.
 *
 * @example
 * ```ts
 * const sandbox = await startSandbox({ users: 250, pageSize: 100 })
 * const res = await fetch(`${sandbox.url}/admin/v1/orgs/${sandbox.orgId}/users`, {
 *   headers: { authorization: `Bearer ${sandbox.apiKey}` }
 * })
 * await sandbox.close()
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const startSandbox = async (options: SandboxOptions = {}): Promise<AtlassianSandbox> => {
  const sandbox = new Sandbox(options)
  await sandbox.listen(options.port ?? 0, options.host ?? "127.0.0.1")
  return sandbox
}
