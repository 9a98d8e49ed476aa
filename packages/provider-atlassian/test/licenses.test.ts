// `licenses`: the organization's product instances from `POST /admin/v2/orgs/{orgId}/workspaces`, one
// licence per workspace with its plan and seats, keyed so that seats (entitlements) and licences join.
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Sandbox from "../src/sandbox/index.js"
import { collect, connectTo, requestsOn } from "./helpers.js"

describe("licences", () => {
  it.scopedLive("lists one licence per workspace, keyed like the seats, with plan, edition and seat counts", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 200, seed: 2 })
      const connection = yield* connectTo(org)
      const licenses = Chunk.toReadonlyArray(yield* Stream.runCollect(connection.licenses))
      const workspaces = org.workspaces()
      assert.strictEqual(licenses.length, 12)
      assert.strictEqual(licenses.length, workspaces.length)
      assert.deepStrictEqual(licenses.map((l) => l.sourceId), workspaces.map((w) => w.id))

      const byKey = new Map(licenses.map((l) => [l.key, l]))
      const jira = byKey.get("jira-software:acme.atlassian.net")!
      assert.deepStrictEqual(
        [jira.product, jira.productName, jira.site, jira.siteHost, jira.plan, jira.edition, jira.status],
        ["jira-software", "Jira Software", "acme", "acme.atlassian.net", "Premium", "premium", "online"]
      )
      const workspace = workspaces.find((w) => w.id === jira.sourceId)!
      // capacity → seats bought; usage → seats in use as Atlassian counts them.
      assert.strictEqual(jira.seatsPurchased, workspace.capacity)
      assert.isAbove(jira.seatsUsedBySource!, 0)
      // A host with a path (bitbucket.org/acme) keys by its host, as the product URLs of its seats do.
      assert.isDefined(byKey.get("bitbucket:bitbucket.org"))

      // Kept, never dropped: a plan Seatkeeper does not know (verbatim, no edition), a product no enum
      // knows, and a deprecated instance.
      const statuspage = byKey.get("statuspage:acme.statuspage.io")!
      assert.deepStrictEqual([statuspage.plan, statuspage.edition], ["Business", undefined])
      const compass = byKey.get("compass:acme.atlassian.net")!
      assert.deepStrictEqual(
        [compass.product, compass.productName, compass.plan, compass.edition],
        ["compass", "compass", "Free", "free"]
      )
      assert.strictEqual(byKey.get("jira-ops:acme-ops.atlassian.net")!.status, "deprecated")

      // Every seat the listing shows joins a licence.
      const accounts = yield* collect(connection.accounts)
      const seatKeys = new Set(accounts.flatMap((a) => (a.entitlements ?? []).map((e) => e.key)))
      assert.isAbove(seatKeys.size, 5)
      for (const key of seatKeys) assert.isTrue(byKey.has(key), `no licence for the seats of ${key}`)
    }))

  it.scopedLive("pages with the cursor alone in the body, as the document requires", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 0 })
      org.addWorkspaces(Array.from({ length: 230 }, (_, i) => ({
        key: "confluence",
        hostUrl: `team-${i}.atlassian.net`,
        plan: "Standard",
        capacity: 10 + i
      })))
      const licenses = Chunk.toReadonlyArray(yield* Stream.runCollect((yield* connectTo(org)).licenses))
      assert.strictEqual(licenses.length, 12 + 230)
      assert.strictEqual(new Set(licenses.map((l) => l.key)).size, 242)
      assert.strictEqual(licenses.find((l) => l.siteHost === "team-229.atlassian.net")!.seatsPurchased, 239)

      const bodies = requestsOn(org, "workspaces").map((r) => r.body as Record<string, unknown>)
      assert.strictEqual(bodies.length, 3)
      assert.deepStrictEqual(bodies[0], { limit: 100 })
      // "When a cursor is provided in the request body, no other properties may be present."
      for (const body of bodies.slice(1)) assert.deepStrictEqual(Object.keys(body), ["cursor"])
    }))

  it.scopedLive("reads a workspace without plan, seats or host, and counts that are not whole numbers as unknown", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({
        users: 0,
        workspaces: [
          { key: "jira-software", hostUrl: "solo.atlassian.net", plan: "Enterprise", capacity: null, usage: null },
          { key: "loom", hostUrl: "loom.com/acme", plan: "loom.business.monthly", capacity: 25 }
        ]
      })
      const licenses = Chunk.toReadonlyArray(yield* Stream.runCollect((yield* connectTo(org)).licenses))
      assert.deepStrictEqual(
        licenses.map((l) => [l.key, l.plan, l.edition, l.seatsPurchased, l.seatsUsedBySource]),
        [
          ["jira-software:solo.atlassian.net", "Enterprise", "enterprise", undefined, undefined],
          ["loom:loom.com", "loom.business.monthly", undefined, 25, 0]
        ]
      )
    }))
})
