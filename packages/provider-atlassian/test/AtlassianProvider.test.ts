// The v1 listing (managed accounts) and the lifecycle calls, against the sandbox over real HTTP: how
// accounts, statuses, products and activity are read, how paging ends, fails and stays on its origin, and
// what every error looks like.
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { activitySources, AtlassianProvider } from "../src/AtlassianProvider.js"
import * as Sandbox from "../src/sandbox/index.js"
import { byId, collect, connectTo, proxy, requestsOn, withWarnings } from "./helpers.js"

const sandbox = (options?: Sandbox.SandboxOptions) => Sandbox.make(options)
const confluence = { key: "confluence", name: "Confluence", url: "https://acme.atlassian.net/wiki" }

describe("Atlassian adapter against the sandbox", () => {
  it.scopedLive("streams every account of a roster spread over many pages, once each", () =>
    Effect.gen(function*() {
      const org = yield* sandbox({ users: 1234, pageSize: 50 })
      const connection = yield* connectTo(org)
      const accounts = yield* Stream.runCollect(connection.accounts)
      const ids = Chunk.toReadonlyArray(accounts).map((a) => a.externalId)
      assert.strictEqual(ids.length, 1234)
      assert.strictEqual(new Set(ids).size, 1234)
      assert.deepStrictEqual(ids, org.users().map((u) => u.account_id))
      // 25 pages: 24 full ones and a last one of 34; one request each, nothing retried. And one directory
      // search first, for the accounts suspended in the directory (the v1 listing says `active` for them).
      assert.strictEqual(requestsOn(org, "users").length, 25)
      assert.strictEqual(requestsOn(org, "directoryUsers").length, 1)
      assert.deepStrictEqual(yield* connection.requestStats, { requests: 26, retries: 0, rateLimited: 0 })
    }))

  it.scopedLive("maps statuses, products, last activity, absent emails and unknown enums as they come", () =>
    Effect.gen(function*() {
      const org = yield* sandbox({ users: 0 })
      org.addUsers([
        {
          account_id: "557058:aaaa-1111",
          account_status: "active",
          account_type: "atlassian",
          name: "Ada Active",
          email: "ada@acme.test",
          last_active: "2026-11-01T10:00:00.000Z",
          product_access: [
            { ...confluence, last_active: "2026-10-31T09:00:00Z" },
            { key: "jira-software", name: "Jira Software", url: "https://acme-eu.atlassian.net" }
          ]
        },
        { account_id: "bbbb", account_status: "inactive", account_type: "customer", name: "Ben Inactive" },
        { account_id: "cccc", account_status: "closed", account_type: "app", name: "Cid Closed" },
        {
          account_id: "dddd",
          account_status: "pending_deletion",
          account_type: "robot",
          name: "Dee Unknown",
          product_access: [{ key: "compass", name: "Compass", url: "https://acme.atlassian.net" }]
        }
      ])
      const connection = yield* connectTo(org)
      const accounts = Chunk.toReadonlyArray(yield* Stream.runCollect(connection.accounts))
      const byId = new Map(accounts.map((a) => [a.externalId, a]))

      const ada = byId.get("557058:aaaa-1111")!
      assert.strictEqual(ada.status, "active")
      assert.strictEqual(ada.sourceStatus, "active")
      assert.strictEqual(ada.email, "ada@acme.test")
      assert.strictEqual(ada.lastActiveAt, "2026-11-01T10:00:00.000Z")
      assert.deepStrictEqual(
        ada.entitlements!.map((e) => [e.key, e.displayName, e.status, e.lastActiveAt]),
        [
          ["confluence:acme.atlassian.net", "Confluence (acme)", "active", "2026-10-31T09:00:00.000Z"],
          ["jira-software:acme-eu.atlassian.net", "Jira Software (acme-eu)", "active", undefined]
        ]
      )
      assert.deepStrictEqual(
        [byId.get("bbbb")!.status, byId.get("bbbb")!.accountType, byId.get("bbbb")!.email],
        ["suspended", "customer", undefined]
      )
      assert.strictEqual(byId.get("cccc")!.status, "deprovisioned")
      const dee = byId.get("dddd")!
      assert.deepStrictEqual([dee.status, dee.sourceStatus, dee.accountType], ["unknown", "pending_deletion", "robot"])
      assert.deepStrictEqual(dee.entitlements!.map((e) => e.displayName), ["Compass (acme)"])
    }))

  it.scopedLive("keys an entitlement by product key and the site's full host, and names it by the first label", () =>
    Effect.gen(function*() {
      const org = yield* sandbox({ users: 0 })
      // Two sites whose hosts share the first label `acme`: one name, two keys.
      org.addUsers([{
        account_id: "two-sites",
        account_status: "active",
        name: "Tess Two",
        product_access: [
          { key: "confluence", name: "Confluence", url: "https://acme.atlassian.net/wiki" },
          { key: "confluence", name: "Confluence", url: "https://ACME.jira-dev.com/wiki" },
          { key: "bitbucket", name: "Bitbucket", url: "https://bitbucket.org/acme/" },
          { key: "trello", name: "", url: "https://trello.com/w/acme" },
          { key: "opsgenie", name: "Opsgenie" }
        ]
      }])
      const [account] = yield* collect((yield* connectTo(org)).accounts)
      assert.deepStrictEqual(account!.entitlements!.map((e) => [e.key, e.displayName, e.site, e.siteHost]), [
        ["confluence:acme.atlassian.net", "Confluence (acme)", "acme", "acme.atlassian.net"],
        ["confluence:acme.jira-dev.com", "Confluence (acme)", "acme", "acme.jira-dev.com"],
        ["bitbucket:bitbucket.org", "Bitbucket (bitbucket)", "bitbucket", "bitbucket.org"],
        // An empty product name falls back to the product's own name.
        ["trello:trello.com", "Trello (trello)", "trello", "trello.com"],
        // No URL, no site: the product key alone.
        ["opsgenie", "Opsgenie", undefined, undefined]
      ])
    }))

  it.scopedLive("keeps the products of a page without product_access (undefined); an explicit [] clears them", () =>
    Effect.gen(function*() {
      const org = yield* sandbox({ users: 0, pageSize: 2 })
      org.addUsers([
        { account_id: "p1", account_status: "active", product_access: [{ ...confluence }] },
        { account_id: "p2", account_status: "active", product_access: [] },
        { account_id: "p3", account_status: "active", product_access: [{ ...confluence }] },
        { account_id: "p4", account_status: "active", product_access: [] }
      ])
      // The second page comes without the field at all.
      org.injectFault({ kind: "missingFields", fields: ["product_access"] }, { afterRequests: 1 })
      const accounts = byId(yield* collect((yield* connectTo(org)).accounts))
      assert.strictEqual(accounts.get("p1")!.entitlements!.length, 1)
      assert.deepStrictEqual(accounts.get("p2")!.entitlements, [], "an explicit empty list removes them")
      assert.isUndefined(accounts.get("p3")!.entitlements, "absent is not empty: the store keeps what it knew")
      assert.isUndefined(accounts.get("p4")!.entitlements)
    }))

  it.scopedLive("reads timestamps strictly: one that is not ISO-8601 is dropped with a warning, never guessed", () =>
    Effect.gen(function*() {
      const org = yield* sandbox({ users: 0 })
      org.addUsers([
        {
          account_id: "odd-dates",
          account_status: "active",
          // `Date.parse("1")` is the year 2001: read that way, an active user would look decades idle.
          last_active: "1",
          product_access: [
            { key: "confluence", name: "Confluence", url: "https://acme.atlassian.net", last_active: "yesterday" },
            { key: "jira-software", name: "Jira", url: "https://acme.atlassian.net", last_active: "2026-08-03T12:35" }
          ]
        },
        { account_id: "offset", account_status: "active", last_active: "2026-08-03T14:35:07+02:00" }
      ])
      const connection = yield* connectTo(org)
      const { result, warnings } = yield* withWarnings(collect(connection.accounts))
      const accounts = byId(result)
      const odd = accounts.get("odd-dates")!
      assert.isUndefined(odd.lastActiveAt)
      assert.isUndefined(odd.activitySource, "no value, no source")
      assert.deepStrictEqual(odd.entitlements!.map((e) => e.lastActiveAt), [undefined, "2026-08-03T12:35:00.000Z"])
      // No offset means UTC; an offset is applied; every stored instant has one form.
      assert.strictEqual(accounts.get("offset")!.lastActiveAt, "2026-08-03T12:35:07.000Z")
      assert.strictEqual(warnings.length, 1)
      assert.include(warnings[0]!, "dropped 2 timestamps")
    }))

  it.scopedLive("removes control characters from upstream text (a NUL in a name)", () =>
    Effect.gen(function*() {
      const org = yield* sandbox({ users: 0 })
      org.addUsers([{
        account_id: "nul",
        account_status: "active",
        name: "Eve\u0000 Evil\u0007\nName",
        email: "eve\u0000@acme.test",
        product_access: [{ key: "confluence", name: "Conf\u0000luence", url: "https://acme.atlassian.net" }]
      }])
      const connection = yield* connectTo(org)
      const [account] = yield* collect(connection.accounts)
      assert.strictEqual(account!.displayName, "Eve Evil Name")
      assert.strictEqual(account!.email, "eve@acme.test")
      assert.strictEqual(account!.entitlements![0]!.displayName, "Confluence (acme)")
      // The page the sync engine reads is cleaned the same way.
      const pages = Chunk.toReadonlyArray(yield* Stream.runCollect(connection.roster))
      assert.strictEqual(pages[0]!.accounts[0]!.displayName, "Eve Evil Name")
    }))

  it.scopedLive("marks customer and app accounts as not billable, and names where each activity value comes from", () =>
    Effect.gen(function*() {
      const org = yield* sandbox({ users: 0 })
      org.addUsers([
        {
          account_id: "person",
          account_type: "atlassian",
          account_status: "active",
          last_active: "2026-08-01T00:00:00Z",
          product_access: [{ ...confluence, last_active: "2026-07-31T00:00:00Z" }]
        },
        { account_id: "portal-customer", account_type: "customer", account_status: "active" },
        { account_id: "bot", account_type: "app", account_status: "active" }
      ])
      const accounts = byId(yield* collect((yield* connectTo(org)).accounts))
      assert.deepStrictEqual(
        ["person", "portal-customer", "bot"].map((id) => [accounts.get(id)!.billable, accounts.get(id)!.managed]),
        [[true, true], [false, true], [false, true]]
      )
      const person = accounts.get("person")!
      assert.strictEqual(person.activitySource, "atlassian.account")
      assert.strictEqual(person.entitlements![0]!.activitySource, "atlassian.product")
      // The provider documents both sources: what counts as activity, and how late it may be reported.
      assert.deepStrictEqual(AtlassianProvider.activitySources?.map((s) => [s.id, s.maxLagHours]), [
        ["atlassian.product", 24],
        ["atlassian.account", 24]
      ])
      assert.strictEqual(activitySources.length, 2)
    }))

  it.scopedLive("fails a truncated roster with Incomplete instead of ending short", () =>
    Effect.gen(function*() {
      const org = yield* sandbox({ users: 230, pageSize: 100 })
      org.injectFault({ kind: "truncate", drop: 5 })
      const connection = yield* connectTo(org)
      const error = yield* Effect.flip(Stream.runDrain(connection.accounts))
      assert.strictEqual(error.reason, "Incomplete")
      assert.include(error.description, "230")
      assert.include(error.hint ?? "", "managed accounts")
    }))

  it.scopedLive("fails a cursor that repeats instead of looping", () =>
    Effect.gen(function*() {
      const org = yield* sandbox({ users: 300, pageSize: 100 })
      org.injectFault({ kind: "repeatCursor" }, { afterRequests: 1 })
      const connection = yield* connectTo(org)
      const error = yield* Effect.flip(Stream.runDrain(connection.accounts))
      assert.strictEqual(error.reason, "Incomplete")
      assert.isAtMost(requestsOn(org, "users").length, 3)
    }))

  it.scopedLive("refuses a next link to another origin without sending the key there", () =>
    Effect.gen(function*() {
      const seen: Array<string | undefined> = []
      const other = createServer((req, res) => {
        seen.push(req.headers.authorization)
        res.end("{}")
      })
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => {
          other.listen(0, "127.0.0.1", () => resume(Effect.void))
        }),
        () => Effect.promise(() => new Promise<void>((resolve) => other.close(() => resolve())))
      )
      const origin = `http://127.0.0.1:${(other.address() as AddressInfo).port}`
      const org = yield* sandbox({ users: 150, pageSize: 100 })
      org.injectFault({ kind: "foreignNext", origin })
      const connection = yield* connectTo(org)
      const error = yield* Effect.flip(Stream.runDrain(connection.accounts))
      assert.strictEqual(error.reason, "InvalidResponse")
      assert.include(error.message, origin)
      assert.notInclude(error.message, org.apiKey)
      assert.deepStrictEqual(seen, [])
    }))

  for (const next of ["/relative", "javascript:x", "cursor-only"]) {
    it.scopedLive(`fails a links.next of ${JSON.stringify(next)} (not an absolute http(s) URL), sending nothing`, () =>
      Effect.gen(function*() {
        const org = yield* sandbox({ users: 150, pageSize: 100 })
        // A proxy as the base URL: it serves the sandbox's first page with the bad link in place of the real one.
        const front = yield* proxy(org.url, {
          rewrite: (_request, body) => body.replace(/"next":"[^"]*"/, `"next":${JSON.stringify(next)}`)
        })
        const connection = yield* connectTo(org, { baseUrl: front.url })
        const error = yield* Effect.flip(Stream.runDrain(connection.accounts))
        assert.strictEqual(error.reason, "InvalidResponse")
        assert.include(error.description, "links.next is not an absolute http(s) URL")
        // The link's own text is never repeated: upstream text may carry anything.
        assert.notInclude(error.message, next)
        // The directory search, then one request of the listing, its first page: nothing went to our own
        // origin for the bad link.
        assert.deepStrictEqual(front.requests.map((r) => r.path), [
          `/admin/v2/orgs/${org.orgId}/directories/-/users/search`,
          `/admin/v1/orgs/${org.orgId}/users`
        ])
        assert.strictEqual(requestsOn(org, "users").length, 1)
      }))
  }

  it.scopedLive("retries transient 5xx in every error shape and connection resets, then completes", () =>
    Effect.gen(function*() {
      const org = yield* sandbox({ users: 250, pageSize: 100 })
      org.injectFault({ kind: "status", status: 503, shape: "gateway" }, { on: "users" })
      org.injectFault({ kind: "status", status: 500, shape: "org" }, { on: "users" })
      org.injectFault({ kind: "reset" }, { on: "users", afterRequests: 3 })
      org.injectFault({ kind: "status", status: 502, shape: "html" }, { on: "users", afterRequests: 4 })
      const connection = yield* connectTo(org, { rateLimit: { requests: 1000, windowSeconds: 1 } })
      const accounts = yield* Stream.runCollect(connection.accounts)
      assert.strictEqual(Chunk.size(accounts), 250)
      const stats = yield* connection.requestStats
      assert.strictEqual(stats.retries, 4)
      // 3 pages, 4 retries, and the directory search.
      assert.strictEqual(stats.requests, 3 + 4 + 1)
    }))

  it.scopedLive("gives up on a persistent 5xx after a bounded number of attempts", () =>
    Effect.gen(function*() {
      const org = yield* sandbox({ users: 10 })
      org.injectFault({ kind: "status", status: 503, shape: "empty" }, { on: "users", times: 100 })
      const connection = yield* connectTo(org)
      const error = yield* Effect.flip(Stream.runDrain(connection.accounts))
      assert.strictEqual(error.reason, "Unavailable")
      assert.strictEqual(error.status, 503)
      assert.strictEqual(requestsOn(org, "users").length, 5)
    }), 60_000)

  it.scopedLive("fails fast on 401, 403 and 404, with the troubleshooting hint and a single request", () =>
    Effect.gen(function*() {
      const org = yield* sandbox({ users: 10 })

      const wrongKey = yield* connectTo(org, { apiKey: Redacted.make("not-the-key") })
      const unauthorized = yield* Effect.flip(Stream.runDrain(wrongKey.accounts))
      assert.strictEqual(unauthorized.reason, "Unauthorized")
      assert.strictEqual(unauthorized.status, 401)
      assert.include(unauthorized.hint ?? "", "API key")
      assert.notInclude(unauthorized.message, "not-the-key")
      assert.strictEqual(org.requests.length, 1)

      org.resetLog()
      org.injectFault({ kind: "status", status: 403, shape: "noperms" }, { on: "org" })
      const forbidden = yield* Effect.flip((yield* connectTo(org)).verify)
      assert.strictEqual(forbidden.reason, "Forbidden")
      assert.include(forbidden.description, "User has no permission to access resource.")
      assert.include(forbidden.hint ?? "", "organization admin")
      assert.strictEqual(org.requests.length, 1)

      org.resetLog()
      const wrongOrg = yield* connectTo(org, { organizationId: "no-such-org" })
      const notFound = yield* Effect.flip(wrongOrg.verify)
      assert.strictEqual(notFound.reason, "NotFound")
      assert.strictEqual(notFound.code, "ADMIN-404-2")
      assert.include(notFound.hint ?? "", "organization ID")
      assert.strictEqual(org.requests.length, 1)
    }))

  it.scopedLive("fails a page that lacks required fields, and a malformed body, as InvalidResponse", () =>
    Effect.gen(function*() {
      const org = yield* sandbox({ users: 10 })
      org.injectFault({ kind: "missingFields" }, { on: "users" })
      const missing = yield* Effect.flip(Stream.runDrain((yield* connectTo(org)).accounts))
      assert.strictEqual(missing.reason, "InvalidResponse")
      assert.include(missing.description, "account_id")

      org.injectFault({ kind: "malformed" }, { on: "users" })
      const malformed = yield* Effect.flip(Stream.runDrain((yield* connectTo(org)).accounts))
      assert.strictEqual(malformed.reason, "InvalidResponse")
    }))

  it.scopedLive(
    "never sends more requests in a window than the budget, and so meets no 429",
    () =>
      Effect.gen(function*() {
        // The server counts a fixed window whose phase the client does not know; the client paces with a
        // sliding window of the same size.
        const org = yield* sandbox({ users: 600, pageSize: 20, rateLimit: { requests: 8, windowSeconds: 1 } })
        const connection = yield* connectTo(org, { rateLimit: { requests: 8, windowSeconds: 1 } })
        yield* connection.verify
        const accounts = yield* Stream.runCollect(connection.accounts)
        assert.strictEqual(Chunk.size(accounts), 600)
        assert.strictEqual(org.requests.filter((r) => r.status === 429).length, 0)
        assert.isAtMost(org.maxRequestsInAnyWindow(1000), 8)
        assert.strictEqual((yield* connection.requestStats).rateLimited, 0)
      }),
    60_000
  )

  it.scopedLive(
    "waits out the server's 429s when the budget is larger than the server allows",
    () =>
      Effect.gen(function*() {
        const org = yield* sandbox({
          users: 200,
          pageSize: 20,
          rateLimit: { requests: 5, windowSeconds: 1, resetFormat: "seconds" }
        })
        const connection = yield* connectTo(org, { rateLimit: { requests: 50, windowSeconds: 1 } })
        const accounts = yield* Stream.runCollect(connection.accounts)
        assert.strictEqual(Chunk.size(accounts), 200)
        const stats = yield* connection.requestStats
        assert.isAbove(stats.rateLimited, 0)
        assert.strictEqual(stats.rateLimited, org.requests.filter((r) => r.status === 429).length)
      }),
    60_000
  )
})

describe("suspend and restore", () => {
  it.scopedLive("disable sends the reason as message (or {}), enable sends no body and no content type", () =>
    Effect.gen(function*() {
      const org = yield* sandbox({ users: 0 })
      org.addUsers([{ account_id: "712020:abc-def", account_status: "active", name: "Sam" }])
      const front = yield* proxy(org.url)
      const connection = yield* connectTo(org, { baseUrl: front.url })
      const receipt = yield* connection.suspend("712020:abc-def", { reason: "Inactive for 90 days" })
      assert.strictEqual(org.user("712020:abc-def")!.account_status, "inactive")
      assert.deepStrictEqual(
        [receipt.method, receipt.methodLabel],
        ["lifecycle", "Deactivate the Atlassian account (lifecycle disable)"]
      )
      yield* connection.suspend("712020:abc-def")
      const restored = yield* connection.restore("712020:abc-def")
      assert.strictEqual(restored.methodLabel, "Reactivate the Atlassian account (lifecycle enable)")
      assert.strictEqual(org.user("712020:abc-def")!.account_status, "active")
      const calls = requestsOn(org, "lifecycle").map((r) => [r.method, decodeURIComponent(r.path), r.body])
      assert.deepStrictEqual(calls, [
        ["POST", "/users/712020:abc-def/manage/lifecycle/disable", { message: "Inactive for 90 days" }],
        ["POST", "/users/712020:abc-def/manage/lifecycle/disable", {}],
        ["POST", "/users/712020:abc-def/manage/lifecycle/enable", undefined]
      ])
      // On the wire: disable is JSON; enable has neither a body nor a content type (the document defines none).
      const [disable, , enable] = front.requests
      assert.strictEqual(disable!.headers["content-type"], "application/json")
      assert.strictEqual(enable!.body, "")
      assert.isUndefined(enable!.headers["content-type"])
      assert.include(["0", undefined], enable!.headers["content-length"])
    }))

  it.scopedLive("maps each lifecycle error to a reason and a hint", () =>
    Effect.gen(function*() {
      const org = yield* sandbox({ users: 0 })
      org.addUsers([
        { account_id: "scim-user", name: "Sue Scim", managedBy: "scim" },
        { account_id: "google-user", name: "Gus Google", managedBy: "google" },
        { account_id: "plain", name: "Pat Plain" }
      ])
      const connection = yield* connectTo(org)

      const scim = yield* Effect.flip(connection.suspend("scim-user"))
      assert.deepStrictEqual([scim.reason, scim.status, scim.code], ["Forbidden", 403, "forbidden.action"])
      assert.include(scim.description, "externalDirectory.scim")
      assert.include(scim.hint ?? "", "identity provider")

      const google = yield* Effect.flip(connection.suspend("google-user"))
      assert.include(google.hint ?? "", "Google Workspace")

      const missing = yield* Effect.flip(connection.suspend("no-such-account"))
      assert.deepStrictEqual([missing.reason, missing.status, missing.code], ["NotFound", 404, "accountNotFound"])

      org.injectFault({ kind: "status", status: 403, shape: "user" }, { on: "lifecycle" })
      const scoped = yield* Effect.flip(connection.restore("plain"))
      assert.strictEqual(scoped.reason, "Forbidden")
      assert.include(scoped.hint ?? "", "WITHOUT scopes")

      const wrongKey = yield* connectTo(org, { apiKey: Redacted.make("revoked") })
      const unauthorized = yield* Effect.flip(wrongKey.suspend("plain"))
      assert.strictEqual(unauthorized.reason, "Unauthorized")
      // none of these is retried: one request each
      assert.strictEqual(requestsOn(org, "lifecycle").length, 5)
    }))

  it.scopedLive("retries a lifecycle call after a 429 and after a 503 (repeating it is harmless)", () =>
    Effect.gen(function*() {
      const org = yield* sandbox({ users: 0 })
      org.addUsers([{ account_id: "plain", name: "Pat Plain" }])
      org.injectFault({ kind: "rateLimited", retryAfterSeconds: 1 }, { on: "lifecycle" })
      org.injectFault({ kind: "status", status: 503, shape: "gateway" }, { on: "lifecycle" })
      const connection = yield* connectTo(org)
      yield* connection.suspend("plain", { reason: "test" })
      assert.strictEqual(org.user("plain")!.account_status, "inactive")
      assert.strictEqual(requestsOn(org, "lifecycle").length, 3)
    }))
})
