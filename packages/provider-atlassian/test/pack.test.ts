// The adapter as someone outside this repository gets it (test-support/packedInstall.ts: packed, installed in a
// fresh folder with exactly the README's `npm install` line), and the README's example run there, compiled to
// plain JavaScript, against the adapter's own sandbox from the installed package.
import { assert, describe, it } from "@effect/vitest"
import { writeFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { installPacked, run } from "../../../test-support/packedInstall.js"

const packageDir = fileURLToPath(new URL("..", import.meta.url))

describe("published package", () => {
  it(
    "installs with the README's npm line in a fresh folder and runs the README's example against the sandbox",
    async () => {
      const { appDir, remove } = await installPacked(packageDir, "@seatkeeper/provider-atlassian")
      try {
        // The README's example, run with `main(env)` against the installed sandbox.
        writeFileSync(
          join(appDir, "run.mjs"),
          `import { startSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { main } from "./example.mjs"

const org = await startSandbox({ users: 60, seed: 3 })
try {
  const result = await main({
    ATLASSIAN_ORG_ID: org.orgId,
    ATLASSIAN_API_KEY: org.apiKey,
    ATLASSIAN_ADMIN_EMAIL: "admin@example.com",
    ATLASSIAN_BASE_URL: org.url
  })
  const suspended = result.suspended === undefined ? undefined : org.user(result.suspended)
  console.log(JSON.stringify({ result, status: suspended?.account_status }))
} finally {
  await org.close()
}
`
        )
        const lines = (await run("node", ["run.mjs"], appDir, 60)).trim().split("\n")
        const output = JSON.parse(lines.pop()!)
        assert.strictEqual(output.result.accounts, 60)
        assert.isString(output.result.suspended, "the example found a stale account to suspend")
        assert.strictEqual(output.status, "inactive")
        // The example's own listing: one line per account.
        assert.strictEqual(lines.length, 60)
      } finally {
        remove()
      }
    },
    180_000
  )
})
