import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import * as Sandbox from "../src/sandbox/index.js"
import { connectTo, requestsOn } from "./helpers.js"

const sandbox = (options?: Sandbox.SandboxOptions) => Sandbox.make(options)

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
      // 25 pages: 24 full ones and a last one of 34; one request each, nothing retried
      assert.strictEqual(requestsOn(org, "users").length, 25)
      assert.deepStrictEqual(yield* connection.requestStats, { requests: 25, retries: 0, rateLimited: 0 })
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
            { key: "confluence", name: "Confluence", url: "https://acme.atlassian.net/wiki", last_active: "2026-10-31T09:00:00Z" },
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
        ada.entitlements.map((e) => [e.key, e.displayName, e.status, e.lastActiveAt]),
        [
          ["confluence:acme", "Confluence (acme)", "active", "2026-10-31T09:00:00Z"],
          ["jira-software:acme-eu", "Jira Software (acme-eu)", "active", undefined]
        ]
      )
      assert.deepStrictEqual(
        [byId.get("bbbb")!.status, byId.get("bbbb")!.accountType, byId.get("bbbb")!.email],
        ["suspended", "customer", undefined]
      )
      assert.strictEqual(byId.get("cccc")!.status, "deprovisioned")
      const dee = byId.get("dddd")!
      assert.deepStrictEqual([dee.status, dee.sourceStatus, dee.accountType], ["unknown", "pending_deletion", "robot"])
      assert.deepStrictEqual(dee.entitlements.map((e) => e.displayName), ["Compass (acme)"])
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
      assert.strictEqual(stats.requests, 3 + 4)
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

  it.scopedLive("never sends more requests in a window than the budget, and so meets no 429", () =>
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
    }), 60_000)

  it.scopedLive("waits out the server's 429s when the budget is larger than the server allows", () =>
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
    }), 60_000)
})

describe("suspend and restore", () => {
  it.scopedLive("disable and enable hit the lifecycle endpoints with the reason as message", () =>
    Effect.gen(function*() {
      const org = yield* sandbox({ users: 0 })
      org.addUsers([{ account_id: "712020:abc-def", account_status: "active", name: "Sam" }])
      const connection = yield* connectTo(org)
      yield* connection.suspend("712020:abc-def", { reason: "Inactive for 90 days" })
      assert.strictEqual(org.user("712020:abc-def")!.account_status, "inactive")
      yield* connection.suspend("712020:abc-def")
      yield* connection.restore("712020:abc-def")
      assert.strictEqual(org.user("712020:abc-def")!.account_status, "active")
      const calls = requestsOn(org, "lifecycle").map((r) => [r.method, decodeURIComponent(r.path), r.body])
      assert.deepStrictEqual(calls, [
        ["POST", "/users/712020:abc-def/manage/lifecycle/disable", { message: "Inactive for 90 days" }],
        ["POST", "/users/712020:abc-def/manage/lifecycle/disable", {}],
        ["POST", "/users/712020:abc-def/manage/lifecycle/enable", {}]
      ])
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
