/**
 * The pages that act on a synced organisation, over HTTP against the Atlassian sandbox: suspend and
 * restore through their forms (a refusal shows the provider's hint), the products page, testing a saved
 * connection's settings, and "Sync now" while a sync runs.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeSandbox } from "../harness.js"
import { ADMIN_TOKEN, csrfTokenOf, type InProcessHost, makeInProcessHost } from "./uiHost.js"

describe("web pages acting on a synced organisation", () => {
  let t: InProcessHost
  let sandbox: AtlassianSandbox
  let cookie: string
  let csrf: string
  let connectionId: string
  const scimId = "557058:scim-managed-0001"
  const p = () => `/connections/${encodeURIComponent(connectionId)}`
  const accountPath = (id: string) => `${p()}/accounts/${encodeURIComponent(id)}`

  const api = async (method: string, path: string, body?: unknown) => {
    const res = await t.host.app.request(path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const text = await res.text()
    return { status: res.status, body: text === "" ? undefined : JSON.parse(text) }
  }

  const syncAndWait = async () => {
    const started = await api("POST", `/api/connections/${connectionId}/syncs`)
    if (started.status !== 202) throw new Error(`sync did not start: ${JSON.stringify(started.body)}`)
    const deadline = Date.now() + 60_000
    for (;;) {
      const run = await api("GET", `/api/syncs/${started.body.id}`)
      if (run.body.status !== "running") return run.body
      if (Date.now() > deadline) throw new Error("sync still running after 60 s")
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 120, pageSize: 50, seed: 3 })
    sandbox.addUsers([{ account_id: scimId, name: "Scim Managed", email: "scim@acme.example", account_status: "active", managedBy: "scim" }])
    t = await makeInProcessHost()
    cookie = await t.login()
    const created = await api("POST", "/api/connections", {
      provider: "atlassian",
      name: "Sandbox",
      config: { organizationId: sandbox.orgId, apiKey: sandbox.apiKey, adminEmail: "admin@acme.example", baseUrl: sandbox.url }
    })
    connectionId = created.body.id
    const run = await syncAndWait()
    if (run.status !== "succeeded") throw new Error(`first sync: ${JSON.stringify(run)}`)
    csrf = csrfTokenOf((await t.request("GET", "/", { cookie })).text)
  })
  afterAll(async () => {
    await t.close()
    await sandbox.close()
  })

  it("Should show the provider's reason and hint when a suspend is refused, and leave the status as it was", async () => {
    const confirm = await t.request("GET", `${accountPath(scimId)}/suspend`, { cookie })
    expect(confirm.status).toBe(200)
    expect(confirm.text).toContain("Suspend Scim Managed?")
    expect(confirm.text).toMatch(/<textarea id="reason" name="reason" maxlength="500"/)

    const res = await t.request("POST", `${accountPath(scimId)}/suspend`, { cookie, form: { _csrf: csrf, reason: "offboarding" } })
    expect(res.status).toBe(502)
    expect(res.text).toContain("Not suspended")
    expect(res.text).toContain("This account is provisioned by SCIM from your identity provider: suspend or deactivate it there.")
    // The form is shown again with what was typed.
    expect(res.text).toMatch(/<textarea[^>]*>offboarding<\/textarea>/)
    const account = await api("GET", `/api/connections/${connectionId}/accounts/${encodeURIComponent(scimId)}`)
    expect(account.body.status).toBe("active")
  })

  it("Should refuse a reason longer than 500 characters next to the field", async () => {
    const user = sandbox.users().find((u) => u.account_status === "active" && u.managedBy === undefined)!
    const res = await t.request("POST", `${accountPath(user.account_id)}/suspend`, {
      cookie,
      form: { _csrf: csrf, reason: "x".repeat(501) }
    })
    expect(res.status).toBe(400)
    expect(res.text).toContain(`<p class="error" id="reason-error">reason must be at most 500 characters</p>`)
    expect(sandbox.requests.filter((r) => r.route === "lifecycle" && r.path.includes(encodeURIComponent(user.account_id)))).toEqual([])
  })

  it("Should offer Restore for a suspended account and restore it through the form", async () => {
    const user = sandbox.users().find((u) => u.account_status === "inactive" && u.managedBy === undefined)!
    const list = await t.request("GET", `${p()}/accounts?status=suspended&q=${encodeURIComponent(user.account_id)}`, { cookie })
    expect(list.status).toBe(200)
    expect(list.text).toContain(`href="${accountPath(user.account_id)}/restore"`)
    expect(list.text).not.toContain(`href="${accountPath(user.account_id)}/suspend"`)

    const res = await t.request("POST", `${accountPath(user.account_id)}/restore`, { cookie, form: { _csrf: csrf, reason: "came back" } })
    expect(res.status).toBe(200)
    expect(res.text).toContain("Account restored")
    expect(res.text).toContain("suspended → active")
    expect(sandbox.user(user.account_id)?.account_status).toBe("active")
    const calls = sandbox.requests.filter((r) => r.route === "lifecycle")
    expect(calls.at(-1)).toMatchObject({ path: `/users/${encodeURIComponent(user.account_id)}/manage/lifecycle/enable`, status: 204 })
    const account = await api("GET", `/api/connections/${connectionId}/accounts/${encodeURIComponent(user.account_id)}`)
    expect(account.body.status).toBe("active")
  })

  it("Should list the products with the same seat counts as the API", async () => {
    const page = await t.request("GET", `${p()}/apps`, { cookie })
    expect(page.status).toBe(200)
    const apps = (await api("GET", `/api/connections/${connectionId}/apps`)).body.data as ReadonlyArray<{ key: string; name: string; active: number }>
    expect(apps.length).toBeGreaterThan(2)
    for (const app of apps) {
      const row = new RegExp(`<tr><th scope="row" class="nowrap"><a href="[^"]*product=${encodeURIComponent(app.key)}">[^<]*</a></th><td class="mono nowrap">[^<]*</td><td class="num">${app.active}</td>`)
      expect(page.text).toMatch(row)
    }
  })

  it("Should test the saved settings when the key is left blank, and ask for the key when other settings changed", async () => {
    const settings = await t.request("GET", `${p()}/settings`, { cookie })
    expect(settings.status).toBe(200)
    const base = {
      _csrf: csrf,
      intent: "test",
      name: "Sandbox",
      "config.organizationId": sandbox.orgId,
      "config.apiKey": "",
      "config.adminEmail": "admin@acme.example",
      "config.baseUrl": sandbox.url,
      "config.rateLimit.requests": "",
      "config.rateLimit.windowSeconds": "",
      syncIntervalMinutes: "0"
    }
    const same = await t.request("POST", `${p()}/settings`, { cookie, form: base })
    expect(same.status).toBe(200)
    expect(same.text).toContain("Connection works")
    expect(same.text).toContain("with the saved settings")

    const changed = await t.request("POST", `${p()}/settings`, { cookie, form: { ...base, "config.organizationId": "another-org" } })
    expect(changed.text).toContain("Enter the API key to test these settings")

    const wrongKey = await t.request("POST", `${p()}/settings`, { cookie, form: { ...base, "config.apiKey": "wrong-key-0000000000" } })
    expect(wrongKey.text).toContain("Connection test failed")
    expect(wrongKey.text).toContain("Check the API key")
    // A test saves nothing.
    expect((await api("GET", `/api/connections/${connectionId}`)).body.config.apiKey.last4).toBe(sandbox.apiKey.slice(-4))
  })

  it("Should answer Sync now with 409 and say a sync is already running", async () => {
    sandbox.injectFault({ kind: "slow", delayMs: 500 }, { on: "users", times: 3 })
    const first = await t.request("POST", `${p()}/syncs`, { cookie, form: { _csrf: csrf } })
    expect(first.status).toBe(303)
    expect(first.location).toBe(`${p()}/syncs?notice=sync-started`)
    const second = await t.request("POST", `${p()}/syncs`, { cookie, form: { _csrf: csrf } })
    expect(second.status).toBe(409)
    expect(second.text).toContain("A sync is already running")
    // While it runs the page reloads itself.
    expect(second.text).toMatch(/<meta http-equiv="refresh" content="2"/)
    const deadline = Date.now() + 60_000
    while ((await api("GET", `/api/connections/${connectionId}`)).body.lastSync.status === "running") {
      if (Date.now() > deadline) throw new Error("sync still running after 60 s")
      await new Promise((r) => setTimeout(r, 100))
    }
    const after = await t.request("GET", `${p()}/syncs?notice=sync-started`, { cookie })
    expect(after.text).not.toContain("http-equiv=\"refresh\"")
    expect(after.text).not.toContain("Sync started")
    sandbox.clearFaults()
  })

  it("Should page through the audit log and filter it by connection", async () => {
    const rowsOf = (html: string) => [...html.matchAll(/<tr><td><time datetime="([^"]+)"/g)].map((m) => m[1]!)
    const all = (await api("GET", "/api/audit?limit=500")).body.data as ReadonlyArray<{ id: string; connectionId: string | null }>
    expect(all.length).toBeGreaterThan(4)

    const first = await t.request("GET", "/audit?limit=2", { cookie })
    expect(first.status).toBe(200)
    expect(rowsOf(first.text)).toHaveLength(2)
    const older = /<a href="(\/audit\?[^"]*cursor=[^"]+)">\s*Older »/.exec(first.text)
    expect(older).not.toBeNull()
    const second = await t.request("GET", older![1]!.replaceAll("&amp;", "&"), { cookie })
    expect(second.status).toBe(200)
    expect(rowsOf(second.text)).toHaveLength(2)
    expect(second.text).toContain("« Newest")
    // Newest first, and the second page goes on where the first stopped.
    const times = [...rowsOf(first.text), ...rowsOf(second.text)]
    expect([...times].sort().reverse()).toEqual(times)

    const mine = await t.request("GET", `/audit?connectionId=${encodeURIComponent(connectionId)}&limit=500`, { cookie })
    const expected = all.filter((e) => e.connectionId === connectionId).length
    expect(expected).toBeLessThan(all.length)
    expect(mine.text).toContain(`<caption>${expected} events</caption>`)
    expect(rowsOf(mine.text)).toHaveLength(expected)

    const forged = await t.request("GET", "/audit?cursor=forged", { cookie })
    expect(forged.status).toBe(400)
    expect(forged.text).toContain("Start from the newest")
  })
})
