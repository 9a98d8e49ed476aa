/**
 * A simulated Atlassian Cloud organisation served over real HTTP on loopback: the v1 managed-accounts
 * listing, the org resource and the user-management lifecycle calls, with injectable faults and a
 * gateway-style rate limit.
 *
 * @since 0.1.0
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { createServer, STATUS_CODES } from "node:http"
import type { AddressInfo } from "node:net"
import { handleControl } from "./ControlApi.js"
import type { CursorCodec } from "./Cursor.js"
import { cursorCodec } from "./Cursor.js"
import {
  gatewayError,
  htmlError,
  noPermsError,
  orgError,
  orgErrorCode,
  userError,
  userErrorKey
} from "./ErrorBodies.js"
import type { PendingFault, SandboxFault, SandboxFaultOptions, SandboxRoute } from "./Faults.js"
import { FaultQueue } from "./Faults.js"
import type { RateDecision, SandboxRateLimit } from "./RateLimitWindow.js"
import { FixedWindow, formatReset, validateRateLimit } from "./RateLimitWindow.js"
import { Roster, toWire } from "./Roster.js"
import type { SandboxUser, SandboxUserInput, SandboxUserPatch } from "./SandboxUser.js"
import { defaultReferenceTime } from "./SandboxUser.js"

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
  /** A number of users generated from `seed`, or the users themselves. Default 50. */
  readonly users?: number | ReadonlyArray<SandboxUserInput>
  /** Seed of the user generator; default 1. */
  readonly seed?: number
  /** The instant generated last-activity dates count back from (ms); default the start of today (UTC). */
  readonly referenceTime?: number
  /** Users per page of the listing (Atlassian has no page-size parameter); default 100. */
  readonly pageSize?: number
  /** A fixed-window gateway rate limit; default `false` (none). */
  readonly rateLimit?: SandboxRateLimit | false
  /** Default 0 (any free port). */
  readonly port?: number
  /** Default `"127.0.0.1"`. Keep it on loopback. */
  readonly host?: string
}

/**
 * One request the sandbox received (the `/__sandbox/` control API is not logged). `status` is 0 while
 * in flight and for a connection the sandbox reset; `body` is recorded for lifecycle calls (parsed JSON,
 * or the raw text when it is not JSON).
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
}

/**
 * A running sandbox. `url` stands in for `https://api.atlassian.com`: the listing is at
 * `${url}/admin/v1/orgs/${orgId}/users` and lifecycle calls at `${url}/users/{id}/manage/lifecycle/*`.
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
  /** A copy of the roster, in listing order. */
  users(): ReadonlyArray<SandboxUser>
  user(id: string): SandboxUser | undefined
  /** Appends `n` generated users, or the given ones (missing required fields filled in). */
  addUsers(n: number | ReadonlyArray<SandboxUserInput>): ReadonlyArray<SandboxUser>
  /** Throws when there is no such user. */
  removeUser(id: string): void
  /** Merges `patch` (a property set to `undefined` is removed). Throws when there is no such user. */
  updateUser(id: string, patch: SandboxUserPatch): SandboxUser
  /** Queues a fault; matching requests consume queued faults in order. */
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
}

type MutableRequest = { -readonly [K in keyof SandboxRequest]: SandboxRequest[K] }

const JSON_TYPE = "application/json; charset=utf-8"
const USERS_PATH = /^\/admin\/v1\/orgs\/([^/]+)\/users\/?$/
const ORG_PATH = /^\/admin\/v1\/orgs(?:\/([^/]+))?\/?$/
const LIFECYCLE_PATH = /^\/users\/([^/]+)\/manage\/lifecycle\/([^/]+)\/?$/
const MALFORMED_BODY = `{"data":[{"account_id":"5b10ac8d82e05b22cc7d4ef5","account_type":"atlassian","name":"Ada Lov`

const segment = (raw: string): string => {
  try {
    return decodeURIComponent(raw)
  } catch {
    return raw
  }
}

const classify = (path: string): SandboxRoute =>
  USERS_PATH.test(path) ? "users" : ORG_PATH.test(path) ? "org" : LIFECYCLE_PATH.test(path) ? "lifecycle" : "other"

const readBody = (req: IncomingMessage, onBody: (text: string) => void): void => {
  const chunks: Array<Buffer> = []
  req.on("data", (chunk: Buffer) => chunks.push(chunk))
  req.on("end", () => onBody(Buffer.concat(chunks).toString("utf8")))
  req.on("error", () => undefined)
}

const positiveInteger = (value: number, name: string): number => {
  if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a whole number >= 1, got ${value}`)
  return value
}

class Sandbox implements AtlassianSandbox {
  url = ""
  readonly orgId: string
  readonly orgName: string
  readonly apiKey: string
  readonly pageSize: number
  readonly roster: Roster
  private readonly queue = new FaultQueue()
  private readonly codec: CursorCodec
  private readonly expectedAuth: string
  private readonly startedAt = Date.now()
  private window: FixedWindow | undefined
  private log: Array<MutableRequest> = []
  private readonly timers = new Set<ReturnType<typeof setTimeout>>()
  private readonly server = createServer((req, res) => this.handle(req, res))
  private closing: Promise<void> | undefined
  private usersPath = ""

  constructor(options: SandboxOptions) {
    this.orgId = options.orgId ?? DEFAULT_ORG_ID
    if (this.orgId.length === 0 || this.orgId.includes("/")) {
      throw new TypeError(`orgId must be a non-empty string without "/", got ${JSON.stringify(this.orgId)}`)
    }
    this.orgName = options.orgName ?? "Acme (sandbox)"
    this.apiKey = options.apiKey ?? DEFAULT_API_KEY
    if (this.apiKey.length === 0) throw new TypeError("apiKey must not be empty")
    this.expectedAuth = `bearer ${this.apiKey}`
    this.pageSize = positiveInteger(options.pageSize ?? 100, "pageSize")
    this.roster = new Roster(options.seed ?? 1, options.referenceTime ?? defaultReferenceTime())
    this.codec = cursorCodec(this.orgId)
    this.setRateLimit(options.rateLimit)
    this.roster.add(options.users ?? 50)
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
        this.usersPath = `/admin/v1/orgs/${encodeURIComponent(this.orgId)}/users`
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

  // ---- roster control

  users(): ReadonlyArray<SandboxUser> {
    return this.roster.all()
  }

  user(id: string): SandboxUser | undefined {
    return this.roster.get(id)
  }

  addUsers(n: number | ReadonlyArray<SandboxUserInput>): ReadonlyArray<SandboxUser> {
    return this.roster.add(n)
  }

  removeUser(id: string): void {
    this.roster.remove(id)
  }

  updateUser(id: string, patch: SandboxUserPatch): SandboxUser {
    return this.roster.update(id, patch)
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

  setRateLimit(limit: SandboxRateLimit | false | undefined): void {
    const checked = validateRateLimit(limit)
    this.window = checked === false ? undefined : new FixedWindow(checked, this.startedAt)
  }

  // ---- observation

  get requests(): ReadonlyArray<SandboxRequest> {
    return this.log
  }

  resetLog(): void {
    this.log = []
  }

  maxRequestsInAnyWindow(windowMs: number, options?: { readonly include?: "all" | "accepted" }): number {
    if (!(windowMs > 0)) throw new RangeError(`windowMs must be > 0, got ${windowMs}`)
    const accepted = options?.include === "accepted"
    const times = this.log.filter((r) => !accepted || r.status !== 429).map((r) => r.at).sort((a, b) => a - b)
    let max = 0
    for (let start = 0, end = 0; end < times.length; end++) {
      while (times[end]! - times[start]! >= windowMs) start++
      max = Math.max(max, end - start + 1)
    }
    return max
  }

  // ---- HTTP

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const raw = req.url ?? "/"
    const q = raw.indexOf("?")
    const path = q === -1 ? raw : raw.slice(0, q)
    const query = q === -1 ? "" : raw.slice(q)
    if (path === "/__sandbox" || path.startsWith("/__sandbox/")) {
      handleControl(this, req, res, path, query)
      return
    }
    const auth = req.headers.authorization
    const entry: MutableRequest = {
      method: req.method ?? "GET",
      path,
      query,
      route: classify(path),
      at: Date.now(),
      status: 0,
      authorized: auth !== undefined && auth.length === this.expectedAuth.length &&
        auth.slice(0, 7).toLowerCase() === "bearer " && auth.slice(7) === this.apiKey
    }
    this.log.push(entry)
    if (entry.method === "GET" || entry.method === "HEAD") {
      this.process(req, res, entry, "")
      req.resume()
    } else {
      readBody(req, (text) => this.process(req, res, entry, text))
    }
  }

  private process(req: IncomingMessage, res: ServerResponse, entry: MutableRequest, body: string): void {
    if (entry.route === "lifecycle" && body.length > 0) {
      try {
        entry.body = JSON.parse(body)
      } catch {
        entry.body = body
      }
    }
    let rate: RateDecision | undefined
    if (this.window !== undefined) {
      rate = this.window.hit(entry.at)
      if (!rate.allowed) {
        this.sendJson(res, entry, 429, gatewayError(429, "Rate limit exceeded"), rate)
        return
      }
    }
    const fault = this.queue.takeResponseFault(entry.route)
    if (fault !== undefined) {
      entry.fault = fault.kind
      if (fault.kind === "slow") {
        const timer = setTimeout(() => {
          this.timers.delete(timer)
          if (!res.destroyed && !req.socket.destroyed) this.dispatch(req, res, entry, body, rate)
        }, fault.delayMs)
        this.timers.add(timer)
        return
      }
      this.respondWithFault(req, res, entry, fault, rate)
      return
    }
    this.dispatch(req, res, entry, body, rate)
  }

  private dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    entry: MutableRequest,
    body: string,
    rate: RateDecision | undefined
  ): void {
    try {
      switch (entry.route) {
        case "users":
          return this.usersPage(res, entry, rate)
        case "org":
          return this.org(res, entry, rate)
        case "lifecycle":
          return this.lifecycle(res, entry, body, rate)
        default:
          return this.sendJson(res, entry, 404, gatewayError(404, "Not Found"), rate)
      }
    } catch (error) {
      // A sandbox bug must still answer, or the client would hang until its timeout.
      const detail = error instanceof Error ? error.message : String(error)
      this.sendJson(res, entry, 500, orgError(500, "ADMIN-500-1", "Internal error", `sandbox: ${detail}`), rate)
      void req
    }
  }

  private usersPage(res: ServerResponse, entry: MutableRequest, rate: RateDecision | undefined): void {
    if (entry.method !== "GET") {
      return this.sendJson(res, entry, 405, orgError(405, "ADMIN-405-1", "Method not supported", `${entry.method} is not supported here; use GET`), rate)
    }
    if (!entry.authorized) return this.sendJson(res, entry, 401, gatewayError(401, "Unauthorized"), rate)
    const orgId = segment(USERS_PATH.exec(entry.path)![1]!)
    if (orgId !== this.orgId) return this.orgNotFound(res, entry, orgId, rate)
    const cursor = entry.query.length > 1 ? new URLSearchParams(entry.query).get("cursor") : null
    let offset = 0
    if (cursor !== null) {
      const decoded = this.codec.decode(cursor)
      if (decoded === undefined) {
        return this.sendJson(
          res,
          entry,
          400,
          orgError(400, "ADMIN-400-1", "Invalid page cursor", "The cursor was not issued by this listing; start again without a cursor."),
          rate
        )
      }
      offset = decoded
    }
    const total = this.roster.size
    let end = Math.min(offset + this.pageSize, total)
    let hasNext = end < total
    const fault = this.queue.takePageFault({ offset, end, total, hasCursor: cursor !== null, hasNext })
    if (fault !== undefined) entry.fault = fault.kind
    if (fault?.kind === "truncate") {
      const kept = Math.max(0, total - fault.drop)
      end = Math.max(offset, Math.min(end, kept))
      hasNext = false
    }
    const users = this.roster.slice(offset, end)
    let data: string
    if (fault?.kind === "missingFields") {
      const fields = fault.fields ?? ["account_id", "account_status"]
      data = users.map((user) => {
        const wire = toWire(user, this.url)
        for (const field of fields) delete wire[field]
        return JSON.stringify(wire)
      }).join(",")
    } else {
      data = users.map((user) => this.roster.wireJson(user)).join(",")
    }
    const base = this.url + this.usersPath
    const self = cursor === null ? base : `${base}?cursor=${encodeURIComponent(cursor)}`
    let next = hasNext ? `${base}?cursor=${this.codec.encode(end, this.roster.version)}` : undefined
    if (fault?.kind === "repeatCursor") next = self
    if (fault?.kind === "foreignNext" && next !== undefined) next = fault.origin + next.slice(this.url.length)
    let links = `"self":${JSON.stringify(self)}`
    if (offset > 0) {
      links += `,"prev":"${base}?cursor=${this.codec.encode(Math.max(0, offset - this.pageSize), this.roster.version)}"`
    }
    if (next !== undefined) links += `,"next":${JSON.stringify(next)}`
    this.send(res, entry, 200, `{"data":[${data}],"meta":{"total":${total}},"links":{${links}}}`, JSON_TYPE, rate)
  }

  private org(res: ServerResponse, entry: MutableRequest, rate: RateDecision | undefined): void {
    if (entry.method !== "GET") {
      return this.sendJson(res, entry, 405, orgError(405, "ADMIN-405-1", "Method not supported", `${entry.method} is not supported here; use GET`), rate)
    }
    if (!entry.authorized) return this.sendJson(res, entry, 401, gatewayError(401, "Unauthorized"), rate)
    const raw = ORG_PATH.exec(entry.path)![1]
    if (raw === undefined) {
      return this.sendJson(res, entry, 200, { data: [this.orgModel()], links: { self: `${this.url}/admin/v1/orgs` } }, rate)
    }
    const orgId = segment(raw)
    if (orgId !== this.orgId) return this.orgNotFound(res, entry, orgId, rate)
    this.sendJson(res, entry, 200, { data: this.orgModel() }, rate)
  }

  private orgModel() {
    const self = `${this.url}/admin/v1/orgs/${encodeURIComponent(this.orgId)}`
    return {
      id: this.orgId,
      type: "orgs",
      attributes: { name: this.orgName },
      relationships: {
        domains: { links: { related: `${self}/domains` } },
        users: { links: { related: `${self}/users` } }
      },
      links: { self }
    }
  }

  private orgNotFound(res: ServerResponse, entry: MutableRequest, orgId: string, rate: RateDecision | undefined): void {
    this.sendJson(
      res,
      entry,
      404,
      orgError(404, "ADMIN-404-2", "Organization not found", `No organization ${orgId} is visible to this API key.`),
      rate
    )
  }

  private lifecycle(res: ServerResponse, entry: MutableRequest, body: string, rate: RateDecision | undefined): void {
    if (entry.method !== "POST") return this.sendJson(res, entry, 405, userError("methodNotAllowed"), rate)
    if (!entry.authorized) return this.sendJson(res, entry, 401, userError("unauthorized"), rate)
    const match = LIFECYCLE_PATH.exec(entry.path)!
    const accountId = segment(match[1]!)
    const action = match[2]
    if (action !== "disable" && action !== "enable") return this.sendJson(res, entry, 404, userError("notFound"), rate)
    // The spec requires a JSON body on disable ({} when there is no message); enable takes none.
    if (body.trim().length === 0) {
      if (action === "disable") return this.sendJson(res, entry, 400, userError("bodyParseFailure"), rate)
    } else {
      const parsed = entry.body
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        return this.sendJson(res, entry, 400, userError("bodyParseFailure"), rate)
      }
      const message = (parsed as Record<string, unknown>).message
      if (message !== undefined && typeof message !== "string") {
        return this.sendJson(res, entry, 400, {
          key: "fieldConstraintsViolated",
          context: { fieldViolations: [{ field: "message", violations: [{ key: "type" }] }] }
        }, rate)
      }
    }
    const user = this.roster.get(accountId)
    if (user === undefined) return this.sendJson(res, entry, 404, userError("accountNotFound"), rate)
    if (user.managedBy !== undefined) {
      return this.sendJson(res, entry, 403, userError("forbidden.action", `externalDirectory.${user.managedBy}`), rate)
    }
    this.roster.update(accountId, { account_status: action === "disable" ? "inactive" : "active" })
    this.send(res, entry, 204, undefined, undefined, rate)
  }

  private respondWithFault(
    req: IncomingMessage,
    res: ServerResponse,
    entry: MutableRequest,
    fault: SandboxFault,
    rate: RateDecision | undefined
  ): void {
    switch (fault.kind) {
      case "reset": {
        entry.status = 0
        if (fault.partial === true) {
          res.writeHead(200, { "Content-Type": JSON_TYPE, "Content-Length": 4096 })
          res.write(MALFORMED_BODY)
          setImmediate(() => req.socket.destroy())
        } else {
          req.socket.destroy()
        }
        return
      }
      case "malformed":
        return this.send(res, entry, 200, MALFORMED_BODY, JSON_TYPE, rate)
      case "rateLimited": {
        const now = Date.now()
        const format = fault.resetFormat ?? this.window?.limit.resetFormat ?? "minutes"
        const resetAt = this.window !== undefined
          ? this.window.resetAt(now)
          : now + 1000 * (fault.resetAfterSeconds ?? fault.retryAfterSeconds ?? 60)
        const headers: Record<string, string> = {
          "X-RateLimit-Limit": String(this.window?.limit.requests ?? 100),
          "X-RateLimit-Remaining": "0",
          "X-RateLimit-Reset": formatReset(resetAt, format)
        }
        if (fault.retryAfterSeconds !== undefined) headers["Retry-After"] = String(fault.retryAfterSeconds)
        return this.send(res, entry, 429, JSON.stringify(gatewayError(429, "Rate limit exceeded")), JSON_TYPE, undefined, headers)
      }
      case "status": {
        const status = fault.status
        switch (fault.shape) {
          case "org": {
            const defaults = orgErrorCode(status)
            return this.sendJson(
              res,
              entry,
              status,
              orgError(status, fault.code ?? defaults.code, defaults.title, fault.message ?? `Sandbox fault: ${defaults.title}.`),
              rate
            )
          }
          case "gateway":
            return this.sendJson(res, entry, status, gatewayError(status, fault.message ?? STATUS_CODES[status] ?? "Error"), rate)
          case "noperms":
            return this.sendJson(res, entry, status, noPermsError(status, entry.path), rate)
          case "user":
            return this.sendJson(res, entry, status, userError(fault.key ?? userErrorKey(status, fault.reason), fault.reason), rate)
          case "html":
            return this.send(res, entry, status, htmlError(status), "text/html; charset=utf-8", rate)
          case "empty":
            return this.send(res, entry, status, "", JSON_TYPE, rate)
        }
      }
      // falls through: slow and page faults never reach here
      default:
        return this.dispatch(req, res, entry, "", rate)
    }
  }

  private sendJson(
    res: ServerResponse,
    entry: MutableRequest,
    status: number,
    body: unknown,
    rate: RateDecision | undefined
  ): void {
    this.send(res, entry, status, JSON.stringify(body), JSON_TYPE, rate)
  }

  private send(
    res: ServerResponse,
    entry: MutableRequest,
    status: number,
    body: string | undefined,
    contentType: string | undefined,
    rate: RateDecision | undefined,
    extra?: Record<string, string>
  ): void {
    // Recorded before any byte leaves, so a client that has its answer sees a complete log entry.
    entry.status = status
    const headers: Record<string, string | number> = { ...extra }
    if (contentType !== undefined) headers["Content-Type"] = contentType
    if (body !== undefined) headers["Content-Length"] = Buffer.byteLength(body)
    if (rate !== undefined) {
      headers["X-RateLimit-Limit"] = rate.limit
      headers["X-RateLimit-Remaining"] = rate.remaining
      headers["X-RateLimit-Reset"] = formatReset(rate.resetAtMs, this.window?.limit.resetFormat ?? "minutes")
    }
    res.writeHead(status, headers)
    res.end(entry.method === "HEAD" ? undefined : body)
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
