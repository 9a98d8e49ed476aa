/**
 * Everything a sandbox knows, apart from HTTP: the roster, workspaces and directories, the fault queue,
 * the rate-limit window, the request log and the scenario switches. The API routes and the control API
 * are both functions over this state.
 *
 * @since 0.2.0
 */
import { maxInAnyWindow } from "@seatkeeper/core/RequestBudget"
import type { CursorCodec, StateCursorCodec } from "./Cursor.js"
import { cursorCodec, stateCursorCodec } from "./Cursor.js"
import type { PendingFault, SandboxFault, SandboxFaultOptions, SandboxRoute } from "./Faults.js"
import { FaultQueue } from "./Faults.js"
import type { RateDecision, SandboxRateLimit } from "./RateLimitWindow.js"
import { FixedWindow, validateRateLimit } from "./RateLimitWindow.js"
import type { AddUsersOptions } from "./Roster.js"
import { Roster } from "./Roster.js"
import type { SandboxUser, SandboxUserInput, SandboxUserPatch } from "./SandboxUser.js"
import { defaultReferenceTime } from "./SandboxUser.js"
import type { SandboxDirectory, SandboxWorkspace, SandboxWorkspaceInput, SandboxWorkspacePatch } from "./Workspaces.js"
import {
  completeWorkspace,
  defaultDirectory,
  defaultWorkspaces,
  usageByProduct,
  workspaceProblem
} from "./Workspaces.js"

/**
 * The API key a sandbox accepts unless told otherwise. Not a secret: it only opens a loopback sandbox.
 *
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_API_KEY = "sandbox-org-api-key-not-a-secret"

/**
 * @since 0.1.0
 * @category constants
 */
export const DEFAULT_ORG_ID = "sandbox-org-0001"

/**
 * How a listing serves a cursor issued before the roster changed: `offset` (the default) serves the
 * position it names, so accounts can be skipped or repeated exactly as an offset cursor would; `strict`
 * refuses it with 400 `ADMIN-400-1`.
 *
 * @since 0.2.0
 * @category models
 */
export type CursorMode = "offset" | "strict"

/**
 * @since 0.1.0
 * @category models
 */
export interface SandboxOptions {
  /** Default `"sandbox-org-0001"`. */
  readonly orgId?: string
  /** Default `"Acme (sandbox)"`. */
  readonly orgName?: string
  /** The one key the sandbox accepts as `Authorization: Bearer <key>`; default {@link DEFAULT_API_KEY}. */
  readonly apiKey?: string
  /** A number of (managed) users generated from `seed`, or the users themselves. Default 50. */
  readonly users?: number | ReadonlyArray<SandboxUserInput>
  /** Extra unmanaged users generated from `seed`, after `users` (0.2.0); default 0. */
  readonly unmanaged?: number
  /** Seed of the user generator; default 1. */
  readonly seed?: number
  /** The instant generated last-activity dates count back from (ms); default the start of today (UTC). */
  readonly referenceTime?: number
  /** Users per page of the v1 listing (Atlassian has no page-size parameter); default 100. */
  readonly pageSize?: number
  /** A fixed-window gateway rate limit; default `false` (none). */
  readonly rateLimit?: SandboxRateLimit | false
  /** Replaces the default workspaces (one per product and site of `productCatalog`) (0.2.0). */
  readonly workspaces?: ReadonlyArray<SandboxWorkspaceInput>
  /** Replaces the default directory (one, named after the org) (0.2.0). Users default to the first. */
  readonly directories?: ReadonlyArray<SandboxDirectory>
  /** Default `"offset"` (0.2.0). */
  readonly cursorMode?: CursorMode
  /**
   * The v1 listing answers an empty org (`{"data":[],"meta":{"total":0}}`) as when the org's domain
   * verification lapsed, while the users still answer profile lookups and v2 search (0.2.0). Default false.
   */
  readonly emptyOrg?: boolean
  /** Default 0 (any free port). */
  readonly port?: number
  /** Default `"127.0.0.1"`. Keep it on loopback. */
  readonly host?: string
}

/**
 * What a `rosterChange` scenario did.
 *
 * @since 0.2.0
 * @category models
 */
export interface RosterChangeRecord {
  readonly removed: ReadonlyArray<string>
  readonly added: ReadonlyArray<string>
}

/**
 * One request the sandbox received (the `/__sandbox/` control API is not logged). `status` is 0 while
 * in flight and for a connection the sandbox reset; `body` is recorded for requests with one (parsed
 * JSON, or the raw text when it is not JSON). `staleCursor` (0.2.0) is set on listing requests with a
 * cursor: whether it was issued before the roster last changed. `rosterChange` (0.2.0) is what a
 * scenario changed right after this page was served.
 *
 * @since 0.1.0
 * @category models
 */
export interface SandboxRequest {
  readonly method: string
  readonly path: string
  readonly query: string
  readonly route: SandboxRoute
  readonly at: number
  readonly status: number
  readonly authorized: boolean
  readonly body?: unknown
  readonly fault?: SandboxFault["kind"]
  readonly staleCursor?: boolean
  readonly rosterChange?: RosterChangeRecord
}

/**
 * A log entry while its request is being answered.
 *
 * @since 0.2.0
 * @category models
 */
export type MutableRequest = { -readonly [K in keyof SandboxRequest]: SandboxRequest[K] }

const positiveInteger = (value: number, name: string): number => {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number >= 1, got ${value}`)
  return value
}

/**
 * The state of one sandbox org.
 *
 * @since 0.2.0
 * @category models
 */
export class SandboxState {
  url = ""
  readonly orgId: string
  readonly orgName: string
  readonly apiKey: string
  readonly pageSize: number
  readonly roster: Roster
  readonly queue = new FaultQueue()
  readonly v1Cursor: CursorCodec
  readonly v2Cursor: StateCursorCodec
  readonly workspaceCursor: StateCursorCodec
  readonly directoryCursor: StateCursorCodec
  readonly startedAt = Date.now()
  readonly timers = new Set<ReturnType<typeof setTimeout>>()
  private window: FixedWindow | undefined
  private log: Array<MutableRequest> = []
  private mode: CursorMode
  private empty: boolean
  private readonly directoryList: ReadonlyArray<SandboxDirectory>
  private workspaceList: Array<SandboxWorkspace>
  private usage: { readonly version: number; readonly counts: Map<string, number> } | undefined

  constructor(options: SandboxOptions) {
    this.orgId = options.orgId ?? DEFAULT_ORG_ID
    if (this.orgId.length === 0 || this.orgId.includes("/")) {
      throw new TypeError(`orgId must be a non-empty string without "/", got ${JSON.stringify(this.orgId)}`)
    }
    this.orgName = options.orgName ?? "Acme (sandbox)"
    this.apiKey = options.apiKey ?? DEFAULT_API_KEY
    if (this.apiKey.length === 0) throw new TypeError("apiKey must not be empty")
    this.pageSize = positiveInteger(options.pageSize ?? 100, "pageSize")
    this.roster = new Roster(options.seed ?? 1, options.referenceTime ?? defaultReferenceTime())
    this.v1Cursor = cursorCodec(this.orgId)
    this.v2Cursor = stateCursorCodec(this.orgId, "v2-users")
    this.workspaceCursor = stateCursorCodec(this.orgId, "workspaces")
    this.directoryCursor = stateCursorCodec(this.orgId, "directories")
    this.setRateLimit(options.rateLimit)
    this.mode = this.checkMode(options.cursorMode ?? "offset")
    this.empty = options.emptyOrg === true
    this.directoryList = options.directories?.length
      ? options.directories.map((d) => ({ ...d }))
      : [defaultDirectory(this.orgId, this.orgName)]
    this.roster.add(options.users ?? 50)
    if (options.unmanaged !== undefined) this.roster.add(options.unmanaged, { claimStatus: "unmanaged" })
    this.workspaceList = options.workspaces === undefined
      ? [...defaultWorkspaces(this.roster.all())]
      : options.workspaces.map((w) => this.checkWorkspace(completeWorkspace(w)))
  }

  // ---- roster

  /** Every user in roster order, or only managed / unmanaged ones. */
  users(filter?: { readonly claimStatus?: "managed" | "unmanaged" }): ReadonlyArray<SandboxUser> {
    if (filter?.claimStatus === "managed") return this.roster.managedUsers().slice()
    if (filter?.claimStatus === "unmanaged") return this.roster.all().filter((u) => u.claimStatus === "unmanaged")
    return this.roster.all()
  }

  user(id: string): SandboxUser | undefined {
    return this.roster.get(id)
  }

  addUsers(n: number | ReadonlyArray<SandboxUserInput>, options?: AddUsersOptions): ReadonlyArray<SandboxUser> {
    return this.roster.add(n, options)
  }

  removeUser(id: string): void {
    this.roster.remove(id)
  }

  updateUser(id: string, patch: SandboxUserPatch): SandboxUser {
    return this.roster.update(id, patch)
  }

  /** The directory a user belongs to (the first one when it names none). */
  directoryOf(user: SandboxUser): string {
    return user.directoryId ?? this.directoryList[0]!.directoryId
  }

  /**
   * Applies a `rosterChange` scenario after a page that served `served`: removes the last `remove` of
   * them (or the named ids) and appends `add` users.
   */
  applyRosterChange(
    fault: Extract<SandboxFault, { readonly kind: "rosterChange" }>,
    served: ReadonlyArray<SandboxUser>
  ): RosterChangeRecord {
    const removed: Array<string> = []
    if (typeof fault.remove === "number") {
      for (const user of served.slice(Math.max(0, served.length - fault.remove))) removed.push(user.account_id)
    } else if (fault.remove !== undefined) {
      for (const id of fault.remove) if (this.roster.get(id) !== undefined) removed.push(id)
    }
    for (const id of removed) this.roster.remove(id)
    const added = fault.add === undefined ? [] : this.roster.add(fault.add)
    return { removed, added: added.map((u) => u.account_id) }
  }

  // ---- workspaces and directories

  directories(): ReadonlyArray<SandboxDirectory> {
    return this.directoryList
  }

  workspaces(): ReadonlyArray<SandboxWorkspace> {
    return this.workspaceList.slice()
  }

  addWorkspaces(inputs: ReadonlyArray<SandboxWorkspaceInput>): ReadonlyArray<SandboxWorkspace> {
    const added = inputs.map((input) => this.checkWorkspace(completeWorkspace(input)))
    const ids = new Set(this.workspaceList.map((w) => w.id))
    for (const ws of added) {
      if (ids.has(ws.id)) throw new Error(`addWorkspaces: a workspace with id ${ws.id} already exists`)
      ids.add(ws.id)
    }
    this.workspaceList.push(...added)
    return added
  }

  updateWorkspace(id: string, patch: SandboxWorkspacePatch): SandboxWorkspace {
    const i = this.workspaceList.findIndex((w) => w.id === id)
    if (i === -1) throw new Error(`updateWorkspace: no workspace with id ${id}`)
    if (patch.id !== undefined && patch.id !== id) throw new Error(`updateWorkspace: id cannot change (${id})`)
    const next: Record<string, unknown> = { ...this.workspaceList[i]! }
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) delete next[key]
      else next[key] = value
    }
    const ws = this.checkWorkspace(next as unknown as SandboxWorkspace)
    this.workspaceList[i] = ws
    return ws
  }

  removeWorkspace(id: string): void {
    const before = this.workspaceList.length
    this.workspaceList = this.workspaceList.filter((w) => w.id !== id)
    if (this.workspaceList.length === before) throw new Error(`removeWorkspace: no workspace with id ${id}`)
  }

  /** Seats in use per `"<key> <host>"`, recomputed when the roster changed. */
  usageCounts(): Map<string, number> {
    if (this.usage?.version !== this.roster.version) {
      this.usage = { version: this.roster.version, counts: usageByProduct(this.roster.all()) }
    }
    return this.usage.counts
  }

  private checkWorkspace(ws: SandboxWorkspace): SandboxWorkspace {
    const problem = workspaceProblem(ws)
    if (problem !== undefined) throw new TypeError(problem)
    return ws
  }

  // ---- scenario switches

  get cursorMode(): CursorMode {
    return this.mode
  }

  setCursorMode(mode: CursorMode): void {
    this.mode = this.checkMode(mode)
  }

  get emptyOrg(): boolean {
    return this.empty
  }

  setEmptyOrg(enabled: boolean): void {
    if (typeof enabled !== "boolean") {
      throw new TypeError(`emptyOrg must be true or false, got ${JSON.stringify(enabled)}`)
    }
    this.empty = enabled
  }

  private checkMode(mode: unknown): CursorMode {
    if (mode !== "offset" && mode !== "strict") {
      throw new TypeError(`cursorMode must be "offset" or "strict", got ${JSON.stringify(mode)}`)
    }
    return mode
  }

  // ---- faults and rate limit

  injectFault(fault: SandboxFault, options?: SandboxFaultOptions): void {
    this.queue.add(fault, options)
  }

  clearFaults(): void {
    this.queue.clear()
  }

  faults(): ReadonlyArray<PendingFault> {
    return this.queue.pending()
  }

  get rateLimit(): SandboxRateLimit | false {
    return this.window?.limit ?? false
  }

  get rateWindow(): FixedWindow | undefined {
    return this.window
  }

  setRateLimit(limit: SandboxRateLimit | false | undefined): void {
    const checked = validateRateLimit(limit)
    this.window = checked === false ? undefined : new FixedWindow(checked, this.startedAt)
  }

  /** Counts a request against the rate limit, if there is one. */
  hit(at: number): RateDecision | undefined {
    return this.window?.hit(at)
  }

  // ---- observation

  get requests(): ReadonlyArray<SandboxRequest> {
    return this.log
  }

  record(entry: MutableRequest): void {
    this.log.push(entry)
  }

  resetLog(): void {
    this.log = []
  }

  maxRequestsInAnyWindow(windowMs: number, options?: { readonly include?: "all" | "accepted" }): number {
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${windowMs}`)
    const accepted = options?.include === "accepted"
    return maxInAnyWindow(this.log.filter((r) => !accepted || r.status !== 429).map((r) => r.at), windowMs)
  }

  /** What `GET /__sandbox` answers: counts and settings, never the key. */
  info() {
    const all = this.roster.size
    const managed = this.roster.managedUsers().length
    return {
      url: this.url,
      orgId: this.orgId,
      orgName: this.orgName,
      pageSize: this.pageSize,
      users: all,
      managedUsers: managed,
      unmanagedUsers: all - managed,
      rateLimit: this.rateLimit,
      faults: this.faults(),
      cursorMode: this.mode,
      emptyOrg: this.empty,
      directories: this.directoryList,
      workspaces: this.workspaceList.length
    }
  }
}
