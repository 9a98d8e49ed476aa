/**
 * DESIGN invariant 9: every suspend, restore, dry run, connection change, sync and decision on a held run
 * is in the audit log with actor, time, input (without secrets) and outcome. A full session through the API
 * leaves exactly this trail, in this order.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { distinctiveSecret, findSecrets } from "../support/Guarantees.js"
import { makeSandbox } from "../support/Org.js"
import { runSession, type SessionRecord } from "../support/Session.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"

interface AuditEvent {
  readonly id: string
  readonly at: string
  readonly actor: string
  readonly action: string
  readonly connectionId: string | null
  readonly target: string | null
  readonly input: any
  readonly outcome: "ok" | "error" | "dry-run" | "held"
  readonly detail: string | null
}

describe("audit trail of a full session", () => {
  let sandbox: AtlassianSandbox
  let t: TestHost
  let session: SessionRecord
  let trail: ReadonlyArray<AuditEvent>
  const wrongKey = distinctiveSecret("WRONGKEY")

  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 30, pageSize: 10, seed: 31, apiKey: distinctiveSecret("ATAUDITKEY") })
    t = await makeTestHost()
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
    console.log(`[audit] a full session: ${trail.length} events, in order, each with actor, time, input and outcome`)
    const [good, failed, empty, over] = session.runs
    const c = session.connectionId
    expect(trail.map((e) => [e.action, e.target, e.outcome])).toEqual([
      ["connection.create", c, "ok"],
      ["connection.verify", c, "ok"],
      ["sync.start", good!.id, "ok"],
      ["sync.finish", good!.id, "ok"],
      ["account.suspend", session.accountId, "dry-run"],
      ["account.suspend", session.accountId, "ok"],
      ["account.restore", session.accountId, "ok"],
      ["account.suspend", session.managedAccountId, "dry-run"],
      ["account.suspend", session.managedAccountId, "error"],
      ["sync.start", failed!.id, "ok"],
      ["sync.finish", failed!.id, "error"],
      ["sync.start", empty!.id, "ok"],
      ["sync.finish", empty!.id, "held"],
      ["sync.discard", empty!.id, "ok"],
      ["connection.update", c, "ok"],
      ["sync.start", over!.id, "ok"],
      ["sync.finish", over!.id, "held"],
      ["sync.apply", over!.id, "ok"],
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
    expect(times.every((t) => Number.isFinite(t) && t >= session.startedAt - 1_000 && t <= session.endedAt + 1_000))
      .toBe(true)
    expect(times).toEqual([...times].sort((a, b) => a - b))
    const ids = trail.map((e) => Number(e.id))
    expect(ids).toEqual([...ids].sort((a, b) => a - b))
  })

  it("Should keep the input of each action, a dry run marked as such, and say what happened", () => {
    const suspends = trail.filter((e) => e.action === "account.suspend" || e.action === "account.restore")
    // The method the provider used (or its preflight named) is part of the input.
    expect(suspends.map((e) => [e.input, e.outcome])).toEqual([
      [{ reason: "audit: dry run", dryRun: true, method: "lifecycle" }, "dry-run"],
      [{ reason: "audit: left", dryRun: false, method: "lifecycle" }, "ok"],
      [{ reason: "audit: back", dryRun: false, method: "lifecycle" }, "ok"],
      [{ reason: null, dryRun: true, method: "lifecycle" }, "dry-run"],
      [{ reason: null, dryRun: false }, "error"]
    ])
    expect(suspends.map((e) => e.detail)).toEqual([
      expect.stringMatching(/^would change active → suspended \(.+\); nothing was changed$/),
      expect.stringMatching(/^active -> suspended \(.+\)$/),
      expect.stringMatching(/^suspended -> active \(.+\)$/),
      expect.stringMatching(/^would be refused: .*SCIM.*; nothing was changed$/),
      expect.stringContaining("403")
    ])
    const finishes = trail.filter((e) => e.action === "sync.finish")
    expect(finishes.map((e) => e.detail)).toEqual([
      "succeeded",
      expect.stringMatching(/^failed: .*401/),
      expect.stringMatching(/^held: the listing returned no accounts/),
      expect.stringMatching(/^held: applying it would deprovision 1 account/)
    ])
    // The decisions on held runs: who decided, and what applying did.
    const decisions = trail.filter((e) => e.action === "sync.discard" || e.action === "sync.apply")
    expect(decisions.map((e) => [e.action, e.actor, e.detail])).toEqual([
      ["sync.discard", "admin", "discarded"],
      // The restored account counts as updated: an admin action makes the next reading apply in full.
      ["sync.apply", "admin", "applied: 1 deprovisioned, 0 created, 1 updated"]
    ])
    const verifies = trail.filter((e) => e.action === "connection.verify")
    expect(verifies[1]!.detail).toContain("401")
  })

  it("Should record a dry run that changed nothing upstream", () => {
    // Two suspends of the account in the trail (the dry run and the real one) and a restore, but only
    // two lifecycle calls reached the organisation: the dry run asked the read-only preflight only.
    expect(trail.filter((e) => e.target === session.accountId).map((e) => `${e.action}:${e.outcome}`)).toEqual([
      "account.suspend:dry-run",
      "account.suspend:ok",
      "account.restore:ok"
    ])
    const lifecycle = sandbox.requests.filter((r) =>
      r.route === "lifecycle" && r.path.includes(encodeURIComponent(session.accountId))
    )
    expect(lifecycle.map((r) => r.path.split("/").pop())).toEqual(["disable", "enable"])
    const preflights = sandbox.requests.filter((r) => r.route === "manage")
    expect(preflights.map((r) => r.method)).toEqual(["GET", "GET"])
    // The refused suspend reached the organisation (which said no); its dry run did not.
    const refused = sandbox.requests.filter((r) =>
      r.route === "lifecycle" && r.path.includes(encodeURIComponent(session.managedAccountId))
    )
    expect(refused.map((r) => r.status)).toEqual([403])
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
    expect(updates[0]!.input).toEqual({ holdThresholdPercent: 0 })
    expect(updates.slice(1).map((e) => e.input.config.apiKey)).toEqual([
      { set: true, last4: wrongKey.slice(-4) },
      { set: true, last4: sandbox.apiKey.slice(-4) },
      { set: true, last4: sandbox.apiKey.slice(-4) }
    ])
    expect(updates[3]!.input).toMatchObject({
      name: "Security session (renamed)",
      config: { rateLimit: { requests: 500, windowSeconds: 60 } }
    })
    expect(trail.at(-1)!.input).toEqual({ name: "Security session (renamed)" })
    expect(findSecrets(JSON.stringify(trail), { apiKey: sandbox.apiKey, wrongKey })).toEqual([])
  })

  it("Should record nothing for refused input, and keep the trail after the connection is gone", async () => {
    // The session's refused change of base URL and two refused creates (bad config, malformed JSON) left no
    // event anywhere.
    const all = await t.request("GET", "/api/audit?limit=500")
    expect(all.body.data.length).toBe(trail.length)
    expect(all.body.data.every((e: AuditEvent) => e.connectionId === session.connectionId)).toBe(true)
  })
})
