/**
 * A full admin session through the API against a sandbox: what the secrets and audit suites replay, so
 * that every route, every outcome (ok, error, dry run, held) and every decision passes through the host
 * once with a key that must never come back out.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { sync } from "./Org.js"
import type { ApiResponse, Request } from "./TestHost.js"

export type SessionKeys = {
  /** The organisation's API key (the sandbox accepts it). */
  readonly apiKey: string
  /** A key the organisation rejects, set for a while to get a 401. */
  readonly wrongKey: string
}

/** What a session did, for the checks after it. */
export interface SessionRecord {
  readonly connectionId: string
  /** The account suspended and restored. */
  readonly accountId: string
  /** The account managed by SCIM, whose suspend Atlassian refuses. */
  readonly managedAccountId: string
  /** The account removed upstream, deprovisioned by the applied held run. */
  readonly removedAccountId: string
  /** In order: succeeded, failed (401), discarded (empty roster), succeeded (held over the threshold, applied). */
  readonly runs: ReadonlyArray<{ readonly id: string; readonly status: string }>
  readonly startedAt: number
  readonly endedAt: number
}

const expectStatus = (what: string, res: ApiResponse, status: number) => {
  if (res.status !== status) throw new Error(`${what}: expected ${status}, got ${res.status} ${res.text}`)
}

const expectRun = (what: string, res: ApiResponse, status: string) => {
  if (res.body?.status !== status) throw new Error(`${what}: expected a ${status} run, got ${res.text}`)
}

/**
 * A full session of an admin against `sandbox` through the API: create a connection, verify, sync, read
 * every list and export, dry runs (one the provider would refuse), suspend, restore, a refused suspend, a
 * sync failed by a 401, a run held for an empty roster and discarded, one held over the threshold and
 * applied, a wrong key set and put back, a settings change, a refused change of base URL, refused input,
 * and delete. Throws when a step does not answer as a user would expect.
 */
export const runSession = async (
  request: Request,
  sandbox: AtlassianSandbox,
  keys: SessionKeys
): Promise<SessionRecord> => {
  const startedAt = Date.now()
  const runs: Array<{ id: string; status: string }> = []
  const created = await request("POST", "/api/connections", {
    body: {
      provider: "atlassian",
      name: "Security session",
      config: {
        organizationId: sandbox.orgId,
        apiKey: keys.apiKey,
        adminEmail: "admin@acme.example",
        baseUrl: sandbox.url
      }
    }
  })
  expectStatus("create", created, 201)
  const id: string = created.body.id
  const base = `/api/connections/${id}`
  expectStatus("verify", await request("POST", `${base}/verify`), 200)

  const first = await sync(request, id, { audited: true })
  runs.push({ id: first.body.id, status: first.body.status })
  expectRun("first sync", first, "succeeded")

  // Every read and export.
  expectStatus("list connections", await request("GET", "/api/connections"), 200)
  expectStatus("get connection", await request("GET", base), 200)
  expectStatus("providers", await request("GET", "/api/providers"), 200)
  expectStatus("openapi", await request("GET", "/api/openapi.json"), 200)
  const page = await request("GET", `${base}/accounts?limit=5`)
  expectStatus("accounts", page, 200)
  expectStatus(
    "next page",
    await request("GET", `${base}/accounts?limit=5&cursor=${encodeURIComponent(page.body.nextCursor)}`),
    200
  )
  expectStatus("accounts csv", await request("GET", `${base}/accounts.csv`), 200)
  const products = await request("GET", `${base}/products`)
  expectStatus("products", products, 200)
  expectStatus("products csv", await request("GET", `${base}/products.csv`), 200)
  expectStatus("products trend", await request("GET", `${base}/products/trend`), 200)
  const license = products.body.data[0]?.key
  expectStatus(
    "seats",
    await request("GET", `${base}/seats${license === undefined ? "" : `?license=${encodeURIComponent(license)}`}`),
    200
  )
  expectStatus("seats csv", await request("GET", `${base}/seats.csv`), 200)
  expectStatus("totals", await request("GET", `${base}/totals`), 200)
  expectStatus("syncs", await request("GET", `${base}/syncs`), 200)
  expectStatus("sync", await request("GET", `/api/syncs/${first.body.id}`), 200)
  expectStatus("audit", await request("GET", "/api/audit"), 200)
  expectStatus("audit csv", await request("GET", "/api/audit.csv"), 200)

  // Actions: a dry run, a suspend, a restore; then an account managed by SCIM, whose dry run says it
  // would be refused and whose suspend the organisation refuses.
  const [user, managed, leaver] = sandbox.users().filter((u) =>
    u.account_status === "active" && u.managedBy === undefined
  )
  if (user === undefined || managed === undefined || leaver === undefined) {
    throw new Error("the sandbox has too few active users")
  }
  const accountPath = (accountId: string) => `${base}/accounts/${encodeURIComponent(accountId)}`
  expectStatus("account", await request("GET", accountPath(user.account_id)), 200)
  expectStatus(
    "dry run",
    await request("POST", `${accountPath(user.account_id)}/suspend`, {
      body: { reason: "audit: dry run", dryRun: true }
    }),
    200
  )
  expectStatus(
    "suspend",
    await request("POST", `${accountPath(user.account_id)}/suspend`, { body: { reason: "audit: left" } }),
    200
  )
  expectStatus(
    "restore",
    await request("POST", `${accountPath(user.account_id)}/restore`, { body: { reason: "audit: back" } }),
    200
  )
  sandbox.updateUser(managed.account_id, { managedBy: "scim" })
  const refusedDryRun = await request("POST", `${accountPath(managed.account_id)}/suspend`, { body: { dryRun: true } })
  expectStatus("dry run of a refused suspend", refusedDryRun, 200)
  if (refusedDryRun.body.action.preflight?.allowed !== false) {
    throw new Error(`the dry run did not say it would be refused: ${refusedDryRun.text}`)
  }
  expectStatus(
    "refused suspend",
    await request("POST", `${accountPath(managed.account_id)}/suspend`, { body: {} }),
    409
  )

  // A sync the organisation answers with 401.
  sandbox.injectFault({ kind: "status", status: 401, shape: "gateway" }, { on: "users", times: 1 })
  const failed = await sync(request, id, { audited: true })
  runs.push({ id: failed.body.id, status: failed.body.status })
  expectRun("the 401 sync", failed, "failed")

  // An organisation that suddenly lists nobody: held, then discarded.
  sandbox.setEmptyOrg(true)
  const empty = await sync(request, id, { audited: true })
  sandbox.setEmptyOrg(false)
  expectRun("the empty roster", empty, "held")
  const discarded = await request("POST", `/api/syncs/${empty.body.id}/discard`)
  expectStatus("discard", discarded, 200)
  runs.push({ id: empty.body.id, status: discarded.body.status })

  // One leaver, with a threshold of 0 %: held, then applied.
  expectStatus("threshold", await request("PATCH", base, { body: { holdThresholdPercent: 0 } }), 200)
  sandbox.removeUser(leaver.account_id)
  const over = await sync(request, id, { audited: true })
  expectRun("the run over the threshold", over, "held")
  const applied = await request("POST", `/api/syncs/${over.body.id}/apply`)
  expectStatus("apply", applied, 200)
  runs.push({ id: over.body.id, status: applied.body.status })

  // A wrong key: verify fails with the organisation's 401; then the right key again.
  expectStatus("wrong key", await request("PATCH", base, { body: { config: { apiKey: keys.wrongKey } } }), 200)
  expectStatus("verify with the wrong key", await request("POST", `${base}/verify`), 502)
  expectStatus("right key", await request("PATCH", base, { body: { config: { apiKey: keys.apiKey } } }), 200)
  // A settings change that leaves the key out keeps it.
  expectStatus(
    "settings",
    await request("PATCH", base, {
      body: { name: "Security session (renamed)", config: { rateLimit: { requests: 500, windowSeconds: 60 } } }
    }),
    200
  )
  expectStatus("verify again", await request("POST", `${base}/verify`), 200)
  // Moving the key to another server without typing it again is refused.
  expectStatus("rebinding", await request("PATCH", base, { body: { config: { baseUrl: "http://127.0.0.1:9" } } }), 400)

  // Refused input that carries the key must not echo it.
  expectStatus(
    "bad create",
    await request("POST", "/api/connections", {
      body: {
        provider: "atlassian",
        name: "Bad",
        config: { organizationId: "", apiKey: keys.apiKey, adminEmail: "x", baseUrl: "ftp://x" }
      }
    }),
    400
  )
  expectStatus(
    "malformed JSON",
    await request("POST", "/api/connections", {
      rawBody: `{"provider":"atlassian","config":{"apiKey":"${keys.apiKey}"`,
      headers: { "content-type": "application/json" }
    }),
    400
  )

  expectStatus("delete", await request("DELETE", base), 204)
  expectStatus("gone", await request("GET", base), 404)
  return {
    connectionId: id,
    accountId: user.account_id,
    managedAccountId: managed.account_id,
    removedAccountId: leaver.account_id,
    runs,
    startedAt,
    endedAt: Date.now()
  }
}
