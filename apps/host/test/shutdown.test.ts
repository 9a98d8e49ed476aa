import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import * as Fs from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connect, makeSandbox } from "./support/Org.js"
import { makeTestHost, type TestHost } from "./support/TestHost.js"

describe("stopping the host during a sync", () => {
  let sandbox: AtlassianSandbox
  let reopened: TestHost | undefined
  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 200, pageSize: 50 })
  })
  afterAll(async () => {
    await reopened?.close()
    await sandbox.close()
  })

  it("Should mark the running sync interrupted and apply nothing", async () => {
    const first = await makeTestHost()
    const connectionId = await connect(first.request, sandbox)
    // Every page after the first takes long enough that the host is stopped mid-sync.
    sandbox.injectFault({ kind: "slow", delayMs: 5_000 }, { on: "users", afterRequests: 1, times: Infinity })
    const started = await first.request("POST", `/api/connections/${connectionId}/syncs`)
    expect(started.status).toBe(202)
    while (sandbox.requests.filter((r) => r.route === "users").length < 2) await new Promise((r) => setTimeout(r, 20))
    await first.close({ keepData: true })
    sandbox.clearFaults()

    // A restart on the same data directory sees what the first process left.
    reopened = await makeTestHost({ dataDir: first.dataDir })
    const run = await reopened.request("GET", `/api/syncs/${started.body.id}`)
    expect(run.body).toMatchObject({
      status: "interrupted",
      error: { reason: "Interrupted" },
      finishedAt: expect.any(String)
    })
    expect((await reopened.request("GET", `/api/connections/${connectionId}/accounts`)).body.total).toBe(0)
    const audit = await reopened.request("GET", `/api/audit?connectionId=${connectionId}`)
    expect(audit.body.data).toContainEqual(
      expect.objectContaining({ action: "sync.finish", outcome: "error", detail: "interrupted" })
    )
    // And the connection can sync again: the lock was released.
    const again = await reopened.request("POST", `/api/connections/${connectionId}/syncs`)
    expect(again.status).toBe(202)
    expect(Fs.existsSync(first.dataDir)).toBe(true)
  })
})
