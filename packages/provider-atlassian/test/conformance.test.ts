// The core conformance suite, run against the sandbox: what every Seatkeeper provider must do.
import { runConformanceSuite } from "@seatkeeper/core/testing"
import * as Redacted from "effect/Redacted"
import { AtlassianProvider, mapDirectoryStatus } from "../src/AtlassianProvider.js"
import { compositeStatus, startSandbox } from "../src/sandbox/index.js"
import type { SandboxUser } from "../src/sandbox/index.js"

const budget = { requests: 6, windowSeconds: 1 }

// The status the sandbox holds, whichever method changed it: lifecycle sets `account_status`, a directory
// suspend the membership (the v2 composite status reads both).
const statusOf = (user: SandboxUser) => mapDirectoryStatus(compositeStatus(user), user.account_status)

runConformanceSuite({
  provider: AtlassianProvider,
  sandbox: async () => {
    const org = await startSandbox({ users: 160, pageSize: 20, seed: 7 })
    const active = org.users().filter((u) => u.account_status === "active" && u.platformRoles === undefined)
    const target = active[0]!.account_id
    // Provisioned by SCIM from the identity provider: Atlassian refuses to deactivate it.
    const scim = org.updateUser(active[1]!.account_id, { managedBy: "scim" }).account_id
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
      expected: async () => org.users().map((u) => ({ externalId: u.account_id, status: statusOf(u) })),
      requestTimes: async () => org.requests.map((r) => r.at),
      actionTarget: target,
      upstreamStatus: async (id) => statusOf(org.user(id)!),
      removeAccount: async (id) => org.removeUser(id),
      refusedTarget: { externalId: scim, reason: /SCIM/ },
      close: () => org.close()
    }
  }
})
