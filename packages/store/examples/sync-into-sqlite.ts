// The README's example, executed by test/readme.test.ts.
import { Account, Connection, Inventory, Provider, SyncEngine } from "@seatkeeper/core"
import { SqlStore } from "@seatkeeper/store"
import { Effect, Option, Redacted, Stream } from "effect"

const person = (externalId: string) =>
  new Account.ProviderAccount({
    externalId,
    email: `${externalId}@acme.test`,
    displayName: externalId,
    accountType: "atlassian",
    status: "active",
    sourceStatus: "active",
    entitlements: []
  })

// A stand-in for a real provider's connection: one page with the source's total, and a lookup that finds
// only the accounts still listed (so an absent one is confirmed gone before it is deprovisioned).
const roster = (ids: ReadonlyArray<string>) =>
  Effect.succeed(Provider.makeConnection({
    provider: "example",
    budgetKey: "example:org",
    verify: Effect.void,
    requestStats: Effect.succeed({ requests: 1, retries: 0, rateLimited: 0 }),
    pages: Stream.make({ accounts: ids.map(person), total: ids.length }),
    lookup: (id) => Effect.succeed(ids.includes(id) ? Option.some(person(id)) : Option.none())
  }))

export const program = Effect.gen(function*() {
  const connections = yield* Connection.ConnectionStore
  const inventory = yield* Inventory.InventoryStore
  const connection = yield* connections.create({
    provider: "example",
    name: "Example org",
    config: { apiKey: "kept encrypted at rest" },
    // Deprovisioning 1 of 3 accounts is over the default 10 %: this org accepts up to half at once.
    holdThresholdPercent: 50
  })
  const settings = { settings: { holdThresholdPercent: connection.holdThresholdPercent } }
  // Each sync stages what it streams and applies it in one transaction once the stream is complete.
  yield* SyncEngine.run(connection.id, "example-script", roster(["ada", "ben", "cid"]), settings)
  const second = yield* SyncEngine.run(connection.id, "example-script", roster(["ada", "cid"]), settings)
  const page = yield* inventory.listAccounts({ connectionId: connection.id, limit: 10 })
  return {
    deprovisioned: second.stats.deprovisioned,
    statuses: page.data.map((a) => `${a.externalId}: ${a.status}`)
  }
})

export const main = (dataDir: string) =>
  program.pipe(
    Effect.provide(SqlStore.layerSqlite({
      filename: `${dataDir}/seatkeeper.db`,
      secretKey: Redacted.make("a passphrase or 32 random bytes in base64")
    })),
    Effect.runPromise
  )
