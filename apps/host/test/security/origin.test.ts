/**
 * The API key goes only to the configured base URL's origin: not to a `links.next` that points elsewhere,
 * and not along a redirect. Driven through the host API against the sandbox, with a second server that
 * records whatever reaches it.
 */
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeSandbox } from "../harness.js"
import { distinctiveSecret, findSecrets, makeSecurityHost, type SecurityHost, syncOnce } from "./support.js"

interface Seen {
  readonly method: string
  readonly url: string
  readonly authorization: string | undefined
}

/** A server on 127.0.0.1 that records every request; `respond` answers it (200 `{}` by default). */
const recordingServer = async (respond?: (req: Http.IncomingMessage, res: Http.ServerResponse) => void) => {
  const seen: Array<Seen> = []
  const server = Http.createServer((req, res) => {
    seen.push({ method: req.method ?? "", url: req.url ?? "", authorization: req.headers.authorization })
    if (respond !== undefined) return respond(req, res)
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ data: [], links: {} }))
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return { seen, url, close: () => new Promise<void>((resolve) => server.close(() => resolve())) }
}

describe("the API key stays with the configured origin", () => {
  let sandbox: AtlassianSandbox
  let foreign: Awaited<ReturnType<typeof recordingServer>>
  let t: SecurityHost
  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 30, pageSize: 10, seed: 41, apiKey: distinctiveSecret("ATORIGINKEY") })
    foreign = await recordingServer()
    t = await makeSecurityHost({ requestLog: false })
  })
  afterAll(async () => {
    await t.close()
    await foreign.close()
    await sandbox.close()
  })

  const create = async (name: string, baseUrl: string) => {
    const res = await t.request("POST", "/api/connections", {
      body: { provider: "atlassian", name, config: { organizationId: sandbox.orgId, apiKey: sandbox.apiKey, adminEmail: "a@b.example", baseUrl } }
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
      const run = await syncOnce(t.request, id)
      expect(run.body.status).toBe("failed")
      expect(run.body.error.message).toContain(`refused to send a request to ${origin}`)
      expect(findSecrets(run.text, { apiKey: sandbox.apiKey })).toEqual([])
    }
    expect(foreign.seen).toEqual([])
    // Nothing was applied by the failed runs.
    expect((await t.request("GET", `/api/connections/${id}/accounts`)).body.total).toBe(0)
    // Without the fault the same connection syncs: the refusal was about the link, not the setup.
    expect((await syncOnce(t.request, id)).body.status).toBe("succeeded")
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
      const run = await syncOnce(t.request, id)
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
