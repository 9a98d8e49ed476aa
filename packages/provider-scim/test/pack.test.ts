// The adapter as someone outside this repository gets it (test-support/packedInstall.ts: packed, installed in a
// fresh folder with exactly the README's `npm install` line), and the README's example run there, compiled to
// plain JavaScript, with `main(process.env)`. The package ships no sandbox, so the example runs against the
// SCIM service the other tests use (SCIMMY, test/scimServer.ts), started here on loopback.
import { assert, describe, it } from "@effect/vitest"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { installPacked, run } from "../../../test-support/packedInstall.js"
import { startScimServer } from "./scimServer.js"

const packageDir = fileURLToPath(new URL("..", import.meta.url))

describe("published package", () => {
  it("installs with the README's npm line in a fresh folder and runs the README's example against SCIMMY", async () => {
    const server = await startScimServer({ users: 130 })
    try {
      const { appDir, remove } = await installPacked(packageDir, "@seatkeeper/provider-scim")
      try {
        // The README's example, run as the README says: `main(process.env)`.
        writeFileSync(
          join(appDir, "run.mjs"),
          `import { main } from "./example.mjs"

console.log(JSON.stringify(await main(process.env)))
`
        )
        const leavers = server.users().filter((u) => u.active).slice(0, 2).map((u) => u.userName)
        // The child's requests need this process's event loop free to answer: run() is asynchronous.
        const lines = (await run("node", ["run.mjs"], appDir, 60, {
          SCIM_APP_NAME: "SCIMMY",
          SCIM_BASE_URL: server.url,
          SCIM_TOKEN: server.token,
          LEAVERS: [...leavers, "someone@elsewhere.test"].join(",")
        })).trim().split("\n")
        const result = JSON.parse(lines.pop()!)
        assert.strictEqual(result.accounts, 130)
        assert.deepStrictEqual(result.suspended, ["user-0001", "user-0002"])
        assert.deepStrictEqual(result.suspended.map((id: string) => server.user(id)!.active), [false, false])
        assert.strictEqual(server.requests.filter((r) => r.method === "PATCH").length, 2)
        // The example's own listing: one line per user.
        assert.strictEqual(lines.length, 130)
      } finally {
        remove()
      }
    } finally {
      await server.close()
    }
  }, 180_000)
})
