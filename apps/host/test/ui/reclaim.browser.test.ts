/**
 * Reclaiming in a real browser (Debian's chromium through playwright-core) against a real host and the
 * simulated Atlassian organisation, as two people: the admin adds an operator (Alice) and an approver
 * (Bob) on the users page and reads their tokens; Alice logs in with hers, writes a policy with an
 * exemption, makes a plan, and cannot approve it (no button, and a forged form is refused); Bob logs in,
 * approves it and executes it, and watches the progress bar (the page reloads itself, no script) reach
 * done; he undoes one account; the audit log names Alice and Bob. Every new page fits a phone's 390 px.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import * as Fs from "node:fs"
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connect, makeSandbox, sync, UNPACED } from "../support/Org.js"
import { ADMIN_TOKEN, makeTestHost, type TestHost } from "../support/TestHost.js"

const CHROMIUM = "/usr/bin/chromium"
const hasChromium = Fs.existsSync(CHROMIUM)
const required = process.env.SEATKEEPER_REQUIRE_SERVICES === "1"
if (!hasChromium && !required) {
  console.warn(`Skipping the reclaim browser test: ${CHROMIUM} is not installed (apt-get install chromium).`)
}

const PHONE = 390
const SCREENSHOTS = "/tmp/sk"
const allScreenshots = process.env.SEATKEEPER_UI_SCREENSHOTS === "1"

// What the checks run in the page use of the DOM (the host's tsconfig has no DOM lib).
declare const document: any
declare const getComputedStyle: (element: any) => { readonly overflowX: string }

describe.skipIf(!hasChromium && !required)("reclaiming in a browser, as two people", () => {
  let sandbox: AtlassianSandbox
  let t: TestHost
  let url: string
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let connectionId: string
  let connectionPath: string
  let planPath: string
  let policyPath: string
  let exempt: { readonly id: string; readonly name: string }
  const tokens: Record<string, string> = {}

  beforeAll(async () => {
    if (!hasChromium) {
      throw new Error(`${CHROMIUM} is missing and SEATKEEPER_REQUIRE_SERVICES=1 requires the browser tests`)
    }
    sandbox = await makeSandbox({ users: 60, pageSize: 50, seed: 3 })
    t = await makeTestHost({ pages: true, listen: true })
    url = t.url!
    // The connection and its first sync through the API: the other browser test covers doing that on the pages.
    connectionId = await connect(t.request, sandbox, { name: "Acme sandbox", rateLimit: UNPACED })
    const run = await sync(t.request, connectionId, { audited: true })
    if (run.body.status !== "succeeded") throw new Error(`first sync: ${run.text}`)
    connectionPath = `/connections/${encodeURIComponent(connectionId)}`
    // An account the policy would take (idle everywhere for 60+ days), to exempt.
    const idle =
      (await t.request("GET", `/api/connections/${connectionId}/accounts?status=active&inactiveDays=60&limit=500`)).body
        .data
    const account = idle.find((a: any) =>
      a.billable && a.lastActiveAt !== null && !a.roles.some((r: string) => /admin/i.test(r)) &&
      a.entitlements.some((e: any) => e.status === "active" && e.billable) &&
      a.entitlements.every((e: any) => e.status !== "active" || e.lastActiveAt !== null)
    )
    exempt = { id: account.externalId, name: account.displayName }
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run"
      ],
      headless: true
    })
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    page = await context.newPage()
    page.setDefaultTimeout(30_000)
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await t?.close()
    await sandbox?.close()
  })

  const text = (selector: string) => page.locator(selector).first().innerText()
  const nav = (name: string) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name, exact: true })
  const shot = async (name: string, always = false) => {
    if (!always && !allScreenshots) return
    Fs.mkdirSync(SCREENSHOTS, { recursive: true })
    await page.screenshot({ path: `${SCREENSHOTS}/ui-reclaim-${name}.png`, fullPage: true })
  }
  const api = async (path: string) => {
    const res = await t.request("GET", path)
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.text}`)
    return res.body
  }
  const logIn = async (token: string) => {
    await page.goto(`${url}/login`)
    await page.getByLabel("Your token").fill(token)
    await page.getByRole("button", { name: "Log in" }).click()
    await page.waitForURL(`${url}/`)
  }
  const logOut = async () => {
    await page.getByRole("button", { name: "Log out" }).click()
    expect(await text("main")).toContain("You are logged out")
  }
  const planId = () => decodeURIComponent(planPath.split("/").at(-1)!)

  it("Should let the admin add an operator and an approver, each token shown once", async () => {
    await logIn(ADMIN_TOKEN)
    expect(await text("header .whoami")).toMatch(/admin\s+admin/)
    await nav("Users").click()
    for (const [name, role] of [["Alice Operator", "operator"], ["Bob Approver", "approver"]] as const) {
      await page.getByLabel("Name", { exact: true }).fill(name)
      await page.getByLabel("Role", { exact: true }).selectOption(role)
      await page.getByRole("button", { name: "Add user" }).click()
      expect(await text("[role=status]")).toContain(`${name} added: their token`)
      tokens[name] = (await text("#issued-token")).trim()
      expect(tokens[name]).toMatch(/^sk_/)
    }
    // Gone once the page is left.
    await page.goto(`${url}/users`)
    expect(await page.locator("#issued-token").count()).toBe(0)
    expect(await page.locator("tr.user").count()).toBe(2)
    await shot("users")
    await logOut()
  })

  it("Should let Alice (operator) write a policy with an exemption, make a plan, and not approve it", async () => {
    await logIn(tokens["Alice Operator"]!)
    expect(await text("header .whoami")).toMatch(/Alice Operator\s+operator/)
    // No admin navigation for her.
    expect(await nav("Users").count()).toBe(0)
    await page.locator("section.connection").getByRole("link", { name: "Reclaim", exact: true }).click()
    expect(await text("h1")).toBe("Acme sandbox")
    await page.getByRole("link", { name: "New policy" }).click()
    await page.getByLabel("Policy name").fill("Idle seats, 30 days")
    await page.getByLabel("Inactive for at least (days)").fill("0")
    await page.getByLabel("Accounts newer than (days)").fill("0")
    await page.getByLabel("Four eyes above (accounts)").fill("0")
    // A bad value first: the error sits next to its field.
    await page.getByRole("button", { name: "Save policy" }).click()
    expect(await text("#p-inactiveDays-error")).toContain("inactiveDays must be a whole number from 1 to 3650")
    expect(await page.getByLabel("Inactive for at least (days)").getAttribute("aria-invalid")).toBe("true")
    await page.getByLabel("Inactive for at least (days)").fill("30")
    await page.locator("#p-ex-0-externalId").fill(exempt.id)
    await page.locator("#p-ex-0-reason").fill("parental leave")
    await page.locator("#p-ex-0-until").fill("2099-03-01")
    await page.getByRole("button", { name: "Save policy" }).click()
    expect(await text("[role=status]")).toContain("Policy saved")
    policyPath = new URL(page.url()).pathname
    await shot("policy")

    await page.getByRole("button", { name: "Make plan" }).click()
    await page.waitForURL(/\/plans\/[^/?]+\?notice=plan-made$/)
    planPath = new URL(page.url()).pathname
    const plan = await api(`/api/plans/${planId()}`)
    expect(plan.accounts).toBeGreaterThan(1)
    expect(await text("dd.accounts")).toBe(String(plan.accounts))
    expect(await text(".summary")).toContain("by Alice Operator")
    // Whom the policy spared, and why: behind a disclosure.
    await page.locator("summary", { hasText: "idle accounts the policy keeps" }).click()
    expect(await page.locator("tr", { hasText: exempt.name }).last().innerText()).toContain(
      "exempt until 2099-03-01: parental leave"
    )
    expect(await page.locator("tr.item").count()).toBe(plan.accounts)
    expect(await page.locator("tr.item .preflight").first().innerText()).toMatch(/would go ahead|would be refused/)
    // She may not approve: no Approve button, and why.
    expect(await page.getByRole("button", { name: "Approve plan" }).count()).toBe(0)
    expect(await text("#approve-why")).toContain("Waiting for an approver other than Alice Operator (four eyes)")
    await shot("plan-review", true)

    // A forged Approve form (her own session's token) is refused by the service, and says so.
    await page.evaluate((action) => {
      const form = document.createElement("form")
      form.method = "post"
      form.action = action
      const csrf = document.createElement("input")
      csrf.type = "hidden"
      csrf.name = "_csrf"
      csrf.value = document.querySelector("input[name=_csrf]").value
      form.appendChild(csrf)
      document.body.appendChild(form)
      form.submit()
    }, `${planPath}/approve`)
    await page.waitForURL(`${url}${planPath}/approve`)
    expect(await text("[role=alert]")).toContain("Alice Operator (operator) may not approve reclaim plans")
    expect((await api(`/api/plans/${planId()}`)).status).toBe("review")
    await logOut()
  })

  it("Should let Bob (approver) approve and execute it, and show the progress bar reach done", async () => {
    await logIn(tokens["Bob Approver"]!)
    await nav("Plans").click()
    await page.getByRole("link", { name: "Idle seats, 30 days" }).first().click()
    expect(new URL(page.url()).pathname).toBe(planPath)
    await page.getByRole("button", { name: "Approve plan" }).click()
    expect(await text("[role=status]")).toContain("Plan approved")
    expect(await text("dd.approver")).toContain("Bob Approver")

    // Each disable takes a while, so the page shows the plan running.
    sandbox.injectFault({ kind: "slow", delayMs: 300 }, { on: "lifecycle", times: 100 })
    await page.getByRole("button", { name: "Execute plan" }).click()
    const total = (await api(`/api/plans/${planId()}`)).accounts
    // The page reloads itself (meta refresh) while the plan runs, until the bar is full.
    await page.locator(".summary .badge", { hasText: "running" }).waitFor({ timeout: 30_000 })
    expect(await page.locator("meta[http-equiv=\"refresh\"]").count()).toBe(1)
    await shot("plan-running", true)
    await page.locator(".summary .badge", { hasText: /^(done|stopped)$/ }).waitFor({ timeout: 60_000 })
    sandbox.clearFaults()
    const plan = await api(`/api/plans/${planId()}`)
    expect(plan.status).toBe("done")
    expect(await page.locator("meta[http-equiv=\"refresh\"]").count()).toBe(0)
    const bar = page.locator("progress.plan")
    expect(await bar.getAttribute("max")).toBe(String(total))
    expect(await bar.getAttribute("value")).toBe(String(total - plan.progress.pending - plan.progress.acting))
    expect(await text(".count-remaining")).toBe("0")
    expect(await text(".count-done")).toBe(String(plan.progress.done))
    expect(plan.progress.done).toBeGreaterThan(0)
    await shot("plan-done", true)
  })

  it("Should undo one account: its status comes back upstream", async () => {
    const item = (await api(`/api/plans/${planId()}/items?state=done&limit=1`)).data[0]
    expect(sandbox.user(item.externalId)?.account_status).toBe("inactive")
    await page.getByRole("button", { name: `Undo ${item.displayName}` }).click()
    expect(await text("[role=status]")).toContain("Undone: 1 account restored as they were.")
    expect(sandbox.user(item.externalId)?.account_status).toBe("active")
    expect(await text(".count-undone")).toBe("1")
    const row = page.locator("tr.item", { hasText: item.externalId })
    expect(await row.locator(".state .badge").innerText()).toBe("undone")
  })

  it("Should name Alice and Bob in the audit log", async () => {
    await nav("Audit log").click()
    const row = (action: string) => page.locator("table tbody tr", { hasText: action }).first().innerText()
    expect(await row("policy.create")).toContain("by Alice Operator")
    expect(await row("plan.create")).toContain("by Alice Operator")
    expect(await row("plan.approve")).toContain("by Bob Approver")
    expect(await row("plan.execute")).toContain("by Bob Approver")
    expect(await row("plan.undo")).toContain("by Bob Approver")
    expect(await row("user.create")).toContain("by admin")
    await logOut()
  })

  it("Should show Alice a plan still being checked with Atlassian, and the page turn to review by itself", async () => {
    await logIn(tokens["Alice Operator"]!)
    await page.goto(`${url}${policyPath}`)
    // Each preflight takes six seconds: the plan is not checked by the time making it answers (three).
    sandbox.clearFaults()
    sandbox.injectFault({ kind: "slow", delayMs: 6_000 }, { on: "manage", times: 10_000 })
    try {
      await page.getByRole("button", { name: "Make plan" }).click()
      await page.waitForURL(/\/plans\/[^/?]+\?notice=plan-made$/)
      expect(await text(".summary .badge")).toBe("checking")
      expect(await text(".summary .checking")).toMatch(/asking the provider about each account .*: \d+ of \d+ checked/)
      expect(await page.getByRole("button", { name: "Cancel plan" }).count()).toBe(1)
      // The page reloads itself until every account has its answer.
      await page.locator(".summary .badge", { hasText: "review" }).waitFor({ timeout: 60_000 })
      expect(await page.locator(".summary .checking").count()).toBe(0)
      expect(await page.locator("tr.item .preflight").first().innerText()).toMatch(/would go ahead|would be refused/)
    } finally {
      sandbox.clearFaults()
      await logOut()
    }
  })

  it("Should fit every new page in a phone's 390 px: nothing scrolls sideways but tables, each in its own box", async () => {
    await logIn(ADMIN_TOKEN)
    // One webhook, for its pages.
    await page.goto(`${url}/webhooks`)
    await page.getByLabel("URL", { exact: true }).fill("https://hooks.example/seatkeeper")
    await page.getByLabel(/^plan\.ready/).check()
    await page.getByRole("button", { name: "Add webhook" }).click()
    expect(await text("#issued-secret")).toMatch(/^whsec_/)
    const hook = (await api("/api/webhooks")).data[0]
    const phone = await browser.newContext({
      viewport: { width: PHONE, height: 844 },
      storageState: await context.storageState()
    })
    const small = await phone.newPage()
    small.setDefaultTimeout(30_000)
    const pages = [
      "/",
      "/plans",
      `${connectionPath}/reclaim`,
      `${connectionPath}/reclaim/policies/new`,
      policyPath,
      planPath,
      `${planPath}?state=done`,
      `${connectionPath}/prices`,
      `${connectionPath}/apps`,
      "/users",
      "/webhooks",
      `/webhooks/${hook.id}`
    ]
    try {
      for (const path of pages) {
        await small.goto(`${url}${path}`)
        expect(await small.locator("h1").count(), path).toBe(1)
        const layout = await small.evaluate(() => {
          const inViewport = (e: any) => {
            const r = e.getBoundingClientRect()
            return r.left >= 0 && r.right <= document.documentElement.clientWidth + 0.5
          }
          return {
            scrollWidth: document.documentElement.scrollWidth,
            header: [...document.querySelectorAll("header.top a, header.top button")].every(inViewport),
            tables: [...document.querySelectorAll("table")].map((table) => {
              const box = table.parentElement!
              const overflow = getComputedStyle(box).overflowX
              return {
                boxed: box.classList.contains("table-box") && (overflow === "auto" || overflow === "scroll"),
                boxFits: inViewport(box),
                scrolls: table.scrollWidth <= box.clientWidth + 0.5 || box.scrollWidth > box.clientWidth
              }
            })
          }
        })
        expect({ path, scrollWidth: layout.scrollWidth <= PHONE }).toEqual({ path, scrollWidth: true })
        expect({ path, header: layout.header }).toEqual({ path, header: true })
        for (const table of layout.tables) {
          expect({ path, ...table }).toEqual({ path, boxed: true, boxFits: true, scrolls: true })
        }
        if (path === planPath || path.endsWith("/policies/new")) {
          Fs.mkdirSync(SCREENSHOTS, { recursive: true })
          await small.screenshot({
            path: `${SCREENSHOTS}/ui-reclaim-phone-${path === planPath ? "plan" : "policy"}.png`,
            fullPage: true
          })
        }
      }
    } finally {
      await phone.close()
    }
  })
})
