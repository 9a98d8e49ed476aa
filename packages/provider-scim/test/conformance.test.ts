// The core conformance suite, run against a real SCIM service (SCIMMY on express, on loopback): what every
// Seatkeeper provider must do, with the cases of the capabilities SCIM declares (lookup, preflight, suspend,
// restore; no licenses: SCIM has no licence concept).
import { runConformanceSuite } from "@seatkeeper/core/testing"
import * as Redacted from "effect/Redacted"
import type { ScimConfig } from "../src/ScimConfig.js"
import { mapStatus, ScimProvider } from "../src/ScimProvider.js"
import { startScimServer } from "./scimServer.js"

const budget = { requests: 6, windowSeconds: 1 }

runConformanceSuite<ScimConfig>({
  provider: ScimProvider,
  sandbox: async () => {
    const server = await startScimServer({ users: 75 })
    const target = server.users().find((u) => u.active)!.id
    const config: ScimConfig = {
      appName: "SCIMMY",
      baseUrl: server.url,
      bearerToken: Redacted.make(server.token),
      rateLimit: budget,
      // Pages of 10: the listing takes several budget windows.
      dialect: { pageSizeCap: 10 }
    }
    return {
      config,
      badCredentials: { ...config, bearerToken: Redacted.make("revoked-token") },
      budget,
      expected: async () => server.users().map((u) => ({ externalId: u.id, status: mapStatus(u.active) })),
      requestTimes: async () => server.requests.map((r) => r.at),
      actionTarget: target,
      upstreamStatus: async (id) => mapStatus(server.user(id)!.active),
      // The lookup case removes a user and expects GET /Users/{id} to answer 404 (SCIMMY's own).
      removeAccount: async (id) => server.remove(id),
      // No refusedTarget: the preflight refuses only under the `delete` dialect, where the suite could not
      // suspend at all (ScimProvider.test.ts covers that refusal).
      close: () => server.close()
    }
  }
})
