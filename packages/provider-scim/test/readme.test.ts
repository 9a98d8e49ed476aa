// The README's example really runs: it is examples/offboard-leavers.ts, executed against SCIMMY.
import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { main } from "../examples/offboard-leavers.js"
import { startScimServer } from "./scimServer.js"

const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), "utf8")

describe("README", () => {
  it("shows the example file unchanged", () => {
    const example = read("../examples/offboard-leavers.ts").split("\n").slice(1).join("\n").trim()
    assert.include(read("../README.md"), example)
  })

  it("lists the users and suspends the leavers with only the adapter, effect and @effect/platform", async () => {
    const server = await startScimServer({ users: 130 })
    try {
      const leavers = server.users().filter((u) => u.active).slice(0, 2).map((u) => u.userName)
      const inactive = server.users().find((u) => !u.active)!.userName
      const result = await main({
        SCIM_APP_NAME: "SCIMMY",
        SCIM_BASE_URL: server.url,
        SCIM_TOKEN: server.token,
        LEAVERS: [...leavers, inactive, "someone@elsewhere.test"].join(",")
      })
      assert.strictEqual(result.accounts, 130)
      assert.deepStrictEqual(result.suspended, ["user-0001", "user-0002"])
      assert.deepStrictEqual(result.suspended.map((id) => server.user(id)!.active), [false, false])
      // Only the two active leavers were changed.
      assert.strictEqual(server.requests.filter((r) => r.method === "PATCH").length, 2)
    } finally {
      await server.close()
    }
  })
})
