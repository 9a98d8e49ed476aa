/**
 * The sandbox's ordered list of accounts. Pages are slices by offset, so serving a page never scans the
 * roster; each user's wire JSON (v1, and the pieces of v2) is cached on the (immutable) user object.
 *
 * @since 0.1.0
 */
import type { SandboxUser, SandboxUserInput, SandboxUserPatch } from "./SandboxUser.js"
import { completeUser, generateUnmanagedUser, generateUser, SANDBOX_ONLY_FIELDS, userProblem } from "./SandboxUser.js"

/**
 * Options of `add`: which kind of account generated users are.
 *
 * @since 0.2.0
 * @category models
 */
export interface AddUsersOptions {
  readonly claimStatus?: "managed" | "unmanaged"
}

/**
 * @since 0.1.0
 * @category models
 */
export class Roster {
  private list: Array<SandboxUser> = []
  private index: Map<string, number> | undefined = new Map()
  private nextGenerated = 0
  private nextUnmanaged = 0
  private readonly wire = new WeakMap<SandboxUser, string>()
  private baseUrl: string | undefined
  private managed: { readonly version: number; readonly users: ReadonlyArray<SandboxUser> } | undefined
  private readonly views = new Map<string, { readonly version: number; readonly users: ReadonlyArray<SandboxUser> }>()
  /** Bumped on every change; part of each cursor. */
  version = 0

  constructor(readonly seed: number, readonly referenceTime: number) {}

  get size(): number {
    return this.list.length
  }

  all(): ReadonlyArray<SandboxUser> {
    return this.list.slice()
  }

  get(id: string): SandboxUser | undefined {
    const i = this.positions().get(id)
    return i === undefined ? undefined : this.list[i]
  }

  /** Users at `[offset, end)` of the whole roster. */
  slice(offset: number, end: number): ReadonlyArray<SandboxUser> {
    return this.list.slice(offset, end)
  }

  /** The managed accounts in roster order (the v1 listing); the roster itself when all are managed. */
  managedUsers(): ReadonlyArray<SandboxUser> {
    if (this.managed?.version !== this.version) {
      const users = this.list.some((u) => u.claimStatus === "unmanaged")
        ? this.list.filter((u) => u.claimStatus !== "unmanaged")
        : this.list
      this.managed = { version: this.version, users }
    }
    return this.managed.users
  }

  /**
   * The users matching `keep`, cached under `key` until the roster changes, so paging a filtered v2
   * search scans the roster once, not once per page.
   */
  view(key: string, keep: ((user: SandboxUser) => boolean) | undefined): ReadonlyArray<SandboxUser> {
    if (keep === undefined) return this.list
    const cached = this.views.get(key)
    if (cached?.version === this.version) return cached.users
    if (this.views.size >= 16) this.views.delete(this.views.keys().next().value!)
    const users = this.list.filter(keep)
    this.views.set(key, { version: this.version, users })
    return users
  }

  /**
   * Adds `n` generated users (managed, or unmanaged with `claimStatus: "unmanaged"`), or the given ones
   * (required fields filled in). Throws on a duplicate id.
   */
  add(input: number | ReadonlyArray<SandboxUserInput>, options: AddUsersOptions = {}): ReadonlyArray<SandboxUser> {
    const positions = this.positions()
    const added: Array<SandboxUser> = []
    if (typeof input === "number") {
      if (!Number.isInteger(input) || input < 0) {
        throw new RangeError(`addUsers: expected a non-negative whole number of users, got ${input}`)
      }
      const unmanaged = options.claimStatus === "unmanaged"
      for (let made = 0; made < input;) {
        const user = unmanaged
          ? generateUnmanagedUser(this.seed, this.nextUnmanaged++, this.referenceTime)
          : generateUser(this.seed, this.nextGenerated++, this.referenceTime)
        if (positions.has(user.account_id)) continue // taken by a user supplied earlier
        positions.set(user.account_id, this.list.length)
        this.list.push(user)
        added.push(user)
        made++
      }
    } else {
      const fresh: Array<SandboxUser> = []
      const seen = new Set<string>()
      for (const partial of input) {
        let user: SandboxUser
        do {
          user = completeUser(partial, this.seed, this.nextGenerated++)
        } while (partial.account_id === undefined && (positions.has(user.account_id) || seen.has(user.account_id)))
        const problem = userProblem(user)
        if (problem !== undefined) throw new TypeError(`addUsers: ${problem}`)
        if (positions.has(user.account_id) || seen.has(user.account_id)) {
          throw new Error(`addUsers: a user with account_id ${user.account_id} already exists; ids must be unique`)
        }
        seen.add(user.account_id)
        fresh.push(user)
      }
      for (const user of fresh) {
        positions.set(user.account_id, this.list.length)
        this.list.push(user)
        added.push(user)
      }
    }
    if (added.length > 0) this.version++
    if (this.baseUrl !== undefined) { for (const user of added) this.wireJson(user) }
    return added
  }

  remove(id: string): void {
    const i = this.positions().get(id)
    if (i === undefined) throw new Error(`removeUser: no user with account_id ${id}`)
    this.list.splice(i, 1)
    this.index = undefined // positions after i moved; rebuilt on next lookup
    this.version++
  }

  update(id: string, patch: SandboxUserPatch): SandboxUser {
    const i = this.positions().get(id)
    if (i === undefined) throw new Error(`updateUser: no user with account_id ${id}`)
    if (patch.account_id !== undefined && patch.account_id !== id) {
      throw new Error(`updateUser: account_id cannot change (${id}); remove the user and add a new one instead`)
    }
    const next: Record<string, unknown> = { ...this.list[i]! }
    for (const [key, value] of Object.entries(patch)) {
      if (value === undefined) delete next[key]
      else next[key] = value
    }
    const problem = userProblem(next)
    if (problem !== undefined) throw new TypeError(`updateUser: ${problem}`)
    const user = next as unknown as SandboxUser
    this.list[i] = user
    this.version++
    return user
  }

  /**
   * Sets the server's URL (for `links.self`) and serializes every user now, so serving pages is only
   * joining precomputed strings.
   */
  serveFrom(baseUrl: string): void {
    this.baseUrl = baseUrl
    for (const user of this.list) this.wireJson(user)
  }

  /** The user's v1 wire JSON (sandbox-only fields dropped, `links.self` added), cached per user object. */
  wireJson(user: SandboxUser): string {
    let json = this.wire.get(user)
    if (json === undefined) {
      json = JSON.stringify(toWire(user, this.baseUrl ?? ""))
      this.wire.set(user, json)
    }
    return json
  }

  private positions(): Map<string, number> {
    if (this.index === undefined) {
      const index = new Map<string, number>()
      for (let i = 0; i < this.list.length; i++) index.set(this.list[i]!.account_id, i)
      this.index = index
    }
    return this.index
  }
}

/**
 * The v1 wire form of a user: everything but sandbox-only fields, plus `links.self`.
 *
 * @since 0.1.0
 * @category serialization
 */
export const toWire = (user: SandboxUser, baseUrl: string): Record<string, unknown> => {
  const wire: Record<string, unknown> = { ...user }
  for (const field of SANDBOX_ONLY_FIELDS) delete wire[field]
  wire.links = { self: `${baseUrl}/users/${encodeURIComponent(user.account_id)}/manage` }
  return wire
}
