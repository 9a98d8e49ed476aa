// The adapter as someone outside this repository gets it: `pnpm pack`, installed with npm in a fresh
// folder, imported from plain JavaScript, and run against its own sandbox.
import { assert, describe, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const packageDir = fileURLToPath(new URL("..", import.meta.url))
const coreDir = join(packageDir, "..", "core")
const run = (command: string, args: ReadonlyArray<string>, cwd: string) =>
  execFileSync(command, args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], timeout: 240_000 })

const app = `
import { FetchHttpClient } from "@effect/platform"
import { Atlassian, layer } from "@seatkeeper/provider-atlassian"
import { startSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { Effect, Redacted, Stream } from "effect"

const org = await startSandbox({ users: 120, pageSize: 25 })
const program = Effect.gen(function*() {
  const atlassian = yield* Atlassian
  const accounts = yield* Stream.runCollect(atlassian.accounts)
  yield* atlassian.suspend(org.users()[0].account_id, { reason: "packed" })
  return accounts.length
})
const count = await program.pipe(
  Effect.provide(layer({ organizationId: org.orgId, apiKey: Redacted.make(org.apiKey), adminEmail: "a@example.com", baseUrl: org.url })),
  Effect.provide(FetchHttpClient.layer),
  Effect.runPromise
)
console.log(JSON.stringify({ count, status: org.users()[0].account_status }))
await org.close()
`

describe("published package", () => {
  it("packs, installs outside the workspace and runs from plain JavaScript", () => {
    assert.isTrue(existsSync(join(packageDir, "dist", "index.js")), "build the package first (turbo's test task does)")
    const dir = mkdtempSync(join(tmpdir(), "seatkeeper-pack-"))
    try {
      run("npx", ["-y", "pnpm@10", "pack", "--pack-destination", dir], coreDir)
      run("npx", ["-y", "pnpm@10", "pack", "--pack-destination", dir], packageDir)
      const tarballs = readdirSync(dir).filter((f) => f.endsWith(".tgz"))
      const core = tarballs.find((f) => f.includes("core"))!
      const adapter = tarballs.find((f) => f.includes("provider-atlassian"))!
      const appDir = join(dir, "app")
      run("mkdir", ["-p", appDir], dir)
      writeFileSync(join(appDir, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }))
      writeFileSync(join(appDir, "app.mjs"), app)
      run("npm", [
        "install",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        join(dir, core),
        join(dir, adapter),
        "effect@3.22",
        "@effect/platform@0.97"
      ], appDir)
      const output = JSON.parse(run("node", ["app.mjs"], appDir).trim().split("\n").pop()!)
      assert.deepStrictEqual(output, { count: 120, status: "inactive" })
      // Types ship too.
      assert.isTrue(existsSync(join(appDir, "node_modules/@seatkeeper/provider-atlassian/dist/index.d.ts")))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 300_000)
})
