/**
 * The services check roles themselves, not only the API's routes and the pages in front of them: code that
 * embeds the host and calls `Connections`, `Syncs` or `Accounts` with a principal (its own route, a job, a
 * script) gets the same 403 for a role that may not act, and nothing changes: no connection, no run, no
 * call upstream, no audit event.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { runOperation } from "../../src/http/Host.js"
import { Accounts, Connections, type Principal, Syncs } from "../../src/index.js"
import { atlassianConfig, connect, makeSandbox, sync } from "../support/Org.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"

const viewer: Principal = { name: "vera", role: "viewer", userId: null }
const operator: Principal = { name: "otto", role: "operator", userId: null }
const approver: Principal = { name: "april", role: "approver", userId: null }

describe("services refuse a role that may not act, whoever calls them", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let connectionId: string
  let externalId: string
  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 30, pageSize: 50 })
    t = await makeTestHost()
    connectionId = await connect(t.request, sandbox)
    await sync(t.request, connectionId)
    externalId = sandbox.users().find((u) => u.account_status === "active" && u.managedBy === undefined)!.account_id
  })
  afterAll(async () => {
    await t.close()
    await sandbox.close()
  })

  /** The state a refused call must leave as it was. */
  const state = async () => ({
    connections: (await t.request("GET", "/api/connections")).body.data.map((c: { name: string }) => c.name),
    runs: (await t.request("GET", `/api/connections/${connectionId}/syncs`)).body.data.length,
    account: (await t.request("GET", `/api/connections/${connectionId}/accounts/${encodeURIComponent(externalId)}`))
      .body.status,
    audit: (await t.request("GET", "/api/audit?limit=200")).body.data.length,
    upstream: sandbox.requests.length
  })

  const refused = async (call: ReturnType<typeof runOperation<unknown>>, needs: string, what: string) => {
    const outcome = await call
    expect(outcome).toMatchObject({
      _tag: "Failure",
      error: {
        status: 403,
        code: "forbidden",
        message: expect.stringContaining(`may not ${what}: it needs the ${needs} role`)
      }
    })
  }

  it("connections: creating, changing, testing settings and deleting need an admin", async () => {
    const before = await state()
    const body = { provider: "atlassian", name: "Shadow", config: atlassianConfig(sandbox) }
    for (const who of [viewer, operator, approver]) {
      await refused(runOperation(t.host, Connections.create(body, who)), "admin", "manage connections")
      await refused(
        runOperation(t.host, Connections.update(connectionId, { name: "Renamed" }, who)),
        "admin",
        "manage connections"
      )
      await refused(
        runOperation(t.host, Connections.verifyConfig({ provider: "atlassian", config: body.config }, who)),
        "admin",
        "manage connections"
      )
      await refused(runOperation(t.host, Connections.remove(connectionId, who)), "admin", "manage connections")
    }
    await refused(runOperation(t.host, Connections.verify(connectionId, viewer)), "operator", "test connections")
    expect(await state()).toEqual(before)
  })

  it("syncs: starting one and deciding a held one need an operator", async () => {
    const before = await state()
    await refused(runOperation(t.host, Syncs.start(connectionId, viewer)), "operator", "start syncs")
    await refused(runOperation(t.host, Syncs.applyHeld("no-such-run", viewer)), "operator", "apply held syncs")
    await refused(runOperation(t.host, Syncs.discardHeld("no-such-run", viewer)), "operator", "discard held syncs")
    expect(await state()).toEqual(before)
  })

  it("accounts: suspending and restoring need an operator; an operator's suspend goes through", async () => {
    const before = await state()
    await refused(
      runOperation(t.host, Accounts.suspend(connectionId, externalId, { reason: "left" }, viewer)),
      "operator",
      "suspend accounts"
    )
    await refused(
      runOperation(t.host, Accounts.restore(connectionId, externalId, {}, viewer)),
      "operator",
      "restore accounts"
    )
    expect(await state()).toEqual(before)

    // The check is the role's, not a refusal of every direct call.
    const done = await runOperation(t.host, Accounts.suspend(connectionId, externalId, { reason: "left" }, operator))
    expect(done).toMatchObject({ _tag: "Success", value: { action: { name: "suspend", to: "suspended" } } })
    const audit = await t.request("GET", "/api/audit?limit=1")
    expect(audit.body.data[0]).toMatchObject({ actor: "otto", action: "account.suspend", outcome: "ok" })
  })
})
