import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runDueSyncs } from "../src/scheduler.js"
import { atlassianConfig, makeSandbox, waitForSync } from "./support/Org.js"
import { makeTestHost, type TestHost } from "./support/TestHost.js"

describe("scheduled syncs", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 30 })
    t = await makeTestHost()
  })
  afterAll(async () => {
    await t.close()
    await sandbox.close()
  })

  it("Should sync each connection at its interval, counted from its last run, and never a manual-only one", async () => {
    const hourly = await t.request("POST", "/api/connections", {
      body: { provider: "atlassian", name: "Hourly", config: atlassianConfig(sandbox), syncIntervalMinutes: 60 }
    })
    await t.request("POST", "/api/connections", {
      body: { provider: "atlassian", name: "Manual", config: atlassianConfig(sandbox), syncIntervalMinutes: 0 }
    })
    const now = Date.now()
    const first = await t.host.runtime.runPromise(runDueSyncs(now))
    expect(first.length).toBe(1)
    const run = await waitForSync(t.request, first[0]!)
    expect(run.body).toMatchObject({ connectionId: hourly.body.id, status: "succeeded" })

    const startedAt = Date.parse(run.body.startedAt)
    expect(await t.host.runtime.runPromise(runDueSyncs(startedAt + 59 * 60_000))).toEqual([])
    const again = await t.host.runtime.runPromise(runDueSyncs(startedAt + 60 * 60_000))
    expect(again.length).toBe(1)
    await waitForSync(t.request, again[0]!)

    const audit = await t.request("GET", `/api/audit?connectionId=${hourly.body.id}`)
    const starts = audit.body.data.filter((e: { action: string }) => e.action === "sync.start")
    expect(starts.length).toBe(2)
    expect(starts.every((e: { actor: string }) => e.actor === "scheduler")).toBe(true)
  })
})
