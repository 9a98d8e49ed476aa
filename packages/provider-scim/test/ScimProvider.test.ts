// The adapter against a real SCIM service (SCIMMY on express, on loopback): what a user sees through the
// connection's public interface, and what reached the service.
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import { connectTo, requestsOn } from "./helpers.js"
import { ActivityExtension, generateUsers, type ScimServer, startScimServer, type StoredUser } from "./scimServer.js"

const server = (options?: Parameters<typeof startScimServer>[0]) =>
  Effect.acquireRelease(
    Effect.promise(() => startScimServer(options)),
    (s) => Effect.promise(() => s.close())
  )

const collect = (s: ScimServer, overrides?: Parameters<typeof connectTo>[1]) =>
  Effect.flatMap(
    connectTo(s, overrides),
    (connection) =>
      Effect.map(
        Stream.runCollect(connection.accounts),
        (accounts) => ({ connection, accounts: Chunk.toReadonlyArray(accounts) })
      )
  )

describe("SCIM adapter against SCIMMY", () => {
  it.scopedLive("reads the ServiceProviderConfig SCIMMY serves: PATCH, no cursor paging, at most 200 per page", () =>
    Effect.gen(function*() {
      const scim = yield* server({ users: 3 })
      const connection = yield* connectTo(scim)
      assert.deepStrictEqual(yield* connection.serviceFeatures, {
        advertised: true,
        patch: true,
        cursor: false,
        maxPageSize: 200
      })
    }))

  it.scopedLive("streams every user of a roster spread over many pages, once each, in the service's order", () =>
    Effect.gen(function*() {
      const scim = yield* server({ users: 250 })
      const { accounts, connection } = yield* collect(scim, { dialect: { pageSizeCap: 40 } })
      assert.deepStrictEqual(accounts.map((a) => a.externalId), scim.users().map((u) => u.id))
      // 7 pages: 6 of 40 and one of 10, startIndex 1, 41, ..., 241; plus the ServiceProviderConfig.
      const lists = requestsOn(scim, "GET", "/Users")
      assert.deepStrictEqual(lists.map((r) => [r.query.startIndex, r.query.count]), [
        ["1", "40"],
        ["41", "40"],
        ["81", "40"],
        ["121", "40"],
        ["161", "40"],
        ["201", "40"],
        ["241", "40"]
      ])
      assert.strictEqual(requestsOn(scim, "GET", "/ServiceProviderConfig").length, 1)
      assert.deepStrictEqual(yield* connection.requestStats, { requests: 8, retries: 0, rateLimited: 0 })
    }))

  it.scopedLive("asks for no more per page than the service's ServiceProviderConfig allows", () =>
    Effect.gen(function*() {
      const scim = yield* server({ users: 450 })
      const { accounts } = yield* collect(scim, { dialect: { pageSizeCap: 1000 } })
      assert.strictEqual(accounts.length, 450)
      assert.deepStrictEqual(requestsOn(scim, "GET", "/Users").map((r) => [r.query.startIndex, r.query.count]), [
        ["1", "200"],
        ["201", "200"],
        ["401", "200"]
      ])
    }))

  it.scopedLive("maps active, names, emails, groups, roles and entitlements as the service formats them", () =>
    Effect.gen(function*() {
      const users: Array<StoredUser> = [
        {
          id: "a1",
          userName: "ada@acme.test",
          name: { givenName: "Ada", familyName: "Lovelace" },
          emails: [{ value: "ada.home@example.test", type: "home" }, {
            value: "ada@acme.test",
            type: "work",
            primary: true
          }],
          active: true,
          groups: [
            { value: "g-eng", display: "Engineering", type: "direct" },
            { value: "g-eng", display: "Engineering", type: "indirect" },
            { value: "g-all", type: "indirect" }
          ],
          roles: [{ value: "owner", display: "Workspace owner" }],
          entitlements: [{ value: "seat:pro", display: "Pro seat" }]
        },
        { id: "b2", userName: "ben@acme.test", displayName: "Ben Inactive", active: false },
        { id: "c3", userName: "cid@acme.test", active: true, emails: [] }
      ]
      const scim = yield* server({ users })
      const { accounts } = yield* collect(scim)
      const byId = new Map(accounts.map((a) => [a.externalId, a]))

      const ada = byId.get("a1")!
      assert.deepStrictEqual([ada.status, ada.sourceStatus, ada.email, ada.displayName, ada.accountType], [
        "active",
        "active=true",
        "ada@acme.test",
        "Ada Lovelace",
        "user"
      ])
      assert.deepStrictEqual(ada.entitlements!.map((e) => [e.key, e.product, e.displayName, e.status]), [
        ["group:g-eng", "group", "Engineering (group)", "active"],
        ["group:g-all", "group", "g-all (group)", "active"],
        ["role:owner", "role", "Workspace owner (role)", "active"],
        ["entitlement:seat:pro", "entitlement", "Pro seat (entitlement)", "active"]
      ])
      assert.strictEqual(
        ada.lastActiveAt,
        undefined,
        "SCIM has no standard last activity, and meta.lastModified is not one"
      )

      const ben = byId.get("b2")!
      assert.deepStrictEqual([ben.status, ben.sourceStatus, ben.displayName, ben.email], [
        "suspended",
        "active=false",
        "Ben Inactive",
        undefined
      ])
      // Ben's record carries no groups, roles or entitlements: the service did not say, so nothing is removed.
      assert.strictEqual(ben.entitlements, undefined)
      assert.deepStrictEqual([ada.groups, ada.roles, ben.groups, ben.roles], [
        ["Engineering", "g-all"],
        ["owner"],
        undefined,
        undefined
      ])
      assert.strictEqual(byId.get("c3")!.displayName, "cid@acme.test")
    }))

  it.scopedLive("reads last activity only from the attribute the dialect names", () =>
    Effect.gen(function*() {
      const scim = yield* server({
        users: [
          {
            id: "x1",
            userName: "x1@acme.test",
            active: true,
            [ActivityExtension.id]: { lastLoginAt: "2026-10-30T08:15:00.000Z" }
          },
          { id: "x2", userName: "x2@acme.test", active: true }
        ]
      })
      const named = yield* collect(scim, { dialect: { lastActivityAttribute: ActivityExtension.attribute } })
      assert.deepStrictEqual(named.accounts.map((a) => [a.externalId, a.lastActiveAt]), [
        ["x1", "2026-10-30T08:15:00.000Z"],
        ["x2", undefined]
      ])
      const unnamed = yield* collect(scim)
      assert.deepStrictEqual(unnamed.accounts.map((a) => a.lastActiveAt), [undefined, undefined])
    }))

  it.scopedLive("suspends and restores with PATCH replace of active, reading the ServiceProviderConfig once", () =>
    Effect.gen(function*() {
      const scim = yield* server({ users: 8 })
      const connection = yield* connectTo(scim)
      yield* connection.verify
      yield* Stream.runDrain(connection.accounts)
      yield* connection.suspend("user-0001", { reason: "left the company" })
      assert.strictEqual(scim.user("user-0001")!.active, false)
      yield* connection.restore("user-0001")
      assert.strictEqual(scim.user("user-0001")!.active, true)
      // Everything else about the user is untouched.
      assert.deepStrictEqual(scim.user("user-0001")!.groups, generateUsers(1)[0]!.groups)
      assert.strictEqual(scim.user("user-0001")!.userName, "user1@acme.test")

      const patches = requestsOn(scim, "PATCH", "/Users/user-0001")
      assert.deepStrictEqual(patches.map((r) => r.body), [
        {
          schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
          Operations: [{ op: "replace", path: "active", value: false }]
        },
        {
          schemas: ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
          Operations: [{ op: "replace", path: "active", value: true }]
        }
      ])
      assert.strictEqual(requestsOn(scim, "GET", "/ServiceProviderConfig").length, 1)
      assert.strictEqual(requestsOn(scim, "PUT", /\/Users\//).length, 0)
    }))

  it.scopedLive("sends op add when the dialect says so, which SCIMMY applies as well", () =>
    Effect.gen(function*() {
      const scim = yield* server({ users: 2 })
      const connection = yield* connectTo(scim, { dialect: { patchOp: "add" } })
      yield* connection.suspend("user-0002")
      assert.strictEqual(scim.user("user-0002")!.active, false)
      assert.deepStrictEqual(
        (requestsOn(scim, "PATCH", "/Users/user-0002")[0]!.body as { Operations: unknown }).Operations,
        [{ op: "add", path: "active", value: false }]
      )
    }))

  it.scopedLive("refuses to suspend when the app deletes on active=false, and sends nothing that could delete", () =>
    Effect.gen(function*() {
      const scim = yield* server({ users: 2 })
      const connection = yield* connectTo(scim, { appName: "PagerDuty", dialect: { deactivation: "delete" } })
      const error = yield* Effect.flip(connection.suspend("user-0001"))
      assert.strictEqual(error.reason, "Unsupported")
      assert.include(error.description, "PagerDuty deletes a user")
      assert.include(error.hint ?? "", "admin console")
      assert.strictEqual(scim.user("user-0001")!.active, true)
      assert.deepStrictEqual(scim.requests.filter((r) => r.method !== "GET"), [])
      // Restoring sets active to true, which deletes nothing.
      scim.add([{ ...scim.user("user-0001")!, active: false }])
      yield* connection.restore("user-0001")
      assert.strictEqual(scim.user("user-0001")!.active, true)
    }))

  it.scopedLive("says what to check on a bad token, a wrong base URL and an unknown user, never echoing the token", () =>
    Effect.gen(function*() {
      const scim = yield* server({ users: 2 })

      const bad = yield* connectTo(scim, { bearerToken: Redacted.make("tok-wrong-123456") })
      const unauthorized = yield* Effect.flip(bad.verify)
      assert.deepStrictEqual(
        [unauthorized.reason, unauthorized.status, unauthorized.provider, unauthorized.operation],
        ["Unauthorized", 401, "scim", "verify"]
      )
      assert.include(unauthorized.description, "The bearer token is not valid")
      assert.include(unauthorized.hint ?? "", "Acme Chat's admin settings")
      assert.notInclude(JSON.stringify(unauthorized), "tok-wrong-123456")
      assert.notInclude(unauthorized.message, "tok-wrong-123456")

      const wrongPath = yield* connectTo(scim, { baseUrl: scim.url.replace("/scim/v2", "/scim/v1") })
      const notFound = yield* Effect.flip(wrongPath.verify)
      assert.strictEqual(notFound.reason, "NotFound")
      assert.include(notFound.hint ?? "", "check the base URL")

      const good = yield* connectTo(scim)
      const missing = yield* Effect.flip(good.suspend("nobody-here"))
      assert.deepStrictEqual([missing.reason, missing.status, missing.operation], ["NotFound", 404, "suspend"])
      assert.include(missing.description, "Resource nobody-here not found")
      assert.include(missing.hint ?? "", "Sync again")
    }))

  it.scopedLive("lists a user added or removed between syncs as the service now has it", () =>
    Effect.gen(function*() {
      const scim = yield* server({ users: 30 })
      const connection = yield* connectTo(scim, { dialect: { pageSizeCap: 7 } })
      assert.strictEqual(Chunk.size(yield* Stream.runCollect(connection.accounts)), 30)
      scim.remove("user-0005")
      scim.add([{ id: "late-1", userName: "late@acme.test", active: false }])
      const second = Chunk.toReadonlyArray(yield* Stream.runCollect(connection.accounts))
      assert.strictEqual(second.length, 30)
      assert.isFalse(second.some((a) => a.externalId === "user-0005"))
      assert.strictEqual(second.find((a) => a.externalId === "late-1")?.status, "suspended")
    }))

  it.scopedLive("keeps absent groups, roles and entitlements apart from explicit empty ones", () =>
    Effect.gen(function*() {
      const scim = yield* server({
        users: [
          // SCIMMY leaves an attribute the store does not hold out of the resource, and sends [] as [].
          { id: "absent", userName: "absent@acme.test", active: true },
          { id: "empty", userName: "empty@acme.test", active: true, groups: [], roles: [], entitlements: [] },
          { id: "roles-only", userName: "roles@acme.test", active: true, roles: [{ value: "billing-admin" }] }
        ]
      })
      const { accounts } = yield* collect(scim)
      const byId = new Map(accounts.map((a) => [a.externalId, a]))
      assert.strictEqual(byId.get("absent")!.entitlements, undefined, "the service did not say: the store keeps it")
      assert.deepStrictEqual([byId.get("absent")!.groups, byId.get("absent")!.roles], [undefined, undefined])
      assert.deepStrictEqual(byId.get("empty")!.entitlements, [], "explicit empty lists remove what the account held")
      assert.deepStrictEqual([byId.get("empty")!.groups, byId.get("empty")!.roles], [[], []])
      assert.deepStrictEqual(byId.get("roles-only")!.entitlements!.map((e) => e.key), ["role:billing-admin"])
      assert.deepStrictEqual(byId.get("roles-only")!.groups, undefined)
      // A lookup reads the same way, also after a PATCH of active.
      const connection = yield* connectTo(scim)
      yield* connection.suspend("absent")
      const after = Option.getOrThrow(yield* connection.lookup("absent"))
      assert.deepStrictEqual([after.status, after.entitlements], ["suspended", undefined])
      assert.deepStrictEqual(Option.getOrThrow(yield* connection.lookup("empty")).entitlements, [])
    }))

  it.scopedLive("reads meta.created as addedAt, strictly, and never meta.lastModified", () =>
    Effect.gen(function*() {
      const created = new Date("2025-03-04T05:06:07.000Z")
      const scim = yield* server({
        users: [{ id: "m1", userName: "m1@acme.test", active: true, meta: { created, lastModified: new Date() } }]
      })
      const { accounts } = yield* collect(scim)
      assert.deepStrictEqual([accounts[0]!.addedAt, accounts[0]!.lastActiveAt], ["2025-03-04T05:06:07.000Z", undefined])
    }))

  it.scopedLive("looks a user up with GET /Users/{id}: mapped as listed while it exists, None once gone", () =>
    Effect.gen(function*() {
      const scim = yield* server({ users: 6 })
      const connection = yield* connectTo(scim, { dialect: { lastActivityAttribute: ActivityExtension.attribute } })
      scim.add([{ ...scim.user("user-0003")!, [ActivityExtension.id]: { lastLoginAt: "2026-10-30T08:15:00Z" } }])
      const listing = Chunk.toReadonlyArray(yield* Stream.runCollect(connection.accounts))
      const listed = listing.find((a) => a.externalId === "user-0003")!
      assert.strictEqual(listed.lastActiveAt, "2026-10-30T08:15:00.000Z")
      const found = yield* connection.lookup("user-0003")
      assert.isTrue(Option.isSome(found))
      assert.deepStrictEqual(Option.getOrThrow(found), listed)
      assert.deepStrictEqual(requestsOn(scim, "GET", /\/Users\/user-0003$/).length, 1)

      scim.remove("user-0003")
      assert.isTrue(Option.isNone(yield* connection.lookup("user-0003")))
      assert.isTrue(Option.isNone(yield* connection.lookup("never-existed")))
      // Looking up changes nothing.
      assert.deepStrictEqual(scim.requests.filter((r) => r.method !== "GET"), [])
    }))

  it.scopedLive("returns a receipt naming the method, takes an action target, and restores only its own method", () =>
    Effect.gen(function*() {
      const scim = yield* server({ users: 3 })
      const connection = yield* connectTo(scim)
      const target = { externalId: "user-0001", attributes: { unused: "x" } }
      const receipt = yield* connection.suspend(target, { reason: "audit" })
      assert.deepStrictEqual({ ...receipt }, {
        method: "scim-active",
        methodLabel: "Set active=false over SCIM (PATCH)"
      })
      assert.strictEqual(scim.user("user-0001")!.active, false)

      const wrong = yield* Effect.flip(connection.restore("user-0001", { method: "lifecycle" }))
      assert.deepStrictEqual([wrong.reason, wrong.operation], ["Unsupported", "restore"])
      assert.include(wrong.hint ?? "", "scim-active")
      assert.strictEqual(scim.user("user-0001")!.active, false, "a restore of another method changes nothing")

      const restored = yield* connection.restore("user-0001", { method: receipt.method })
      assert.deepStrictEqual({ ...restored }, {
        method: "scim-active",
        methodLabel: "Set active=true over SCIM (PATCH)"
      })
      assert.strictEqual(scim.user("user-0001")!.active, true)
      assert.strictEqual(requestsOn(scim, "PATCH", /\/Users\//).length, 2)
    }))

  it.scopedLive("preflights without changing anything: allowed with the method, NotFound for an unknown user", () =>
    Effect.gen(function*() {
      const scim = yield* server({ users: 4 })
      const connection = yield* connectTo(scim)
      const answer = yield* connection.preflight("user-0001", "suspend")
      assert.deepStrictEqual([answer.action, answer.allowed, answer.method, answer.methodLabel, answer.hint], [
        "suspend",
        true,
        "scim-active",
        "Set active=false over SCIM (PATCH)",
        undefined
      ])
      // user-0004 is inactive already: allowed, and it says the change is a no-op.
      const again = yield* connection.preflight({ externalId: "user-0004" }, "suspend")
      assert.isTrue(again.allowed)
      assert.include(again.hint ?? "", "already active=false")
      const restore = yield* connection.preflight("user-0004", "restore")
      assert.deepStrictEqual([restore.allowed, restore.methodLabel], [true, "Set active=true over SCIM (PATCH)"])

      const missing = yield* Effect.flip(connection.preflight("nobody-here", "suspend"))
      assert.deepStrictEqual([missing.reason, missing.operation], ["NotFound", "preflight"])
      assert.include(missing.hint ?? "", "no such user")
      assert.deepStrictEqual(scim.requests.filter((r) => r.method !== "GET"), [])
      assert.deepStrictEqual(scim.users().map((u) => u.active), [true, true, true, false])
    }))

  it.scopedLive("preflight refuses a suspend under the delete dialect without sending anything", () =>
    Effect.gen(function*() {
      const scim = yield* server({ users: 2 })
      const connection = yield* connectTo(scim, { appName: "PagerDuty", dialect: { deactivation: "delete" } })
      const refused = yield* connection.preflight("user-0001", "suspend")
      assert.deepStrictEqual([refused.allowed, refused.code, refused.reason], [
        false,
        "deactivation-deletes",
        "PagerDuty deletes users on active=false, so Seatkeeper does not suspend them"
      ])
      assert.include(refused.hint ?? "", "admin console")
      assert.deepStrictEqual(scim.requests, [])
      // Restoring deletes nothing: allowed.
      assert.isTrue((yield* connection.preflight("user-0001", "restore")).allowed)
      const error = yield* Effect.flip(connection.suspend("user-0001"))
      assert.deepStrictEqual([error.reason, error.code], ["Unsupported", "deactivation-deletes"])
    }))
})
