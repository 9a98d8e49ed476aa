/**
 * DESIGN invariant 9: every suspend, restore, dry run, connection change and sync is in the audit log with
 * actor, time, input (without secrets) and outcome. A full session through the API leaves exactly this
 * trail, in this order.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeSandbox } from "../harness.js"
import { distinctiveSecret, findSecrets, makeSecurityHost, runSession, type SecurityHost, type SessionRecord } from "./support.js"

interface AuditEvent {
  readonly id: string
  readonly at: string
  readonly actor: string
  readonly action: string
  readonly connectionId: string | null
  readonly target: string | null
  readonly input: any
  readonly outcome: "ok" | "error" | "dry-run"
  readonly detail: string | null
}

describe("audit trail of a full session", () => {
  let sandbox: AtlassianSandbox
  let t: SecurityHost
  let session: SessionRecord
  let trail: ReadonlyArray<AuditEvent>
  const wrongKey = distinctiveSecret("WRONGKEY")

  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 30, pageSize: 10, seed: 31, apiKey: distinctiveSecret("ATAUDITKEY") })
    t = await makeSecurityHost({ requestLog: false })
    session = await runSession(t.request, sandbox, { apiKey: sandbox.apiKey, wrongKey })
    const res = await t.request("GET", `/api/audit?connectionId=${session.connectionId}&limit=500`)
    expect(res.status).toBe(200)
    // The API lists newest first; the trail reads oldest first.
    trail = [...res.body.data].reverse()
  })
  afterAll(async () => {
    await t?.close()
    await sandbox?.close()
  })

  it("Should record every change, action and sync, in order, with its outcome", () => {
    const [good, failed] = session.runs
    const c = session.connectionId
    expect(trail.map((e) => [e.action, e.target, e.outcome])).toEqual([
      ["connection.create", c, "ok"],
      ["connection.verify", c, "ok"],
      ["sync.start", good!.id, "ok"],
      ["sync.finish", good!.id, "ok"],
      ["account.suspend", session.accountId, "dry-run"],
      ["account.suspend", session.accountId, "ok"],
      ["account.restore", session.accountId, "ok"],
      ["account.suspend", session.managedAccountId, "error"],
      ["sync.start", failed!.id, "ok"],
      ["sync.finish", failed!.id, "error"],
      ["connection.update", c, "ok"],
      ["connection.verify", c, "error"],
      ["connection.update", c, "ok"],
      ["connection.update", c, "ok"],
      ["connection.verify", c, "ok"],
      ["connection.delete", c, "ok"]
    ])
  })

  it("Should name the actor and the time of each event", () => {
    expect(trail.every((e) => e.actor === "admin" && e.connectionId === session.connectionId)).toBe(true)
    const times = trail.map((e) => Date.parse(e.at))
    expect(times.every((t) => Number.isFinite(t) && t >= session.startedAt - 1_000 && t <= session.endedAt + 1_000)).toBe(true)
    expect(times).toEqual([...times].sort((a, b) => a - b))
    const ids = trail.map((e) => Number(e.id))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
  })

  it("Should keep the input of each action, a dry run marked as such, and say what happened", () => {
    const suspends = trail.filter((e) => e.action === "account.suspend" || e.action === "account.restore")
    expect(suspends.map((e) => [e.input, e.outcome])).toEqual([
      [{ reason: "audit: dry run", dryRun: true }, "dry-run"],
      [{ reason: "audit: left", dryRun: false }, "ok"],
      [{ reason: "audit: back", dryRun: false }, "ok"],
      [{ reason: null, dryRun: false }, "error"]
    ])
    expect(suspends.map((e) => e.detail)).toEqual([
      "would change active to suspended; nothing was called",
      "active -> suspended",
      "suspended -> active",
      expect.stringContaining("403")
    ])
    const finishes = trail.filter((e) => e.action === "sync.finish")
    expect(finishes.map((e) => e.detail)).toEqual(["succeeded", expect.stringMatching(/^failed: .*401/)])
    const verifies = trail.filter((e) => e.action === "connection.verify")
    expect(verifies[1]!.detail).toContain("401")
  })

  it("Should record a dry run that called nothing upstream", () => {
    // Two suspends of the account in the trail (the dry run and the real one) and a restore, but only
    // two calls reached the organisation: the dry run sent nothing.
    expect(trail.filter((e) => e.target === session.accountId).map((e) => `${e.action}:${e.outcome}`)).toEqual([
      "account.suspend:dry-run",
      "account.suspend:ok",
      "account.restore:ok"
    ])
    const lifecycle = sandbox.requests.filter((r) => r.route === "lifecycle" && r.path.includes(encodeURIComponent(session.accountId)))
    expect(lifecycle.map((r) => r.path.split("/").pop())).toEqual(["disable", "enable"])
  })

  it("Should keep connection changes' input, with the key masked and never in clear", () => {
    const create = trail[0]!
    expect(create.input).toEqual({
      provider: "atlassian",
      name: "Security session",
      config: {
        organizationId: sandbox.orgId,
        apiKey: { set: true, last4: sandbox.apiKey.slice(-4) },
        adminEmail: "admin@acme.example",
        baseUrl: sandbox.url
      },
      syncIntervalMinutes: 0
    })
    const updates = trail.filter((e) => e.action === "connection.update")
    expect(updates.map((e) => e.input.config.apiKey)).toEqual([
      { set: true, last4: wrongKey.slice(-4) },
      { set: true, last4: sandbox.apiKey.slice(-4) },
      { set: true, last4: sandbox.apiKey.slice(-4) }
    ])
    expect(updates[2]!.input).toMatchObject({ name: "Security session (renamed)", config: { rateLimit: { requests: 50, windowSeconds: 60 } } })
    expect(trail.at(-1)!.input).toEqual({ name: "Security session (renamed)" })
    expect(findSecrets(JSON.stringify(trail), { apiKey: sandbox.apiKey, wrongKey })).toEqual([])
  })

  it("Should record nothing for refused input, and keep the trail after the connection is gone", async () => {
    // The session's two refused creates (bad config, malformed JSON) left no event anywhere.
    const all = await t.request("GET", "/api/audit?limit=500")
    expect(all.body.data.length).toBe(trail.length)
    expect(all.body.data.every((e: AuditEvent) => e.connectionId === session.connectionId)).toBe(true)
  })
})
