/**
 * Suspends and connection tests under faults, through the host's API against the Atlassian sandbox.
 * A transient fault is retried (disable/enable are idempotent) and the action lands exactly once in
 * effect; a permanent one answers a JSON error with a code and a hint, leaves the account's status as it
 * was (locally and upstream) and is audited as an error. The provider's refusal of one account (managed by
 * SCIM: 403 `forbidden.action`) is 409 and an account it does not have is 404: answers about that account,
 * not an outage (a 5xx would invite retries).
 */
import type { AtlassianSandbox, SandboxFault } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest"
import { connect, makeSandbox, sync, UNPACED } from "../support/Org.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"

const TIMEOUT_MS = 2_000

type Expected =
  | { readonly outcome: "done"; readonly faults: number }
  | { readonly outcome: "refused"; readonly status: number; readonly code: string }

interface ActionCase {
  readonly name: string
  readonly fault: SandboxFault
  readonly times: number
  readonly expected: Expected
}

// Not here: a reset after a 2xx status line. The status line says the provider applied the call, so the
// host rightly takes it as done; the sandbox, which fakes the reset before applying, would disagree.
const suspendCases: ReadonlyArray<ActionCase> = [
  {
    name: "503s with the gateway's body",
    fault: { kind: "status", status: 503, shape: "gateway" },
    times: 2,
    expected: { outcome: "done", faults: 2 }
  },
  {
    name: "a 500 with the user-management body",
    fault: { kind: "status", status: 500, shape: "user" },
    times: 1,
    expected: { outcome: "done", faults: 1 }
  },
  {
    name: "a 502 HTML page",
    fault: { kind: "status", status: 502, shape: "html" },
    times: 1,
    expected: { outcome: "done", faults: 1 }
  },
  { name: "a connection reset", fault: { kind: "reset" }, times: 1, expected: { outcome: "done", faults: 1 } },
  {
    name: "an answer slower than the client timeout",
    fault: { kind: "slow", delayMs: TIMEOUT_MS * 4 },
    times: 1,
    expected: { outcome: "done", faults: 1 }
  },
  {
    name: "a 429 with only X-RateLimit-Reset",
    fault: { kind: "rateLimited", resetAfterSeconds: 0, resetFormat: "seconds" },
    times: 2,
    expected: { outcome: "done", faults: 2 }
  },
  {
    name: "a 403 forbidden.action (managed by an external directory)",
    fault: { kind: "status", status: 403, shape: "user", reason: "externalDirectory.scim" },
    times: 1,
    expected: { outcome: "refused", status: 409, code: "provider_refused" }
  },
  {
    name: "a 401 with an empty body",
    fault: { kind: "status", status: 401, shape: "empty" },
    times: 1,
    expected: { outcome: "refused", status: 502, code: "provider_unauthorized" }
  },
  {
    name: "a 404 accountNotFound",
    fault: { kind: "status", status: 404, shape: "user" },
    times: 1,
    expected: { outcome: "refused", status: 404, code: "provider_account_not_found" }
  },
  {
    name: "5xx that never ends",
    fault: { kind: "status", status: 503, shape: "empty" },
    times: Infinity,
    expected: { outcome: "refused", status: 503, code: "provider_unavailable" }
  }
]

describe("suspends and connection tests under faults", () => {
  let host: TestHost
  let sandbox: AtlassianSandbox
  let connectionId: string
  let candidates: Array<string>
  const figures = { cases: 0, faults: 0 }

  beforeAll(async () => {
    host = await makeTestHost({
      env: { SEATKEEPER_PROVIDER_TIMEOUT_MS: String(TIMEOUT_MS), SEATKEEPER_PROVIDER_RETRY_DELAY_MS: "20" }
    })
    sandbox = await makeSandbox()
    connectionId = await connect(host.request, sandbox, { rateLimit: UNPACED })
    expect((await sync(host.request, connectionId)).body.status).toBe("succeeded")
    candidates = sandbox.users().filter((u) => u.account_status === "active" && u.managedBy === undefined).map((u) =>
      u.account_id
    )
  })
  afterEach(() => sandbox.clearFaults())
  afterAll(async () => {
    await host?.close()
    await sandbox?.close()
    console.log(`[faults] actions: ${figures.cases} kinds, ${figures.faults} faults injected, 0 wrong statuses`)
  })

  const account = async (id: string) =>
    (await host.request("GET", `/api/connections/${connectionId}/accounts/${encodeURIComponent(id)}`)).body

  for (const c of suspendCases) {
    it(`Should suspend through ${c.name}, or refuse it cleanly`, async () => {
      const target = candidates.shift()!
      const before = await account(target)
      expect(before.status).toBe("active")
      sandbox.resetLog()
      sandbox.injectFault(c.fault, { on: "lifecycle", times: c.times })
      const res = await host.request(
        "POST",
        `/api/connections/${connectionId}/accounts/${encodeURIComponent(target)}/suspend`,
        {
          body: { reason: "fault test" }
        }
      )
      const faults = sandbox.requests.filter((r) => r.fault !== undefined).length
      figures.cases++
      figures.faults += faults
      const audit = (await host.request("GET", `/api/audit?connectionId=${connectionId}&limit=1`)).body.data[0]
      expect(audit).toMatchObject({ action: "account.suspend", target, actor: "admin" })

      if (c.expected.outcome === "done") {
        expect(res.status, res.text).toBe(200)
        expect(faults).toBe(c.expected.faults)
        expect(res.body.account.status).toBe("suspended")
        expect((await account(target)).status).toBe("suspended")
        expect(sandbox.user(target)!.account_status).toBe("inactive")
        expect(audit.outcome).toBe("ok")
      } else {
        expect(res.status).toBe(c.expected.status)
        expect(res.body.error).toMatchObject({
          code: c.expected.code,
          message: expect.any(String),
          hint: expect.stringMatching(/\w/),
          details: { provider: "atlassian", operation: "suspend" }
        })
        expect(faults).toBeGreaterThan(0)
        // Nothing moved: not here, not upstream.
        expect(await account(target)).toEqual(before)
        expect(sandbox.user(target)!.account_status).toBe("active")
        expect(audit.outcome).toBe("error")
      }
    }, 30_000)
  }

  it("Should verify a connection through transient faults and refuse a rejected key with a hint", async () => {
    sandbox.injectFault({ kind: "status", status: 502, shape: "gateway" }, { on: "org", times: 2 })
    const ok = await host.request("POST", `/api/connections/${connectionId}/verify`)
    expect(ok.status, ok.text).toBe(200)
    sandbox.injectFault({ kind: "status", status: 401, shape: "gateway" }, { on: "org" })
    const refused = await host.request("POST", `/api/connections/${connectionId}/verify`)
    expect(refused.status).toBe(502)
    expect(refused.body.error).toMatchObject({ code: "provider_unauthorized", hint: expect.stringMatching(/\w/) })
    figures.cases += 2
    figures.faults += 3
  })
})
