/**
 * The API key goes only to the configured base URL's origin: not to a `links.next` that points elsewhere,
 * and not along a redirect. Driven through the host API against the sandbox, with a second server that
 * records whatever reaches it.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { distinctiveSecret, findSecrets, recordingServer } from "../support/Guarantees.js"
import { makeSandbox, sync } from "../support/Org.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"

describe("the API key stays with the configured origin", () => {
  let sandbox: AtlassianSandbox
  let foreign: Awaited<ReturnType<typeof recordingServer>>
  let t: TestHost
  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 30, pageSize: 10, seed: 41, apiKey: distinctiveSecret("ATORIGINKEY") })
    foreign = await recordingServer()
    t = await makeTestHost()
  })
  afterAll(async () => {
    await t.close()
    await foreign.close()
    await sandbox.close()
  })

  const create = async (name: string, baseUrl: string) => {
    const res = await t.request("POST", "/api/connections", {
      body: {
        provider: "atlassian",
        name,
        config: { organizationId: sandbox.orgId, apiKey: sandbox.apiKey, adminEmail: "a@b.example", baseUrl }
      }
    })
    expect(res.status).toBe(201)
    return res.body.id as string
  }

  it("Should fail a sync whose next page link points at another origin, sending that origin nothing", async () => {
    const id = await create("Foreign next", sandbox.url)
    const before = await t.request("GET", `/api/connections/${id}/accounts`)
    expect(before.body.total).toBe(0)
    // Same host, other port; and another host name for this machine: both are other origins.
    for (const origin of [foreign.url, foreign.url.replace("127.0.0.1", "localhost")]) {
      sandbox.injectFault({ kind: "foreignNext", origin }, { on: "users", times: 1 })
      const run = await sync(t.request, id, { audited: true })
      expect(run.body.status).toBe("failed")
      expect(run.body.error.message).toContain(`refused to send a request to ${origin}`)
      expect(findSecrets(run.text, { apiKey: sandbox.apiKey })).toEqual([])
    }
    expect(foreign.seen).toEqual([])
    // Nothing was applied by the failed runs.
    expect((await t.request("GET", `/api/connections/${id}/accounts`)).body.total).toBe(0)
    // Without the fault the same connection syncs: the refusal was about the link, not the setup.
    expect((await sync(t.request, id, { audited: true })).body.status).toBe("succeeded")
  })

  it("Should not follow a redirect to another origin, for a connection test or a sync", async () => {
    // A base URL that answers every request with a redirect to the foreign server, as a hijacked proxy
    // or a misconfigured load balancer might.
    const redirector = await recordingServer((req, res) => {
      res.writeHead(307, { location: `${foreign.url}${req.url}` }).end()
    })
    try {
      const id = await create("Redirected", redirector.url)
      const verify = await t.request("POST", `/api/connections/${id}/verify`)
      expect(verify.status).toBeGreaterThanOrEqual(400)
      expect(verify.body.error.message).toBeTypeOf("string")
      const run = await sync(t.request, id, { audited: true })
      expect(run.body.status).toBe("failed")
      // The redirector got the requests (it is the configured origin), with the key ...
      expect(redirector.seen.length).toBeGreaterThanOrEqual(2)
      expect(redirector.seen.every((r) => r.authorization === `Bearer ${sandbox.apiKey}`)).toBe(true)
      // ... the server it pointed at got nothing at all.
      expect(foreign.seen).toEqual([])
      expect(findSecrets([verify.text, run.text].join("\n"), { apiKey: sandbox.apiKey })).toEqual([])
    } finally {
      await redirector.close()
    }
  })
})
