/**
 * A simulated Atlassian organisation for the host to talk to, and what tests do with it through the API:
 * connect, sync and wait, read every account, snapshot everything a user sees, change the roster as a
 * month of real use would.
 */
import { type AtlassianSandbox, type SandboxOptions, startSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import type { ApiResponse, Request } from "./TestHost.js"

export const makeSandbox = (options: SandboxOptions = {}): Promise<AtlassianSandbox> =>
  startSandbox({ users: 240, pageSize: 50, seed: 7, host: "127.0.0.1", ...options })

/** A budget far above what the tests send, so pacing never slows a case down (the budget has its own tests). */
export const UNPACED = { requests: 100_000, windowSeconds: 1 } as const

export const atlassianConfig = (sandbox: AtlassianSandbox, overrides: Record<string, unknown> = {}) => ({
  organizationId: sandbox.orgId,
  apiKey: sandbox.apiKey,
  adminEmail: "admin@acme.example",
  baseUrl: sandbox.url,
  ...overrides
})

/** Creates a connection to the sandbox and returns its id. */
export const connect = async (
  request: Request,
  sandbox: AtlassianSandbox,
  options: {
    readonly name?: string
    readonly config?: Record<string, unknown>
    readonly rateLimit?: { readonly requests: number; readonly windowSeconds: number } | undefined
    /** Sync settings: `holdThresholdPercent`, `maxLookups`, `deadlineMinutes`, `syncIntervalMinutes`. */
    readonly settings?: Record<string, number> | undefined
  } = {}
): Promise<string> => {
  const res = await request("POST", "/api/connections", {
    body: {
      provider: "atlassian",
      name: options.name ?? "Acme",
      config: atlassianConfig(sandbox, {
        ...(options.rateLimit === undefined ? {} : { rateLimit: options.rateLimit }),
        ...options.config
      }),
      ...options.settings
    }
  })
  if (res.status !== 201) throw new Error(`creating a connection failed: ${res.status} ${res.text}`)
  return res.body.id
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Polls until `check` gives a value, or fails after `timeoutMs` (generous: the machine may be loaded). */
export const eventually = async <A>(
  what: string,
  check: () => Promise<A | undefined> | A | undefined,
  timeoutMs = 60_000,
  everyMs = 50
): Promise<A> => {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

/**
 * Polls a sync until it is no longer running and, with `audited`, until its `sync.finish` audit event is
 * written (the end of a run is audited just after the run is marked: waiting keeps trails in order).
 */
export const waitForSync = async (
  request: Request,
  runId: string,
  options: { readonly timeoutMs?: number; readonly audited?: boolean } = {}
): Promise<ApiResponse> => {
  const done = await eventually(`sync ${runId} to end`, async () => {
    const res = await request("GET", `/api/syncs/${encodeURIComponent(runId)}`)
    if (res.status !== 200) throw new Error(`GET /api/syncs/${runId}: ${res.status} ${res.text}`)
    return res.body.status === "running" ? undefined : res
  }, options.timeoutMs)
  if (options.audited === true) {
    await eventually(`the sync.finish audit event of ${runId}`, async () => {
      const audit = await request(
        "GET",
        `/api/audit?connectionId=${encodeURIComponent(done.body.connectionId)}&limit=50`
      )
      return audit.body.data.some((e: { action: string; target: string }) =>
          e.action === "sync.finish" && e.target === runId
        )
        ? true
        : undefined
    }, options.timeoutMs)
  }
  return done
}

export const startSync = async (request: Request, connectionId: string): Promise<ApiResponse> => {
  const started = await request("POST", `/api/connections/${connectionId}/syncs`)
  if (started.status !== 202) throw new Error(`starting a sync failed: ${started.status} ${started.text}`)
  return started
}

/** Starts a sync and waits for its end. */
export const sync = async (
  request: Request,
  connectionId: string,
  options: { readonly timeoutMs?: number; readonly audited?: boolean } = {}
): Promise<ApiResponse> => waitForSync(request, (await startSync(request, connectionId)).body.id, options)

export interface AccountJson {
  readonly externalId: string
  readonly status: string
  readonly firstSeenAt: string
  readonly lastSeenAt: string
  readonly entitlements: ReadonlyArray<{ readonly key: string; readonly status: string }>
  readonly [k: string]: unknown
}

/** Every account of a connection, in the API's order, read page by page. */
export const listAccounts = async (request: Request, connectionId: string, query = ""): Promise<Array<AccountJson>> => {
  const all: Array<AccountJson> = []
  let cursor: string | null = null
  do {
    const page: string = cursor === null ? "" : `&cursor=${encodeURIComponent(cursor)}`
    const res = await request("GET", `/api/connections/${connectionId}/accounts?limit=500${query}${page}`)
    if (res.status !== 200) throw new Error(`listing accounts failed: ${res.status} ${res.text}`)
    all.push(...res.body.data)
    cursor = res.body.nextCursor
  } while (cursor !== null)
  return all
}

/** The status of one account as the API shows it. */
export const statusOf = async (
  request: Request,
  connectionId: string,
  externalId: string
): Promise<string | undefined> => {
  const res = await request("GET", `/api/connections/${connectionId}/accounts/${encodeURIComponent(externalId)}`)
  return res.status === 200 ? res.body.status : undefined
}

/**
 * What a user sees of a connection's data: every account with its entitlements and statuses, every
 * account's status history, and the products summary. Two equal snapshots mean nothing changed.
 */
export interface Snapshot {
  readonly accounts: ReadonlyArray<AccountJson>
  readonly history: Record<string, unknown>
  readonly products: unknown
}

export const snapshot = async (
  request: Request,
  connectionId: string,
  options: {
    /** Whose history to read (default: every account's). Statuses and entitlements are always all read. */
    readonly historyOf?: (accounts: ReadonlyArray<AccountJson>) => ReadonlyArray<AccountJson>
  } = {}
): Promise<Snapshot> => {
  const accounts = await listAccounts(request, connectionId)
  const history: Record<string, unknown> = {}
  const read = options.historyOf?.(accounts) ?? accounts
  // A few reads at a time: quicker than one by one, gentle on a loaded machine.
  for (let i = 0; i < read.length; i += 8) {
    await Promise.all(
      read.slice(i, i + 8).map(async (account) => {
        const res = await request(
          "GET",
          `/api/connections/${connectionId}/accounts/${encodeURIComponent(account.externalId)}`
        )
        if (res.status !== 200) throw new Error(`reading ${account.externalId} failed: ${res.status} ${res.text}`)
        history[account.externalId] = res.body.history
      })
    )
  }
  const products = (await request("GET", `/api/connections/${connectionId}/products`)).body
  return { accounts, history, products }
}

/**
 * Accounts without the times Seatkeeper itself stamps (first and last seen, of accounts and of entitlements),
 * so the result of two syncs of equal rosters compares equal across connections and hosts. Everything from
 * the source stays.
 */
export const sourceView = (accounts: ReadonlyArray<AccountJson>) =>
  accounts.map(({ entitlements, firstSeenAt: _first, lastSeenAt: _last, ...rest }) => ({
    ...rest,
    entitlements: entitlements.map(({ firstSeenAt: _f, lastSeenAt: _l, ...e }: Record<string, unknown>) => e)
  }))

/**
 * Changes the roster the way a month of real use would: people leave, some are suspended upstream, one
 * loses a product, newcomers arrive. A complete sync applies all of it; a failed sync must apply none.
 * Deterministic, so every sandbox of one seed ends in the same roster.
 */
export const changeRoster = (sandbox: AtlassianSandbox): {
  readonly removed: ReadonlyArray<string>
  readonly touched: ReadonlyArray<string>
} => {
  const users = sandbox.users()
  const pick = (i: number) => users[i % users.length]!
  const removed = [3, 57, 120, users.length - 2].map((i) => pick(i).account_id)
  for (const id of removed) sandbox.removeUser(id)
  const touched = [...removed]
  for (const i of [10, 99, 150]) {
    sandbox.updateUser(pick(i).account_id, { account_status: "inactive" })
    touched.push(pick(i).account_id)
  }
  const withProducts = users.find((u, i) =>
    i > 20 && (u.product_access?.length ?? 0) >= 2 && u.account_status === "active"
  )
  if (withProducts !== undefined) {
    sandbox.updateUser(withProducts.account_id, { product_access: withProducts.product_access!.slice(1) })
    touched.push(withProducts.account_id)
  }
  sandbox.addUsers(3)
  return { removed, touched }
}

const mappedStatus: Record<string, string> = { active: "active", inactive: "suspended", closed: "deprovisioned" }

/**
 * Checks a connection's accounts against the sandbox's managed roster itself: every user there with its
 * mapped status and one active entitlement per product, every `removed` one deprovisioned, nothing else.
 */
export const expectMatchesRoster = (
  accounts: ReadonlyArray<AccountJson>,
  sandbox: AtlassianSandbox,
  removed: ReadonlyArray<string>
): void => {
  const byId = new Map(accounts.map((a) => [a.externalId, a]))
  const users = sandbox.users({ claimStatus: "managed" })
  if (accounts.length !== users.length + removed.length) {
    throw new Error(`expected ${users.length + removed.length} accounts, found ${accounts.length}`)
  }
  for (const user of users) {
    const account = byId.get(user.account_id)
    if (account === undefined) throw new Error(`account ${user.account_id} is missing`)
    const status = mappedStatus[user.account_status] ?? "unknown"
    if (account.status !== status) throw new Error(`${user.account_id}: status ${account.status}, expected ${status}`)
    const live = account.entitlements.filter((e) => e.status === "active").length
    if (live !== (user.product_access?.length ?? 0)) {
      throw new Error(`${user.account_id}: ${live} active entitlements, expected ${user.product_access?.length ?? 0}`)
    }
  }
  for (const id of removed) {
    if (byId.get(id)?.status !== "deprovisioned") throw new Error(`removed account ${id} is ${byId.get(id)?.status}`)
  }
}
