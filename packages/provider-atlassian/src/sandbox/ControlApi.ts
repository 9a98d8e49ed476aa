/**
 * The sandbox's control API over HTTP, so another process (the host's demo, a test that spawns the host)
 * can drive a sandbox it did not start. It lives under `/__sandbox/`, needs no API key, is never rate
 * limited, faulted or logged, and answers JSON (`{ "error": "..." }` with 400/404 on bad input).
 *
 * | Method | Path                                   | Body                                                   | Answer |
 * |--------|----------------------------------------|--------------------------------------------------------|--------|
 * | GET    | `/__sandbox`                           |                                                        | 200 `{url, orgId, orgName, pageSize, users, managedUsers, unmanagedUsers, rateLimit, faults, cursorMode, emptyOrg, directories, workspaces}` (counts; never the key) |
 * | GET    | `/__sandbox/users?claimStatus=managed\|unmanaged` |                                             | 200 `{users: [SandboxUser]}` in roster order |
 * | GET    | `/__sandbox/users/:id`                 |                                                        | 200 `SandboxUser`, 404 when unknown |
 * | POST   | `/__sandbox/users`                     | `{count: n, claimStatus?}` or `{users: [partial SandboxUser]}` | 201 `{users: [added]}` |
 * | PATCH  | `/__sandbox/users/:id`                 | partial `SandboxUser`; `null` removes a field          | 200 `SandboxUser`, 404 when unknown |
 * | DELETE | `/__sandbox/users/:id`                 |                                                        | 204, 404 when unknown |
 * | GET    | `/__sandbox/faults`                    |                                                        | 200 `{faults: [{fault, on, remaining, waitFor}]}` |
 * | POST   | `/__sandbox/faults`                    | `{fault, times?, on?, afterRequests?}`, a bare fault, or an array of either; `times` may be `"Infinity"` (scenarios such as `rosterChange` too) | 201 `{faults}` (all pending) |
 * | DELETE | `/__sandbox/faults`                    |                                                        | 204 |
 * | GET    | `/__sandbox/requests`                  |                                                        | 200 `{requests: [SandboxRequest]}` |
 * | DELETE | `/__sandbox/requests`                  |                                                        | 204 (clears the log) |
 * | GET    | `/__sandbox/requests/max-in-window?windowMs=60000&include=all\|accepted` |                  | 200 `{max}` |
 * | POST   | `/__sandbox/rate-limit`                | `{requests, windowSeconds, resetFormat?, phaseMs?}`, or `false`/`null` to lift it | 200 `{rateLimit}` |
 * | GET    | `/__sandbox/settings`                  |                                                        | 200 `{cursorMode, emptyOrg}` |
 * | PATCH  | `/__sandbox/settings`                  | `{cursorMode?: "offset"\|"strict", emptyOrg?: boolean}` | 200 `{cursorMode, emptyOrg}` |
 * | GET    | `/__sandbox/directories`               |                                                        | 200 `{directories: [SandboxDirectory]}` |
 * | GET    | `/__sandbox/workspaces`                |                                                        | 200 `{workspaces: [SandboxWorkspace]}` |
 * | POST   | `/__sandbox/workspaces`                | `{workspaces: [{key, hostUrl, plan, ...}]}`            | 201 `{workspaces: [added]}` |
 * | PATCH  | `/__sandbox/workspaces/:id`            | partial `SandboxWorkspace`; `null` removes a field (`usage` is computed again) | 200 `SandboxWorkspace`, 404 when unknown |
 * | DELETE | `/__sandbox/workspaces/:id`            |                                                        | 204, 404 when unknown |
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import type { Context } from "hono"
import { Hono } from "hono"
import { AddUsersBody, decode, parseJson, UserPatchInput, WorkspaceInput } from "./Bodies.js"
import { SANDBOX_ROUTES, type SandboxFaultOptions, validateFault } from "./Faults.js"
import type { Env } from "./Http.js"
import { validateRateLimit } from "./RateLimitWindow.js"
import type { SandboxUserInput, SandboxUserPatch } from "./SandboxUser.js"
import type { SandboxState } from "./State.js"
import type { SandboxWorkspacePatch } from "./Workspaces.js"

class ControlError extends Error {
  constructor(readonly status: 400 | 404 | 413, message: string) {
    super(message)
  }
}

const MAX_BODY = 64 * 1024 * 1024

const body = async (c: Context<Env>): Promise<unknown> => {
  const text = await c.req.text()
  if (text.length > MAX_BODY) throw new ControlError(413, "request body too large")
  const parsed = parseJson(text)
  if (Either.isLeft(parsed)) throw new ControlError(400, parsed.left)
  if (parsed.right === undefined) throw new ControlError(400, "expected a JSON body")
  return parsed.right
}

const decodeBody = async <A, I>(c: Context<Env>, schema: Schema.Schema<A, I>, what: string): Promise<A> => {
  const result = decode(schema, await body(c))
  if (Either.isLeft(result)) throw new ControlError(400, `${what}: ${result.left}`)
  return result.right
}

const FaultRequest = Schema.Struct({
  fault: Schema.Unknown,
  times: Schema.optionalWith(
    Schema.Union(Schema.Number, Schema.Literal("Infinity"), Schema.Null).annotations({
      message: () => ({ message: "times must be a number or \"Infinity\"", override: true })
    }),
    { exact: true }
  ),
  on: Schema.optionalWith(
    Schema.Literal(...SANDBOX_ROUTES, "any").annotations({
      message: () => ({ message: `on must be one of ${SANDBOX_ROUTES.join(", ")} or any`, override: true })
    }),
    { exact: true }
  ),
  afterRequests: Schema.optionalWith(
    Schema.Number.annotations({ message: () => ({ message: "afterRequests must be a number", override: true }) }),
    { exact: true }
  )
})

const Settings = Schema.Struct({
  cursorMode: Schema.optionalWith(Schema.Literal("offset", "strict"), { exact: true }),
  emptyOrg: Schema.optionalWith(Schema.Boolean, { exact: true })
})

const Workspaces = Schema.Struct({ workspaces: Schema.Array(WorkspaceInput) })

const isObject = (value: unknown): value is object =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** `null` removes a field: the patch types say `undefined`. */
const patchOf = (input: Readonly<Record<string, unknown>>): Record<string, unknown> =>
  Object.fromEntries(Object.entries(input).map(([k, v]) => [k, v === null ? undefined : v]))

/**
 * The control API as a Hono app, mounted at `/__sandbox`.
 *
 * @since 0.2.0
 * @category routes
 */
export const controlApp = (state: SandboxState): Hono<Env> => {
  const app = new Hono<Env>({ strict: false })

  app.get("/", (c) => c.json(state.info()))

  app.get("/users", (c) => {
    const claimStatus = c.req.query("claimStatus")
    if (claimStatus !== undefined && claimStatus !== "managed" && claimStatus !== "unmanaged") {
      throw new ControlError(400, "claimStatus must be managed or unmanaged")
    }
    return c.json({ users: state.users(claimStatus === undefined ? undefined : { claimStatus }) })
  })
  app.post("/users", async (c) => {
    const input = await decodeBody(c, AddUsersBody, "expected {\"count\": n} or {\"users\": [...]}")
    const added = "count" in input
      ? state.addUsers(input.count, input.claimStatus === undefined ? {} : { claimStatus: input.claimStatus })
      : state.addUsers(input.users as ReadonlyArray<SandboxUserInput>)
    return c.json({ users: added }, 201)
  })
  const known = (id: string) => {
    if (state.user(id) === undefined) throw new ControlError(404, `no user with account_id ${id}`)
    return id
  }
  app.get("/users/:id", (c) => c.json(state.user(known(c.req.param("id")))))
  app.patch("/users/:id", async (c) => {
    const id = known(c.req.param("id"))
    const patch = await decodeBody(c, UserPatchInput, "the patch must be a JSON object")
    return c.json(state.updateUser(id, patchOf(patch) as SandboxUserPatch))
  })
  app.delete("/users/:id", (c) => {
    state.removeUser(known(c.req.param("id")))
    return c.body(null, 204)
  })

  app.get("/faults", (c) => c.json({ faults: state.faults() }))
  app.delete("/faults", (c) => {
    state.clearFaults()
    return c.body(null, 204)
  })
  app.post("/faults", async (c) => {
    const input = await body(c)
    const items: ReadonlyArray<unknown> = Array.isArray(input) ? input : [input]
    // Check them all before queueing any, so a bad batch leaves the queue as it was.
    const checked = items.map((item) => {
      if (!isObject(item)) throw new ControlError(400, "each fault must be a JSON object")
      if (!("fault" in item)) return { fault: validateFault(item), options: {} }
      const request = decode(FaultRequest, item)
      if (Either.isLeft(request)) throw new ControlError(400, request.left)
      const { afterRequests, fault, on, times } = request.right
      const options: SandboxFaultOptions = {
        ...(times === undefined ? {} : { times: times === "Infinity" || times === null ? Infinity : times }),
        ...(on === undefined ? {} : { on }),
        ...(afterRequests === undefined ? {} : { afterRequests })
      }
      return { fault: validateFault(fault), options }
    })
    for (const { fault, options } of checked) state.injectFault(fault, options)
    return c.json({ faults: state.faults() }, 201)
  })

  app.get("/requests", (c) => c.json({ requests: state.requests }))
  app.delete("/requests", (c) => {
    state.resetLog()
    return c.body(null, 204)
  })
  app.get("/requests/max-in-window", (c) => {
    const windowMs = Number(c.req.query("windowMs"))
    if (!(windowMs > 0)) throw new ControlError(400, "windowMs must be a number of milliseconds > 0")
    const include = c.req.query("include") ?? "all"
    if (include !== "all" && include !== "accepted") throw new ControlError(400, "include must be all or accepted")
    return c.json({ max: state.maxRequestsInAnyWindow(windowMs, { include }) })
  })

  app.post("/rate-limit", async (c) => {
    state.setRateLimit(validateRateLimit(await body(c)))
    return c.json({ rateLimit: state.rateLimit })
  })

  const settings = () => ({ cursorMode: state.cursorMode, emptyOrg: state.emptyOrg })
  app.get("/settings", (c) => c.json(settings()))
  app.patch("/settings", async (c) => {
    const input = await decodeBody(c, Settings, "settings")
    if (input.cursorMode !== undefined) state.setCursorMode(input.cursorMode)
    if (input.emptyOrg !== undefined) state.setEmptyOrg(input.emptyOrg)
    return c.json(settings())
  })

  app.get("/directories", (c) => c.json({ directories: state.directories() }))

  app.get("/workspaces", (c) => c.json({ workspaces: state.workspaces() }))
  app.post("/workspaces", async (c) => {
    const input = await decodeBody(c, Workspaces, "expected {\"workspaces\": [...]}")
    return c.json({ workspaces: state.addWorkspaces(input.workspaces) }, 201)
  })
  const knownWorkspace = (id: string) => {
    if (!state.workspaces().some((w) => w.id === id)) throw new ControlError(404, `no workspace with id ${id}`)
    return id
  }
  app.patch("/workspaces/:id", async (c) => {
    const id = knownWorkspace(c.req.param("id"))
    const patch = await decodeBody(c, UserPatchInput, "the patch must be a JSON object")
    return c.json(state.updateWorkspace(id, patchOf(patch) as SandboxWorkspacePatch))
  })
  app.delete("/workspaces/:id", (c) => {
    state.removeWorkspace(knownWorkspace(c.req.param("id")))
    return c.body(null, 204)
  })

  app.all("*", (c) => {
    throw new ControlError(404, `no control endpoint ${c.req.method} ${c.req.path}; see the table in ControlApi.ts`)
  })

  app.onError((error, c) => {
    // Everything the sandbox throws here comes from the caller's input (unknown id, bad fault, ...).
    const status = error instanceof ControlError ? error.status : 400
    return c.json({ error: error.message }, status)
  })
  return app
}
