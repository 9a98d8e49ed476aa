/**
 * The Atlassian endpoints the sandbox serves, as a table of routes over {@link SandboxState}:
 *
 * | Method | Path                                                                  | Route class        |
 * |--------|-----------------------------------------------------------------------|--------------------|
 * | GET    | `/admin/v1/orgs`, `/admin/v1/orgs/{orgId}`                            | `org`              |
 * | GET    | `/admin/v1/orgs/{orgId}/users` (managed accounts, absolute `links.next`) | `users`         |
 * | GET    | `/admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates` | `lastActive`      |
 * | GET    | `/admin/v2/orgs/{orgId}/directories`                                  | `directories`      |
 * | POST   | `/admin/v2/orgs/{orgId}/directories/{directoryId}/users/search`       | `directoryUsers`   |
 * | POST   | `/admin/v2/orgs/{orgId}/directories/{directoryId}/users/{accountId}/suspend` and `/restore` | `directorySuspend` |
 * | POST   | `/admin/v2/orgs/{orgId}/workspaces`                                   | `workspaces`       |
 * | GET    | `/users/{account_id}/manage/profile`                                  | `profile`          |
 * | GET    | `/users/{account_id}/manage?privileges=...`                           | `manage`           |
 * | POST   | `/users/{account_id}/manage/lifecycle/disable` and `/enable`          | `lifecycle`        |
 *
 * @since 0.2.0
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import type { V2SearchBody, WorkspaceQuery, WorkspacesBody } from "./Bodies.js"
import {
  decode,
  DirectoriesState,
  DisableBody,
  parseJson,
  V2SearchBody as V2SearchBodySchema,
  V2SearchState,
  WorkspacesBody as WorkspacesBodySchema,
  WorkspacesState
} from "./Bodies.js"
import { orgError, uamError, userError } from "./ErrorBodies.js"
import type { PageContext, SandboxFault } from "./Faults.js"
import type { ApiRoute, Exchange } from "./Http.js"
import { invalidCursor, JSON_TYPE, noContent, orgNotFound, send, sendJson } from "./Http.js"
import { toWire } from "./Roster.js"
import type { SandboxUser } from "./SandboxUser.js"
import type { SandboxState } from "./State.js"
import type { V2Expand } from "./Wire.js"
import { compositeStatus, groupAri, lastActiveData, nicknameOf, profileAccount, v2UserJson } from "./Wire.js"
import { hostOf, productAri, workspaceWire } from "./Workspaces.js"

const orgMatches = (ex: Exchange): boolean => {
  if (ex.params.orgId === ex.state.orgId) return true
  orgNotFound(ex, ex.params.orgId ?? "")
  return false
}

const orgPath = (state: SandboxState): string => `/admin/v1/orgs/${encodeURIComponent(state.orgId)}`

// ---- v1 org

const orgModel = (state: SandboxState) => {
  const self = state.url + orgPath(state)
  return {
    id: state.orgId,
    type: "orgs",
    attributes: { name: state.orgName },
    relationships: {
      domains: { links: { related: `${self}/domains` } },
      users: { links: { related: `${self}/users` } }
    },
    links: { self }
  }
}

const orgs: ApiRoute = {
  route: "org",
  family: "org",
  paths: ["/admin/v1/orgs", "/admin/v1/orgs/:orgId"],
  methods: {
    GET: (ex) => {
      if (ex.params.orgId === undefined) {
        return sendJson(ex, 200, { data: [orgModel(ex.state)], links: { self: `${ex.state.url}/admin/v1/orgs` } })
      }
      if (orgMatches(ex)) sendJson(ex, 200, { data: orgModel(ex.state) })
    }
  }
}

// ---- v1 users

const applyScenario = (
  ex: Exchange,
  page: PageContext,
  route: "users" | "directoryUsers",
  served: ReadonlyArray<SandboxUser>
): void => {
  const scenario = ex.state.queue.takeScenario(page, route)
  if (scenario?.kind === "rosterChange") ex.entry.rosterChange = ex.state.applyRosterChange(scenario, served)
}

const users: ApiRoute = {
  route: "users",
  family: "org",
  paths: ["/admin/v1/orgs/:orgId/users"],
  methods: {
    GET: (ex) => {
      if (!orgMatches(ex)) return
      const { state } = ex
      const base = state.url + orgPath(state) + "/users"
      const cursor = ex.query.get("cursor")
      if (state.emptyOrg) {
        // What an org whose domain verification lapsed answers: no managed accounts at all.
        return send(ex, 200, `{"data":[],"meta":{"total":0},"links":{"self":${JSON.stringify(base)}}}`, JSON_TYPE)
      }
      let offset = 0
      if (cursor !== null) {
        const decoded = state.v1Cursor.decode(cursor)
        if (decoded === undefined) {
          return invalidCursor(ex, "The cursor was not issued by this listing; start again without a cursor.")
        }
        ex.entry.staleCursor = decoded.version !== state.roster.version
        if (ex.entry.staleCursor && state.cursorMode === "strict") {
          return invalidCursor(ex, "The cursor was issued before the organization's users changed; start again.")
        }
        offset = decoded.offset
      }
      const roster = state.roster.managedUsers()
      const total = roster.length
      let end = Math.min(offset + state.pageSize, total)
      let hasNext = end < total
      const page: PageContext = { offset, end, total, hasCursor: cursor !== null, hasNext, size: state.pageSize }
      const fault = state.queue.takePageFault(page, "users")
      if (fault !== undefined) ex.entry.fault = fault.kind
      if (fault?.kind === "truncate") {
        const kept = Math.max(0, total - fault.drop)
        end = Math.max(offset, Math.min(end, kept))
        hasNext = false
      }
      const served = roster.slice(offset, end)
      let data: string
      if (fault?.kind === "missingFields") {
        const fields = fault.fields ?? ["account_id", "account_status"]
        data = served.map((user) => {
          const wire = toWire(user, state.url)
          for (const field of fields) delete wire[field]
          return JSON.stringify(wire)
        }).join(",")
      } else {
        data = served.map((user) => state.roster.wireJson(user)).join(",")
      }
      const self = cursor === null ? base : `${base}?cursor=${encodeURIComponent(cursor)}`
      let next = hasNext ? `${base}?cursor=${state.v1Cursor.encode(end, state.roster.version)}` : undefined
      if (fault?.kind === "repeatCursor") next = self
      if (fault?.kind === "foreignNext" && next !== undefined) next = fault.origin + next.slice(state.url.length)
      let links = `"self":${JSON.stringify(self)}`
      if (offset > 0) {
        const prev = state.v1Cursor.encode(Math.max(0, offset - state.pageSize), state.roster.version)
        links += `,"prev":"${base}?cursor=${prev}"`
      }
      if (next !== undefined) links += `,"next":${JSON.stringify(next)}`
      send(ex, 200, `{"data":[${data}],"meta":{"total":${total}},"links":{${links}}}`, JSON_TYPE)
      applyScenario(ex, page, "users", served)
    }
  }
}

// ---- v1 last-active dates

const lastActive: ApiRoute = {
  route: "lastActive",
  family: "org",
  paths: ["/admin/v1/orgs/:orgId/directory/users/:accountId/last-active-dates"],
  methods: {
    GET: (ex) => {
      if (!orgMatches(ex)) return
      const user = ex.state.user(ex.params.accountId ?? "")
      if (user === undefined) {
        const detail = `No user ${ex.params.accountId} in this organization.`
        return sendJson(ex, 404, orgError(404, "ADMIN-404-8", "User not found", detail))
      }
      sendJson(ex, 200, { data: lastActiveData(user), links: {} })
    }
  }
}

// ---- user management

const accountNotFound = (ex: Exchange) => sendJson(ex, 404, userError("accountNotFound"))

/** The user a user-management call may operate on, or `undefined` after answering 404 / 403. */
const manageable = (ex: Exchange): SandboxUser | undefined => {
  const user = ex.state.user(ex.params.accountId ?? "")
  if (user === undefined) {
    accountNotFound(ex)
    return undefined
  }
  // No API key operates on an unmanaged account (API-NOTES §2.1).
  if (user.claimStatus === "unmanaged") {
    sendJson(ex, 403, userError("forbidden"))
    return undefined
  }
  return user
}

const profile: ApiRoute = {
  route: "profile",
  family: "user",
  paths: ["/users/:accountId/manage/profile"],
  methods: {
    GET: (ex) => {
      const user = manageable(ex)
      if (user !== undefined) sendJson(ex, 200, profileAccount(user))
    }
  }
}

const PRIVILEGES = [
  "profile",
  "profile.write",
  "profile.read",
  "email.set",
  "lifecycle.enablement",
  "lifecycle.delete",
  "apiToken.read",
  "apiToken.delete"
] as const

const privilegeRule = (user: SandboxUser, privilege: (typeof PRIVILEGES)[number]) => {
  const restricted = user.managedBy === undefined
    ? undefined
    : { allowed: false, reason: { key: `externalDirectory.${user.managedBy}` } }
  switch (privilege) {
    case "profile":
    case "profile.write": {
      const rule = restricted ?? { allowed: true }
      return { name: rule, nickname: { allowed: true }, zoneinfo: rule, locale: rule }
    }
    case "lifecycle.enablement":
    case "lifecycle.delete":
    case "email.set":
      return restricted ?? { allowed: true }
    default:
      return { allowed: true }
  }
}

const manage: ApiRoute = {
  route: "manage",
  family: "user",
  paths: ["/users/:accountId/manage"],
  methods: {
    GET: (ex) => {
      const user = manageable(ex)
      if (user === undefined) return
      const asked = ex.query.getAll("privileges").flatMap((p) => p.split(",")).filter((p) => p.length > 0)
      const wanted = asked.length === 0 ? PRIVILEGES : PRIVILEGES.filter((p) => asked.includes(p))
      sendJson(ex, 200, Object.fromEntries(wanted.map((p) => [p, privilegeRule(user, p)])))
    }
  }
}

const lifecycle: ApiRoute = {
  route: "lifecycle",
  family: "user",
  paths: ["/users/:accountId/manage/lifecycle/:action"],
  methods: {
    POST: (ex) => {
      const action = ex.params.action
      if (action !== "disable" && action !== "enable") return sendJson(ex, 404, userError("notFound"))
      // Disable takes a JSON object ({} when there is no message); enable takes no body, and {} is fine.
      const parsed = parseJson(ex.body)
      if (Either.isLeft(parsed) || (parsed.right === undefined && action === "disable")) {
        return sendJson(ex, 400, userError("bodyParseFailure"))
      }
      if (parsed.right !== undefined) {
        if (typeof parsed.right !== "object" || parsed.right === null || Array.isArray(parsed.right)) {
          return sendJson(ex, 400, userError("bodyParseFailure"))
        }
        if (Either.isLeft(decode(DisableBody, parsed.right))) {
          return sendJson(ex, 400, {
            key: "fieldConstraintsViolated",
            context: { fieldViolations: [{ field: "message", violations: [{ key: "type" }] }] }
          })
        }
      }
      const user = manageable(ex)
      if (user === undefined) return
      if (user.managedBy !== undefined) {
        return sendJson(ex, 403, userError("forbidden.action", `externalDirectory.${user.managedBy}`))
      }
      ex.state.updateUser(user.account_id, { account_status: action === "disable" ? "inactive" : "active" })
      noContent(ex)
    }
  }
}

// ---- v2 directories

const uamBadRequest = (ex: Exchange, detail: string) =>
  sendJson(ex, 400, uamError(400, "ADMIN-UAM-400-1", "Bad request", detail))

const directoryMatches = (ex: Exchange): boolean => {
  const id = ex.params.directoryId
  if (id === "-" || ex.state.directories().some((d) => d.directoryId === id)) return true
  sendJson(ex, 404, uamError(404, "ADMIN-UAM-404-2", "Directory not found", `No directory ${id} in this organization.`))
  return false
}

const cursorLinks = (self: string, prev: string | undefined, next: string | undefined) => {
  const links: Record<string, string> = { self }
  if (prev !== undefined) links.prev = prev
  if (next !== undefined) links.next = next
  return links
}

const directories: ApiRoute = {
  route: "directories",
  family: "uam",
  paths: ["/admin/v2/orgs/:orgId/directories"],
  methods: {
    GET: (ex) => {
      if (!orgMatches(ex)) return
      const { state } = ex
      const cursor = ex.query.get("cursor")
      let offset = 0
      let limit = 20
      if (cursor !== null) {
        // A cursor carries its own position: other parameters are discarded, as the spec says.
        const decoded = decode(DirectoriesState, state.directoryCursor.decode(cursor))
        if (Either.isLeft(decoded)) return invalidCursor(ex, "The cursor was not issued by this listing.")
        offset = decoded.right.o
        limit = decoded.right.l
      } else {
        const raw = ex.query.get("limit")
        if (raw !== null) {
          limit = Number(raw)
          if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
            return uamBadRequest(ex, `limit must be a whole number from 1 to 100, got ${JSON.stringify(raw)}`)
          }
        }
      }
      const accountId = ex.query.get("accountId")
      const term = ex.query.get("searchTerm")?.toLowerCase()
      const only = ex.query.getAll("directoryIds").concat(ex.query.getAll("directoryIds[]"))
      const member = accountId === null ? undefined : state.user(accountId)
      const all = state.directories().filter((d) =>
        (accountId === null || (member !== undefined && state.directoryOf(member) === d.directoryId)) &&
        (term === undefined || d.name.toLowerCase().includes(term)) &&
        (only.length === 0 || only.includes(d.directoryId))
      )
      const page = all.slice(offset, offset + limit)
      const at = (o: number) => state.directoryCursor.encode({ o, l: limit })
      sendJson(ex, 200, {
        data: page.map((d) => ({
          directoryId: d.directoryId,
          name: d.name,
          ...(d.icon === undefined ? {} : { icon: d.icon })
        })),
        links: cursorLinks(
          cursor ?? at(0),
          offset > 0 ? at(Math.max(0, offset - limit)) : undefined,
          offset + limit < all.length ? at(offset + limit) : undefined
        )
      })
    }
  }
}

type Filters = Omit<V2SearchBody, "cursor" | "limit" | "expand">

const keepFor = (
  state: SandboxState,
  directoryId: string,
  f: Filters
): ((user: SandboxUser) => boolean) | undefined => {
  const checks: Array<(user: SandboxUser) => boolean> = []
  if (directoryId !== "-") checks.push((u) => state.directoryOf(u) === directoryId)
  if (f.directoryIds !== undefined) checks.push((u) => f.directoryIds!.includes(state.directoryOf(u)))
  if (f.accountIds !== undefined) checks.push((u) => f.accountIds!.includes(u.account_id))
  if (f.claimStatus !== undefined) checks.push((u) => (u.claimStatus ?? "managed") === f.claimStatus)
  const oneOf = (values: ReadonlyArray<string> | undefined, of: (u: SandboxUser) => string) => {
    if (values !== undefined) checks.push((u) => values.includes(of(u)))
  }
  oneOf(f.status, compositeStatus)
  oneOf(f.accountStatus, (u) => u.account_status)
  oneOf(f.membershipStatus, (u) => u.membershipStatus ?? "active")
  if (f.mfaEnabled !== undefined) checks.push((u) => (u.mfaEnabled ?? false) === f.mfaEnabled)
  if (f.roleIds !== undefined) checks.push((u) => (u.platformRoles ?? []).some((r) => f.roleIds!.includes(r)))
  if (f.groupIds !== undefined) {
    checks.push((u) => (u.groups ?? []).some((g) => f.groupIds!.includes(groupAri(g)) || f.groupIds!.includes(g)))
  }
  if (f.resourceIds !== undefined) {
    checks.push((u) =>
      (u.product_access ?? []).some((p) => f.resourceIds!.includes(productAri(p.key, hostOf(p.url ?? "unknown"))))
    )
  }
  if (f.emailDomains !== undefined) {
    const domains = f.emailDomains.map((d) => d.toLowerCase())
    checks.push((u) => u.email !== undefined && domains.includes(u.email.split("@")[1]?.toLowerCase() ?? ""))
  }
  if (f.emails !== undefined) {
    const emails = f.emails.map((e) => e.toLowerCase())
    checks.push((u) => u.email !== undefined && emails.includes(u.email.toLowerCase()))
  }
  if (f.searchTerm !== undefined) {
    const term = f.searchTerm.toLowerCase()
    checks.push((u) =>
      u.name.toLowerCase().includes(term) || nicknameOf(u).toLowerCase().includes(term) ||
      (u.email?.toLowerCase().includes(term) ?? false)
    )
  }
  return checks.length === 0 ? undefined : (u) => checks.every((check) => check(u))
}

const searchView = (state: SandboxState, directoryId: string, f: Filters): ReadonlyArray<SandboxUser> => {
  const key = JSON.stringify([directoryId, f])
  const keep = keepFor(state, directoryId, f)
  const sort = f.sortBy?.[0]
  if (sort === undefined) return state.roster.view(key, keep)
  const sign = sort.direction === "desc" ? -1 : 1
  return state.roster.view(key, (u) => keep?.(u) ?? true).slice().sort((a, b) =>
    sign * nicknameOf(a).localeCompare(nicknameOf(b))
  )
}

const directoryUsers: ApiRoute = {
  route: "directoryUsers",
  family: "uam",
  paths: ["/admin/v2/orgs/:orgId/directories/:directoryId/users/search"],
  methods: {
    POST: (ex) => {
      if (!orgMatches(ex) || !directoryMatches(ex)) return
      const { state } = ex
      const parsed = parseJson(ex.body)
      if (Either.isLeft(parsed)) return uamBadRequest(ex, parsed.left)
      const input = parsed.right ?? {}
      if (typeof input !== "object" || input === null || Array.isArray(input)) {
        return uamBadRequest(ex, "the body must be a JSON object")
      }
      const body = decode(V2SearchBodySchema, input, { exact: true })
      if (Either.isLeft(body)) return uamBadRequest(ex, body.left)
      const { cursor, expand, limit, ...bodyFilters } = body.right
      if (bodyFilters.emails !== undefined && bodyFilters.searchTerm !== undefined) {
        return uamBadRequest(ex, "emails and searchTerm cannot be used together")
      }
      const directoryId = ex.params.directoryId!
      let offset = 0
      let size = limit ?? 50
      let filters: Filters = bodyFilters
      let expands = expand
      if (cursor !== undefined) {
        // The cursor carries the search that issued it; filters sent with it are ignored, while `limit` and
        // `expand` sent with it win over the cursor's.
        const decoded = decode(V2SearchState, state.v2Cursor.decode(cursor))
        const carried = Either.isRight(decoded) ? decode(V2SearchBodySchema, decoded.right.f) : undefined
        if (
          Either.isLeft(decoded) || carried === undefined || Either.isLeft(carried) || decoded.right.d !== directoryId
        ) {
          return invalidCursor(ex, "The cursor was not issued by this search; start again without a cursor.")
        }
        ex.entry.staleCursor = decoded.right.v !== state.roster.version
        if (ex.entry.staleCursor && state.cursorMode === "strict") {
          return invalidCursor(ex, "The cursor was issued before the organization's users changed; start again.")
        }
        offset = decoded.right.o
        size = limit ?? decoded.right.l
        filters = carried.right
        expands = expand ?? decoded.right.e
      }
      const expanded = new Set<V2Expand>(expands ?? [])
      const view = searchView(state, directoryId, filters)
      const total = view.length
      let end = Math.min(offset + size, total)
      let hasNext = end < total
      const page: PageContext = { offset, end, total, hasCursor: cursor !== undefined, hasNext, size }
      const fault: SandboxFault | undefined = state.queue.takePageFault(page, "directoryUsers")
      if (fault !== undefined) ex.entry.fault = fault.kind
      if (fault?.kind === "truncate") {
        end = Math.max(offset, Math.min(end, Math.max(0, total - fault.drop)))
        hasNext = false
      }
      const served = view.slice(offset, end)
      const json = served.map((u) => v2UserJson(u, expanded))
      const data = fault?.kind === "missingFields"
        ? json.map((text) => {
          const user = JSON.parse(text) as Record<string, unknown>
          for (const field of fault.fields ?? ["accountId", "accountStatus"]) delete user[field]
          return JSON.stringify(user)
        })
        : json
      const at = (o: number) =>
        state.v2Cursor.encode({
          o,
          v: state.roster.version,
          l: size,
          d: directoryId,
          f: filters,
          ...(expands === undefined ? {} : { e: expands })
        })
      let next = hasNext ? at(end) : undefined
      if (fault?.kind === "repeatCursor" && cursor !== undefined) next = cursor
      const links = cursorLinks(cursor ?? at(0), offset > 0 ? at(Math.max(0, offset - size)) : undefined, next)
      send(ex, 200, `{"data":[${data.join(",")}],"links":${JSON.stringify(links)}}`, JSON_TYPE)
      applyScenario(ex, page, "directoryUsers", served)
    }
  }
}

const directorySuspend: ApiRoute = {
  route: "directorySuspend",
  family: "uam",
  paths: ["/admin/v2/orgs/:orgId/directories/:directoryId/users/:accountId/:action{suspend|restore}"],
  methods: {
    POST: (ex) => {
      if (!orgMatches(ex) || !directoryMatches(ex)) return
      const { state } = ex
      // The endpoint takes no body; an empty JSON object is tolerated, anything else is a bad request.
      const parsed = parseJson(ex.body)
      if (
        Either.isLeft(parsed) ||
        (parsed.right !== undefined &&
          (typeof parsed.right !== "object" || parsed.right === null || Object.keys(parsed.right).length > 0))
      ) {
        return uamBadRequest(ex, "this endpoint takes no request body")
      }
      const user = state.user(ex.params.accountId ?? "")
      const directoryId = ex.params.directoryId!
      if (user === undefined || (directoryId !== "-" && state.directoryOf(user) !== directoryId)) {
        const detail = `No user ${ex.params.accountId} in this directory.`
        return sendJson(ex, 404, uamError(404, "ADMIN-UAM-404-1", "User not found", detail))
      }
      if ((user.platformRoles ?? []).includes("atlassian/org-admin")) {
        // Refused as a permission rule, not a malformed request: 403 is permanent for clients, as it should be.
        return sendJson(
          ex,
          403,
          uamError(
            403,
            "ADMIN-UAM-403-2",
            "Forbidden",
            "An organization admin's access cannot be suspended; remove the admin role first."
          )
        )
      }
      state.updateUser(user.account_id, { membershipStatus: ex.params.action === "suspend" ? "suspended" : "active" })
      noContent(ex)
    }
  }
}

// ---- v2 workspaces

const matchesQuery = (ws: ReturnType<typeof workspaceWire>, query: WorkspaceQuery): boolean => {
  if ("and" in query) return query.and.every((q) => matchesQuery(ws, q))
  if ("field" in query) {
    const name = query.field.name.replace(/^attributes\./, "")
    const value = (ws.attributes as Record<string, unknown>)[name] ?? (name === "id" ? ws.id : undefined)
    return query.field.values.length === 0 || query.field.values.includes(String(value))
  }
  if ("searchWorkspaces" in query) {
    const term = query.searchWorkspaces.toLowerCase()
    return ws.attributes.name.toLowerCase().includes(term) || (ws.attributes.hostUrl ?? "").toLowerCase().includes(term)
  }
  // The sandbox's workspaces have no features or policies: a non-empty filter matches none.
  if ("features" in query) return query.features.length === 0
  return query.policies.length === 0
}

const workspaceBadRequest = (ex: Exchange, detail: string) =>
  sendJson(ex, 400, orgError(400, "ADMIN-400-4", "Invalid request", detail))

const WorkspaceQueryState = Schema.NullOr(Schema.Struct({
  query: Schema.optional(Schema.Unknown),
  sort: Schema.optional(Schema.Unknown)
}))

const workspaces: ApiRoute = {
  route: "workspaces",
  family: "org",
  paths: ["/admin/v2/orgs/:orgId/workspaces"],
  methods: {
    POST: (ex) => {
      if (!orgMatches(ex)) return
      const { state } = ex
      const parsed = parseJson(ex.body)
      if (Either.isLeft(parsed)) return workspaceBadRequest(ex, parsed.left)
      const input = parsed.right ?? {}
      if (typeof input !== "object" || input === null || Array.isArray(input)) {
        return workspaceBadRequest(ex, "the body must be a JSON object")
      }
      const body = decode(WorkspacesBodySchema, input, { exact: true })
      if (Either.isLeft(body)) return workspaceBadRequest(ex, body.left)
      let request: WorkspacesBody = body.right
      let offset = 0
      if (typeof request.cursor === "string") {
        if (Object.keys(input).some((k) => k !== "cursor")) {
          return workspaceBadRequest(
            ex,
            "When a cursor is provided in the request body, no other properties may be present."
          )
        }
        const decoded = decode(WorkspacesState, state.workspaceCursor.decode(request.cursor))
        const carried = Either.isRight(decoded) ? decode(WorkspaceQueryState, decoded.right.q) : undefined
        const again = carried !== undefined && Either.isRight(carried)
          ? decode(WorkspacesBodySchema, carried.right ?? {})
          : undefined
        if (Either.isLeft(decoded) || again === undefined || Either.isLeft(again)) {
          return invalidCursor(ex, "The cursor was not issued by this listing; start again without a cursor.")
        }
        offset = decoded.right.o
        request = { ...again.right, limit: decoded.right.l }
      }
      const limit = request.limit ?? 20
      const usage = state.usageCounts()
      let all = state.workspaces().map((ws) => workspaceWire(ws, usage, state.orgId, state.url))
      const query = request.query
      if (query !== undefined && query !== null) all = all.filter((ws) => matchesQuery(ws, query))
      for (const sort of [...(request.sort ?? [])].reverse()) {
        const name = sort.field.replace(/^attributes\./, "")
        const sign = sort.order === "desc" ? -1 : 1
        const value = (ws: (typeof all)[number]) => String((ws.attributes as Record<string, unknown>)[name] ?? "")
        all = all.slice().sort((a, b) => sign * value(a).localeCompare(value(b)))
      }
      const page = all.slice(offset, offset + limit)
      const end = offset + page.length
      const next = end < all.length
        ? state.workspaceCursor.encode({
          o: end,
          v: state.roster.version,
          l: limit,
          q: {
            ...(request.query == null ? {} : { query: request.query }),
            ...(request.sort == null ? {} : { sort: request.sort })
          }
        })
        : undefined
      sendJson(ex, 200, {
        data: page,
        links: {
          self: `${state.url}/admin/v2/orgs/${encodeURIComponent(state.orgId)}/workspaces`,
          ...(next === undefined ? {} : { next })
        },
        meta: {
          pageSize: limit,
          startIndex: page.length === 0 ? null : offset,
          endIndex: page.length === 0 ? null : end - 1,
          total: all.length
        }
      })
    }
  }
}

/**
 * Every Atlassian route of the sandbox.
 *
 * @since 0.2.0
 * @category routes
 */
export const apiRoutes: ReadonlyArray<ApiRoute> = [
  orgs,
  users,
  lastActive,
  directories,
  directoryUsers,
  directorySuspend,
  workspaces,
  profile,
  manage,
  lifecycle
]

/**
 * What answers a path no route knows: the gateway's 404.
 *
 * @since 0.2.0
 * @category routes
 */
export const unknownRoute: ApiRoute = { route: "other", family: "org", paths: [], methods: {} }
