/**
 * The web UI in a real browser (Debian's chromium through playwright-core) against a real host and a
 * simulated Atlassian organisation: log in, add a connection through the settings form (a wrong key
 * first), sync, filter, open an account whose id holds ':', suspend it with a reason, find it in the
 * audit log.
 */
import * as Fs from "node:fs"
import type { AtlassianSandbox, SandboxUser } from "@seatkeeper/provider-atlassian/sandbox"
import { type Browser, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeSandbox } from "../harness.js"
import { ADMIN_TOKEN, type ListeningHost, makeListeningHost } from "./uiHost.js"

const CHROMIUM = "/usr/bin/chromium"
const hasChromium = Fs.existsSync(CHROMIUM)
const required = process.env.SEATKEEPER_REQUIRE_SERVICES === "1"
if (!hasChromium && !required) {
  console.warn(`Skipping the browser tests: ${CHROMIUM} is not installed (apt-get install chromium).`)
}

const DAY_MS = 86_400_000
const SCREENSHOTS = "/tmp/sk"
// Screenshots of every page, for a person to look at; the dashboard and accounts page are always taken.
const allScreenshots = process.env.SEATKEEPER_UI_SCREENSHOTS === "1"

/** An account to search for and suspend: an id with ':', active, on Confluence, unused for 30+ days. */
const pickTarget = (users: ReadonlyArray<SandboxUser>, now: number): SandboxUser => {
  const target = users.find((u) =>
    u.account_id.includes(":") && u.account_status === "active" && u.managedBy === undefined && u.email !== undefined &&
    (u.product_access ?? []).some((p) => p.key === "confluence") &&
    (u.last_active === undefined || Date.parse(u.last_active) < now - 31 * DAY_MS)
  )
  if (target === undefined) throw new Error("the sandbox's seed has no account to suspend in this test; change the seed")
  return target
}

describe.skipIf(!hasChromium && !required)("web UI in a browser", () => {
  let sandbox: AtlassianSandbox
  let host: ListeningHost
  let browser: Browser
  let page: Page
  let target: SandboxUser
  const reason = "Left the company <ticket #42> & no longer needs a seat"

  beforeAll(async () => {
    if (!hasChromium) throw new Error(`${CHROMIUM} is missing and SEATKEEPER_REQUIRE_SERVICES=1 requires the browser tests`)
    sandbox = await makeSandbox({ users: 300, pageSize: 100, seed: 7 })
    target = pickTarget(sandbox.users(), Date.now())
    host = await makeListeningHost()
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
      headless: true
    })
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } })
    page.setDefaultTimeout(20_000)
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    await host?.close()
    await sandbox?.close()
  })

  const text = (selector: string) => page.locator(selector).first().innerText()
  const shot = async (name: string, always = false) => {
    if (!always && !allScreenshots) return
    Fs.mkdirSync(SCREENSHOTS, { recursive: true })
    await page.screenshot({ path: `${SCREENSHOTS}/ui-${name}.png`, fullPage: true })
  }
  const nav = (name: string) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name })

  it("Should ask for the admin token, refuse a wrong one, and open the dashboard with the right one", async () => {
    await page.goto(`${host.url}/`)
    expect(new URL(page.url()).pathname).toBe("/login")
    await page.getByLabel("Admin token").fill("not-the-admin-token")
    await page.getByRole("button", { name: "Log in" }).click()
    expect(await text("[role=alert]")).toContain("That is not the admin token")

    await page.getByLabel("Admin token").fill(ADMIN_TOKEN)
    await page.getByRole("button", { name: "Log in" }).click()
    await page.waitForURL(`${host.url}/`)
    expect(await text("h1")).toBe("Dashboard")
    expect(await text("main")).toContain("No connections yet")
    const cookies = await page.context().cookies()
    expect(cookies.find((c) => c.name === "seatkeeper_session")).toMatchObject({ httpOnly: true, sameSite: "Strict" })
  })

  it("Should test a connection (a wrong key shows Atlassian's hint), then save it", async () => {
    await nav("Add connection").click()
    await page.getByLabel("Name", { exact: true }).fill("Acme sandbox")
    await page.getByLabel("Organization ID").fill(sandbox.orgId)
    await page.getByLabel("API key").fill("wrong-api-key-0000000000")
    await page.getByLabel("Admin email").fill("admin@acme.example")
    await page.getByLabel("API base URL (optional)").fill(sandbox.url)
    // Help text says where to find each field.
    expect(await text("#f-config-apiKey-help")).toContain("admin.atlassian.com → Settings → API keys")

    await page.getByRole("button", { name: "Test connection" }).click()
    const failure = await text("[role=alert]")
    expect(failure).toContain("Connection test failed")
    expect(failure).toContain("Check the API key: it must be an organization API key")
    await shot("settings-test-failed")
    // The typed key is not sent back; the other fields are kept.
    expect(await page.getByLabel("API key").inputValue()).toBe("")
    expect(await page.getByLabel("Organization ID").inputValue()).toBe(sandbox.orgId)

    await page.getByLabel("API key").fill(sandbox.apiKey)
    await page.getByRole("button", { name: "Test connection" }).click()
    expect(await text("[role=status]")).toContain("Connection works")

    await page.getByLabel("API key").fill(sandbox.apiKey)
    await page.getByRole("button", { name: "Save" }).click()
    await page.waitForURL(/\/connections\/[^/]+\/syncs\?notice=created$/)
    expect(await text("main")).toContain("Connection saved")
  })

  it("Should sync from the page, say so when a sync already runs, and show the run succeeded", async () => {
    // Slow listing pages keep the first sync running while "Sync now" is pressed again.
    sandbox.injectFault({ kind: "slow", delayMs: 1_000 }, { on: "users", times: 3 })
    await page.getByRole("button", { name: "Sync now" }).click()
    await page.waitForURL(/notice=sync-started/)
    await page.getByRole("button", { name: "Sync now" }).click()
    expect(await text("main")).toContain("A sync is already running")
    await shot("syncs-running")
    // The page reloads itself (meta refresh) until the run ends.
    await page.locator("table tbody .badge", { hasText: "succeeded" }).first().waitFor({ timeout: 45_000 })
    const row = await text("table tbody tr")
    expect(row).toContain("succeeded")
    expect(row).toContain("300")
    await shot("syncs")
  })

  it("Should show the dashboard with the last sync, seats per product and unused seats", async () => {
    await nav("Dashboard").click()
    const main = await text("main")
    expect(main).toContain("Acme sandbox")
    expect(main).toMatch(/Last sync\s+succeeded/)
    expect(await text("table caption")).toBe("Seats per product")
    expect(await page.locator("table tbody tr").count()).toBeGreaterThan(3)
    expect(main).toContain("Confluence (acme)")
    // The unused-seat cards count active accounts with no activity for 30/60/90 days, as the source says.
    const now = Date.now()
    const users = sandbox.users()
    const card = async (label: string) => Number((await page.locator(".card", { hasText: label }).locator(".value").innerText()).replace(/,/g, ""))
    expect(await card("Active")).toBe(users.filter((u) => u.account_status === "active").length)
    for (const days of [30, 60, 90]) {
      const unused = users.filter((u) =>
        u.account_status === "active" && (u.last_active === undefined || Date.parse(u.last_active) < now - days * DAY_MS)
      ).length
      expect(await card(`Unused ${days}+ days`)).toBe(unused)
    }
    await shot("dashboard", true)
  })

  it("Should page through the accounts and filter them by status, product, inactivity and search", async () => {
    await page.getByRole("link", { name: "Acme sandbox" }).first().click()
    expect(await text("table caption")).toBe("1–50 of 300 accounts")
    await shot("accounts", true)
    await page.getByRole("link", { name: "Next page »" }).click()
    expect(await text("table caption")).toBe("51–100 of 300 accounts")

    const q = target.email!.split("@")[0]!.slice(0, 4)
    await page.getByLabel("Status").selectOption("active")
    await page.getByLabel("Product").selectOption("confluence")
    await page.getByLabel("Unused for (days)").fill("30")
    await page.getByLabel("Search").fill(q)
    await page.getByRole("button", { name: "Filter" }).click()

    const now = Date.now()
    const needle = q.toLowerCase()
    const expected = sandbox.users().filter((u) =>
      u.account_status === "active" &&
      (u.product_access ?? []).some((p) => p.key === "confluence") &&
      (u.last_active === undefined || Date.parse(u.last_active) < now - 30 * DAY_MS) &&
      [u.email ?? "", u.name, u.account_id].some((s) => s.toLowerCase().includes(needle))
    )
    const links = await page.locator("table tbody tr th a").all()
    const shown = await Promise.all(links.map(async (a) => decodeURIComponent((await a.getAttribute("href"))!.split("/accounts/")[1]!)))
    expect(new Set(shown)).toEqual(new Set(expected.map((u) => u.account_id)))
    expect(shown).toContain(target.account_id)
    expect(await text("table caption")).toBe(`1–${expected.length} of ${expected.length} matching accounts`)
    // The filters stay filled in.
    expect(await page.getByLabel("Status").inputValue()).toBe("active")
    expect(await page.getByLabel("Unused for (days)").inputValue()).toBe("30")
    await shot("accounts-filtered")
  })

  it("Should open an account whose id holds ':', suspend it with a reason, and show its new status", async () => {
    await page.getByRole("link", { name: target.name, exact: true }).first().click()
    expect(page.url()).toContain(`/accounts/${encodeURIComponent(target.account_id)}`)
    expect(page.url()).toContain("%3A")
    expect(await text("h1")).toBe(target.name)
    expect(await text("dl.facts")).toContain(target.account_id)

    // A dry run first: recorded, nothing called.
    await page.getByRole("link", { name: `Suspend ${target.name}` }).click()
    await page.getByLabel("Reason (optional)").fill(reason)
    await page.getByLabel("Dry run").check()
    await page.getByRole("button", { name: "Suspend account" }).click()
    expect(await text("[role=status]")).toContain("Dry run: nothing was changed")
    expect(sandbox.requests.filter((r) => r.route === "lifecycle")).toEqual([])

    await page.getByRole("link", { name: "Back to the account" }).click()
    await page.getByRole("link", { name: `Suspend ${target.name}` }).click()
    await page.getByLabel("Reason (optional)").fill(reason)
    await shot("suspend-confirm")
    await page.getByRole("button", { name: "Suspend account" }).click()
    expect(await text("[role=status]")).toContain("Account suspended")
    expect(await text("dl.facts .badge")).toBe("suspended")
    await shot("suspend-done")

    const calls = sandbox.requests.filter((r) => r.route === "lifecycle")
    expect(calls).toHaveLength(1)
    expect(calls[0]).toMatchObject({
      method: "POST",
      path: `/users/${encodeURIComponent(target.account_id)}/manage/lifecycle/disable`,
      status: 204,
      body: { message: reason }
    })
    expect(sandbox.user(target.account_id)?.account_status).toBe("inactive")

    await page.getByRole("link", { name: "Back to the account" }).click()
    expect(await text("dl.facts .badge")).toBe("suspended")
    expect(await page.getByRole("link", { name: `Restore ${target.name}` }).count()).toBe(1)
    expect(await text("main")).toMatch(/Account\s+active\s+suspended\s+suspend/)
    await shot("account")
  })

  it("Should list the suspend and its dry run in the audit log", async () => {
    await nav("Audit log").click()
    const rows = page.locator("table tbody tr", { hasText: "account.suspend" })
    expect(await rows.count()).toBe(2)
    const [latest, dryRun] = [await rows.nth(0).innerText(), await rows.nth(1).innerText()]
    expect(latest).toContain(target.account_id)
    expect(latest).toContain(reason)
    expect(latest).toContain("ok")
    expect(latest).toContain("active -> suspended")
    expect(dryRun).toContain("dry-run")
    expect(await page.locator("table tbody tr", { hasText: "connection.create" }).count()).toBe(1)
    expect(await page.locator("table tbody tr", { hasText: "sync.finish" }).count()).toBeGreaterThanOrEqual(1)
    await shot("audit")

    await page.getByRole("button", { name: "Log out" }).click()
    expect(await text("main")).toContain("You are logged out")
  })
})
