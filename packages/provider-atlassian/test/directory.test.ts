// `includeUnmanaged: true`: every user of the organization, managed and unmanaged, from the v2 directory
// search (`POST /admin/v2/orgs/{orgId}/directories/-/users/search`), with the statuses of the module's v2
// table, the directory's facts (groups, roles, added date) and per-product activity.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { mapDirectoryStatus } from "../src/AtlassianProvider.js"
import * as Sandbox from "../src/sandbox/index.js"
import { byId, collect, connectTo, requestsOn } from "./helpers.js"

const confluence = { key: "confluence", name: "Confluence", url: "https://acme.atlassian.net/wiki" }
const jira = { key: "jira-software", name: "Jira", url: "https://acme-eu.atlassian.net/" }
const LATEST = "2026-11-20T08:00:00.000Z"

describe("includeUnmanaged: the directory listing", () => {
  it.scopedLive("lists every user, managed and unmanaged, with groups, roles, added date and product activity", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 0 })
      org.addUsers([
        {
          account_id: "557058:admin",
          account_status: "active",
          name: "Ada Admin",
          email: "ada@acme.com",
          addedToOrg: "2024-01-02T03:04:05.000Z",
          platformRoles: ["atlassian/org-admin"],
          groups: ["org-admins", "jira-users"],
          product_access: [
            { ...confluence, last_active: "2026-11-06T23:07:29.936941226Z" },
            { ...jira, last_active: "2026-11-20T08:00:00Z" }
          ]
        },
        {
          account_id: "guest",
          account_status: "active",
          name: "Gus Guest",
          email: "gus@contractor.example",
          claimStatus: "unmanaged",
          groups: ["contractors"],
          product_access: [confluence]
        }
      ])
      const accounts = byId(yield* collect((yield* connectTo(org, { includeUnmanaged: true })).accounts))
      assert.deepStrictEqual([...accounts.keys()], ["557058:admin", "guest"])

      const admin = accounts.get("557058:admin")!
      assert.deepStrictEqual(
        [admin.managed, admin.roles, admin.groups, admin.addedAt, admin.email],
        [true, ["atlassian/org-admin"], ["org-admins", "jira-users"], "2024-01-02T03:04:05.000Z", "ada@acme.com"]
      )
      // Keyed like the v1 listing (product key + the site's full host), through the workspaces' ARIs.
      assert.deepStrictEqual(admin.entitlements!.map((e) => [e.key, e.displayName, e.lastActiveAt, e.activitySource]), [
        ["confluence:acme.atlassian.net", "Confluence (acme)", "2026-11-06T23:07:29.936Z", "atlassian.product"],
        ["jira-software:acme-eu.atlassian.net", "Jira Software (acme-eu)", LATEST, "atlassian.product"]
      ])
      // The account's activity is its latest product activity.
      assert.deepStrictEqual([admin.lastActiveAt, admin.activitySource], [LATEST, "atlassian.product"])

      const guest = accounts.get("guest")!
      assert.deepStrictEqual([guest.managed, guest.status, guest.groups], [false, "active", ["contractors"]])
      assert.deepStrictEqual(guest.attributes, {
        accountStatus: "active",
        membershipStatus: "active",
        claimStatus: "unmanaged"
      })
      assert.isUndefined(guest.lastActiveAt)
      assert.isUndefined(guest.activitySource)
    }))

  it.scopedLive("maps the v2 statuses as the table says, keeping the raw ones", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 0 })
      org.addUsers([
        { account_id: "active", account_status: "active" },
        { account_id: "suspended", account_status: "active", membershipStatus: "suspended" },
        { account_id: "not-invited", account_status: "active", membershipStatus: "no_membership" },
        { account_id: "deactivated", account_status: "inactive" },
        { account_id: "for-deletion", account_status: "inactive", forDeletion: true },
        { account_id: "closed", account_status: "closed" },
        { account_id: "unknown", account_status: "pending_review" }
      ])
      const accounts = yield* collect((yield* connectTo(org, { includeUnmanaged: true })).accounts)
      assert.deepStrictEqual(
        accounts.map((a) => [
          a.externalId,
          a.status,
          a.sourceStatus,
          a.attributes?.accountStatus,
          a.attributes?.membershipStatus
        ]),
        [
          ["active", "active", "active", "active", "active"],
          ["suspended", "suspended", "suspended", "active", "suspended"],
          ["not-invited", "suspended", "not_invited", "active", "no_membership"],
          ["deactivated", "suspended", "deactivated", "inactive", "active"],
          ["for-deletion", "suspended", "for_deletion", "inactive", "active"],
          // v2 reads a closed account as `deactivated`: only accountStatus tells it is gone.
          ["closed", "deprovisioned", "deactivated", "closed", "active"],
          ["unknown", "unknown", "pending_review", "pending_review", "active"]
        ]
      )
      // Without a composite status, the account status maps as in v1.
      assert.deepStrictEqual(
        [
          mapDirectoryStatus(undefined, "inactive"),
          mapDirectoryStatus(undefined, undefined),
          mapDirectoryStatus("active", "closed")
        ],
        ["suspended", "unknown", "deprovisioned"]
      )
    }))

  it.scopedLive("gives the same entitlement keys as the v1 listing, and as the licences of those products", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 120, seed: 5 })
      const v1 = byId(yield* collect((yield* connectTo(org)).accounts))
      const connection = yield* connectTo(org, { includeUnmanaged: true })
      const v2 = yield* collect(connection.accounts)
      const licenceKeys = new Set([...(yield* Stream.runCollect(connection.licenses))].map((l) => l.key))
      let compared = 0
      for (const account of v2) {
        const keys = (account.entitlements ?? []).map((e) => e.key)
        const v1Keys = (v1.get(account.externalId)?.entitlements ?? []).map((e) => e.key)
        assert.deepStrictEqual(keys, v1Keys, account.externalId)
        for (const key of keys) assert.isTrue(licenceKeys.has(key), `no licence for ${key}`)
        compared += keys.length
      }
      assert.isAbove(compared, 100)
    }))

  it.scopedLive("pages with the bare cursor in the body, and keeps products of a page without productAccess", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 150, unmanaged: 80 })
      // The second page comes without `productAccess`: absent, not empty.
      org.injectFault({ kind: "missingFields", fields: ["productAccess"] }, { on: "directoryUsers", afterRequests: 1 })
      const accounts = yield* collect((yield* connectTo(org, { includeUnmanaged: true })).accounts)
      assert.strictEqual(accounts.length, 230)
      assert.strictEqual(accounts.filter((a) => a.managed === false).length, 80)
      assert.isTrue(accounts.slice(100, 200).every((a) => a.entitlements === undefined))
      assert.isTrue(accounts.slice(0, 100).every((a) => a.entitlements !== undefined))

      const bodies = requestsOn(org, "directoryUsers").map((r) => r.body as Record<string, unknown>)
      assert.strictEqual(bodies.length, 3)
      assert.deepStrictEqual(bodies[0], { limit: 100, expand: ["productAccess", "groups", "platformRoles"] })
      assert.isString(bodies[1]!.cursor)
      assert.isString(bodies[2]!.cursor)
      assert.notStrictEqual(bodies[1]!.cursor, bodies[2]!.cursor)
      // The product instances are read once, to key the products.
      assert.strictEqual(requestsOn(org, "workspaces").length, 1)
      assert.strictEqual(requestsOn(org, "users").length, 0)
    }))

  it.scopedLive("fails a stale cursor (strict mode) with a hint to sync again, and a repeated one as Incomplete", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 250, cursorMode: "strict" })
      org.injectFault({ kind: "rosterChange", afterPage: 1, add: 1 }, { on: "directoryUsers" })
      const stale = yield* Effect.flip(Stream.runDrain((yield* connectTo(org, { includeUnmanaged: true })).accounts))
      assert.deepStrictEqual([stale.status, stale.code], [400, "ADMIN-400-1"])
      assert.include(stale.hint ?? "", "sync again")

      org.injectFault({ kind: "repeatCursor" }, { on: "directoryUsers", afterRequests: 1 })
      const repeated = yield* Effect.flip(Stream.runDrain((yield* connectTo(org, { includeUnmanaged: true })).accounts))
      assert.strictEqual(repeated.reason, "Incomplete")
    }))
})
