/**
 * `@seatkeeper/provider-__ID__/sandbox`: a simulated __DISPLAY__ over real HTTP on loopback, for the
 * adapter's conformance suite, its other tests and consumers' own tests.
 *
 * TODO(__ID__): make it speak the real API (paths, page shape, error bodies, statuses) as you write the
 * client; it is how the conformance suite checks the adapter before it ever meets the real service.
 *
 * @since 0.1.0
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"

/**
 * A user of the sandbox, as the API returns it.
 *
 * @since 0.1.0
 * @category models
 */
export interface SandboxUser {
  id: string
  email: string
  name: string
  status: "active" | "suspended" | "deleted"
  lastActiveAt?: string
  /** Absent: the API says nothing about the user's products (not the same as `[]`, none). */
  products?: Array<{ key: string; name: string }>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SandboxRequest {
  /** Arrival time (ms since the epoch). */
  readonly at: number
  readonly method: string
  readonly path: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SandboxOptions {
  /** How many users to generate. Default 25. */
  readonly users?: number | undefined
  /** Users per page. Default 10. */
  readonly pageSize?: number | undefined
  /** The API key the sandbox accepts. */
  readonly apiKey?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface __NAME__Sandbox {
  /** The base URL, e.g. `http://127.0.0.1:PORT`. */
  readonly url: string
  readonly apiKey: string
  /** Every request received, bad keys included. */
  readonly requests: ReadonlyArray<SandboxRequest>
  readonly users: () => ReadonlyArray<SandboxUser>
  readonly user: (id: string) => SandboxUser | undefined
  /** Removes a user: the listing leaves it out and `GET /users/{id}` answers 404. */
  readonly remove: (id: string) => void
  readonly close: () => Promise<void>
}

/**
 * A deterministic roster: every fifth user suspended, every seventh deleted, every ninth without `products`
 * (the API did not say) and every eleventh with none (`[]`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const generateUsers = (count: number): Array<SandboxUser> =>
  Array.from({ length: count }, (_, i) => {
    const n = i + 1
    return {
      id: `u-${String(n).padStart(5, "0")}`,
      email: `user${n}@example.test`,
      name: `User ${n}`,
      status: n % 7 === 0 ? "deleted" : n % 5 === 0 ? "suspended" : "active",
      lastActiveAt: new Date(Date.UTC(2026, 0, 1 + (n % 300))).toISOString(),
      ...(n % 9 === 0 ? {} : {
        products: n % 11 === 0 ? [] : [{ key: n % 2 === 0 ? "pro" : "basic", name: n % 2 === 0 ? "Pro" : "Basic" }]
      })
    }
  })

const send = (res: ServerResponse, status: number, body?: unknown) => {
  res.writeHead(status, body === undefined ? {} : { "content-type": "application/json" })
  res.end(body === undefined ? undefined : JSON.stringify(body))
}

/**
 * Starts a sandbox on 127.0.0.1 on a free port.
 *
 * @since 0.1.0
 * @category constructors
 */
export const startSandbox = async (options: SandboxOptions = {}): Promise<__NAME__Sandbox> => {
  const apiKey = options.apiKey ?? "sandbox-key-0123456789"
  const pageSize = options.pageSize ?? 10
  const users = new Map(generateUsers(options.users ?? 25).map((u) => [u.id, u]))
  const requests: Array<SandboxRequest> = []

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? "/", "http://sandbox")
    requests.push({ at: Date.now(), method: req.method ?? "GET", path: url.pathname })
    if (req.headers.authorization !== `Bearer ${apiKey}`) return send(res, 401, { message: "invalid API key" })
    if (req.method === "GET" && url.pathname === "/me") return send(res, 200, { id: "admin" })
    if (req.method === "GET" && url.pathname === "/users") {
      // The cursor is the offset; an opaque string to the client.
      const offset = Number(url.searchParams.get("cursor") || "0")
      const all = [...users.values()]
      const page = all.slice(offset, offset + pageSize)
      const next = offset + pageSize < all.length ? String(offset + pageSize) : undefined
      return send(res, 200, { users: page, total: all.length, ...(next === undefined ? {} : { next }) })
    }
    const one = /^\/users\/([^/]+)$/.exec(url.pathname)
    if (req.method === "GET" && one !== null) {
      const user = users.get(decodeURIComponent(one[1]!))
      return user === undefined ? send(res, 404, { message: "user not found" }) : send(res, 200, user)
    }
    const action = /^\/users\/([^/]+)\/(suspend|restore)$/.exec(url.pathname)
    if (req.method === "POST" && action !== null) {
      const user = users.get(decodeURIComponent(action[1]!))
      if (user === undefined) return send(res, 404, { message: "user not found" })
      user.status = action[2] === "suspend" ? "suspended" : "active"
      return send(res, 204)
    }
    return send(res, 404, { message: `no route ${req.method} ${url.pathname}` })
  }

  const server = createServer((req, res) => {
    // Read the body (if any) before answering, so keep-alive connections stay usable.
    req.resume()
    req.on("end", () => handle(req, res))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    requests,
    users: () => [...users.values()],
    user: (id) => users.get(id),
    remove: (id) => {
      users.delete(id)
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error ? reject(error) : resolve()))
      })
  }
}
