/**
 * The web UI in a real browser (Debian's chromium through playwright-core) against a real host and a
 * simulated Atlassian organisation: log in, add a connection through the settings form (a wrong key
 * first), sync; every number of the dashboard and the products page against the list it opens and the
 * JSON API; sort and page the accounts; suspend an account whose id holds ':'; apply a held run; and every
 * page at a phone's 390 px: nothing scrolls sideways but a table inside its own box.
 */
import type { AtlassianSandbox, SandboxUser } from "@seatkeeper/provider-atlassian/sandbox"
import * as Fs from "node:fs"
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { makeSandbox, waitForSync } from "../support/Org.js"
import { ADMIN_TOKEN, makeTestHost, type TestHost } from "../support/TestHost.js"
import { apiPathOf } from "./pageTools.js"

const CHROMIUM = "/usr/bin/chromium"
const hasChromium = Fs.existsSync(CHROMIUM)
const required = process.env.SEATKEEPER_REQUIRE_SERVICES === "1"
if (!hasChromium && !required) {
  console.warn(`Skipping the browser tests: ${CHROMIUM} is not installed (apt-get install chromium).`)
}

const DAY_MS = 86_400_000
const PHONE = 390
const SCREENSHOTS = "/tmp/sk"
// Screenshots of every page, for a person to look at; a few are always taken.
const allScreenshots = process.env.SEATKEEPER_UI_SCREENSHOTS === "1"

/** An account to search for and suspend: an id with ':', active, on Confluence, unused for 30+ days. */
const pickTarget = (users: ReadonlyArray<SandboxUser>, now: number): SandboxUser => {
  const target = users.find((u) =>
    u.account_id.includes(":") && u.account_status === "active" && u.managedBy === undefined && u.email !== undefined &&
    (u.product_access ?? []).some((p) => p.key === "confluence") &&
    (u.last_active === undefined || Date.parse(u.last_active) < now - 31 * DAY_MS)
  )
  if (target === undefined) {
    throw new Error("the sandbox's seed has no account to suspend in this test; change the seed")
  }
  return target
}

const numberIn = (text: string) => Number(text.replace(/[^\d]/g, ""))

// What the layout check runs in the page uses of the DOM (the host's tsconfig has no DOM lib).
declare const document: any
declare const getComputedStyle: (element: any) => { readonly overflowX: string }

describe.skipIf(!hasChromium && !required)("web UI in a browser", () => {
  let sandbox: AtlassianSandbox
  let t: TestHost
  let url: string
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let target: SandboxUser
  let connectionPath: string
  let connectionId: string
  const reason = "Left the company <ticket #42> & no longer needs a seat"

  beforeAll(async () => {
    if (!hasChromium) {
      throw new Error(`${CHROMIUM} is missing and SEATKEEPER_REQUIRE_SERVICES=1 requires the browser tests`)
    }
    sandbox = await makeSandbox({ users: 300, pageSize: 100, seed: 7 })
    target = pickTarget(sandbox.users(), Date.now())
    t = await makeTestHost({ pages: true, listen: true })
    url = t.url!
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
    // Generous: a loaded machine is slow, never wrong.
    page.setDefaultTimeout(30_000)
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await t?.close()
    await sandbox?.close()
  })

  const text = (selector: string) => page.locator(selector).first().innerText()
  const shot = async (name: string, always = false) => {
    if (!always && !allScreenshots) return
    Fs.mkdirSync(SCREENSHOTS, { recursive: true })
    await page.screenshot({ path: `${SCREENSHOTS}/ui-${name}.png`, fullPage: true })
  }
  const nav = (name: string) => page.getByRole("navigation", { name: "Main" }).getByRole("link", { name })
  const api = async (path: string) => {
    const res = await t.request("GET", path)
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.text}`)
    return res.body
  }

  /**
   * Every count link of the current page: the number it shows is the total of the list it opens, as that
   * list shows it and as the JSON API counts it. Returns what each link showed, by its address.
   */
  const checkEveryCount = async (): Promise<Map<string, number>> => {
    const here = page.url()
    const links = await page.locator("a.count").evaluateAll((as) =>
      as.map((a) => {
        const value = a.querySelector(".value")
        return { href: a.getAttribute("href")!, text: (value ?? a).textContent ?? "" }
      })
    )
    expect(links.length).toBeGreaterThan(0)
    const shown = new Map<string, number>()
    for (const link of links) {
      const n = numberIn(link.text)
      shown.set(link.href, n)
      await page.goto(`${url}${link.href}`)
      const total = numberIn(await page.locator(".total").first().innerText())
      expect({ link: link.href, total }).toEqual({ link: link.href, total: n })
      expect({ link: link.href, api: (await api(apiPathOf(link.href))).total }).toEqual({ link: link.href, api: n })
    }
    await page.goto(here)
    return shown
  }

  it("Should ask for a token, refuse a wrong one, and open the dashboard with the right one", async () => {
    await page.goto(`${url}/`)
    expect(new URL(page.url()).pathname).toBe("/login")
    await page.getByLabel("Your token").fill("not-the-admin-token")
    await page.getByRole("button", { name: "Log in" }).click()
    expect(await text("[role=alert]")).toContain("That token is not valid")

    await page.getByLabel("Your token").fill(ADMIN_TOKEN)
    await page.getByRole("button", { name: "Log in" }).click()
    await page.waitForURL(`${url}/`)
    expect(await text("h1")).toBe("Dashboard")
    expect(await text("main")).toContain("No connections yet")
    const cookies = await context.cookies()
    expect(cookies.find((c) => c.name === "seatkeeper_session")).toMatchObject({ httpOnly: true, sameSite: "Strict" })
  })

  it("Should test a connection (a wrong key shows Atlassian's hint), then save it with its hold threshold", async () => {
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
    await page.getByLabel(/^Hold a sync that would deprovision more than/).fill("5")
    await page.getByRole("button", { name: "Save" }).click()
    await page.waitForURL(/\/connections\/[^/]+\/syncs\?notice=created$/)
    expect(await text("main")).toContain("Connection saved")
    connectionPath = new URL(page.url()).pathname.replace(/\/syncs$/, "")
    connectionId = decodeURIComponent(connectionPath.split("/")[2]!)
    expect((await api(`/api/connections/${connectionId}`)).holdThresholdPercent).toBe(5)
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
    await page.locator("table tbody .badge", { hasText: "succeeded" }).first().waitFor({ timeout: 90_000 })
    const row = await text("table tbody tr")
    expect(row).toContain("succeeded")
    expect(row).toContain("300")
    sandbox.clearFaults()
  })

  it("Should show every dashboard number as the totals count it, each opening a list of exactly that many", async () => {
    await nav("Dashboard").click()
    const main = await text("main")
    expect(main).toContain("Acme sandbox")
    expect(main).toMatch(/Last sync\s+succeeded/)
    expect(await text("table caption")).toBe("Seats per product")
    const shown = await checkEveryCount()
    const totals = await api(`/api/connections/${connectionId}/totals`)
    expect(shown.get(`${connectionPath}/accounts`)).toBe(totals.accounts)
    expect(shown.get(`${connectionPath}/accounts?status=active`)).toBe(totals.byStatus.active)
    expect(shown.get(`${connectionPath}/seats`)).toBe(totals.seats)
    for (const d of [30, 60, 90]) {
      expect(shown.get(`${connectionPath}/seats?unusedDays=${d}`)).toBe(totals[`unused${d}`])
    }
    // Suspended accounts hold no seat: fewer seats than active entitlements of every account.
    expect(totals.seats).toBeLessThan(sandbox.users().reduce((n, u) => n + (u.product_access?.length ?? 0), 0))
    await shot("dashboard", true)
  })

  it("Should show every products-page number as the API counts it, each opening a list of exactly that many", async () => {
    await page.goto(`${url}${connectionPath}/apps`)
    expect(await text("h1")).toBe("Acme sandbox")
    await shot("products", true)
    const shown = await checkEveryCount()
    const products = (await api(`/api/connections/${connectionId}/products`)).data as ReadonlyArray<Record<string, any>>
    const seats = (q: string) => `${connectionPath}/seats?${q}`
    for (const a of products) {
      const license = `license=${encodeURIComponent(a.key)}`
      expect(shown.get(seats(license)), a.key).toBe(a.seats)
      for (const d of [30, 60, 90]) {
        expect(shown.get(seats(`${license}&usedDays=${d}`)), `${a.key} used ${d}`).toBe(a[`used${d}`])
        expect(shown.get(seats(`${license}&unusedDays=${d}`)), `${a.key} unused ${d}`).toBe(a[`unused${d}`])
      }
      expect(shown.get(`${connectionPath}/accounts?product=${encodeURIComponent(a.key)}`), `${a.key} assigned`).toBe(
        a.assigned
      )
      // The provider's own figure, as it reported it.
      const row = page.locator("table").first().locator("tr", {
        has: page.locator(`a.count[href="${seats(license)}"]`)
      })
      const purchased = await row.locator("td.num").first().innerText()
      expect(purchased.trim()).toBe(a.seatsPurchased === null ? "—" : a.seatsPurchased.toLocaleString("en-US"))
    }
    // The trend shows what the trend API has, the one sync so far.
    const trend = (await api(`/api/connections/${connectionId}/products/trend`)).data as ReadonlyArray<
      Record<string, any>
    >
    const trendTable = page.locator("table", { has: page.locator("caption", { hasText: "per sync, oldest first" }) })
    const trendRows = trendTable.locator("tbody tr")
    expect(await trendRows.count()).toBe(trend.length)
    for (const s of trend) {
      const name = products.find((a) => a.key === s.key)!.name
      const row = trendRows.filter({ has: page.getByRole("rowheader", { name, exact: true }) })
      const cells = await row.locator("td.num").allInnerTexts()
      expect(cells.map(numberIn)).toEqual([s.seats, s.unused90, s.used30])
    }
  })

  it("Should sort the accounts by their column headers, page forwards and back, and change the page size", async () => {
    await page.goto(`${url}${connectionPath}/accounts`)
    const total = (await api(`/api/connections/${connectionId}/accounts?limit=1`)).total
    expect(await text("table caption")).toBe(`1–50 of ${total} accounts`)
    expect(await page.locator("th[aria-sort=ascending]").innerText()).toContain("Last active")
    await shot("accounts", true)
    const names = () => page.locator("table tbody tr th a").allInnerTexts()
    const byName = (await api(`/api/connections/${connectionId}/accounts?limit=500&sort=name&order=asc`)).data.map((
      a: any
    ) => a.displayName)

    await page.getByRole("link", { name: "Name: sort ascending" }).click()
    expect(await names()).toEqual(byName.slice(0, 50))
    await page.getByRole("link", { name: "Name: sort descending" }).click()
    expect(await names()).toEqual([...byName].reverse().slice(0, 50))
    await page.getByRole("link", { name: "Name: sort ascending" }).click()

    await page.getByRole("link", { name: "Next page ›" }).click()
    expect(await text("table caption")).toBe(`51–100 of ${total} accounts`)
    expect(await names()).toEqual(byName.slice(50, 100))
    await page.getByRole("link", { name: "Next page ›" }).click()
    await page.getByRole("link", { name: "‹ Previous page" }).click()
    expect(await text("table caption")).toBe(`51–100 of ${total} accounts`)
    expect(await names()).toEqual(byName.slice(50, 100))

    await page.getByLabel("Per page").selectOption("25")
    await page.getByRole("button", { name: "Filter" }).click()
    expect(await text("table caption")).toBe(`1–25 of ${total} accounts`)
    expect(await names()).toEqual(byName.slice(0, 25))
  })

  it("Should filter the accounts by status, product, inactivity and search, with the product's own activity", async () => {
    const q = target.email!.split("@")[0]!.slice(0, 4)
    await page.getByLabel("Status", { exact: true }).selectOption("active")
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
    const shown = await Promise.all(
      links.map(async (a) => decodeURIComponent((await a.getAttribute("href"))!.split("/accounts/")[1]!))
    )
    expect(new Set(shown)).toEqual(new Set(expected.map((u) => u.account_id)))
    expect(shown).toContain(target.account_id)
    expect(await text("table caption")).toBe(`1–${expected.length} of ${expected.length} matching accounts`)
    expect(await page.locator("thead th", { hasText: "Last active in Confluence (every site)" }).count()).toBe(1)
    // The filters (and the page size) stay filled in.
    expect(await page.getByLabel("Status", { exact: true }).inputValue()).toBe("active")
    expect(await page.getByLabel("Unused for (days)").inputValue()).toBe("30")
    expect(await page.getByLabel("Per page").inputValue()).toBe("25")
  })

  it("Should open an account whose id holds ':', dry-run a suspend, suspend it with a reason, and show its new status", async () => {
    await page.getByRole("link", { name: target.name, exact: true }).first().click()
    expect(page.url()).toContain(`/accounts/${encodeURIComponent(target.account_id)}`)
    expect(page.url()).toContain("%3A")
    expect(await text("h1")).toBe(target.name)
    expect(await text("dl.facts")).toContain(target.account_id)
    expect(await text("main")).toContain("Where the activity dates come from")

    // A dry run first: the provider's answer on the confirmation, nothing changed.
    await page.getByRole("link", { name: `Suspend ${target.name}` }).click()
    await page.getByLabel("Reason (optional)").fill(reason)
    await page.getByRole("button", { name: "Dry run" }).click()
    expect(await text("[role=status]")).toContain("Dry run: nothing was changed")
    expect(await text(".dry-run-summary")).toMatch(/^Would change active → suspended/)
    expect(sandbox.requests.filter((r) => r.route === "lifecycle")).toEqual([])
    expect(await page.getByLabel("Reason (optional)").inputValue()).toBe(reason)
    await shot("suspend-confirm")

    await page.getByRole("button", { name: "Suspend account" }).click()
    expect(await text("[role=status]")).toContain("Account suspended")
    expect(await text("dl.facts .badge")).toBe("suspended")
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

  it("Should hold a sync that would deprovision too much, and apply it from the dashboard", async () => {
    const gone = sandbox.users().filter((u) => u.account_status === "active" && u.managedBy === undefined).slice(-20)
    for (const u of gone) sandbox.removeUser(u.account_id)
    await page.goto(`${url}${connectionPath}/syncs`)
    await page.getByRole("button", { name: "Sync now" }).click()
    await page.locator("section.held").first().waitFor({ timeout: 90_000 })
    const runId = (await api(`/api/connections/${connectionId}/syncs?limit=1`)).data[0].id
    await waitForSync(t.request, runId, { audited: true })

    await nav("Dashboard").click()
    const held = page.locator("section.held")
    expect(await held.locator("h3").innerText()).toBe("A sync is waiting for your decision")
    const active = (await api(`/api/connections/${connectionId}/totals`)).byStatus.active
    expect(await held.locator(".would-deprovision").innerText()).toBe("20")
    expect(await held.innerText()).toContain(`20 of ${active} active accounts`)
    expect(await held.innerText()).toContain("more than 5 % of the active accounts")
    await shot("dashboard-held", true)

    await held.getByRole("button", { name: "Apply this sync" }).click()
    await page.waitForURL(/notice=run-applied/)
    expect(await text("[role=status]")).toContain("Sync applied: 20 accounts deprovisioned")
    expect(await page.locator("section.held").count()).toBe(0)
    expect(await api(`/api/syncs/${runId}`)).toMatchObject({
      status: "succeeded",
      decision: { decision: "apply", actor: "admin" }
    })
    for (const u of gone) {
      expect((await api(`/api/connections/${connectionId}/accounts/${encodeURIComponent(u.account_id)}`)).status).toBe(
        "deprovisioned"
      )
    }
  })

  it("Should list the suspend, its dry run and the applied sync in the audit log", async () => {
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
    expect(await page.locator("table tbody tr", { hasText: "sync.apply" }).innerText()).toContain("by admin")
    await shot("audit")
  })

  it("Should fit every page in a phone's 390 px: nothing scrolls sideways but tables, each in its own box", async () => {
    const phone = await browser.newContext({
      viewport: { width: PHONE, height: 844 },
      storageState: await context.storageState()
    })
    const small = await phone.newPage()
    small.setDefaultTimeout(30_000)
    const account = `${connectionPath}/accounts/${encodeURIComponent(target.account_id)}`
    const pages = [
      "/",
      `${connectionPath}/apps`,
      `${connectionPath}/accounts`,
      `${connectionPath}/accounts?product=confluence`,
      `${connectionPath}/seats?unusedDays=90`,
      `${connectionPath}/syncs`,
      `${connectionPath}/settings`,
      account,
      `${account}/restore`,
      "/audit",
      "/connections/new"
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
                // A table wider than its box scrolls inside it.
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
        if (path === "/" || path.endsWith("/apps") || path.endsWith("/accounts")) {
          Fs.mkdirSync(SCREENSHOTS, { recursive: true })
          const name = path === "/" ? "dashboard" : path.split("/").at(-1)
          await small.screenshot({ path: `${SCREENSHOTS}/ui-phone-${name}.png`, fullPage: true })
        }
      }
      // "Log out" sits in the bar and works at this width too.
      await small.goto(`${url}/`)
      await small.getByRole("button", { name: "Log out" }).click()
      expect(await small.locator("main").innerText()).toContain("You are logged out")
    } finally {
      await phone.close()
    }
  })
})
