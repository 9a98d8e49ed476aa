// The README's example, executed by test/readme.test.ts.
import { Account, LicenseStore, Provider, SyncEngine } from "@seatkeeper/core"
import { SqlLicenseStore } from "@seatkeeper/store"
import { Effect, Redacted, Stream } from "effect"

const person = (externalId: string, status: Account.AccountStatus) =>
  new Account.ProviderAccount({
    externalId,
    email: `${externalId}@acme.test`,
    displayName: externalId,
    accountType: "atlassian",
    status,
    sourceStatus: status,
    entitlements: []
  })

// A stand-in for a real provider's connection: one page with the source's total.
const roster = (ids: ReadonlyArray<string>) =>
  Effect.succeed(Provider.makeConnection({
    provider: "example",
    budgetKey: "example:org",
    verify: Effect.void,
    requestStats: Effect.succeed({ requests: 1, retries: 0, rateLimited: 0 }),
    pages: Stream.make({ accounts: ids.map((id) => person(id, "active")), total: ids.length })
  }))

export const program = Effect.gen(function*() {
  const store = yield* LicenseStore.LicenseStore
  const connection = yield* store.createConnection({
    provider: "example",
    name: "Example org",
    config: { apiKey: "kept encrypted at rest" },
    syncIntervalMinutes: 0
  })
  // Each sync stages what it streams and applies it in one transaction once the stream is complete.
  yield* SyncEngine.run(connection.id, "example-script", roster(["ada", "ben", "cid"]))
  const second = yield* SyncEngine.run(connection.id, "example-script", roster(["ada", "cid"]))
  const page = yield* store.listAccounts({ connectionId: connection.id, limit: 10 })
  return {
    deprovisioned: second.stats.deprovisioned,
    statuses: page.data.map((a) => `${a.externalId}: ${a.status}`)
  }
})

export const main = (dataDir: string) =>
  program.pipe(
    Effect.provide(SqlLicenseStore.layerSqlite({
      filename: `${dataDir}/seatkeeper.db`,
      secretKey: Redacted.make("a passphrase or 32 random bytes in base64")
    })),
    Effect.runPromise
  )
