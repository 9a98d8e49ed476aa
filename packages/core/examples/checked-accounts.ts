// The README's example, executed by test/readme.test.ts.
import { Account, Provider } from "@seatkeeper/core"
import { Effect, Either, Stream } from "effect"

const account = (externalId: string, status: Account.AccountStatus) =>
  new Account.ProviderAccount({
    externalId,
    displayName: externalId,
    accountType: "human",
    status,
    sourceStatus: status,
    entitlements: [
      new Account.Entitlement({
        key: "wiki:acme",
        product: "wiki",
        site: "acme",
        displayName: Account.entitlementName("Wiki", "acme"),
        status: "active"
      })
    ]
  })

// An adapter supplies pages as its source returns them; core derives the checked account stream.
const connectionOf = (pages: ReadonlyArray<Provider.AccountPage>) =>
  Provider.makeConnection({
    provider: "example",
    budgetKey: "example:org-1",
    verify: Effect.void,
    requestStats: Effect.succeed({ requests: pages.length, retries: 0, rateLimited: 0 }),
    pages: Stream.fromIterable(pages)
  })

export const program = Effect.gen(function*() {
  // Two pages; "b" appears on both because the roster moved while paging: it is streamed once.
  const complete = connectionOf([
    { accounts: [account("a", "active"), account("b", "suspended")], total: 3 },
    { accounts: [account("b", "suspended"), account("c", "active")], total: 3 }
  ])
  const all = yield* Stream.runCollect(complete.accounts)

  // The source said 3 but returned 2: the stream fails instead of ending, so nothing downstream
  // mistakes a truncated roster for a complete one.
  const truncated = connectionOf([{ accounts: [account("a", "active"), account("b", "active")], total: 3 }])
  const result = yield* Effect.either(Stream.runDrain(truncated.accounts))

  return {
    ids: [...all].map((a) => a.externalId),
    truncated: Either.isLeft(result) ? result.left.reason : "complete"
  }
})
