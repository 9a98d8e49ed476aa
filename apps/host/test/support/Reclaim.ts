/**
 * What the reclaim tests share: sandbox accounts with known activity per product, people with roles and
 * their own tokens, policies and plans driven through the API, and a webhook receiver on loopback.
 */
import type { SandboxUserInput } from "@seatkeeper/provider-atlassian/sandbox"
import * as Crypto from "node:crypto"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { eventually } from "./Org.js"
import type { ApiResponse, Request, RequestOptions } from "./TestHost.js"

export const DAY_MS = 86_400_000

/** An instant `n` days ago (negative: in the future), ISO-8601. */
export const daysAgo = (n: number, from = Date.now()): string => new Date(from - n * DAY_MS).toISOString()

/** The products the reclaim tests use, as the sandbox's default workspaces know them. */
export const JIRA = { key: "jira-software", name: "Jira", url: "https://acme.atlassian.net/" } as const
export const CONFLUENCE = { key: "confluence", name: "Confluence", url: "https://acme.atlassian.net/wiki" } as const
/** Entitlement keys (product key + the site's full host) and names, as the host shows them. */
export const JIRA_KEY = "jira-software:acme.atlassian.net"
export const CONFLUENCE_KEY = "confluence:acme.atlassian.net"

/**
 * A person in the sandbox org: active, billable, managed, joined two years ago, holding the products
 * given with the days since each was last used (`null`: never used).
 */
export const person = (
  id: string,
  name: string,
  products: ReadonlyArray<readonly [typeof JIRA | typeof CONFLUENCE, number | null]>,
  extra: Partial<SandboxUserInput> = {}
): SandboxUserInput => {
  const used = products.map(([, d]) => d).filter((d): d is number => d !== null)
  const last = used.length === 0 ? undefined : Math.min(...used)
  return {
    account_id: id,
    account_type: "atlassian",
    account_status: "active",
    name,
    email: `${id}@acme.com`,
    access_billable: true,
    ...(last === undefined ? {} : { last_active: daysAgo(last) }),
    product_access: products.map(([p, d]) => ({ ...p, ...(d === null ? {} : { last_active: daysAgo(d) }) })),
    addedToOrg: daysAgo(730),
    groups: [],
    platformRoles: [],
    ...extra
  }
}

/** A request helper that sends `token` instead of the admin's. */
export const as = (request: Request, token: string): Request => (method, path, options: RequestOptions = {}) =>
  request(method, path, { ...options, token })

/** Fails with the answer when its status is not `status`. */
export const expectStatus = (res: ApiResponse, status: number, what: string): ApiResponse => {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${res.text.slice(0, 800)}`)
  return res
}

/** Creates a user with a role (as the admin) and returns their id and token. */
export const makeUser = async (request: Request, name: string, role: "viewer" | "operator" | "approver" | "admin") => {
  const res = expectStatus(await request("POST", "/api/users", { body: { name, role } }), 201, `creating user ${name}`)
  return { id: res.body.id as string, name, token: res.body.token as string }
}

export const createPolicy = async (request: Request, connectionId: string, policy: Record<string, unknown>) =>
  expectStatus(
    await request("POST", `/api/connections/${connectionId}/policies`, { body: { policy } }),
    201,
    "creating a policy"
  ).body

/** Makes a plan and waits for its check with the provider (a large plan is answered `checking`). */
export const makePlan = async (request: Request, policyId: string) => {
  let plan = expectStatus(await request("POST", `/api/policies/${policyId}/plans`), 201, "making a plan").body
  for (let i = 0; plan.status === "checking"; i++) {
    if (i > 600) throw new Error(`plan ${plan.id} is still checking after a minute`)
    await new Promise((resolve) => setTimeout(resolve, 100))
    plan = expectStatus(await request("GET", `/api/plans/${plan.id}`), 200, "following a plan's check").body
  }
  return plan
}

export interface PlanItemJson {
  readonly externalId: string
  readonly displayName: string
  readonly action: string
  readonly state: string
  readonly result: string | null
  readonly seats: ReadonlyArray<
    { readonly key: string; readonly name: string; readonly product: string; readonly lastActiveAt: string | null }
  >
  readonly preflight: { readonly allowed: boolean; readonly method: string; readonly reason: string | null } | null
  readonly journal: {
    readonly statusBefore: string
    readonly productsBefore: ReadonlyArray<string>
    readonly method: string
  } | null
  readonly monthly: Record<string, number>
  readonly [k: string]: unknown
}

/** Every account of a plan, in execution order. */
export const planItems = async (request: Request, planId: string, state?: string): Promise<Array<PlanItemJson>> => {
  const all: Array<PlanItemJson> = []
  let cursor: string | null = null
  do {
    const query: string = `limit=500${state === undefined ? "" : `&state=${state}`}${
      cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`
    }`
    const res = expectStatus(
      await request("GET", `/api/plans/${planId}/items?${query}`),
      200,
      "listing a plan's accounts"
    )
    all.push(...res.body.data)
    cursor = res.body.nextCursor
  } while (cursor !== null)
  return all
}

/** Polls a plan until its status is one of `statuses`. */
export const waitForPlan = async (
  request: Request,
  planId: string,
  statuses: ReadonlyArray<string>,
  timeoutMs = 60_000
) =>
  eventually(
    `plan ${planId} to be ${statuses.join(" or ")}`,
    async () => {
      const res = await request("GET", `/api/plans/${planId}`)
      if (res.status !== 200) return undefined // a host restarting
      return statuses.includes(res.body.status) ? res.body : undefined
    },
    timeoutMs,
    100
  )

/** Approves (as `approver`) and executes (as `operator`) a plan, and waits for its end. */
export const approveAndExecute = async (
  request: Request,
  planId: string,
  options: { readonly approver?: Request; readonly operator?: Request; readonly until?: ReadonlyArray<string> } = {}
) => {
  expectStatus(await (options.approver ?? request)("POST", `/api/plans/${planId}/approve`), 200, "approving the plan")
  expectStatus(await (options.operator ?? request)("POST", `/api/plans/${planId}/execute`), 202, "executing the plan")
  return waitForPlan(request, planId, options.until ?? ["done", "stopped"])
}

/** RFC 4180 rows (the host's CSV exports), without the header row when `header` is false. */
export const parseCsv = (text: string): Array<Array<string>> => {
  const rows: Array<Array<string>> = []
  let row: Array<string> = []
  let cell = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!
    if (quoted) {
      if (ch === "\"" && text[i + 1] === "\"") {
        cell += "\""
        i++
      } else if (ch === "\"") quoted = false
      else cell += ch
    } else if (ch === "\"") quoted = true
    else if (ch === ",") {
      row.push(cell)
      cell = ""
    } else if (ch === "\r" && text[i + 1] === "\n") {
      row.push(cell)
      rows.push(row)
      row = []
      cell = ""
      i++
    } else cell += ch
  }
  if (cell !== "" || row.length > 0) rows.push([...row, cell])
  return rows
}

/** The CSV as objects keyed by its header. */
export const csvObjects = (text: string): Array<Record<string, string>> => {
  const [header, ...rows] = parseCsv(text)
  return rows.map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ""])))
}

// -----------------------------------------------------------------------------------------------------
// Webhooks
// -----------------------------------------------------------------------------------------------------

export interface Delivery {
  readonly at: number
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
  readonly json: any
  /** The status this receiver answered. */
  readonly answered: number
}

/**
 * A webhook receiver on 127.0.0.1 that records every POST and answers with `answer(n)` for the n-th
 * request (0-based; default 200).
 */
export const webhookReceiver = async (answer: (n: number) => number = () => 200) => {
  const received: Array<Delivery> = []
  let n = 0
  const server = Http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8")
      const status = answer(n++)
      let json: unknown
      try {
        json = JSON.parse(body)
      } catch {
        json = undefined
      }
      received.push({ at: Date.now(), headers: req.headers, body, json, answered: status })
      res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "no")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
  return {
    url,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}

/**
 * Checks `X-Seatkeeper-Signature: t=<unix>,v1=<hex>` against the body with the secret, as a receiver
 * would: the HMAC-SHA256 of `<t>.<body>`, compared in constant time, and a timestamp within 5 minutes.
 */
export const verifySignature = (
  secret: string,
  header: string | undefined,
  body: string,
  now = Date.now()
): boolean => {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? "")
  if (match === null) return false
  const t = Number(match[1])
  if (Math.abs(now / 1000 - t) > 300) return false
  const expected = Crypto.createHmac("sha256", secret).update(`${match[1]}.${body}`).digest()
  return Crypto.timingSafeEqual(expected, Buffer.from(match[2]!, "hex"))
}
