/**
 * Clear answers, as issue 8 pins them: a suspend Atlassian refuses (an account managed by SCIM) is 409
 * `provider_refused` with the provider's reason and hint, an account the provider does not have is 404
 * `provider_account_not_found` (neither a 502 that invites retries); a dry run asks the provider's read-only
 * preflight and says "would be refused: managed by SCIM (…)" instead of "would change active → suspended",
 * changing nothing upstream; Atlassian's lifecycle `enable` is sent without a body; and a body over the size
 * limit is answered 413 with `Connection: close`, after which a keep-alive client's next request succeeds.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import * as Http from "node:http"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connect, makeSandbox, statusOf, sync, UNPACED } from "../support/Org.js"
import { ADMIN_TOKEN, makeTestHost, type TestHost } from "../support/TestHost.js"

describe("what the host answers about one account", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let id: string
  let active: Array<string>
  beforeAll(async () => {
    t = await makeTestHost()
    sandbox = await makeSandbox({ users: 60, pageSize: 20, seed: 13 })
    id = await connect(t.request, sandbox, { rateLimit: UNPACED })
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
    active = sandbox.users().filter((u) => u.account_status === "active" && u.managedBy === undefined).map((u) =>
      u.account_id
    )
  })
  afterAll(async () => {
    await t?.close()
    await sandbox?.close()
  })

  const path = (externalId: string, action: string) =>
    `/api/connections/${id}/accounts/${encodeURIComponent(externalId)}/${action}`
  const lastAudit = async () => (await t.request("GET", `/api/audit?connectionId=${id}&limit=1`)).body.data[0]

  it("Should preview a suspend Atlassian would refuse as refused, asking only the read-only preflight", async () => {
    const managed = active.shift()!
    sandbox.updateUser(managed, { managedBy: "scim" })
    sandbox.resetLog()
    const res = await t.request("POST", path(managed, "suspend"), { body: { dryRun: true, reason: "left" } })
    expect(res.status, res.text).toBe(200)
    expect(res.body.action).toMatchObject({
      name: "suspend",
      dryRun: true,
      from: "active",
      to: "suspended",
      preflight: {
        allowed: false,
        reason: "managed by SCIM (your identity provider)",
        code: "externalDirectory.scim",
        hint: expect.stringMatching(/\w/)
      },
      summary: "would be refused: managed by SCIM (your identity provider)"
    })
    expect(res.body.action.summary).not.toContain("would change")
    // One read of the account's privileges went upstream, nothing else; nothing changed there or here.
    expect(sandbox.requests.map((r) => `${r.method} ${r.route}`)).toEqual(["GET manage"])
    expect(sandbox.user(managed)!.account_status).toBe("active")
    expect(await statusOf(t.request, id, managed)).toBe("active")
    expect(await lastAudit()).toMatchObject({
      action: "account.suspend",
      outcome: "dry-run",
      detail: "would be refused: managed by SCIM (your identity provider); nothing was changed"
    })

    // The real suspend is refused by Atlassian: 409 with its reason and what to do.
    const refused = await t.request("POST", path(managed, "suspend"), { body: { reason: "left" } })
    expect(refused.status).toBe(409)
    expect(refused.body.error).toMatchObject({
      code: "provider_refused",
      message: expect.stringContaining("forbidden.action (externalDirectory.scim)"),
      hint: expect.stringContaining("provisioned by SCIM from your identity provider"),
      details: { provider: "atlassian", operation: "suspend", reason: "Forbidden", upstreamStatus: 403 }
    })
    expect(await statusOf(t.request, id, managed)).toBe("active")
    expect(await lastAudit()).toMatchObject({ action: "account.suspend", outcome: "error" })
  })

  it("Should answer 404 for an account the provider no longer has, and keep it as it was", async () => {
    const gone = active.shift()!
    sandbox.removeUser(gone)
    const res = await t.request("POST", path(gone, "suspend"), { body: {} })
    expect(res.status).toBe(404)
    expect(res.body.error).toMatchObject({
      code: "provider_account_not_found",
      hint: expect.stringMatching(/\w/),
      details: { provider: "atlassian", operation: "suspend", reason: "NotFound", upstreamStatus: 404 }
    })
    // Not the host's own "no such account": that one is for ids it never synced.
    const unknown = await t.request("POST", path("557058:never-synced", "suspend"), { body: {} })
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.code).toBe("account_not_found")
    expect(await statusOf(t.request, id, gone)).toBe("active")
  })

  it("Should send Atlassian's enable without a body, and its disable with the reason", async () => {
    const user = active.shift()!
    sandbox.resetLog()
    expect((await t.request("POST", path(user, "suspend"), { body: { reason: "On leave" } })).status).toBe(200)
    expect((await t.request("POST", path(user, "restore"), { body: { reason: "Back" } })).status).toBe(200)
    const calls = sandbox.requests.filter((r) => r.route === "lifecycle")
    expect(calls.map((r) => [r.path.split("/").pop(), r.status, r.body])).toEqual([
      ["disable", 204, { message: "On leave" }],
      ["enable", 204, undefined]
    ])
  })
})

describe("a body over the limit on a keep-alive connection", () => {
  let t: TestHost
  beforeAll(async () => {
    t = await makeTestHost({ listen: true })
  })
  afterAll(() => t?.close())

  /** One request through `agent`. */
  const send = (agent: Http.Agent, method: string, path: string, body?: string) =>
    new Promise<{ status: number; headers: Http.IncomingHttpHeaders; text: string }>((resolve, reject) => {
      const url = new URL(path, t.url)
      const req = Http.request({
        host: url.hostname,
        port: url.port,
        method,
        path: url.pathname,
        agent,
        headers: {
          authorization: `Bearer ${ADMIN_TOKEN}`,
          ...(body === undefined
            ? {}
            : { "content-type": "application/json", "content-length": String(Buffer.byteLength(body)) })
        }
      }, (res) => {
        let text = ""
        res.on("data", (c: Buffer) => (text += c.toString("utf8")))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }))
      })
      req.on("error", reject)
      if (body !== undefined) req.write(body)
      req.end()
    })

  it("Should answer 413 with Connection: close, and serve the same client's next requests", async () => {
    // One socket, kept alive: the next request goes over the same connection unless the server closes it.
    const agent = new Http.Agent({ keepAlive: true, maxSockets: 1 })
    try {
      expect((await send(agent, "GET", "/api/connections")).status).toBe(200)
      const big = JSON.stringify({ provider: "atlassian", name: "x".repeat(200 * 1024), config: {} })
      const refused = await send(agent, "POST", "/api/connections", big)
      expect(refused.status).toBe(413)
      expect(refused.headers.connection).toBe("close")
      expect(JSON.parse(refused.text).error.code).toBe("payload_too_large")
      // The unread rest of the big body is never taken for the next request.
      for (let i = 0; i < 3; i++) {
        const next = await send(agent, "GET", "/api/connections")
        expect(next.status, next.text).toBe(200)
        expect(JSON.parse(next.text)).toEqual({ data: [] })
      }
    } finally {
      agent.destroy()
    }
  })
})
