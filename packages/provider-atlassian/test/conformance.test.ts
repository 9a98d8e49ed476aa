// The core conformance suite, run against the sandbox: what every Seatkeeper provider must do.
import { runConformanceSuite } from "@seatkeeper/core/testing"
import * as Redacted from "effect/Redacted"
import { AtlassianProvider, mapStatus } from "../src/AtlassianProvider.js"
import { startSandbox } from "../src/sandbox/index.js"

const budget = { requests: 6, windowSeconds: 1 }

runConformanceSuite({
  provider: AtlassianProvider,
  sandbox: async () => {
    const org = await startSandbox({ users: 160, pageSize: 20, seed: 7 })
    const target = org.users().find((u) => u.account_status === "active")!.account_id
    const config = {
      organizationId: org.orgId,
      apiKey: Redacted.make(org.apiKey),
      adminEmail: "admin@example.com",
      baseUrl: org.url,
      rateLimit: budget
    }
    return {
      config,
      badCredentials: { ...config, apiKey: Redacted.make("revoked-key") },
      budget,
      expected: async () => org.users().map((u) => ({ externalId: u.account_id, status: mapStatus(u.account_status) })),
      requestTimes: async () => org.requests.map((r) => r.at),
      actionTarget: target,
      upstreamStatus: async (id) => mapStatus(org.user(id)!.account_status),
      close: () => org.close()
    }
  }
})
