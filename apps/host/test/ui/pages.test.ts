/**
 * The web pages over HTTP, without a browser: the login requirement, the session cookie, CSRF, the
 * slowing of failed logins, the settings form (its conversion, its sync settings and their field errors,
 * the key asked for again when the destination moves) and escaping.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { ADMIN_TOKEN, csrfTokenOf, makeTestHost, ORIGIN, sessionCookieOf, type TestHost } from "../support/TestHost.js"

const api = (t: TestHost, method: string, path: string, body?: unknown) =>
  t.request(method, path, body === undefined ? {} : { body })

const atlassianForm = (overrides: Record<string, string> = {}): Record<string, string> => ({
  provider: "atlassian",
  name: "Acme",
  "config.organizationId": "org-123",
  "config.apiKey": "an-api-key-0123456789-wxyz",
  "config.adminEmail": "admin@acme.example",
  "config.baseUrl": "http://127.0.0.1:9",
  "config.rateLimit.requests": "",
  "config.rateLimit.windowSeconds": "",
  syncIntervalMinutes: "0",
  intent: "save",
  ...overrides
})

describe("web pages over HTTP", () => {
  let t: TestHost
  let cookie: string
  let connectionId: string

  beforeAll(async () => {
    t = await makeTestHost({ pages: { loginThrottle: { delayPerFailureMs: 150, maxFailures: 4 } } })
    cookie = await t.login()
    const created = await api(t, "POST", "/api/connections", {
      provider: "atlassian",
      name: "Existing",
      config: {
        organizationId: "org-1",
        apiKey: "existing-key-0123456789-abcd",
        adminEmail: "a@b.example",
        baseUrl: "http://127.0.0.1:9"
      }
    })
    connectionId = created.body.id
  })
  afterAll(() => t.close())

  it.each([
    ["GET", "/"],
    ["GET", "/audit"],
    ["GET", "/connections/new"],
    ["GET", "/connections/c1/accounts?status=active"],
    ["GET", "/connections/c1/accounts/557058%3Aabc"],
    ["GET", "/connections/c1/accounts/557058%3Aabc/suspend"],
    ["GET", "/connections/c1/syncs"],
    ["GET", "/connections/c1/settings"],
    ["GET", "/no-such-page"],
    ["POST", "/connections/c1/syncs"],
    ["POST", "/connections/c1/accounts/557058%3Aabc/suspend"],
    ["POST", "/logout"]
  ])("Should send %s %s without a session to the login page", async (method, path) => {
    // A browser's request: no bearer token.
    const res = await t.request(method, path, method === "POST" ? { form: {} } : { token: null })
    expect(res.status).toBe(303)
    const location = new URL(res.location!, ORIGIN)
    expect(location.pathname).toBe("/login")
    // A page asked for by GET is where the login leads back to.
    if (method === "GET") expect(location.searchParams.get("next")).toBe(path === "/" ? null : path)
  })

  it("Should send a forged or expired session cookie to the login page too", async () => {
    const res = await t.request("GET", "/audit", { cookie: "seatkeeper_session=forged" })
    expect(res.status).toBe(303)
    expect(res.location).toBe("/login?next=%2Faudit")
  })

  it("Should keep the API bearer-only: a session cookie does not open it", async () => {
    const res = await t.request("GET", "/api/connections", { cookie })
    expect(res.status).toBe(401)
    expect(JSON.parse(res.text).error.code).toBe("unauthorized")
  })

  it("Should show the login form, refuse a wrong token with an error, and let the right one in", async () => {
    const page = await t.request("GET", "/login", { token: null })
    expect(page.status).toBe(200)
    expect(page.text).toMatch(/<label for="token">Your token<\/label>/)
    expect(page.text).toMatch(/<input type="password" id="token" name="token"/)

    const wrong = await t.request("POST", "/login", { form: { token: "not-the-token" }, address: "198.51.100.7" })
    expect(wrong.status).toBe(401)
    expect(wrong.text).toContain("That token is not valid")
    expect(wrong.headers.getSetCookie()).toEqual([])

    const right = await t.request("POST", "/login", {
      form: { token: ADMIN_TOKEN, next: "/audit" },
      address: "198.51.100.7"
    })
    expect(right.status).toBe(303)
    expect(right.location).toBe("/audit")
    const audit = await t.request("GET", "/audit", { cookie: sessionCookieOf(right.headers) })
    expect(audit.status).toBe(200)
    expect(audit.text).toContain("<h1>Audit log</h1>")
  })

  it("Should only follow a `next` that stays on this site", async () => {
    for (
      const next of [
        "//evil.example/x",
        "https://evil.example/",
        "/\\evil.example",
        "/\t/evil.example",
        "/\n/evil.example",
        "/login"
      ]
    ) {
      const res = await t.request("POST", "/login", { form: { token: ADMIN_TOKEN, next } })
      expect(res.status).toBe(303)
      expect(res.location).toBe("/")
    }
    const local = await t.request("POST", "/login", {
      form: { token: ADMIN_TOKEN, next: "/connections/c%3A1/accounts?status=active" }
    })
    expect(local.location).toBe("/connections/c%3A1/accounts?status=active")
  })

  it("Should set the session cookie HttpOnly, SameSite=Strict, Path=/, and Secure only over HTTPS", async () => {
    const plain = await t.request("POST", "/login", { form: { token: ADMIN_TOKEN } })
    const plainCookie = plain.headers.getSetCookie().find((c) => c.startsWith("seatkeeper_session="))!
    const attributes = plainCookie.split(";").slice(1).map((a) => a.trim().toLowerCase())
    expect(attributes).toContain("httponly")
    expect(attributes).toContain("samesite=strict")
    expect(attributes).toContain("path=/")
    expect(attributes).not.toContain("secure")
    // A fresh random id each time.
    expect(sessionCookieOf(plain.headers)).not.toBe(cookie)
    expect(sessionCookieOf(plain.headers).split("=")[1]!.length).toBeGreaterThanOrEqual(40)

    const proxied = await t.request("POST", "/login", {
      form: { token: ADMIN_TOKEN },
      headers: { "x-forwarded-proto": "https", origin: "https://seats.example", "x-forwarded-host": "seats.example" }
    })
    expect(proxied.status).toBe(303)
    const secureCookie = proxied.headers.getSetCookie().find((c) => c.startsWith("seatkeeper_session="))!
    const secureAttributes = secureCookie.split(";").slice(1).map((a) => a.trim().toLowerCase())
    expect(secureAttributes).toContain("secure")
    expect(secureAttributes).toContain("httponly")
    expect(secureAttributes).toContain("samesite=strict")
  })

  it("Should refuse a form post without the session's CSRF token with 403, and change nothing", async () => {
    const form = atlassianForm({ name: "Sneaky" })
    const missing = await t.request("POST", "/connections/new", { cookie, form })
    expect(missing.status).toBe(403)
    expect(missing.text).toContain("This form was refused")

    const wrong = await t.request("POST", "/connections/new", { cookie, form: { ...form, _csrf: "guessed" } })
    expect(wrong.status).toBe(403)

    // Another session's token is not this session's.
    const other = await t.login()
    const otherToken = csrfTokenOf((await t.request("GET", "/", { cookie: other })).text)
    const crossed = await t.request("POST", "/connections/new", { cookie, form: { ...form, _csrf: otherToken } })
    expect(crossed.status).toBe(403)

    const startSync = await t.request("POST", `/connections/${connectionId}/syncs`, { cookie, form: {} })
    expect(startSync.status).toBe(403)

    const connections = await api(t, "GET", "/api/connections")
    expect(connections.body.data.map((c: { name: string }) => c.name)).toEqual(["Existing"])
    const audit = await api(t, "GET", "/api/audit")
    expect(audit.body.data.some((e: { action: string }) => e.action === "sync.start")).toBe(false)
  })

  it("Should refuse a form post from another origin even with the right token", async () => {
    const token = csrfTokenOf((await t.request("GET", "/", { cookie })).text)
    const res = await t.request("POST", "/connections/new", {
      cookie,
      form: atlassianForm({ name: "Cross-site", _csrf: token }),
      headers: { origin: "https://evil.example" }
    })
    expect(res.status).toBe(403)
    const connections = await api(t, "GET", "/api/connections")
    expect(connections.body.data.map((c: { name: string }) => c.name)).toEqual(["Existing"])
  })

  it("Should log out: the session ends and its cookie no longer opens pages", async () => {
    const session = await t.login()
    const token = csrfTokenOf((await t.request("GET", "/", { cookie: session })).text)
    const out = await t.request("POST", "/logout", { cookie: session, form: { _csrf: token } })
    expect(out.status).toBe(303)
    expect(out.location).toBe("/login?notice=logged-out")
    expect(out.headers.getSetCookie().some((c) => /^seatkeeper_session=;/.test(c) && /max-age=0/i.test(c))).toBe(true)
    const after = await t.request("GET", "/", { cookie: session })
    expect(after.status).toBe(303)
  })

  it("Should slow down failed logins from an address and then refuse them with 429, right token or not", async () => {
    const address = "203.0.113.50"
    const attempt = async (token: string) => {
      const started = performance.now()
      const res = await t.request("POST", "/login", { form: { token }, address })
      return { res, ms: performance.now() - started }
    }
    const first = await attempt("wrong-1")
    expect(first.res.status).toBe(401)
    await attempt("wrong-2")
    await attempt("wrong-3")
    // Three failures before it: this one waits at least 3 × 150 ms (a lower bound only: a loaded machine
    // can only make it slower).
    const fourth = await attempt("wrong-4")
    expect(fourth.res.status).toBe(401)
    expect(fourth.ms).toBeGreaterThanOrEqual(3 * 150 - 5)

    const refused = await attempt(ADMIN_TOKEN)
    expect(refused.res.status).toBe(429)
    expect(Number(refused.res.headers.get("retry-after"))).toBeGreaterThan(0)
    expect(refused.res.text).toContain("Too many failed logins")
    expect(refused.res.headers.getSetCookie()).toEqual([])

    // Another address is not held back by this one's failures.
    const elsewhere = await t.request("POST", "/login", { form: { token: ADMIN_TOKEN }, address: "203.0.113.51" })
    expect(elsewhere.status).toBe(303)
  })

  it("Should forget an address's failures once it logs in", async () => {
    const address = "203.0.113.60"
    for (const token of ["wrong-1", "wrong-2", "wrong-3"]) {
      expect((await t.request("POST", "/login", { form: { token }, address })).status).toBe(401)
    }
    expect((await t.request("POST", "/login", { form: { token: ADMIN_TOKEN }, address })).status).toBe(303)
    for (const token of ["wrong-1", "wrong-2", "wrong-3"]) {
      expect((await t.request("POST", "/login", { form: { token }, address })).status).toBe(401)
    }
    expect((await t.request("POST", "/login", { form: { token: ADMIN_TOKEN }, address })).status).toBe(303)
  })

  it("Should show field errors next to the fields of the settings form, and keep what was typed but the key", async () => {
    const token = csrfTokenOf((await t.request("GET", "/connections/new", { cookie })).text)
    const res = await t.request("POST", "/connections/new", {
      cookie,
      form: atlassianForm({
        _csrf: token,
        name: "Typo org",
        "config.adminEmail": "not-an-email",
        "config.organizationId": "",
        "config.rateLimit.requests": "0"
      })
    })
    expect(res.status).toBe(400)
    const errorOf = (id: string) => new RegExp(`<p class="error" id="${id}-error">([^<]*)</p>`).exec(res.text)?.[1]
    expect(errorOf("f-config-adminEmail")).toContain("must be an email address")
    expect(errorOf("f-config-organizationId")).toContain("must not be empty")
    expect(errorOf("f-config-rateLimit-requests")).toMatch(/between 1 and 100000|1/)
    expect(res.text).toMatch(/id="f-config-adminEmail" name="config.adminEmail" value="not-an-email"/)
    expect(res.text).toMatch(/aria-invalid="true"/)
    // The key is never sent back, not even the one just typed.
    expect(res.text).not.toContain("an-api-key-0123456789-wxyz")
    expect((await api(t, "GET", "/api/connections")).body.data).toHaveLength(1)
  })

  it("Should save a connection from the form with numbers as numbers, and keep the key when left blank on edit", async () => {
    const token = csrfTokenOf((await t.request("GET", "/connections/new", { cookie })).text)
    const created = await t.request("POST", "/connections/new", {
      cookie,
      form: atlassianForm({
        _csrf: token,
        name: "Form org",
        "config.rateLimit.requests": "50",
        "config.rateLimit.windowSeconds": "30",
        syncIntervalMinutes: "15"
      })
    })
    expect(created.status).toBe(303)
    const id = decodeURIComponent(/\/connections\/([^/]+)\/syncs/.exec(created.location!)![1]!)
    const view = await api(t, "GET", `/api/connections/${id}`)
    expect(view.body).toMatchObject({
      name: "Form org",
      syncIntervalMinutes: 15,
      config: {
        organizationId: "org-123",
        adminEmail: "admin@acme.example",
        baseUrl: "http://127.0.0.1:9",
        rateLimit: { requests: 50, windowSeconds: 30 },
        apiKey: { set: true, last4: "wxyz" }
      }
    })

    const settings = await t.request("GET", `/connections/${id}/settings`, { cookie })
    expect(settings.status).toBe(200)
    expect(settings.text).toContain("Currently set, ends with wxyz; leave blank to keep it.")
    expect(settings.text).toMatch(/name="config.rateLimit.requests" value="50"/)
    expect(settings.text).not.toContain("an-api-key-0123456789-wxyz")

    const updated = await t.request("POST", `/connections/${id}/settings`, {
      cookie,
      form: atlassianForm({
        _csrf: token,
        name: "Form org renamed",
        "config.apiKey": "",
        "config.rateLimit.requests": "",
        "config.rateLimit.windowSeconds": "",
        syncIntervalMinutes: "0"
      })
    })
    expect(updated.status).toBe(303)
    expect(updated.location).toBe(`/connections/${encodeURIComponent(id)}/settings?notice=saved`)
    const after = await api(t, "GET", `/api/connections/${id}`)
    expect(after.body.name).toBe("Form org renamed")
    expect(after.body.syncIntervalMinutes).toBe(0)
    expect(after.body.config.apiKey).toEqual({ set: true, last4: "wxyz" })
    // Blank optional fields on an edit remove them.
    expect(after.body.config.rateLimit).toBeUndefined()

    const deleted = await t.request("POST", `/connections/${id}/delete`, { cookie, form: { _csrf: token } })
    expect(deleted.status).toBe(303)
    expect((await api(t, "GET", `/api/connections/${id}`)).status).toBe(404)
  })

  it("Should render a settings form for every registered provider, a labelled input per config field", async () => {
    const providers = (await api(t, "GET", "/api/providers")).body.data as ReadonlyArray<{
      id: string
      configFields: ReadonlyArray<{
        name: string
        type: string
        secret: boolean
        choices?: ReadonlyArray<string>
        fields?: ReadonlyArray<{ name: string; type: string; secret: boolean; choices?: ReadonlyArray<string> }>
      }>
    }>
    expect(providers.length).toBeGreaterThan(0)
    for (const provider of providers) {
      const page = await t.request("GET", `/connections/new?provider=${provider.id}`, { cookie })
      expect(page.status).toBe(200)
      expect(page.text).toContain(`<input type="hidden" name="provider" value="${provider.id}"/>`)
      const leaves = provider.configFields.flatMap((f) =>
        f.type === "object"
          ? (f.fields ?? []).map((g) => ({ ...g, path: `${f.name}.${g.name}` }))
          : [{ ...f, path: f.name }]
      )
      for (const field of leaves) {
        const id = `f-config-${field.path.replace(/[^A-Za-z0-9_-]/g, "-")}`
        expect(page.text).toContain(`<label for="${id}">`)
        const name = `config\\.${field.path.replace(".", "\\.")}`
        if (field.choices !== undefined && field.choices.length > 1) {
          // A field with fixed values is a choice, offering each of them.
          expect(page.text).toMatch(new RegExp(`<select id="${id}" name="${name}"`))
          for (const choice of field.choices) expect(page.text).toContain(`<option value="${choice}"`)
          continue
        }
        const type = field.type === "boolean"
          ? "checkbox"
          : field.secret
          ? "password"
          : field.type === "number"
          ? "number"
          : "text"
        expect(page.text).toMatch(new RegExp(`<input type="${type}"[^>]* id="${id}" name="${name}"`))
      }
    }
    const unknown = await t.request("GET", "/connections/new?provider=nope", { cookie })
    expect(unknown.status).toBe(404)
    expect(unknown.text).toContain("this host has no provider &quot;nope&quot;")
  })

  it("Should escape what it shows: a name with markup stays text", async () => {
    const evil = `<script>alert("x")</script><img src=x onerror=alert(1)>`
    const created = await api(t, "POST", "/api/connections", {
      provider: "atlassian",
      name: evil,
      config: { organizationId: "org-2", apiKey: "k-0123456789-abcd", adminEmail: "a@b.example" }
    })
    expect(created.status).toBe(201)
    const page = await t.request("GET", "/", { cookie })
    expect(page.status).toBe(200)
    expect(page.text).not.toContain("<script>alert")
    expect(page.text).not.toContain("<img src=x")
    expect(page.text).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;")
    await api(t, "DELETE", `/api/connections/${created.body.id}`)
  })

  it("Should send pages with a strict Content-Security-Policy and no caching", async () => {
    const page = await t.request("GET", "/", { cookie })
    expect(page.headers.get("content-type")).toContain("text/html")
    expect(page.headers.get("cache-control")).toBe("no-store")
    const csp = page.headers.get("content-security-policy")!
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("form-action 'self'")
    expect(csp).not.toContain("unsafe-inline")
    expect(page.text.startsWith("<!DOCTYPE html>")).toBe(true)
  })

  it("Should answer an unknown page or connection with a 404 page", async () => {
    const page = await t.request("GET", "/connections/nope/accounts", { cookie })
    expect(page.status).toBe(404)
    expect(page.text).toContain("connection &quot;nope&quot; not found")
    const missing = await t.request("GET", "/nothing-here", { cookie })
    expect(missing.status).toBe(404)
    expect(missing.text).toContain("Page not found")
  })

  it("Should reject bad filters on the accounts page with the field named, as the API does", async () => {
    const page = await t.request("GET", `/connections/${connectionId}/accounts?inactiveDays=-3`, { cookie })
    expect(page.status).toBe(400)
    expect(page.text).toMatch(
      /<p class="error" id="filter-inactiveDays-error">inactiveDays must be from 0 to 36500<\/p>/
    )
    const seats = await t.request("GET", `/connections/${connectionId}/seats?unusedDays=-1&usedDays=x`, { cookie })
    expect(seats.status).toBe(400)
    expect(seats.text).toContain(`<p class="error" id="seat-unusedDays-error">unusedDays must be from 0 to 36500</p>`)
    expect(seats.text).toContain(
      `<p class="error" id="seat-usedDays-error">usedDays must be a whole number from 0 to 36500, in digits</p>`
    )
    const sorted = await t.request("GET", `/connections/${connectionId}/accounts?sort=size`, { cookie })
    expect(sorted.status).toBe(400)
    expect(sorted.text).toContain("sort must be one of name, email, lastActive, status, firstSeen")
  })
  const errorOf = (html: string, id: string) =>
    new RegExp(`<p class="error" id="${id}-error">([^<]*)</p>`).exec(html)?.[1]

  it("Should show a connection's sync settings in its form, save them, and mark a wrong one at its field", async () => {
    const settings = await t.request("GET", `/connections/${connectionId}/settings`, { cookie })
    expect(settings.status).toBe(200)
    // The stored values (the defaults here), each field labelled.
    expect(settings.text).toMatch(/<label for="f-holdThresholdPercent">Hold a sync that would deprovision more than/)
    expect(settings.text).toMatch(/id="f-holdThresholdPercent" name="holdThresholdPercent"[^>]* value="10"/)
    expect(settings.text).toMatch(/id="f-maxLookups" name="maxLookups"[^>]* value="1000"/)
    expect(settings.text).toMatch(/id="f-deadlineMinutes" name="deadlineMinutes"[^>]* value="30"/)
    const token = csrfTokenOf(settings.text)
    const form = {
      _csrf: token,
      intent: "save",
      name: "Existing",
      "config.organizationId": "org-1",
      "config.apiKey": "",
      "config.adminEmail": "a@b.example",
      "config.baseUrl": "http://127.0.0.1:9",
      "config.rateLimit.requests": "",
      "config.rateLimit.windowSeconds": "",
      syncIntervalMinutes: "0",
      holdThresholdPercent: "2.5",
      maxLookups: "250",
      deadlineMinutes: "45"
    }
    const saved = await t.request("POST", `/connections/${connectionId}/settings`, { cookie, form })
    expect(saved.status).toBe(303)
    expect((await api(t, "GET", `/api/connections/${connectionId}`)).body).toMatchObject({
      holdThresholdPercent: 2.5,
      maxLookups: 250,
      deadlineMinutes: 45
    })

    const wrong = await t.request("POST", `/connections/${connectionId}/settings`, {
      cookie,
      form: { ...form, holdThresholdPercent: "150", maxLookups: "-1", deadlineMinutes: "0" }
    })
    expect(wrong.status).toBe(400)
    expect(wrong.text).toContain("Check the fields marked below")
    expect(errorOf(wrong.text, "f-holdThresholdPercent")).toContain("holdThresholdPercent must be from 0 to 100")
    expect(errorOf(wrong.text, "f-maxLookups")).toContain("maxLookups must be a whole number from 0 to 100000")
    expect(errorOf(wrong.text, "f-deadlineMinutes")).toContain(
      "deadlineMinutes must be a whole number of minutes from 1 to 1440"
    )
    // What was typed stays, marked invalid.
    expect(wrong.text).toMatch(
      /id="f-holdThresholdPercent" name="holdThresholdPercent"[^>]* value="150"[^>]* aria-invalid="true"/
    )
    expect((await api(t, "GET", `/api/connections/${connectionId}`)).body.holdThresholdPercent).toBe(2.5)
  })

  it("Should ask for the API key again, at its field, when the base URL or organization changes without it", async () => {
    const token = csrfTokenOf((await t.request("GET", `/connections/${connectionId}/settings`, { cookie })).text)
    const form = {
      _csrf: token,
      intent: "save",
      name: "Existing",
      "config.organizationId": "org-1",
      "config.apiKey": "",
      "config.adminEmail": "a@b.example",
      "config.baseUrl": "http://127.0.0.1:9",
      "config.rateLimit.requests": "",
      "config.rateLimit.windowSeconds": "",
      syncIntervalMinutes: "0"
    }
    for (const moved of [{ "config.baseUrl": "http://127.0.0.1:10" }, { "config.organizationId": "org-2" }]) {
      const res = await t.request("POST", `/connections/${connectionId}/settings`, {
        cookie,
        form: { ...form, ...moved }
      })
      expect(res.status).toBe(400)
      expect(errorOf(res.text, "f-config-apiKey")).toMatch(/^must be entered again: changing (baseUrl|organizationId)/)
      expect(res.text).toMatch(/id="f-config-apiKey" name="config.apiKey" value=""[^>]*aria-invalid="true"/)
    }
    const stored = (await api(t, "GET", `/api/connections/${connectionId}`)).body
    expect(stored.config).toMatchObject({ organizationId: "org-1", baseUrl: "http://127.0.0.1:9" })
    // With the key typed again, the move is saved.
    const res = await t.request("POST", `/connections/${connectionId}/settings`, {
      cookie,
      form: { ...form, "config.baseUrl": "http://127.0.0.1:10", "config.apiKey": "existing-key-0123456789-abcd" }
    })
    expect(res.status).toBe(303)
    expect((await api(t, "GET", `/api/connections/${connectionId}`)).body.config.baseUrl).toBe("http://127.0.0.1:10")
  })
})
