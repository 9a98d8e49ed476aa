// Preflight, suspend and restore: the method each account needs (lifecycle for a managed account, the
// directory for an unmanaged one), the read-only preflight that says whether Atlassian would refuse, and
// the receipts that let a restore undo exactly what a suspend did.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Sandbox from "../src/sandbox/index.js"
import { byId, collect, connectTo, requestsOn, withWarnings } from "./helpers.js"

const roster = (): ReadonlyArray<Sandbox.SandboxUserInput> => [
  { account_id: "557058:plain", account_status: "active", name: "Pat Plain" },
  { account_id: "557058:scim", account_status: "active", name: "Sue Scim", managedBy: "scim" },
  { account_id: "557058:google", account_status: "active", name: "Gus Google", managedBy: "google" },
  { account_id: "guest", account_status: "active", name: "Gil Guest", claimStatus: "unmanaged" },
  {
    account_id: "guest-admin",
    account_status: "active",
    name: "Ola Org-Admin",
    claimStatus: "unmanaged",
    platformRoles: ["atlassian/org-admin"]
  }
]

/** The sandbox's users as JSON, to show nothing changed. */
const snapshot = (org: Sandbox.AtlassianSandbox) => JSON.stringify(org.users())

describe("preflight", () => {
  it.scopedLive("allows a normal managed account and refuses a SCIM-managed one, with the reason and a hint", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 0 })
      org.addUsers(roster())
      const before = snapshot(org)
      const connection = yield* connectTo(org)

      const plain = yield* connection.preflight("557058:plain", "suspend")
      assert.deepStrictEqual(
        [plain.action, plain.method, plain.allowed, plain.methodLabel],
        ["suspend", "lifecycle", true, "Deactivate the Atlassian account (lifecycle disable)"]
      )
      const scim = yield* connection.preflight("557058:scim", "suspend")
      assert.deepStrictEqual([scim.allowed, scim.method, scim.code], [false, "lifecycle", "externalDirectory.scim"])
      assert.strictEqual(scim.reason, "managed by SCIM (your identity provider)")
      assert.include(scim.hint ?? "", "suspend or deactivate it there")
      const google = yield* connection.preflight("557058:google", "restore")
      assert.deepStrictEqual([google.allowed, google.reason], [false, "managed by Google Workspace"])

      // Read-only: `GET /users/{id}/manage?privileges=lifecycle.enablement`, nothing else; nothing changed.
      assert.deepStrictEqual(
        org.requests.map((r) => [r.method, r.route, r.query]),
        [
          ["GET", "manage", "?privileges=lifecycle.enablement"],
          ["GET", "manage", "?privileges=lifecycle.enablement"],
          ["GET", "manage", "?privileges=lifecycle.enablement"]
        ]
      )
      assert.strictEqual(snapshot(org), before)
    }))

  it.scopedLive("picks the directory method for an unmanaged account, and refuses an org admin's suspend", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 0 })
      org.addUsers(roster())
      const before = snapshot(org)
      const connection = yield* connectTo(org, { includeUnmanaged: true })

      // A bare id: the directory says whether it is managed and which roles it has.
      const guest = yield* connection.preflight("guest", "suspend")
      assert.deepStrictEqual([guest.method, guest.allowed], ["directory", true])
      assert.include(guest.methodLabel, "not billed, reversible")
      const admin = yield* connection.preflight("guest-admin", "suspend")
      assert.deepStrictEqual([admin.method, admin.allowed, admin.code], ["directory", false, "ADMIN-UAM-403-2"])
      assert.include(admin.reason ?? "", "organization admin")
      assert.include(admin.hint ?? "", "remove the admin role first")
      // Restoring an admin's access is not refused.
      assert.isTrue((yield* connection.preflight("guest-admin", "restore")).allowed)
      // A managed account still uses lifecycle, checked with Atlassian.
      assert.strictEqual((yield* connection.preflight("557058:scim", "suspend")).allowed, false)

      // What the last sync knew (managed, roles) is used as is: no request at all.
      org.resetLog()
      const target = { externalId: "guest-admin", managed: false, roles: ["atlassian/org-admin"] }
      const known = yield* connection.preflight(target, "suspend")
      assert.isFalse(known.allowed)
      assert.strictEqual(org.requests.length, 0)
      assert.strictEqual(snapshot(org), before)
    }))

  it.scopedLive("fails on an account that does not exist", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 0 })
      const lifecycle = yield* Effect.flip((yield* connectTo(org)).preflight("nobody", "suspend"))
      assert.deepStrictEqual([lifecycle.reason, lifecycle.code], ["NotFound", "accountNotFound"])
      const directoryMode = yield* connectTo(org, { includeUnmanaged: true })
      const directory = yield* Effect.flip(directoryMode.preflight("nobody", "suspend"))
      assert.strictEqual(directory.reason, "NotFound")
      assert.include(directory.hint ?? "", "no such account")
    }))
})

describe("suspend and restore with receipts", () => {
  it.scopedLive("suspends a managed account with lifecycle and an unmanaged one in the directory", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 0 })
      org.addUsers(roster())
      const connection = yield* connectTo(org, { includeUnmanaged: true })

      const managed = yield* connection.suspend("557058:plain", { reason: "Left the company" })
      assert.strictEqual(managed.method, "lifecycle")
      assert.strictEqual(org.user("557058:plain")!.account_status, "inactive")

      const guest = yield* connection.suspend("guest", { reason: "Contract ended" })
      assert.deepStrictEqual(
        [guest.method, guest.methodLabel],
        ["directory", "Suspend access in the organization's directory (not billed, reversible; keeps roles and groups)"]
      )
      // Suspended in the directory: the account itself stays active, its membership is suspended.
      assert.deepStrictEqual(
        [org.user("guest")!.account_status, org.user("guest")!.membershipStatus],
        ["active", "suspended"]
      )
      // The directory endpoint takes no body; `-` reaches every directory the key may manage.
      const [suspend] = requestsOn(org, "directorySuspend")
      assert.deepStrictEqual(
        [suspend!.method, decodeURIComponent(suspend!.path), suspend!.body, suspend!.status],
        ["POST", `/admin/v2/orgs/${org.orgId}/directories/-/users/guest/suspend`, undefined, 204]
      )

      // A restore given the suspend's method reverses exactly that, with no lookup.
      org.resetLog()
      const restored = yield* connection.restore("guest", { method: guest.method })
      assert.deepStrictEqual(
        [restored.method, restored.methodLabel],
        ["directory", "Restore access in the organization's directory"]
      )
      assert.strictEqual(org.user("guest")!.membershipStatus, "active")
      assert.deepStrictEqual(org.requests.map((r) => r.route), ["directorySuspend"])
      yield* connection.restore("557058:plain", { method: managed.method })
      assert.strictEqual(org.user("557058:plain")!.account_status, "active")
    }))

  it.scopedLive("uses the method a receipt names, even where the default would be another", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 0 })
      org.addUsers(roster())
      const connection = yield* connectTo(org)
      // A managed account suspended in the directory (Atlassian allows both for it) is restored there too.
      const receipt = yield* connection.suspend({ externalId: "557058:plain", managed: true }, { method: "directory" })
      assert.strictEqual(receipt.method, "directory")
      assert.deepStrictEqual(
        [org.user("557058:plain")!.account_status, org.user("557058:plain")!.membershipStatus],
        ["active", "suspended"]
      )
      yield* connection.restore({ externalId: "557058:plain", managed: true }, { method: receipt.method })
      assert.strictEqual(org.user("557058:plain")!.membershipStatus, "active")
      assert.strictEqual(requestsOn(org, "lifecycle").length, 0)
      // The target's own directory, when the last sync knew it.
      const directoryId = org.directories()[0]!.directoryId
      yield* connection.suspend({ externalId: "guest", managed: false, attributes: { directoryId } })
      assert.include(requestsOn(org, "directorySuspend").at(-1)!.path, `/directories/${directoryId}/`)

      // A method the adapter does not know is refused: guessing would not undo what was done.
      const unknown = yield* Effect.flip(connection.restore("557058:plain", { method: "scim-active" }))
      assert.deepStrictEqual([unknown.reason, unknown.operation], ["Unsupported", "restore"])
      assert.include(unknown.description, "lifecycle and directory")
    }))

  it.scopedLive("a SCIM-managed account is Forbidden (forbidden.action) with its hint; an unknown one NotFound", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 0 })
      org.addUsers(roster())
      const connection = yield* connectTo(org, { includeUnmanaged: true })

      const scim = yield* Effect.flip(connection.suspend("557058:scim", { reason: "Left" }))
      assert.deepStrictEqual(
        [scim.reason, scim.status, scim.code, scim.operation],
        ["Forbidden", 403, "forbidden.action", "suspend"]
      )
      assert.include(scim.description, "externalDirectory.scim")
      assert.strictEqual(
        scim.hint,
        "This account is provisioned by SCIM from your identity provider: suspend or deactivate it there."
      )
      assert.strictEqual(org.user("557058:scim")!.account_status, "active")

      const admin = yield* Effect.flip(connection.suspend("guest-admin"))
      assert.deepStrictEqual([admin.reason, admin.status, admin.code], ["Forbidden", 403, "ADMIN-UAM-403-2"])
      assert.include(admin.hint ?? "", "does not suspend organization admins")

      const missing = yield* Effect.flip(connection.suspend("nobody"))
      assert.strictEqual(missing.reason, "NotFound")
      // Told it is unmanaged, the adapter goes to the directory, which does not know it either.
      const missingInDirectory = yield* Effect.flip(connection.restore({ externalId: "nobody", managed: false }))
      assert.deepStrictEqual([missingInDirectory.reason, missingInDirectory.code], ["NotFound", "ADMIN-UAM-404-1"])
      assert.include(missingInDirectory.hint ?? "", "no such account")
      const lifecycleMissing = yield* Effect.flip((yield* connectTo(org)).suspend("nobody"))
      assert.deepStrictEqual([lifecycleMissing.reason, lifecycleMissing.code], ["NotFound", "accountNotFound"])
    }))

  it.scopedLive("a v1 account suspended in the directory reads as suspended, and its restore goes to the directory", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 0 })
      org.addUsers(roster())
      const connection = yield* connectTo(org)
      yield* connection.suspend({ externalId: "557058:plain", managed: true }, { method: "directory" })
      // The v1 listing still says `active`: the directory search says otherwise, and wins.
      assert.strictEqual(org.user("557058:plain")!.account_status, "active")
      const synced = byId(yield* collect(connection.accounts))
      const plain = synced.get("557058:plain")!
      assert.deepStrictEqual(
        [plain.status, plain.sourceStatus, plain.attributes],
        ["suspended", "suspended", { membershipStatus: "suspended" }]
      )
      // Known not suspended: no membership attribute, so a suspension lifted since does not linger.
      assert.strictEqual(synced.get("557058:scim")!.status, "active")
      assert.deepStrictEqual(synced.get("557058:scim")!.attributes, {})

      // A restore without a method, given what the sync read, undoes the directory suspend (not lifecycle).
      const restored = yield* connection.restore({
        externalId: plain.externalId,
        managed: true,
        attributes: plain.attributes
      })
      assert.strictEqual(restored.method, "directory")
      assert.strictEqual(org.user("557058:plain")!.membershipStatus, "active")
      assert.strictEqual(requestsOn(org, "lifecycle").length, 0)
      // The next sync (a connection lives for one) reads it active again.
      const next = yield* collect((yield* connectTo(org)).accounts)
      const after = next.find((a) => a.externalId === "557058:plain")!
      assert.deepStrictEqual([after.status, after.attributes], ["active", {}])
    }))

  it.scopedLive("a key that may not search the directory keeps the v1 statuses, and says why in a warning", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 0 })
      org.addUsers(roster())
      org.updateUser("557058:plain", { membershipStatus: "suspended" })
      org.injectFault({ kind: "status", status: 403, shape: "noperms" }, { on: "directoryUsers" })
      const { result, warnings } = yield* withWarnings(collect((yield* connectTo(org)).accounts))
      // Unknown either way: the status as v1 says, and the attributes left to what the store knew.
      assert.strictEqual(byId(result).get("557058:plain")!.status, "active")
      assert.isUndefined(byId(result).get("557058:plain")!.attributes)
      assert.strictEqual(result.length, 3)
      assert.isTrue(warnings.some((w) => w.includes("read:directories:admin")), warnings.join("\n"))
    }))
})

describe("previews name the method asked for", () => {
  it.scopedLive("a preflight with a method previews that method, and refuses one the adapter does not know", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 0 })
      org.addUsers(roster())
      const connection = yield* connectTo(org)
      assert.strictEqual((yield* connection.preflight("557058:plain", "suspend")).method, "lifecycle")
      const directory = yield* connection.preflight("557058:plain", "suspend", { method: "directory" })
      assert.deepStrictEqual([directory.method, directory.allowed], ["directory", true])
      const unknown = yield* Effect.flip(connection.preflight("557058:plain", "suspend", { method: "nope" }))
      assert.deepStrictEqual([unknown.reason, unknown.operation], ["Unsupported", "preflight"])
      assert.include(unknown.description, "lifecycle and directory")
    }))
})
