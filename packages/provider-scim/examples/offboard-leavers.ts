// The README's example, executed by test/readme.test.ts against a real SCIM service (SCIMMY) on loopback.
import { FetchHttpClient } from "@effect/platform"
import { layer, Scim } from "@seatkeeper/provider-scim"
import { Effect, Redacted, Stream } from "effect"

export const program = (leavers: ReadonlySet<string>) =>
  Effect.gen(function*() {
    const scim = yield* Scim

    // Every user, with groups, roles and entitlements: the stream ends only when totalResults is reached
    // (or the last cursor page), and fails with reason "Incomplete" if fewer users came back. A user whose
    // response carries no groups, roles or entitlements has `entitlements: undefined`: the app did not say.
    const accounts = yield* Stream.runCollect(scim.accounts)
    for (const account of accounts) {
      const access = account.entitlements?.map((e) => e.displayName).join(", ") ?? "(access not reported)"
      console.log(`${account.displayName} <${account.email ?? "no email"}> ${account.status} ${access}`)
    }

    // Suspend (active=false) the active accounts of people who left. The receipt names what was done:
    // method "scim-active", "Set active=false over SCIM (PATCH)"; a restore with that method undoes it.
    const suspended: Array<string> = []
    const methods: Array<string> = []
    for (const account of accounts) {
      if (account.status === "active" && account.email !== undefined && leavers.has(account.email)) {
        const receipt = yield* scim.suspend(account, { reason: "Left the company" })
        suspended.push(account.externalId)
        methods.push(receipt.methodLabel)
      }
    }
    return { accounts: accounts.length, suspended, methods }
  })

export const main = (env: Record<string, string | undefined>) =>
  program(new Set((env.LEAVERS ?? "").split(",").filter((email) => email !== ""))).pipe(
    Effect.provide(layer({
      appName: env.SCIM_APP_NAME ?? "SCIM app",
      baseUrl: env.SCIM_BASE_URL ?? "", // e.g. https://api.example.com/scim/v2
      bearerToken: Redacted.make(env.SCIM_TOKEN ?? "")
    })),
    Effect.provide(FetchHttpClient.layer),
    Effect.runPromise
  )
