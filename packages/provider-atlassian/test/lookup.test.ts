// `lookup`: how the sync engine confirms that an account a complete listing did not return is really gone
// (DESIGN.md invariant 2) before it deprovisions it. Gone is a 404 from Atlassian or `closed`; nothing else.
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Sandbox from "../src/sandbox/index.js"
import { collect, connectTo, requestsOn } from "./helpers.js"

const someOf = <A>(option: Option.Option<A>): A => {
  assert.isTrue(Option.isSome(option), "expected Some")
  return Option.getOrThrow(option)
}

describe("lookup of a managed account (the user-management profile)", () => {
  it.scopedLive("a present account is Some with its mapped status and no entitlements; 404 and closed are None", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 0 })
      org.addUsers([
        {
          account_id: "557058:present",
          account_status: "active",
          account_type: "atlassian",
          name: "Pia Present",
          email: "pia@acme.test",
          product_access: [{ key: "confluence", name: "Confluence", url: "https://acme.atlassian.net/wiki" }]
        },
        { account_id: "deactivated", account_status: "inactive", name: "Dan Deactivated" },
        { account_id: "portal", account_status: "active", account_type: "customer", name: "Cy Customer" },
        { account_id: "closed", account_status: "closed", name: "Cleo Closed" }
      ])
      const connection = yield* connectTo(org)

      const present = someOf(yield* connection.lookup("557058:present"))
      assert.deepStrictEqual(
        [present.externalId, present.status, present.sourceStatus, present.email, present.managed],
        ["557058:present", "active", "active", "pia@acme.test", true]
      )
      // A profile does not list products: absent, so the store keeps the ones the listing gave.
      assert.isUndefined(present.entitlements)
      assert.strictEqual(someOf(yield* connection.lookup("deactivated")).status, "suspended")
      assert.isFalse(someOf(yield* connection.lookup("portal")).billable)

      // Gone: Atlassian's 404 `accountNotFound`, or an account that is closed.
      assert.isTrue(Option.isNone(yield* connection.lookup("557058:never-existed")))
      assert.isTrue(Option.isNone(yield* connection.lookup("closed")))
      org.removeUser("557058:present")
      assert.isTrue(Option.isNone(yield* connection.lookup("557058:present")))
      assert.deepStrictEqual(
        requestsOn(org, "profile").map((r) => [decodeURIComponent(r.path), r.status]),
        [
          ["/users/557058:present/manage/profile", 200],
          ["/users/deactivated/manage/profile", 200],
          ["/users/portal/manage/profile", 200],
          ["/users/557058:never-existed/manage/profile", 404],
          ["/users/closed/manage/profile", 200],
          ["/users/557058:present/manage/profile", 404]
        ]
      )
    }))

  it.scopedLive("a 404 that is not Atlassian's account-not-found confirms nothing: the lookup fails", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 3 })
      const id = org.users()[0]!.account_id
      // A proxy or a wrong base URL answering 404 for everything must not make every absentee "gone".
      org.injectFault({ kind: "status", status: 404, shape: "org" }, { on: "profile" })
      org.injectFault({ kind: "status", status: 404, shape: "html" }, { on: "profile" })
      const connection = yield* connectTo(org)
      const envelope = yield* Effect.flip(connection.lookup(id))
      assert.deepStrictEqual([envelope.reason, envelope.status, envelope.code], ["NotFound", 404, "ADMIN-404-2"])
      const html = yield* Effect.flip(connection.lookup(id))
      assert.strictEqual(html.reason, "NotFound")
      assert.isTrue(Option.isSome(yield* connection.lookup(id)))
    }))

  it.scopedLive("an account the listing skipped while the roster shifted is found again by lookup", () =>
    Effect.gen(function*() {
      // After page 1 is served, its last account leaves: everyone after it moves up one place, so the
      // offset cursor of page 2 starts one account too late and skips the first account of page 2.
      const org = yield* Sandbox.make({ users: 60, pageSize: 20 })
      const before = org.users().map((u) => u.account_id)
      org.injectFault({ kind: "rosterChange", afterPage: 1, remove: 1 })
      const connection = yield* connectTo(org)
      const listed = new Set((yield* collect(connection.accounts)).map((a) => a.externalId))

      const change = requestsOn(org, "users")[0]!.rosterChange!
      assert.deepStrictEqual(change.removed, [before[19]])
      const skipped = org.users().filter((u) => !listed.has(u.account_id)).map((u) => u.account_id)
      assert.deepStrictEqual(skipped, [before[20]], "the listing skipped a present account")
      // The listing still counts as complete (59 returned, meta.total 59): absence is evidence, never proof.
      assert.strictEqual(listed.size, 59)

      // What the sync engine does with the two absentees: the skipped one is present, the removed one gone.
      const found = someOf(yield* connection.lookup(before[20]!))
      assert.strictEqual(found.externalId, before[20])
      assert.isTrue(Option.isNone(yield* connection.lookup(before[19]!)))
    }))

  it.scopedLive("accounts that join while paging are listed at the end; one that left a later page is not", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 60, pageSize: 20 })
      const before = org.users().map((u) => u.account_id)
      const joiner = { account_id: "joiner", account_status: "active" }
      org.injectFault({ kind: "rosterChange", afterPage: 2, remove: [before[50]!], add: [joiner] })
      const connection = yield* connectTo(org)
      const ids = (yield* collect(connection.accounts)).map((a) => a.externalId)
      assert.strictEqual(ids.at(-1), "joiner")
      assert.notInclude(ids, before[50])
      assert.isTrue(Option.isSome(yield* connection.lookup("joiner")))
      assert.isTrue(Option.isNone(yield* connection.lookup(before[50]!)))
    }))
})

describe("lookup with includeUnmanaged (the directory search)", () => {
  it.scopedLive("finds managed and unmanaged accounts with their products; closed and unknown are None", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 0 })
      org.addUsers([
        {
          account_id: "managed-1",
          account_status: "active",
          name: "Mo Managed",
          product_access: [{ key: "confluence", name: "Confluence", url: "https://acme.atlassian.net/wiki" }]
        },
        { account_id: "guest-1", account_status: "active", name: "Gil Guest", claimStatus: "unmanaged" },
        { account_id: "leaving", account_status: "inactive", name: "Lee Leaving", forDeletion: true },
        { account_id: "closed-1", account_status: "closed", name: "Cass Closed" }
      ])
      const connection = yield* connectTo(org, { includeUnmanaged: true })

      const managed = someOf(yield* connection.lookup("managed-1"))
      assert.deepStrictEqual([managed.status, managed.managed], ["active", true])
      // The search returns the products too: keyed as the listing keys them.
      assert.deepStrictEqual(managed.entitlements!.map((e) => e.key), ["confluence:acme.atlassian.net"])
      const guest = someOf(yield* connection.lookup("guest-1"))
      assert.deepStrictEqual([guest.status, guest.managed], ["active", false])
      // Scheduled for deletion is not gone: it is still there, deactivated, and can come back.
      const leaving = someOf(yield* connection.lookup("leaving"))
      assert.deepStrictEqual([leaving.status, leaving.sourceStatus], ["suspended", "for_deletion"])

      // v2 reads a closed account as `deactivated`; its accountStatus says it is gone.
      assert.isTrue(Option.isNone(yield* connection.lookup("closed-1")))
      assert.isTrue(Option.isNone(yield* connection.lookup("nobody")))
      // One search per lookup, for exactly that account; no profile read (it refuses unmanaged accounts).
      const searches = requestsOn(org, "directoryUsers").map((r) =>
        (r.body as { readonly accountIds: ReadonlyArray<string> }).accountIds
      )
      assert.deepStrictEqual(searches, [["managed-1"], ["guest-1"], ["leaving"], ["closed-1"], ["nobody"]])
      assert.strictEqual(requestsOn(org, "profile").length, 0)
    }))
})
