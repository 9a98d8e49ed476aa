/**
 * Faults a sandbox can inject, and the queue that hands them to matching requests in order.
 *
 * @since 0.1.0
 */

/**
 * The error-body shapes of the Atlassian admin APIs (API-NOTES §4.2) plus the two non-JSON cases:
 *
 * - `org`: Org API `ApplicationError` `{errors:[{id,status:"500",code:"ADMIN-500-1",title,detail}]}`
 * - `gateway`: gateway `ProxyError` `{code:502,message}` (`code` is a number)
 * - `noperms`: 403 `NoPermsError` `{timestamp,path,status,error,message,requestId}`
 * - `user`: user-management `{key:"..."}`, e.g. `{key:"forbidden.action",context:{allowed:false,reason:{key}}}`
 * - `html`: a `text/html` error page
 * - `empty`: no body at all (still labelled `application/json`, as gateways do)
 *
 * @since 0.1.0
 * @category models
 */
export type SandboxErrorShape = "org" | "gateway" | "noperms" | "user" | "html" | "empty"

/**
 * @since 0.1.0
 * @category models
 */
export type SandboxFaultStatus = 400 | 401 | 403 | 404 | 409 | 429 | 500 | 502 | 503 | 504

/**
 * A fault to inject. Each is reproducible:
 *
 * - `status`: answer `status` with a body of `shape`. For `user`, `key` overrides the key (defaults:
 *   400 `bodyParseFailure`, 401 `unauthorized`, 403 `forbidden` or `forbidden.action` when `reason` is
 *   set, 404 `accountNotFound`, others `internalServerError`); `reason` is the restriction reason
 *   (e.g. `externalDirectory.scim`). For `org`, `code` overrides the ADMIN code.
 * - `rateLimited`: gateway 429 `{code:429,message}` with `X-RateLimit-Limit/Remaining/Reset`. The reset
 *   is the current window's end when a rate limit is set, else `resetAfterSeconds` (default
 *   `retryAfterSeconds`, else 60) from now, written per `resetFormat` (default: the rate limit's, else
 *   `minutes`: ISO-8601 without seconds, rounded up). `X-RateLimit-Limit` is the rate limit's, else 100.
 *   `Retry-After` is sent only with `retryAfterSeconds`.
 * - `reset`: destroy the connection without answering (`partial: true`: after sending the headers and
 *   part of a body).
 * - `slow`: wait `delayMs`, then answer normally.
 * - `malformed`: 200 with a JSON body cut off mid-way.
 * - `missingFields`: a users page whose users lack `fields` (default `account_id` and `account_status`).
 * - `truncate`: the users page that holds the last `drop` users of the roster leaves them out and has no
 *   next link, while `meta.total` still counts them: the roster comes back short.
 * - `repeatCursor`: a users page requested with a cursor whose `links.next` repeats that same cursor.
 * - `foreignNext`: a users page whose `links.next` points at `origin` instead of the sandbox.
 *
 * @since 0.1.0
 * @category models
 */
export type SandboxFault =
  | {
    readonly kind: "status"
    readonly status: SandboxFaultStatus
    readonly shape: SandboxErrorShape
    readonly key?: string
    readonly reason?: string
    readonly code?: string
    readonly message?: string
  }
  | {
    readonly kind: "rateLimited"
    readonly retryAfterSeconds?: number
    readonly resetAfterSeconds?: number
    readonly resetFormat?: "seconds" | "minutes"
  }
  | { readonly kind: "reset"; readonly partial?: boolean }
  | { readonly kind: "slow"; readonly delayMs: number }
  | { readonly kind: "malformed" }
  | { readonly kind: "missingFields"; readonly fields?: ReadonlyArray<string> }
  | { readonly kind: "truncate"; readonly drop: number }
  | { readonly kind: "repeatCursor" }
  | { readonly kind: "foreignNext"; readonly origin: string }

/**
 * Which requests a fault may hit. `users`: `GET /admin/v1/orgs/{orgId}/users`; `org`:
 * `GET /admin/v1/orgs[/{orgId}]`; `lifecycle`: `POST /users/{id}/manage/lifecycle/*`; `any`: every
 * request except the `/__sandbox/` control API. Page faults (`missingFields`, `truncate`,
 * `repeatCursor`, `foreignNext`) only ever hit users pages.
 *
 * @since 0.1.0
 * @category models
 */
export type SandboxFaultTarget = "users" | "org" | "lifecycle" | "any"

/**
 * @since 0.1.0
 * @category models
 */
export interface SandboxFaultOptions {
  /** How many matching requests the fault hits (default 1; `Infinity` for every one). */
  readonly times?: number
  /** Which requests it may hit (default `any`). */
  readonly on?: SandboxFaultTarget
  /** Let this many matching requests through first (default 0). */
  readonly afterRequests?: number
}

/**
 * The route class of a request, as faults see it.
 *
 * @since 0.1.0
 * @category models
 */
export type SandboxRoute = "users" | "org" | "lifecycle" | "other"

/**
 * A fault still waiting in the queue.
 *
 * @since 0.1.0
 * @category models
 */
export interface PendingFault {
  readonly fault: SandboxFault
  readonly on: SandboxFaultTarget
  readonly remaining: number
  readonly waitFor: number
}

/**
 * What a page fault needs to know about the page being served to decide whether it applies.
 *
 * @since 0.1.0
 * @category models
 */
export interface PageContext {
  readonly offset: number
  readonly end: number
  readonly total: number
  readonly hasCursor: boolean
  readonly hasNext: boolean
}

const PAGE_KINDS: ReadonlySet<SandboxFault["kind"]> = new Set(["missingFields", "truncate", "repeatCursor", "foreignNext"])

/**
 * Whether a fault shapes a users page (applied by the users handler) rather than replacing the response.
 *
 * @since 0.1.0
 * @category predicates
 */
export const isPageFault = (fault: SandboxFault): boolean => PAGE_KINDS.has(fault.kind)

const pageFaultApplies = (fault: SandboxFault, page: PageContext): boolean => {
  switch (fault.kind) {
    case "truncate":
      // Only the page that holds part of the dropped tail: earlier pages stay whole.
      return page.offset < page.total && page.end > page.total - fault.drop
    case "repeatCursor":
      return page.hasCursor
    case "foreignNext":
      return page.hasNext
    default:
      return true
  }
}

interface Entry {
  readonly fault: SandboxFault
  readonly on: SandboxFaultTarget
  remaining: number
  waitFor: number
}

/**
 * The queue of injected faults. A request takes the first ready entry that matches it; every entry that
 * matches but is still waiting (`afterRequests`) counts the request down.
 *
 * @since 0.1.0
 * @category models
 */
export class FaultQueue {
  private entries: Array<Entry> = []

  add(fault: SandboxFault, options: SandboxFaultOptions = {}): void {
    const checked = validateFault(fault)
    const times = options.times ?? 1
    if (!(times >= 1) || (Number.isFinite(times) && !Number.isInteger(times))) {
      throw new RangeError(`injectFault: times must be a whole number >= 1 or Infinity, got ${times}`)
    }
    const waitFor = options.afterRequests ?? 0
    if (!Number.isInteger(waitFor) || waitFor < 0) {
      throw new RangeError(`injectFault: afterRequests must be a whole number >= 0, got ${waitFor}`)
    }
    const on = options.on ?? "any"
    if (!["users", "org", "lifecycle", "any"].includes(on)) {
      throw new RangeError(`injectFault: on must be "users", "org", "lifecycle" or "any", got ${JSON.stringify(on)}`)
    }
    this.entries.push({ fault: checked, on: isPageFault(checked) ? "users" : on, remaining: times, waitFor })
  }

  clear(): void {
    this.entries = []
  }

  pending(): ReadonlyArray<PendingFault> {
    return this.entries.map((e) => ({ fault: e.fault, on: e.on, remaining: e.remaining, waitFor: e.waitFor }))
  }

  /** The response-replacing fault for a request, if any. */
  takeResponseFault(route: SandboxRoute): SandboxFault | undefined {
    return this.take(route, (fault) => !isPageFault(fault))
  }

  /** The page-shaping fault for a users page about to be served, if any. */
  takePageFault(page: PageContext): SandboxFault | undefined {
    return this.take("users", (fault) => isPageFault(fault), (fault) => pageFaultApplies(fault, page))
  }

  private take(
    route: SandboxRoute,
    family: (fault: SandboxFault) => boolean,
    applies: (fault: SandboxFault) => boolean = () => true
  ): SandboxFault | undefined {
    if (this.entries.length === 0) return undefined
    let chosen: Entry | undefined
    for (const entry of this.entries) {
      if (!family(entry.fault) || !(entry.on === "any" || entry.on === route)) continue
      if (entry.waitFor > 0) {
        entry.waitFor--
        continue
      }
      if (chosen === undefined && applies(entry.fault)) chosen = entry
    }
    if (chosen === undefined) return undefined
    chosen.remaining--
    if (chosen.remaining <= 0) this.entries = this.entries.filter((e) => e !== chosen)
    return chosen.fault
  }
}

const STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 404, 409, 429, 500, 502, 503, 504])
const SHAPES: ReadonlySet<string> = new Set(["org", "gateway", "noperms", "user", "html", "empty"])

const fail = (message: string): never => {
  throw new TypeError(`injectFault: ${message}`)
}

const optionalString = (o: Record<string, unknown>, field: string): void => {
  if (o[field] !== undefined && typeof o[field] !== "string") fail(`${field} must be a string`)
}

const nonNegative = (o: Record<string, unknown>, field: string, required: boolean): void => {
  const v = o[field]
  if (v === undefined && !required) return
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    fail(`${String(o.kind)} needs ${field} as a number >= 0, got ${JSON.stringify(v)}`)
  }
}

/**
 * Checks a fault (from TypeScript or from JSON over the control API) and returns it, or throws a
 * `TypeError` saying what is wrong.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateFault = (input: unknown): SandboxFault => {
  if (typeof input !== "object" || input === null || Array.isArray(input)) fail("a fault must be an object with a kind")
  const o = input as Record<string, unknown>
  switch (o.kind) {
    case "status":
      if (typeof o.status !== "number" || !STATUSES.has(o.status)) {
        fail(`status must be one of ${[...STATUSES].join(", ")}, got ${JSON.stringify(o.status)}`)
      }
      if (typeof o.shape !== "string" || !SHAPES.has(o.shape)) {
        fail(`shape must be one of ${[...SHAPES].join(", ")}, got ${JSON.stringify(o.shape)}`)
      }
      for (const field of ["key", "reason", "code", "message"]) optionalString(o, field)
      break
    case "rateLimited":
      nonNegative(o, "retryAfterSeconds", false)
      nonNegative(o, "resetAfterSeconds", false)
      if (o.resetFormat !== undefined && o.resetFormat !== "seconds" && o.resetFormat !== "minutes") {
        fail(`resetFormat must be "seconds" or "minutes", got ${JSON.stringify(o.resetFormat)}`)
      }
      break
    case "reset":
      if (o.partial !== undefined && typeof o.partial !== "boolean") fail("partial must be a boolean")
      break
    case "slow":
      nonNegative(o, "delayMs", true)
      break
    case "malformed":
    case "repeatCursor":
      break
    case "missingFields":
      if (o.fields !== undefined && (!Array.isArray(o.fields) || !o.fields.every((f) => typeof f === "string"))) {
        fail("fields must be an array of field names")
      }
      break
    case "truncate":
      if (typeof o.drop !== "number" || !Number.isInteger(o.drop) || o.drop < 1) {
        fail(`truncate needs drop as a whole number >= 1, got ${JSON.stringify(o.drop)}`)
      }
      break
    case "foreignNext": {
      let origin: string | undefined
      try {
        origin = typeof o.origin === "string" ? new URL(o.origin).origin : undefined
      } catch {
        origin = undefined
      }
      if (origin === undefined || origin === "null") {
        fail(`foreignNext needs origin as an absolute URL such as "https://elsewhere.example", got ${JSON.stringify(o.origin)}`)
      }
      return { kind: "foreignNext", origin: origin! }
    }
    default:
      fail(
        `unknown fault kind ${JSON.stringify(o.kind)}; expected status, rateLimited, reset, slow, malformed, ` +
          "missingFields, truncate, repeatCursor or foreignNext"
      )
  }
  return o as unknown as SandboxFault
}
