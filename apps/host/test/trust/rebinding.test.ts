/**
 * Issue 8, defect 4 (DESIGN invariant 12): a secret is bound to where it was entered. Editing where a
 * connection sends it (Atlassian's base URL or organisation, a SCIM connection's base URL) without typing it
 * again is refused with a field error on the secret, and the other server never sees a request; with the
 * secret entered again the change is accepted. Plain `http://` is accepted for loopback hosts only.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { distinctiveSecret, findSecrets, recordingServer } from "../support/Guarantees.js"
import { atlassianConfig, connect, makeSandbox, sync, UNPACED } from "../support/Org.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"

type Issue = { readonly path: ReadonlyArray<string>; readonly message: string }
const issuesOf = (body: any): Array<string> => (body?.error?.details?.issues ?? []).map((i: Issue) => i.path.join("."))

describe("a stored secret goes only where it was entered", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let other: Awaited<ReturnType<typeof recordingServer>>
  const apiKey = distinctiveSecret("ATREBINDKEY")
  const figures = { refused: 0, otherServerRequests: 0 }

  beforeAll(async () => {
    t = await makeTestHost()
    sandbox = await makeSandbox({ users: 30, pageSize: 10, apiKey })
    // Another server the key must never reach (answers like an empty organisation).
    other = await recordingServer()
  })
  afterAll(async () => {
    console.log(
      `[rebinding] ${figures.refused} changes of destination without the secret refused with a field error; ` +
        `the other server saw ${figures.otherServerRequests} requests carrying the stored secret`
    )
    await t?.close()
    await sandbox?.close()
    await other?.close()
  })

  const auditedUpdates = async (id: string) =>
    (await t.request("GET", `/api/audit?connectionId=${id}&action=connection.update`)).body.data.length

  it("Should refuse a new base URL or organisation without the key, and keep sending the key where it was entered", async () => {
    const id = await connect(t.request, sandbox, { rateLimit: UNPACED })
    const path = `/api/connections/${id}`
    for (
      const config of [
        { baseUrl: other.url },
        { baseUrl: `${other.url}/` },
        { organizationId: "another-org" },
        { baseUrl: other.url, organizationId: "another-org" },
        { baseUrl: other.url, apiKey: "" }
      ]
    ) {
      const res = await t.request("PATCH", path, { body: { config } })
      expect(res.status, JSON.stringify(config)).toBe(400)
      expect(issuesOf(res.body), JSON.stringify(config)).toEqual(["config.apiKey"])
      expect(res.body.error.details.issues[0].message).toContain("must be entered again")
      figures.refused++
    }
    // Nothing changed: the connection still points at the sandbox, and everything it does goes there.
    expect((await t.request("GET", path)).body.config).toMatchObject({
      baseUrl: sandbox.url,
      organizationId: sandbox.orgId
    })
    expect((await t.request("POST", `${path}/verify`)).status).toBe(200)
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
    expect(other.seen).toEqual([])
    expect(await auditedUpdates(id)).toBe(0)

    // The same destination written differently (a trailing slash, another case) is not a move.
    const same = await t.request("PATCH", path, { body: { config: { baseUrl: `${sandbox.url.toUpperCase()}/` } } })
    expect(same.status, same.text).toBe(200)
    // A change that moves nothing keeps the key, as before.
    expect(
      (await t.request("PATCH", path, { body: { name: "Renamed", config: { adminEmail: "it@acme.example" } } })).status
    ).toBe(200)
    expect((await t.request("POST", `${path}/verify`)).status).toBe(200)
  })

  it("Should accept the move with the key entered again, and send only that key there", async () => {
    const id = await connect(t.request, sandbox, { name: "Moving", rateLimit: UNPACED })
    const newKey = distinctiveSecret("NEWKEY")
    const moved = await t.request("PATCH", `/api/connections/${id}`, {
      body: { config: { baseUrl: other.url, apiKey: newKey } }
    })
    expect(moved.status, moved.text).toBe(200)
    expect(moved.body.config).toMatchObject({ baseUrl: other.url, apiKey: { set: true, last4: newKey.slice(-4) } })
    await t.request("POST", `/api/connections/${id}/verify`)
    expect(other.seen.length).toBeGreaterThan(0)
    expect(other.seen.every((r) => r.authorization === `Bearer ${newKey}`)).toBe(true)
    figures.otherServerRequests +=
      other.seen.filter((r) => findSecrets(JSON.stringify(r.headers), { apiKey }).length > 0).length
    expect(findSecrets(JSON.stringify(other.seen), { apiKey })).toEqual([])
    expect(await auditedUpdates(id)).toBe(1)
  })

  it("Should refuse plain http:// for a host that is not loopback, with or without the key", async () => {
    const id = await connect(t.request, sandbox, { name: "Plain HTTP", rateLimit: UNPACED })
    for (const baseUrl of ["http://api.atlassian.com", "http://10.0.0.8:8080", "http://localhost.example.com"]) {
      const res = await t.request("PATCH", `/api/connections/${id}`, { body: { config: { baseUrl, apiKey } } })
      expect(res.status, baseUrl).toBe(400)
      expect(issuesOf(res.body), baseUrl).toEqual(["config.baseUrl"])
      expect(res.body.error.details.issues[0].message).toContain("http:// is only accepted for a loopback host")
      const created = await t.request("POST", "/api/connections", {
        body: { provider: "atlassian", name: "Plain", config: atlassianConfig(sandbox, { baseUrl }) }
      })
      expect(created.status, baseUrl).toBe(400)
      expect(issuesOf(created.body)).toEqual(["config.baseUrl"])
    }
    for (const baseUrl of ["http://127.0.0.1:1", "http://localhost:1", "http://[::1]:1", "https://api.atlassian.com"]) {
      const res = await t.request("PATCH", `/api/connections/${id}`, { body: { config: { baseUrl, apiKey } } })
      expect(res.status, `${baseUrl}: ${res.text}`).toBe(200)
    }
  })

  it("Should refuse a SCIM connection's new base URL without its bearer token", async () => {
    const first = await recordingServer()
    const second = await recordingServer()
    const token = distinctiveSecret("SCIMTOKEN")
    try {
      const created = await t.request("POST", "/api/connections", {
        body: {
          provider: "scim",
          name: "Slack",
          config: { appName: "Slack", baseUrl: `${first.url}/scim/v2`, bearerToken: token }
        }
      })
      expect(created.status, created.text).toBe(201)
      const path = `/api/connections/${created.body.id}`
      const refused = await t.request("PATCH", path, { body: { config: { baseUrl: `${second.url}/scim/v2` } } })
      expect(refused.status).toBe(400)
      expect(issuesOf(refused.body)).toEqual(["config.bearerToken"])
      figures.refused++
      await t.request("POST", `${path}/verify`)
      await sync(t.request, created.body.id)
      expect(second.seen).toEqual([])
      expect(first.seen.length).toBeGreaterThan(0)

      const again = await t.request("PATCH", path, {
        body: { config: { baseUrl: `${second.url}/scim/v2`, bearerToken: distinctiveSecret("SCIMNEW") } }
      })
      expect(again.status, again.text).toBe(200)
      expect(again.body.config.baseUrl).toBe(`${second.url}/scim/v2`)
      expect(findSecrets(JSON.stringify(second.seen), { token })).toEqual([])
    } finally {
      await first.close()
      await second.close()
    }
  })
})
