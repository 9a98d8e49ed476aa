// The adapter as someone outside this repository gets it: core and the adapter packed (`pnpm pack`), then,
// in a fresh folder outside the workspace, installed with exactly the README's `npm install` line (the
// tarball put in place of the package name, nothing else changed), and the README's example run there,
// compiled to plain JavaScript, with `main(process.env)`. The package ships no sandbox, so the example runs
// against the SCIM service the other tests use (SCIMMY, test/scimServer.ts), started here on loopback.
import { assert, describe, it } from "@effect/vitest"
import { spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"
import { startScimServer } from "./scimServer.js"

const packageDir = fileURLToPath(new URL("..", import.meta.url))
const coreDir = join(packageDir, "..", "core")
const readme = readFileSync(join(packageDir, "README.md"), "utf8")

// npm and node as a user's shell runs them: no TTY, no colours, none of the variables of vitest or of the
// pnpm/npx that started it (npm_config_local_prefix, npm_config_yes, ...) but the registry and proxy settings.
const networkSettings = /^npm_config_(registry|@[^_]+:registry|cafile|ca|proxy|https_proxy|noproxy|strict_ssl)$/i
const env = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(([name]) =>
      !name.startsWith("VITEST") && name !== "NODE_OPTIONS" && name !== "FORCE_COLOR" &&
      (!/^(npm_|pnpm_)/i.test(name) || networkSettings.test(name))
    )
  ),
  NO_COLOR: "1",
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false"
}

/** Runs a command to its end; fails with its output if it exits non-zero or runs longer than `seconds`. */
const run = (
  command: string,
  args: ReadonlyArray<string>,
  cwd: string,
  seconds: number,
  extraEnv: Record<string, string> = {}
) =>
  new Promise<string>((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...env, ...extraEnv },
      stdio: ["ignore", "pipe", "pipe"],
      detached: true
    })
    let stdout = ""
    let stderr = ""
    let timedOut = false
    child.stdout.on("data", (chunk) => (stdout += chunk))
    child.stderr.on("data", (chunk) => (stderr += chunk))
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid!, "SIGKILL")
      } catch {
        // already gone
      }
    }, seconds * 1000)
    child.on("error", (error) => {
      clearTimeout(timer)
      reject(new Error(`cannot run ${command}: ${error.message}`))
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      if (code === 0 && !timedOut) return resolve(stdout)
      const what = timedOut ? `did not finish in ${seconds} s and was stopped` : `failed (exit ${code ?? signal})`
      reject(
        new Error(`\`${[command, ...args].join(" ")}\` in ${cwd} ${what}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`)
      )
    })
  })

const blocks = (markdown: string) =>
  [...markdown.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], body: m[2], at: m.index }))

/** The README's install line and the example after it. */
const documented = () => {
  const all = blocks(readme)
  const install = all.find((b) => b.lang === "sh" && /^npm install /m.test(b.body))
  assert.isDefined(install, "the README shows an ```sh block with an `npm install` line")
  const line = install!.body.split("\n").find((l) => l.startsWith("npm install "))!.trim()
  assert.notMatch(line, /["'`$\\|;&<>]/, "the install line is plain words (the test runs it without a shell)")
  const snippet = all.find((b) => b.lang === "ts" && b.at > install!.at)
  assert.isDefined(snippet, "the README shows a ```ts example after the install line")
  return { line, snippet: snippet!.body }
}

describe("published package", () => {
  it("installs with the README's npm line in a fresh folder and runs the README's example against SCIMMY", async () => {
    assert.isTrue(existsSync(join(packageDir, "dist", "index.js")), "build the package first (turbo's test task does)")
    const { line, snippet } = documented()
    const dir = mkdtempSync(join(tmpdir(), "seatkeeper-pack-"))
    const server = await startScimServer({ users: 130 })
    try {
      await run("npx", ["-y", "pnpm@10", "pack", "--pack-destination", dir], coreDir, 60)
      await run("npx", ["-y", "pnpm@10", "pack", "--pack-destination", dir], packageDir, 60)
      const tarballs = readdirSync(dir).filter((f) => f.endsWith(".tgz"))
      const tarball = (name: string) => {
        const prefix = `${name.replace(/^@/, "").replace("/", "-")}-`
        const file = tarballs.find((f) => f.startsWith(prefix) && /^\d/.test(f.slice(prefix.length)))
        assert.isDefined(file, `pnpm pack made a tarball of ${name} (made: ${tarballs.join(", ")})`)
        return join(dir, file!)
      }

      // The fresh folder: core is not on the registry yet, so npm takes the adapter's dependency on it from
      // core's tarball (overrides); the README's line itself only gets the adapter's tarball for its name.
      const appDir = join(dir, "app")
      mkdirSync(appDir)
      writeFileSync(
        join(appDir, "package.json"),
        JSON.stringify({
          name: "consumer",
          private: true,
          overrides: { "@seatkeeper/core": `file:${tarball("@seatkeeper/core")}` }
        })
      )
      const [npm, ...args] = line.split(/\s+/).map((word) => (word.startsWith("@seatkeeper/") ? tarball(word) : word))
      assert.strictEqual(npm, "npm")
      await run("npm", args, appDir, 120)

      // One copy of each Effect package, of the versions the adapter is built for: the peers.
      const installed = (name: string) =>
        JSON.parse(readFileSync(join(appDir, "node_modules", name, "package.json"), "utf8")).version as string
      assert.match(installed("effect"), /^3\./)
      assert.match(installed("@effect/platform"), /^0\.97\./)
      assert.match(installed("@effect/experimental"), /^0\.61\./, "npm added core's peer @effect/experimental")
      for (const pkg of ["@seatkeeper/core", "@seatkeeper/provider-scim"]) {
        for (const nested of ["effect", "@effect/platform", "@effect/experimental"]) {
          assert.isFalse(
            existsSync(join(appDir, "node_modules", pkg, "node_modules", nested)),
            `${pkg} has its own ${nested}`
          )
        }
      }
      // Types ship too.
      assert.isTrue(existsSync(join(appDir, "node_modules/@seatkeeper/provider-scim/dist/index.d.ts")))

      // The README's example as plain JavaScript, run as the README says: `main(process.env)`.
      const js = ts.transpileModule(snippet, {
        compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }
      }).outputText
      writeFileSync(join(appDir, "example.mjs"), js)
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
      await server.close()
      rmSync(dir, { recursive: true, force: true })
    }
  }, 180_000)
})
