// The core conformance suite against the sandbox: what every Seatkeeper provider must do. It passes
// before any real API code is written; keep it passing as the client and the sandbox learn the real API.
import { runConformanceSuite } from "@seatkeeper/core/testing"
import * as Redacted from "effect/Redacted"
import { __NAME__Provider, mapStatus } from "../src/__NAME__Provider.js"
import { startSandbox } from "../src/sandbox/index.js"

const budget = { requests: 5, windowSeconds: 1 }

runConformanceSuite({
  provider: __NAME__Provider,
  sandbox: async () => {
    const sandbox = await startSandbox({ users: 45, pageSize: 10 })
    const config = { baseUrl: sandbox.url, apiKey: Redacted.make(sandbox.apiKey), rateLimit: budget }
    return {
      config,
      badCredentials: { ...config, apiKey: Redacted.make("revoked-key") },
      budget,
      expected: async () => sandbox.users().map((u) => ({ externalId: u.id, status: mapStatus(u.status) })),
      requestTimes: async () => sandbox.requests.map((r) => r.at),
      actionTarget: sandbox.users().find((u) => u.status === "active")!.id,
      upstreamStatus: async (id) => mapStatus(sandbox.user(id)!.status),
      // For the lookup case: a removed user must look up as gone (None), as the sync engine relies on.
      removeAccount: async (id) => sandbox.remove(id),
      close: () => sandbox.close()
    }
  }
})
