/**
 * The reclaim and admin pages over HTTP against the Atlassian sandbox, as different people: logging in
 * with a user's own token (the header names them and their role, the audit log too); the users and
 * webhooks pages (a token and a secret shown once; field errors with 400); prices; the policy form (field
 * errors next to the fields with 400, more exemption rows without saving, a new version on save); plans
 * (the review page, the CSV export, the comparison, approval under four eyes, execution with its progress,
 * undo); controls each role cannot use are not shown, and posting them anyway is refused; and every new
 * form refuses a post without the session's CSRF token.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connect, eventually, makeSandbox, sync, UNPACED } from "../support/Org.js"
import { expectStatus } from "../support/Reclaim.js"
import { csrfTokenOf, makeTestHost, sessionCookieOf, type TestHost } from "../support/TestHost.js"
import { type Browser, browserSession, linkTo, unescapeHtml } from "./pageTools.js"

/** The text of the element with this id (tags stripped). */
const textById = (html: string, id: string): string | undefined => {
  const m = new RegExp(`id="${id}"[^>]*>([\\s\\S]*?)</(p|code|dd|span|div)>`).exec(html)
  return m === null ? undefined : unescapeHtml(m[1]!.replace(/<[^>]*>/g, "")).trim()
}

const visible = (html: string) =>
  unescapeHtml(html.replace(/<style>[\s\S]*?<\/style>/, "").replace(/<[^>]*>/g, " ")).replace(/\s+/g, " ")

describe("reclaim and admin pages", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let admin: Browser
  let connectionId: string
  const tokens: Record<string, string> = {}
  const sessions: Record<string, Browser> = {}
  const c = () => `/connections/${encodeURIComponent(connectionId)}`

  const loginWith = async (token: string) => {
    const res = await t.request("POST", "/login", { form: { token } })
    if (res.status !== 303) throw new Error(`login failed: ${res.status} ${res.text.slice(0, 300)}`)
    return sessionCookieOf(res.headers)
  }

  const addUser = async (name: string, role: string) => {
    const res = await admin.post("/users", { name, role })
    expect(res.status).toBe(200)
    const token = textById(res.text, "issued-token")
    expect(token).toMatch(/^sk_/)
    tokens[name] = token!
    sessions[name] = await browserSession(t.request, () => loginWith(token!))
    return token!
  }

  const policyForm = (overrides: Record<string, string> = {}): Record<string, string> => ({
    name: "Idle 30 days",
    scope: "seats",
    inactiveDays: "30",
    admins: "on",
    excludeAccounts: "",
    excludeGroups: "",
    newerThanDays: "0",
    exemptionRows: "2",
    "ex.0.externalId": "",
    "ex.0.reason": "",
    "ex.0.until": "",
    "ex.1.externalId": "",
    "ex.1.reason": "",
    "ex.1.until": "",
    maxDataAgeHours: "48",
    fourEyesAbove: "0",
    undoDays: "14",
    intent: "save",
    ...overrides
  })

  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 60, pageSize: 50, seed: 3 })
    t = await makeTestHost({ pages: true })
    admin = await browserSession(t.request, t.login)
    connectionId = await connect(t.request, sandbox, { name: "Sandbox", rateLimit: UNPACED })
    const run = await sync(t.request, connectionId, { audited: true })
    if (run.body.status !== "succeeded") throw new Error(`first sync: ${run.text}`)
  }, 120_000)
  afterAll(async () => {
    await t?.close()
    await sandbox?.close()
  })

  describe("users", () => {
    it("Should add users with roles, each token shown once, and refuse a bad name with a field error (400)", async () => {
      await addUser("Olive Operator", "operator")
      await addUser("Ann Approver", "approver")
      await addUser("Vera Viewer", "viewer")
      const page = await admin.get("/users")
      expect(page.status).toBe(200)
      // Listed, never with a token.
      for (const name of ["Olive Operator", "Ann Approver", "Vera Viewer"]) expect(page.text).toContain(name)
      expect(page.text).not.toContain("sk_")
      expect(page.text).not.toContain("id=\"issued-token\"")

      const taken = await admin.post("/users", { name: "Olive Operator", role: "viewer" })
      expect(taken.status).toBe(400)
      expect(textById(taken.text, "u-name-error")).toContain("exists")
      expect(taken.text).toMatch(/id="u-name"[^>]*aria-invalid="true"/)
      const reserved = await admin.post("/users", { name: "admin", role: "viewer" })
      expect(reserved.status).toBe(400)
      expect(textById(reserved.text, "u-name-error")).toContain("names the host uses itself")
      const badRole = await admin.post("/users", { name: "Rolf", role: "owner" })
      expect(badRole.status).toBe(400)
      expect(textById(badRole.text, "u-role-error")).toBeDefined()
    })

    it("Should log a user in with their own token: the header names them and their role; a wrong token is refused", async () => {
      const page = await sessions["Olive Operator"]!.get("/")
      expect(page.status).toBe(200)
      expect(page.text).toMatch(/<span class="who-name">Olive Operator<\/span>/)
      expect(page.text).toMatch(/<span class="badge b-grey who-role">operator<\/span>/)
      // No admin navigation for an operator.
      expect(linkTo(page.text, "Users")).toBeUndefined()
      expect(linkTo(page.text, "Add connection")).toBeUndefined()
      expect(linkTo(page.text, "Plans")).toBe("/plans")
      const wrong = await t.request("POST", "/login", { form: { token: `${tokens["Olive Operator"]}x` } })
      expect(wrong.status).toBe(401)
      expect(wrong.text).toContain("That token is not valid")
    })

    it("Should keep the admin pages to admins: 403 for others", async () => {
      for (const path of ["/users", "/webhooks", "/connections/new", `${c()}/settings`]) {
        const res = await sessions["Ann Approver"]!.get(path)
        expect(res.status, path).toBe(403)
        expect(res.text, path).toContain("it needs the admin role")
      }
      const post = await sessions["Ann Approver"]!.post("/users", { name: "Sneaky", role: "admin" })
      expect(post.status).toBe(403)
      expect((await t.request("GET", "/api/users")).body.data.map((u: { name: string }) => u.name)).not.toContain(
        "Sneaky"
      )
    })

    it("Should change a role, disable a user (their session ends) and issue a new token (the old one stops working)", async () => {
      const users = (await t.request("GET", "/api/users")).body.data as Array<{ id: string; name: string }>
      const temp = await admin.post("/users", { name: "Tess Temp", role: "viewer" })
      const tempToken = textById(temp.text, "issued-token")!
      const tessSession = await browserSession(t.request, () => loginWith(tempToken))
      const tess = ((await t.request("GET", "/api/users")).body.data as Array<{ id: string; name: string }>).find((u) =>
        u.name === "Tess Temp"
      )!
      expect(users.length).toBeGreaterThan(0)

      const role = await admin.post(`/users/${tess.id}/role`, { role: "operator" })
      expect(role.status).toBe(303)
      // The new role applies to the running session at once.
      expect((await tessSession.get("/")).text).toMatch(/who-role">operator</)

      const renewed = await admin.post(`/users/${tess.id}/token`)
      expect(renewed.status).toBe(200)
      const newToken = textById(renewed.text, "issued-token")!
      expect(newToken).toMatch(/^sk_/)
      expect(newToken).not.toBe(tempToken)
      // The old token's session is over; the old token no longer logs in.
      const after = await tessSession.get("/")
      expect(after.status).toBe(303)
      expect(after.location).toMatch(/^\/login/)
      expect((await t.request("POST", "/login", { form: { token: tempToken } })).status).toBe(401)

      const fresh = await browserSession(t.request, () => loginWith(newToken))
      expect((await admin.post(`/users/${tess.id}/disable`)).status).toBe(303)
      expect((await fresh.get("/")).status).toBe(303)
      expect((await t.request("POST", "/login", { form: { token: newToken } })).status).toBe(401)
      const list = await admin.get("/users")
      expect(list.text).toMatch(/Tess Temp[\s\S]*?badge b-grey">disabled</)
    })
  })

  describe("roles on the existing pages", () => {
    it("Should hide Sync now, Suspend and the held-run decisions from a viewer, and refuse them when posted", async () => {
      const vera = sessions["Vera Viewer"]!
      const dashboard = await vera.get("/")
      expect(dashboard.status).toBe(200)
      expect(dashboard.text).not.toContain(">Sync now<")
      expect(linkTo(dashboard.text, "Settings")).toBeUndefined()
      expect(linkTo(dashboard.text, "Reclaim")).toBe(`${c()}/reclaim`)
      const accounts = await vera.get(`${c()}/accounts`)
      expect(accounts.text).not.toMatch(/>Suspend…</)
      const syncPost = await vera.post(`${c()}/syncs`)
      expect(syncPost.status).toBe(403)
      expect(syncPost.text).toContain("Vera Viewer (viewer) may not start syncs")
      const someone =
        (await t.request("GET", `/api/connections/${connectionId}/accounts?status=active&limit=1`)).body.data[0]
      const suspend = await vera.get(`${c()}/accounts/${encodeURIComponent(someone.externalId)}/suspend`)
      expect(suspend.status).toBe(403)
      const posted = await vera.post(`${c()}/accounts/${encodeURIComponent(someone.externalId)}/suspend`, {
        dryRun: "on"
      })
      expect(posted.status).toBe(403)
      // The operator sees them.
      const olive = await sessions["Olive Operator"]!.get("/")
      expect(olive.text).toContain(">Sync now<")
    })

    it("Should refuse connection settings, a new connection and deleting one to anyone but an admin, as the API does", async () => {
      const before =
        expectStatus(await t.request("GET", `/api/connections/${connectionId}`), 200, "reading the connection").body
      const others = [["Vera Viewer", "viewer"], ["Olive Operator", "operator"], ["Ann Approver", "approver"]] as const
      for (const [name, role] of others) {
        const who = sessions[name]!
        for (const path of ["/connections/new", `${c()}/settings`]) {
          const page = await who.get(path)
          expect([path, page.status]).toEqual([path, 403])
          expect(page.text).toContain(`${name} (${role}) may not`)
        }
        const deleted = await who.post(`${c()}/delete`)
        expect(deleted.status).toBe(403)
        expect(deleted.text).toContain(`${name} (${role}) may not manage connections`)
        const renamed = await who.post(`${c()}/settings`, { name: "Renamed by " + name, intent: "save" })
        expect(renamed.status).toBe(403)
        const created = await who.post("/connections/new", { provider: "atlassian", name: "Another", intent: "save" })
        expect(created.status).toBe(403)
      }
      // Nothing changed: the connection is there, under its name, and no other was made.
      expect(expectStatus(await t.request("GET", `/api/connections/${connectionId}`), 200, "reading it").body.name)
        .toBe(before.name)
      expect(expectStatus(await t.request("GET", "/api/connections"), 200, "listing").body.data).toHaveLength(1)
      // The admin still reaches them.
      expect((await admin.get(`${c()}/settings`)).status).toBe(200)
      expect((await admin.get("/connections/new")).status).toBe(200)
    })
  })

  describe("prices", () => {
    it("Should show the prices to everyone, save them for an admin, and put a bad amount's error next to its row (400)", async () => {
      const page = await admin.get(`${c()}/prices`)
      expect(page.status).toBe(200)
      const rows = [...page.text.matchAll(/name="rows\.(\d+)\.product" value="([^"]*)"/g)].map((m) => ({
        i: m[1]!,
        product: m[2]!
      }))
      expect(rows.length).toBeGreaterThan(0)
      const form: Record<string, string> = { rowCount: String(rows.length) }
      for (const row of rows) {
        form[`rows.${row.i}.product`] = unescapeHtml(row.product)
        const plan = new RegExp(`name="rows\\.${row.i}\\.plan" value="([^"]*)"`).exec(page.text)![1]!
        form[`rows.${row.i}.plan`] = unescapeHtml(plan)
        form[`rows.${row.i}.anyPlan`] = plan === "" ? "1" : ""
        form[`rows.${row.i}.amount`] = ""
        form[`rows.${row.i}.currency`] = ""
        form[`rows.${row.i}.period`] = "monthly"
      }
      const anyPlanRows = rows.filter((r) => form[`rows.${r.i}.anyPlan`] === "1")
      const first = anyPlanRows[0]!
      const bad = await admin.post(`${c()}/prices`, {
        ...form,
        [`rows.${first.i}.amount`]: "-5",
        [`rows.${first.i}.currency`]: "EUR"
      })
      expect(bad.status).toBe(400)
      expect(textById(bad.text, `price-${first.i}-amount-error`)).toContain("amount must be 0 or more")
      const badCurrency = await admin.post(`${c()}/prices`, {
        ...form,
        [`rows.${first.i}.amount`]: "5",
        [`rows.${first.i}.currency`]: "EURO"
      })
      expect(badCurrency.status).toBe(400)
      expect(textById(badCurrency.text, `price-${first.i}-currency-error`)).toContain("ISO 4217")

      const priced: Record<string, string> = { ...form }
      for (const r of anyPlanRows) {
        priced[`rows.${r.i}.amount`] = "120"
        priced[`rows.${r.i}.currency`] = "eur"
        priced[`rows.${r.i}.period`] = "annual"
      }
      const saved = await admin.post(`${c()}/prices`, priced)
      expect(saved.status).toBe(303)
      const prices = (await t.request("GET", `/api/connections/${connectionId}/prices`)).body.data
      expect(prices.length).toBe(anyPlanRows.length)
      expect(
        prices.every((p: { currency: string; period: string; amount: number }) =>
          p.currency === "EUR" && p.period === "annual" && p.amount === 120
        )
      ).toBe(true)

      // A viewer reads them, without a save button, and cannot post.
      const viewer = await sessions["Vera Viewer"]!.get(`${c()}/prices`)
      expect(viewer.status).toBe(200)
      expect(viewer.text).not.toContain("Save prices")
      expect((await sessions["Vera Viewer"]!.post(`${c()}/prices`, priced)).status).toBe(403)
    })

    it("Should show the savings per inactivity bucket on the dashboard and the products page, priced", async () => {
      const savings = (await t.request("GET", `/api/connections/${connectionId}/savings`)).body
      for (const path of ["/", `${c()}/apps`]) {
        const page = await admin.get(path)
        expect(page.text, path).toContain("Savings a month")
        for (const days of [30, 60, 90]) {
          const money = savings.potential[`unused${days}`] as Record<string, number>
          const shown = visible(
            /class="potential-\d+">[\s\S]*?<\/dd>/.exec(
              page.text.slice(page.text.indexOf(`potential-${days}`) - 20)
            )![0]
          )
          if (Object.keys(money).length > 0) expect(shown, `${path} ${days}`).toContain("EUR")
        }
        expect(page.text).toMatch(/class="realised"/)
        expect(page.text).toMatch(/class="awaiting"/)
      }
    })
  })

  describe("policies and plans", () => {
    let policyPath: string
    let planPath: string

    it("Should keep the policy form from a viewer, and show it to an operator", async () => {
      const reclaim = await sessions["Vera Viewer"]!.get(`${c()}/reclaim`)
      expect(reclaim.status).toBe(200)
      expect(reclaim.text).not.toContain("New policy")
      expect((await sessions["Vera Viewer"]!.get(`${c()}/reclaim/policies/new`)).status).toBe(403)
      const posted = await sessions["Vera Viewer"]!.post(`${c()}/reclaim/policies/new`, policyForm())
      expect(posted.status).toBe(403)
      expect(posted.text).toContain("it needs the operator role")

      const olive = sessions["Olive Operator"]!
      const overview = await olive.get(`${c()}/reclaim`)
      expect(linkTo(overview.text, "New policy")).toBe(`${c()}/reclaim/policies/new`)
      const form = await olive.get(`${c()}/reclaim/policies/new`)
      expect(form.status).toBe(200)
      for (
        const label of [
          "Policy name",
          "Inactive for at least (days)",
          "Accounts newer than (days)",
          "Four eyes above (accounts)"
        ]
      ) {
        expect(form.text).toContain(`>${label}</label>`)
      }
      // The products to choose from are the connection's.
      expect(form.text).toMatch(/name="products" value="[^"]+"/)
    })

    it("Should show the service's field errors next to their fields with 400, keeping what was typed", async () => {
      const olive = sessions["Olive Operator"]!
      const res = await olive.post(
        `${c()}/reclaim/policies/new`,
        policyForm({
          name: "  ",
          inactiveDays: "0",
          newerThanDays: "ten",
          // The second row: the error lands next to it, not the first.
          "ex.1.externalId": "557058:someone",
          "ex.1.reason": "",
          "ex.1.until": "2027-02-30",
          undoDays: "400"
        })
      )
      expect(res.status).toBe(400)
      expect(res.text).toContain("Check the fields marked below")
      expect(textById(res.text, "p-name-error")).toContain("a policy needs a name")
      expect(textById(res.text, "p-inactiveDays-error")).toContain("inactiveDays must be a whole number from 1 to 3650")
      expect(textById(res.text, "p-newerThanDays-error")).toBeDefined()
      expect(textById(res.text, "p-ex-1-reason-error")).toContain("an exemption needs a reason")
      expect(textById(res.text, "p-ex-1-until-error")).toBeDefined()
      expect(textById(res.text, "p-ex-0-reason-error")).toBeUndefined()
      expect(textById(res.text, "p-undoDays-error")).toContain("undoDays must be a whole number from 0 to 365")
      expect(res.text).toMatch(/id="p-inactiveDays" name="inactiveDays" value="0"[^>]*aria-invalid="true"/)
      expect(res.text).toContain("value=\"557058:someone\"")
      expect((await t.request("GET", `/api/connections/${connectionId}/policies`)).body.data).toEqual([])
    })

    it("Should add exemption rows without saving, then save the policy and a new version of it", async () => {
      const olive = sessions["Olive Operator"]!
      const more = await olive.post(`${c()}/reclaim/policies/new`, policyForm({ intent: "more-rows", name: "Kept" }))
      expect(more.status).toBe(200)
      expect(more.text).toContain("name=\"ex.2.externalId\"")
      expect(more.text).toContain("value=\"Kept\"")
      expect((await t.request("GET", `/api/connections/${connectionId}/policies`)).body.data).toEqual([])

      // An account the policy would take (idle everywhere for 60 days, no admin role), to exempt.
      const accounts =
        (await t.request("GET", `/api/connections/${connectionId}/accounts?status=active&inactiveDays=60&limit=500`))
          .body.data
      // (One never active is too new to judge: the sandbox's accounts were first seen just now.)
      const exempt = accounts.find((a: {
        lastActiveAt: string | null
        roles: ReadonlyArray<string>
        billable: boolean
        entitlements: ReadonlyArray<{ status: string; billable: boolean; lastActiveAt: string | null }>
      }) =>
        a.billable && a.lastActiveAt !== null && !a.roles.some((r) => /admin/i.test(r)) &&
        a.entitlements.some((e) => e.status === "active" && e.billable) &&
        a.entitlements.every((e) => e.status !== "active" || e.lastActiveAt !== null)
      ).externalId as string
      const created = await olive.post(
        `${c()}/reclaim/policies/new`,
        policyForm({
          "ex.0.externalId": exempt,
          "ex.0.reason": "parental leave",
          "ex.0.until": "2099-01-01"
        })
      )
      expect(created.status).toBe(303)
      policyPath = created.location!.split("?")[0]!
      expect(created.location).toContain("notice=policy-created")
      const policies = (await t.request("GET", `/api/connections/${connectionId}/policies`)).body.data
      expect(policies).toHaveLength(1)
      expect(policies[0]).toMatchObject({
        createdBy: "Olive Operator",
        version: 1,
        policy: {
          name: "Idle 30 days",
          inactiveDays: 30,
          fourEyesAbove: 0,
          exclude: { exemptions: [{ externalId: exempt, reason: "parental leave" }] }
        }
      })
      const edit = await olive.get(policyPath)
      expect(edit.status).toBe(200)
      expect(edit.text).toContain("value=\"parental leave\"")
      expect(edit.text).toContain("value=\"2099-01-01\"")

      const saved = await olive.post(
        policyPath,
        policyForm({
          "ex.0.externalId": exempt,
          "ex.0.reason": "parental leave",
          "ex.0.until": "2099-01-01",
          exemptionRows: "3"
        })
      )
      expect(saved.status).toBe(303)
      expect((await t.request("GET", `/api/connections/${connectionId}/policies`)).body.data[0].version).toBe(2)
    })

    it("Should make a plan from the policy and show its review page: summary, accounts with evidence and answer, progress", async () => {
      const olive = sessions["Olive Operator"]!
      const overview = await olive.get(`${c()}/reclaim`)
      expect(overview.text).toContain("Make plan")
      const policyId = decodeURIComponent(policyPath.split("/").at(-1)!)
      const made = await olive.post(`${c()}/reclaim/policies/${encodeURIComponent(policyId)}/plans`)
      expect(made.status).toBe(303)
      planPath = made.location!.split("?")[0]!
      const planId = decodeURIComponent(planPath.split("/").at(-1)!)
      const plan = (await t.request("GET", `/api/plans/${planId}`)).body
      expect(plan.accounts).toBeGreaterThan(0)
      expect(plan.createdBy).toBe("Olive Operator")

      const page = await olive.get(made.location!)
      expect(page.status).toBe(200)
      expect(page.text).toContain("Plan made.")
      const text = visible(page.text)
      expect(page.text).toContain("<h2 id=\"plan-summary\">Summary</h2>")
      expect(page.text).toMatch(new RegExp(`<dd class="accounts">${plan.accounts}</dd>`))
      expect(page.text).toMatch(new RegExp(`<dd class="seats">${plan.seats}</dd>`))
      expect(text).toContain("by Olive Operator")
      expect(text).toContain("Seats freed per product and plan")
      expect(text).toContain("EUR")
      // The progress bar before execution: nothing done, everything remaining.
      expect(page.text).toMatch(/<progress class="plan"[^>]*max="\d+" value="0"/)
      expect(page.text).toMatch(new RegExp(`<dd class="count-remaining">${plan.accounts}</dd>`))
      expect(page.text).not.toContain("http-equiv=\"refresh\"")
      // The accounts: evidence and the provider's answer.
      expect(text).toContain("last active")
      expect(page.text).toMatch(/would go ahead|would be refused|not asked/)
      expect(linkTo(page.text, "Export every account as CSV")).toBe(`${planPath}/items.csv`)
      expect(text).toContain("This is the first plan of this policy.")
      // The exempt account is spared, with its reason.
      expect(text).toContain("exempt until 2099-01-01: parental leave")
      // An operator cannot approve: no button, and why.
      expect(page.text).not.toMatch(/<button type="submit" class="primary">Approve plan<\/button>/)
      expect(text).toContain("Waiting for an approver other than Olive Operator (four eyes)")
      const refused = await olive.post(`${planPath}/approve`)
      expect(refused.status).toBe(403)
      expect(visible(refused.text)).toContain("Olive Operator (operator) may not approve reclaim plans")
    })

    it("Should export the plan's accounts as CSV", async () => {
      const csv = await sessions["Vera Viewer"]!.get(`${planPath}/items.csv`)
      expect(csv.status).toBe(200)
      expect(csv.headers.get("content-type")).toContain("text/csv")
      const lines = csv.text.trim().split("\r\n")
      expect(lines[0]).toBe(
        "externalId,displayName,email,action,method,allowed,refusedBecause,seats,lastActive,monthly,state,result"
      )
      const planId = decodeURIComponent(planPath.split("/").at(-1)!)
      expect(lines.length - 1).toBe((await t.request("GET", `/api/plans/${planId}`)).body.accounts)
    })

    it("Should filter the accounts by state, and answer a state that is none with 400 at the filter", async () => {
      const olive = sessions["Olive Operator"]!
      const pending = await olive.get(`${planPath}?state=pending`)
      expect(pending.status).toBe(200)
      expect(pending.text).toMatch(/<option value="pending" selected="">pending<\/option>/)
      const done = await olive.get(`${planPath}?state=done`)
      expect(visible(done.text)).toContain("No account of this plan is done.")
      const bad = await olive.get(`${planPath}?state=bogus`)
      expect(bad.status).toBe(400)
      expect(bad.text).toMatch(/<select id="item-state" name="state" aria-invalid="true">/)
    })

    it("Should show the author-approver a disabled Approve with why, and refuse it under four eyes", async () => {
      const ann = sessions["Ann Approver"]!
      const policyId = decodeURIComponent(policyPath.split("/").at(-1)!)
      const made = await ann.post(`${c()}/reclaim/policies/${encodeURIComponent(policyId)}/plans`)
      expect(made.status).toBe(303)
      const own = made.location!.split("?")[0]!
      const page = await ann.get(own)
      expect(page.text).toMatch(
        /<button type="button" class="primary" disabled="" aria-describedby="approve-why">Approve plan<\/button>/
      )
      expect(textById(page.text, "approve-why")).toContain("Four eyes: you made this plan")
      const refused = await ann.post(`${own}/approve`)
      expect(refused.status).toBe(403)
      expect(visible(refused.text)).toContain("four eyes: Ann Approver made this plan and cannot approve it too")
      // The second plan compares with the first.
      expect(visible(page.text)).toMatch(/Against the previous plan of this policy ?: 0 new, 0 dropped out\./)
      // Cancelled by its author (an operator may).
      const cancelled = await ann.post(`${own}/cancel`)
      expect(cancelled.status).toBe(303)
      expect(visible((await ann.get(own)).text)).toContain("cancelled by Ann Approver")
    })

    it("Should let another approver approve, an operator execute with a progress bar that reloads, and undo one account", async () => {
      const ann = sessions["Ann Approver"]!
      const olive = sessions["Olive Operator"]!
      const before = await ann.get(planPath)
      expect(before.text).toMatch(/<button type="submit" class="primary">Approve plan<\/button>/)
      // Viewers and operators see no Execute before approval.
      expect(before.text).not.toContain(">Execute plan<")
      const approved = await ann.post(`${planPath}/approve`)
      expect(approved.status).toBe(303)
      const afterApproval = await olive.get(approved.location!)
      expect(afterApproval.text).toContain("Plan approved.")
      expect(afterApproval.text).toMatch(/<dd class="approver"><strong>Ann Approver<\/strong>/)
      expect(afterApproval.text).toContain(">Execute plan<")
      // A viewer sees no decision at all.
      expect((await sessions["Vera Viewer"]!.get(planPath)).text).not.toContain(">Execute plan<")

      const executed = await olive.post(`${planPath}/execute`)
      expect(executed.status).toBe(303)
      expect(executed.location).toContain("notice=execute-started")
      const running = await olive.get(executed.location!)
      // Reloading while the job claims or runs the plan.
      const planId = decodeURIComponent(planPath.split("/").at(-1)!)
      const status = (await t.request("GET", `/api/plans/${planId}`)).body.status
      if (status !== "done") expect(running.text).toMatch(/<meta http-equiv="refresh" content="2/)
      const done = await eventually("the plan to be done", async () => {
        const plan = (await t.request("GET", `/api/plans/${planId}`)).body
        return plan.status === "done" || plan.status === "stopped" ? plan : undefined
      })
      const finished = await olive.get(planPath)
      expect(finished.text).not.toContain("http-equiv=\"refresh\"")
      const total = done.accounts
      const finishedCount = done.progress.done + done.progress.refused + done.progress.failed + done.progress.skipped
      expect(finished.text).toMatch(new RegExp(`<progress class="plan"[^>]*max="${total}" value="${finishedCount}"`))
      expect(finished.text).toMatch(new RegExp(`<dd class="count-done">${done.progress.done}</dd>`))
      expect(finished.text).toMatch(/<dd class="count-remaining">0<\/dd>/)
      expect(done.progress.done).toBeGreaterThan(0)

      // Undo one account from its row.
      const item = (await t.request("GET", `/api/plans/${planId}/items?state=done&limit=1`)).body.data[0]
      expect(finished.text).toContain(`aria-label="Undo ${item.displayName}"`)
      expect((await sessions["Vera Viewer"]!.get(planPath)).text).not.toContain(`aria-label="Undo ${item.displayName}"`)
      const undone = await olive.post(`${planPath}/undo`, { externalId: item.externalId })
      expect(undone.status).toBe(303)
      const afterUndo = await olive.get(undone.location!)
      expect(afterUndo.text).toContain("Undone: 1 account restored as they were.")
      expect(
        (await t.request("GET", `/api/plans/${planId}/items?state=undone`)).body.data.map((i: { externalId: string }) =>
          i.externalId
        )
      )
        .toEqual([item.externalId])
      expect(afterUndo.text).toMatch(/<dd class="count-undone">1<\/dd>/)
      // Undo a second time: refused, said on the page.
      const again = await olive.post(`${planPath}/undo`, { externalId: item.externalId })
      expect(again.status).toBe(409)
      expect(visible(again.text)).toContain("Not undone")
      // Then the whole plan: every account still done.
      const left = (await t.request("GET", `/api/plans/${planId}`)).body.progress.done
      expect(afterUndo.text).toContain(`Undo the whole plan (${left} accounts)`)
      const all = await olive.post(`${planPath}/undo`)
      expect(all.status).toBe(303)
      expect((await olive.get(all.location!)).text).toContain(
        `Undone: ${left} ${left === 1 ? "account" : "accounts"} restored as they were.`
      )
      expect((await t.request("GET", `/api/plans/${planId}`)).body.progress).toMatchObject({
        done: 0,
        undone: left + 1
      })
    })

    it("Should list the plans, and the audit log should name each person", async () => {
      const plans = await sessions["Vera Viewer"]!.get("/plans")
      expect(plans.status).toBe(200)
      expect(visible(plans.text)).toContain("Idle 30 days")
      expect(plans.text).toContain(planPath)
      const audit = visible((await admin.get("/audit")).text)
      expect(audit).toContain("policy.create by Olive Operator")
      expect(audit).toContain("plan.approve by Ann Approver")
      expect(audit).toContain("plan.execute by Olive Operator")
      expect(audit).toContain("plan.undo by Olive Operator")
      expect(audit).toContain("user.create by admin")
    })

    it("Should show a plan still being checked with the provider: its progress, a page that refreshes, cancel but no approve", async () => {
      const olive = sessions["Olive Operator"]!
      sandbox.clearFaults()
      sandbox.injectFault({ kind: "slow", delayMs: 1_500 }, { on: "manage", times: 10_000 })
      try {
        const made = await olive.post(`${policyPath}/plans`)
        expect(made.status).toBe(303)
        const checkingPath = made.location!.split("?")[0]!
        expect(checkingPath).not.toBe(planPath)
        const page = await sessions["Ann Approver"]!.get(checkingPath)
        expect(page.status).toBe(200)
        expect(page.text).toContain("badge b-blue\">checking<")
        expect(visible(page.text)).toMatch(
          /asking the provider about each account before it can be approved: \d+ of \d+ checked/
        )
        expect(page.text).toContain("http-equiv=\"refresh\"")
        expect(page.text).not.toContain("Approve plan")
        const mine = await olive.get(checkingPath)
        expect(mine.text).toMatch(/<button type="submit" class="">Cancel plan<\/button>/)
        const cancelled = await olive.post(`${checkingPath}/cancel`)
        expect(cancelled.status).toBe(303)
        const after = await olive.get(cancelled.location!)
        expect(after.text).toContain("badge b-grey\">cancelled<")
        expect(after.text).not.toContain("http-equiv=\"refresh\"")
      } finally {
        sandbox.clearFaults()
      }
    })

    it("Should archive a policy", async () => {
      const archived = await sessions["Olive Operator"]!.post(`${policyPath}/archive`)
      expect(archived.status).toBe(303)
      const overview = await sessions["Olive Operator"]!.get(archived.location!)
      expect(overview.text).toContain("Policy archived.")
      expect(overview.text).not.toContain(`href="${policyPath}"`)
      // Its page still opens (its plans name it), read-only.
      const page = await sessions["Olive Operator"]!.get(policyPath)
      expect(page.status).toBe(200)
      expect(page.text).toContain("badge b-grey\">archived<")
      expect(page.text).not.toContain("Save policy")
    })
  })

  describe("webhooks", () => {
    it("Should add a webhook with a generated secret shown once, list it, show its deliveries, and remove it", async () => {
      const noEvents = await admin.post("/webhooks", { url: "https://hooks.example/seatkeeper", secret: "" })
      expect(noEvents.status).toBe(400)
      expect(textById(noEvents.text, "w-events-error")).toBeDefined()
      expect(noEvents.text).toContain("value=\"https://hooks.example/seatkeeper\"")
      const badUrl = await admin.post("/webhooks", { url: "not a url", events: "plan.ready" })
      expect(badUrl.status).toBe(400)
      expect(textById(badUrl.text, "w-url-error")).toBeDefined()
      const shortSecret = await admin.post("/webhooks", {
        url: "https://hooks.example/x",
        events: "plan.ready",
        secret: "short"
      })
      expect(shortSecret.status).toBe(400)
      expect(textById(shortSecret.text, "w-secret-error")).toContain("at least 16 characters")

      const body = new URLSearchParams([
        ["_csrf", admin.csrf],
        ["url", "https://hooks.example/seatkeeper"],
        ["events", "plan.ready"],
        ["events", "sync.failed"],
        ["secret", ""]
      ]).toString()
      const created = await t.request("POST", "/webhooks", {
        cookie: admin.cookie,
        rawBody: body,
        headers: { "content-type": "application/x-www-form-urlencoded", origin: "http://localhost" }
      })
      expect(created.status).toBe(200)
      const secret = textById(created.text, "issued-secret")
      expect(secret).toMatch(/^whsec_/)
      const hooks = (await t.request("GET", "/api/webhooks")).body.data
      expect(hooks).toHaveLength(1)
      expect(hooks[0].events).toEqual(["plan.ready", "sync.failed"])
      const list = await admin.get("/webhooks")
      expect(list.text).toContain("https://hooks.example/seatkeeper")
      expect(list.text).not.toContain(secret!)
      const deliveries = await admin.get(`/webhooks/${hooks[0].id}`)
      expect(deliveries.status).toBe(200)
      expect(deliveries.text).toContain("Recent deliveries")
      const removed = await admin.post(`/webhooks/${hooks[0].id}/remove`)
      expect(removed.status).toBe(303)
      expect((await t.request("GET", "/api/webhooks")).body.data).toEqual([])
    })
  })

  describe("CSRF", () => {
    it.each([
      ["/users", { name: "Csrf Person", role: "admin" }],
      ["/webhooks", { url: "https://hooks.example/csrf", events: "plan.ready" }],
      ["PRICES", { rowCount: "0" }],
      ["POLICY", {}],
      ["PLAN", {}]
    ])("Should refuse a post to %s without the session's CSRF token (403), and change nothing", async (which, form) => {
      const path = which === "PRICES"
        ? `${c()}/prices`
        : which === "POLICY"
        ? `${c()}/reclaim/policies/new`
        : which === "PLAN"
        ? `${c()}/plans/some-plan/approve`
        : which
      const body = which === "POLICY" ? policyForm({ name: "Csrf policy" }) : form
      const missing = await t.request("POST", path, { cookie: admin.cookie, form: body })
      expect(missing.status).toBe(403)
      expect(missing.text).toContain("This form was refused")
      const wrong = await t.request("POST", path, { cookie: admin.cookie, form: { ...body, _csrf: "guessed" } })
      expect(wrong.status).toBe(403)
      const foreign = await t.request("POST", path, {
        cookie: admin.cookie,
        form: { ...body, _csrf: admin.csrf },
        headers: { origin: "https://evil.example" }
      })
      expect(foreign.status).toBe(403)
      const users = (await t.request("GET", "/api/users")).body.data.map((u: { name: string }) => u.name)
      expect(users).not.toContain("Csrf Person")
      expect((await t.request("GET", "/api/webhooks")).body.data.map((h: { url: string }) => h.url)).not.toContain(
        "https://hooks.example/csrf"
      )
      const policies = (await t.request("GET", `/api/connections/${connectionId}/policies`)).body.data
      expect(policies.map((p: { policy: { name: string } }) => p.policy.name)).not.toContain("Csrf policy")
      // The token of the page is the session's.
      expect(csrfTokenOf((await admin.get("/users")).text)).toBe(admin.csrf)
    })
  })
})
