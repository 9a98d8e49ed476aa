/**
 * The sandbox's control API over HTTP, so another process (the host's demo, a test that spawns the host)
 * can drive a sandbox it did not start. It lives under `/__sandbox/`, needs no API key, is never rate
 * limited, faulted or logged, and answers JSON (`{ "error": "..." }` with 400/404 on bad input).
 *
 * | Method | Path                                   | Body                                                   | Answer |
 * |--------|----------------------------------------|--------------------------------------------------------|--------|
 * | GET    | `/__sandbox`                           |                                                        | 200 `{url, orgId, orgName, pageSize, users, rateLimit, faults}` (user count; never the key) |
 * | GET    | `/__sandbox/users`                     |                                                        | 200 `{users: [SandboxUser]}` in listing order |
 * | GET    | `/__sandbox/users/:id`                 |                                                        | 200 `SandboxUser`, 404 when unknown |
 * | POST   | `/__sandbox/users`                     | `{count: n}` or `{users: [partial SandboxUser]}`       | 201 `{users: [added]}` |
 * | PATCH  | `/__sandbox/users/:id`                 | partial `SandboxUser`; `null` removes a field          | 200 `SandboxUser`, 404 when unknown |
 * | DELETE | `/__sandbox/users/:id`                 |                                                        | 204, 404 when unknown |
 * | GET    | `/__sandbox/faults`                    |                                                        | 200 `{faults: [{fault, on, remaining, waitFor}]}` |
 * | POST   | `/__sandbox/faults`                    | `{fault, times?, on?, afterRequests?}`, a bare fault, or an array of either; `times` may be `"Infinity"` | 201 `{faults}` (all pending) |
 * | DELETE | `/__sandbox/faults`                    |                                                        | 204 |
 * | GET    | `/__sandbox/requests`                  |                                                        | 200 `{requests: [SandboxRequest]}` |
 * | DELETE | `/__sandbox/requests`                  |                                                        | 204 (clears the log) |
 * | GET    | `/__sandbox/requests/max-in-window?windowMs=60000&include=all\|accepted` |                  | 200 `{max}` |
 * | POST   | `/__sandbox/rate-limit`                | `{requests, windowSeconds, resetFormat?, phaseMs?}`, or `false`/`null` to lift it | 200 `{rateLimit}` |
 *
 * @since 0.1.0
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import type { SandboxFaultOptions } from "./Faults.js"
import { validateFault } from "./Faults.js"
import type { AtlassianSandbox } from "./Sandbox.js"
import type { SandboxUserInput, SandboxUserPatch } from "./SandboxUser.js"

class ControlError extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
  }
}

const MAX_BODY = 64 * 1024 * 1024

const send = (res: ServerResponse, status: number, body?: unknown): void => {
  if (body === undefined) {
    res.writeHead(status)
    res.end()
    return
  }
  const text = JSON.stringify(body)
  res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text) })
  res.end(text)
}

const readJson = (req: IncomingMessage): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    req.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY) reject(new ControlError(413, "request body too large"))
      else chunks.push(chunk)
    })
    req.on("error", reject)
    req.on("end", () => {
      const text = Buffer.concat(chunks).toString("utf8")
      if (text.trim().length === 0) return reject(new ControlError(400, "expected a JSON body"))
      try {
        resolve(JSON.parse(text))
      } catch {
        reject(new ControlError(400, "the body is not valid JSON"))
      }
    })
  })

const asObject = (value: unknown, what: string): Record<string, unknown> => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ControlError(400, `${what} must be a JSON object`)
  }
  return value as Record<string, unknown>
}

const faultOptions = (o: Record<string, unknown>): SandboxFaultOptions => {
  const times = o.times === "Infinity" || o.times === null ? Infinity : o.times
  if (times !== undefined && typeof times !== "number") throw new ControlError(400, "times must be a number or \"Infinity\"")
  if (o.on !== undefined && typeof o.on !== "string") throw new ControlError(400, "on must be a string")
  if (o.afterRequests !== undefined && typeof o.afterRequests !== "number") {
    throw new ControlError(400, "afterRequests must be a number")
  }
  return {
    ...(times === undefined ? {} : { times }),
    ...(o.on === undefined ? {} : { on: o.on as NonNullable<SandboxFaultOptions["on"]> }),
    ...(o.afterRequests === undefined ? {} : { afterRequests: o.afterRequests as number })
  }
}

const route = async (
  sandbox: AtlassianSandbox,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: string
): Promise<void> => {
  const method = req.method ?? "GET"
  const parts = path.split("/").filter((p) => p.length > 0).slice(1).map(decodeURIComponent)
  const [resource, id, extra] = parts
  switch (resource) {
    case undefined:
      if (method !== "GET") break
      return send(res, 200, {
        url: sandbox.url,
        orgId: sandbox.orgId,
        orgName: sandbox.orgName,
        pageSize: sandbox.pageSize,
        users: sandbox.users().length,
        rateLimit: sandbox.rateLimit,
        faults: sandbox.faults()
      })
    case "users": {
      if (extra !== undefined) break
      if (id === undefined) {
        if (method === "GET") return send(res, 200, { users: sandbox.users() })
        if (method === "POST") {
          const body = asObject(await readJson(req), "the body")
          if (typeof body.count === "number") return send(res, 201, { users: sandbox.addUsers(body.count) })
          if (Array.isArray(body.users)) {
            return send(res, 201, { users: sandbox.addUsers(body.users as ReadonlyArray<SandboxUserInput>) })
          }
          throw new ControlError(400, "expected {\"count\": n} or {\"users\": [...]}")
        }
        break
      }
      const user = sandbox.user(id)
      if (method === "GET" || method === "PATCH" || method === "DELETE") {
        if (user === undefined) throw new ControlError(404, `no user with account_id ${id}`)
      }
      if (method === "GET") return send(res, 200, user)
      if (method === "DELETE") {
        sandbox.removeUser(id)
        return send(res, 204)
      }
      if (method === "PATCH") {
        const body = asObject(await readJson(req), "the patch")
        const patch: Record<string, unknown> = {}
        for (const [key, value] of Object.entries(body)) patch[key] = value === null ? undefined : value
        return send(res, 200, sandbox.updateUser(id, patch as SandboxUserPatch))
      }
      break
    }
    case "faults": {
      if (id !== undefined) break
      if (method === "GET") return send(res, 200, { faults: sandbox.faults() })
      if (method === "DELETE") {
        sandbox.clearFaults()
        return send(res, 204)
      }
      if (method === "POST") {
        const body = await readJson(req)
        const items = Array.isArray(body) ? body : [body]
        // Check them all before queueing any, so a bad batch leaves the queue as it was.
        const checked = items.map((item) => {
          const o = asObject(item, "each fault")
          return "fault" in o
            ? { fault: validateFault(o.fault), options: faultOptions(o) }
            : { fault: validateFault(o), options: {} }
        })
        for (const { fault, options } of checked) sandbox.injectFault(fault, options)
        return send(res, 201, { faults: sandbox.faults() })
      }
      break
    }
    case "requests": {
      if (id === undefined) {
        if (method === "GET") return send(res, 200, { requests: sandbox.requests })
        if (method === "DELETE") {
          sandbox.resetLog()
          return send(res, 204)
        }
      } else if (id === "max-in-window" && method === "GET") {
        const params = new URLSearchParams(query)
        const windowMs = Number(params.get("windowMs"))
        if (!(windowMs > 0)) throw new ControlError(400, "windowMs must be a number of milliseconds > 0")
        const include = params.get("include") ?? "all"
        if (include !== "all" && include !== "accepted") throw new ControlError(400, "include must be all or accepted")
        return send(res, 200, { max: sandbox.maxRequestsInAnyWindow(windowMs, { include }) })
      }
      break
    }
    case "rate-limit": {
      if (id !== undefined || method !== "POST") break
      const body = await readJson(req)
      sandbox.setRateLimit(body as never)
      return send(res, 200, { rateLimit: sandbox.rateLimit })
    }
  }
  throw new ControlError(404, `no control endpoint ${method} ${path}; see the table in ControlApi.ts`)
}

/**
 * Answers one `/__sandbox/...` request.
 *
 * @since 0.1.0
 * @category handlers
 */
export const handleControl = (
  sandbox: AtlassianSandbox,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  query: string
): void => {
  route(sandbox, req, res, path, query).catch((error: unknown) => {
    if (res.headersSent) return
    // Everything the sandbox throws here comes from the caller's input (unknown id, bad fault, ...).
    const status = error instanceof ControlError ? error.status : 400
    send(res, status, { error: error instanceof Error ? error.message : String(error) })
  })
}
