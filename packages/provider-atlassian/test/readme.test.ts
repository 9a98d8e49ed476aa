// The README's example really runs: it is examples/list-and-suspend.ts, executed against the sandbox.
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { main } from "../examples/list-and-suspend.js"
import { startSandbox } from "../src/sandbox/index.js"

const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), "utf8")

describe("README", () => {
  it("shows the example file unchanged", () => {
    const example = read("../examples/list-and-suspend.ts").split("\n").slice(1).join("\n").trim()
    assert.include(read("../README.md"), example)
  })

  it("lists the accounts and suspends a stale one with only the adapter, effect and @effect/platform", async () => {
    const org = await startSandbox({ users: 40, seed: 3 })
    try {
      const stale = org.users().find((u) =>
        u.account_status === "active" &&
        (u.last_active === undefined || Date.parse(u.last_active) < Date.now() - 90 * 86_400_000)
      )
      assert.isDefined(stale, "the generated roster has a stale active account")
      const result = await main({
        ATLASSIAN_ORG_ID: org.orgId,
        ATLASSIAN_API_KEY: org.apiKey,
        ATLASSIAN_ADMIN_EMAIL: "admin@example.com",
        ATLASSIAN_BASE_URL: org.url
      })
      assert.strictEqual(result.accounts, 40)
      assert.isString(result.suspended)
      assert.strictEqual(result.method, "lifecycle")
      assert.strictEqual(org.user(result.suspended!)!.account_status, "inactive")
      const disable = org.requests.find((r) => r.path.endsWith("/manage/lifecycle/disable"))
      assert.deepStrictEqual(disable?.body, { message: "Inactive for 90 days" })
    } finally {
      await org.close()
    }
  })
})
