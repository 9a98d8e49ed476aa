// A real SCIM 2.0 service on loopback that nobody here wrote: SCIMMY (RFC 7643/7644 resources, filtering,
// paging, PATCH) behind scimmy-routers on express, with an in-memory user store. The adapter's tests, the
// conformance suite and the README example run against it.
//
// SCIMMY keeps its resource declarations and ServiceProviderConfig in module-level singletons, so the
// User handlers are declared once and find each server's own store through scimmy-routers' `context`.
import express from "express"
import type { AddressInfo } from "node:net"
import SCIMMY from "scimmy"
import SCIMMYRouters from "scimmy-routers"

/** A user as the store keeps it (what egress hands SCIMMY, which formats it per RFC 7643). */
export interface StoredUser {
  id: string
  userName: string
  displayName?: string
  name?: { givenName?: string; familyName?: string }
  emails?: Array<{ value: string; type?: string; primary?: boolean }>
  active: boolean
  groups?: Array<{ value: string; display?: string; type?: string }>
  roles?: Array<{ value: string; display?: string; primary?: boolean }>
  entitlements?: Array<{ value: string; display?: string }>
  meta?: { created: Date; lastModified: Date }
  [ActivityExtension.id]?: { lastLoginAt?: string }
}

/** An example vendor extension with a last sign-in, as some apps document one. */
export const ActivityExtension = {
  id: "urn:ietf:params:scim:schemas:extension:acme:2.0:User",
  attribute: "urn:ietf:params:scim:schemas:extension:acme:2.0:User:lastLoginAt"
} as const

export interface RecordedRequest {
  readonly at: number
  readonly method: string
  readonly path: string
  readonly query: Record<string, unknown>
  readonly body: unknown
  readonly authorization: string | undefined
}

export interface ScimServer {
  /** The SCIM base URL, e.g. `http://127.0.0.1:PORT/scim/v2`. */
  readonly url: string
  readonly token: string
  /** Every request that reached the server, bad tokens included, in arrival order. */
  readonly requests: Array<RecordedRequest>
  readonly users: () => ReadonlyArray<StoredUser>
  readonly user: (id: string) => StoredUser | undefined
  readonly add: (users: ReadonlyArray<StoredUser>) => void
  readonly remove: (id: string) => void
  readonly close: () => Promise<void>
}

interface Store {
  readonly users: Map<string, StoredUser>
}

const Activity = new SCIMMY.Types.SchemaDefinition("Activity", ActivityExtension.id, "Sign-in activity", [
  new SCIMMY.Types.Attribute("dateTime", "lastLoginAt", { mutable: false })
])

// SCIMMY sends no scimType for a null one (its own 404s do this); its typings ask for a string.
const noScimType = null as unknown as string

const storeOf = (ctx: unknown): Store => {
  const store = (ctx as { store?: Store } | undefined)?.store
  if (store === undefined) throw new SCIMMY.Types.Error(500, noScimType, "no store in context")
  return store
}

const notFound = (id: string | undefined) => new SCIMMY.Types.Error(404, noScimType, `Resource ${id} not found`)

let declared = false
const declare = () => {
  if (declared) return
  declared = true
  // SCIMMY accepts a SchemaDefinition here (its runtime checks for one); its typings name only Schema classes.
  SCIMMY.Resources.declare(SCIMMY.Resources.User.extend(Activity as unknown as typeof SCIMMY.Types.Schema, false))
    .egress((resource, ctx) => {
      const { users } = storeOf(ctx)
      if (resource.id !== undefined) {
        const user = users.get(resource.id)
        if (user === undefined) throw notFound(resource.id)
        return user
      }
      // SCIMMY filters nothing itself; this store answers unfiltered lists (the adapter never filters) and
      // SCIMMY's ListResponse applies startIndex/count to them.
      return [...users.values()]
    })
    .ingress((resource, instance, ctx) => {
      const { users } = storeOf(ctx)
      const data = JSON.parse(JSON.stringify(instance)) as Partial<StoredUser> & { schemas?: unknown; meta?: unknown }
      delete data.schemas
      delete data.meta
      const now = new Date()
      if (resource.id === undefined) {
        const id = `u-${users.size + 1}-${Math.random().toString(36).slice(2, 8)}`
        const created: StoredUser = {
          active: true,
          userName: id,
          ...data,
          id,
          meta: { created: now, lastModified: now }
        }
        users.set(id, created)
        return created
      }
      const existing = users.get(resource.id)
      if (existing === undefined) throw notFound(resource.id)
      // PUT and PATCH both arrive here with the whole user: read-only groups stay the store's, absent if they
      // were absent (an absent attribute is not an empty one).
      const { groups: _groups, ...writable } = data
      const updated: StoredUser = {
        ...existing,
        ...writable,
        id: existing.id,
        meta: { created: existing.meta?.created ?? now, lastModified: now }
      }
      users.set(existing.id, updated)
      return updated
    })
    .degress((resource, ctx) => {
      const { users } = storeOf(ctx)
      if (resource.id === undefined || !users.delete(resource.id)) throw notFound(resource.id)
    })
}

/** A deterministic roster: every fourth user is inactive, users carry groups, a role and entitlements. */
export const generateUsers = (count: number, prefix = "user"): Array<StoredUser> =>
  Array.from({ length: count }, (_, i) => {
    const n = i + 1
    const created = new Date(Date.UTC(2025, 0, 1 + (n % 28)))
    return {
      id: `${prefix}-${String(n).padStart(4, "0")}`,
      userName: `${prefix}${n}@acme.test`,
      displayName: `User ${n}`,
      name: { givenName: "User", familyName: String(n) },
      emails: [{ value: `${prefix}${n}@acme.test`, type: "work", primary: true }],
      active: n % 4 !== 0,
      groups: n % 3 === 0
        ? []
        : [{ value: `grp-${n % 3}`, display: n % 3 === 1 ? "Engineering" : "Sales", type: "direct" }],
      roles: n % 5 === 0 ? [{ value: "admin", display: "Admin", primary: true }] : [],
      entitlements: [{ value: n % 2 === 0 ? "pro" : "basic", display: n % 2 === 0 ? "Pro seat" : "Basic seat" }],
      meta: { created, lastModified: created }
    }
  })

/**
 * Starts a SCIMMY service on 127.0.0.1 with `users` (a count to generate, or the users themselves) and a
 * bearer token. Every request is recorded with its arrival time before authentication.
 */
export const startScimServer = async (options: {
  readonly users?: number | ReadonlyArray<StoredUser>
  readonly token?: string
} = {}): Promise<ScimServer> => {
  declare()
  const token = options.token ?? "scim-token-7f3c9a2e"
  const initial = typeof options.users === "number" || options.users === undefined
    ? generateUsers(options.users ?? 0)
    : options.users
  const store: Store = { users: new Map(initial.map((u) => [u.id, structuredClone(u)])) }
  const requests: Array<RecordedRequest> = []

  const app = express()
  app.use((req, _res, next) => {
    requests.push({
      at: Date.now(),
      method: req.method,
      path: req.path,
      query: { ...req.query },
      body: undefined,
      authorization: req.header("authorization")
    })
    next()
  })
  app.use(express.json({ type: ["application/scim+json", "application/json"] }))
  app.use((req, _res, next) => {
    const last = requests[requests.length - 1]
    if (last !== undefined && req.body !== undefined) requests[requests.length - 1] = { ...last, body: req.body }
    next()
  })
  app.use(
    "/scim/v2",
    new SCIMMYRouters({
      type: "bearer",
      handler: (req) => {
        if (req.header("authorization") !== `Bearer ${token}`) throw new Error("The bearer token is not valid")
        return "admin"
      },
      context: () => ({ store })
    })
  )

  const server = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
    const s = app.listen(0, "127.0.0.1", () => resolve(s))
  })
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/scim/v2`,
    token,
    requests,
    users: () => [...store.users.values()],
    user: (id) => store.users.get(id),
    add: (users) => {
      for (const u of users) store.users.set(u.id, structuredClone(u))
    },
    remove: (id) => {
      store.users.delete(id)
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      })
  }
}
