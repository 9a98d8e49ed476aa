// The README's example, executed by test/readme.test.ts against the sandbox.
import { FetchHttpClient } from "@effect/platform"
import { Atlassian, layer } from "@seatkeeper/provider-atlassian"
import { Effect, Redacted, Stream } from "effect"

export const program = Effect.gen(function*() {
  const atlassian = yield* Atlassian

  // Every managed account, with its products: the stream ends only when Atlassian has no next page,
  // and fails with reason "Incomplete" if fewer accounts came back than Atlassian reported.
  const accounts = yield* Stream.runCollect(atlassian.accounts)
  for (const account of accounts) {
    const products = (account.entitlements ?? []).map((e) => e.displayName).join(", ")
    console.log(`${account.displayName} <${account.email ?? "hidden"}> ${account.status} ${products}`)
  }

  // Suspend the first active account that has not been active for 90 days. Given the account itself, the
  // adapter picks the method that fits it; the receipt names it (`lifecycle` for a managed account), so a
  // later restore can undo exactly that: atlassian.restore(stale, { method: receipt.method }).
  const cutoff = Date.now() - 90 * 24 * 60 * 60 * 1000
  const stale = [...accounts].find((a) =>
    a.status === "active" && (a.lastActiveAt === undefined || Date.parse(a.lastActiveAt) < cutoff)
  )
  if (stale === undefined) return { accounts: accounts.length, suspended: undefined, method: undefined }
  const receipt = yield* atlassian.suspend(stale, { reason: "Inactive for 90 days" })
  return { accounts: accounts.length, suspended: stale.externalId, method: receipt.method }
})

export const main = (env: Record<string, string | undefined>) =>
  program.pipe(
    Effect.provide(layer({
      organizationId: env.ATLASSIAN_ORG_ID ?? "",
      apiKey: Redacted.make(env.ATLASSIAN_API_KEY ?? ""),
      adminEmail: env.ATLASSIAN_ADMIN_EMAIL ?? "",
      baseUrl: env.ATLASSIAN_BASE_URL // leave unset for https://api.atlassian.com
    })),
    Effect.provide(FetchHttpClient.layer),
    Effect.runPromise
  )
