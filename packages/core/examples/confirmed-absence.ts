// The README's second example, executed by test/readme.test.ts.
import { Account, Connection, Inventory, Provider, SyncEngine } from "@seatkeeper/core"
import * as MemoryStore from "@seatkeeper/core/testing/MemoryStore"
import { Effect, Option, Stream } from "effect"

const person = (externalId: string) =>
  new Account.ProviderAccount({
    externalId,
    displayName: externalId,
    accountType: "human",
    status: "active",
    sourceStatus: "active",
    entitlements: []
  })

// A source whose listing can skip people (a cursor over a moving roster) but whose lookup is exact.
const source = (listed: ReadonlyArray<string>, existing: ReadonlyArray<string>) =>
  Effect.succeed(Provider.makeConnection({
    provider: "example",
    budgetKey: "example:org-1",
    verify: Effect.void,
    requestStats: Effect.succeed({ requests: 1, retries: 0, rateLimited: 0 }),
    pages: Stream.make({ accounts: listed.map(person), total: listed.length }),
    lookup: (id) => Effect.succeed(existing.includes(id) ? Option.some(person(id)) : Option.none())
  }))

const everyone = Array.from({ length: 20 }, (_, i) => `user-${i}`)

export const program = Effect.gen(function*() {
  const connections = yield* Connection.ConnectionStore
  const inventory = yield* Inventory.InventoryStore
  const { id } = yield* connections.create({ provider: "example", name: "Example org", config: {} })
  yield* SyncEngine.run(id, "example-script", source(everyone, everyone))

  // user-1 was skipped by the listing but still exists; user-2 has left. Only user-2 is deprovisioned.
  const second = yield* SyncEngine.run(
    id,
    "example-script",
    source(everyone.filter((u) => u !== "user-1" && u !== "user-2"), everyone.filter((u) => u !== "user-2"))
  )

  // An organisation that suddenly lists nobody is held for an admin, not applied.
  const third = yield* SyncEngine.run(id, "example-script", source([], everyone))
  const page = yield* inventory.listAccounts({ connectionId: id, status: "deprovisioned", limit: 10 })
  return {
    second: {
      status: second.status,
      absentConfirmed: second.stats.absentConfirmed,
      absentButPresent: second.stats.absentButPresent
    },
    third: { status: third.status, hold: third.hold?.reason },
    deprovisioned: page.data.map((a) => a.externalId)
  }
}).pipe(Effect.provide(MemoryStore.layer()))
