// A package as someone outside this repository gets it, for the adapters' pack tests: core and the package
// packed (`pnpm pack`), then, in a fresh folder outside the workspace, installed with exactly the README's
// `npm install` line (the tarball put in place of the package name, nothing else changed), and the README's
// example compiled to plain JavaScript beside it. Each test then runs the example its own way.
import { spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import ts from "typescript"
import { assert } from "vitest"

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
export const run = (
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
const documented = (readme: string) => {
  const all = blocks(readme)
  const install = all.find((b) => b.lang === "sh" && /^npm install /m.test(b.body))
  assert.isDefined(install, "the README shows an ```sh block with an `npm install` line")
  const line = install!.body.split("\n").find((l) => l.startsWith("npm install "))!.trim()
  assert.notMatch(line, /["'`$\\|;&<>]/, "the install line is plain words (the test runs it without a shell)")
  const snippet = all.find((b) => b.lang === "ts" && b.at > install!.at)
  assert.isDefined(snippet, "the README shows a ```ts example after the install line")
  return { line, snippet: snippet!.body }
}

/** A fresh folder with the package installed as its README says, and the README's example as `example.mjs`. */
export interface PackedInstall {
  /** The folder of the tarballs and of `appDir`: remove it with `remove`. */
  readonly dir: string
  /** The consumer's folder: `node_modules`, `package.json`, `example.mjs`. */
  readonly appDir: string
  readonly remove: () => void
}

/**
 * Packs core and the package at `packageDir` (named `name`), installs them in a fresh folder with the README's
 * npm line, checks that the Effect packages are the peers' single copies of the versions the package is built
 * for and that types ship, and writes the README's example there as plain JavaScript.
 */
export const installPacked = async (packageDir: string, name: string): Promise<PackedInstall> => {
  assert.isTrue(existsSync(join(packageDir, "dist", "index.js")), "build the package first (turbo's test task does)")
  const coreDir = join(packageDir, "..", "core")
  const { line, snippet } = documented(readFileSync(join(packageDir, "README.md"), "utf8"))
  const dir = mkdtempSync(join(tmpdir(), "seatkeeper-pack-"))
  const remove = () => rmSync(dir, { recursive: true, force: true })
  try {
    await run("npx", ["-y", "pnpm@10", "pack", "--pack-destination", dir], coreDir, 60)
    await run("npx", ["-y", "pnpm@10", "pack", "--pack-destination", dir], packageDir, 60)
    const tarballs = readdirSync(dir).filter((f) => f.endsWith(".tgz"))
    const tarball = (packageName: string) => {
      const prefix = `${packageName.replace(/^@/, "").replace("/", "-")}-`
      const file = tarballs.find((f) => f.startsWith(prefix) && /^\d/.test(f.slice(prefix.length)))
      assert.isDefined(file, `pnpm pack made a tarball of ${packageName} (made: ${tarballs.join(", ")})`)
      return join(dir, file!)
    }

    // The fresh folder: core is not on the registry yet, so npm takes the package's dependency on it from
    // core's tarball (overrides); the README's line itself only gets the package's tarball for its name.
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

    // One copy of each Effect package, of the versions the package is built for: the peers.
    const installed = (packageName: string) =>
      JSON.parse(readFileSync(join(appDir, "node_modules", packageName, "package.json"), "utf8")).version as string
    assert.match(installed("effect"), /^3\./)
    assert.match(installed("@effect/platform"), /^0\.97\./)
    assert.match(installed("@effect/experimental"), /^0\.61\./, "npm added core's peer @effect/experimental")
    for (const pkg of ["@seatkeeper/core", name]) {
      for (const nested of ["effect", "@effect/platform", "@effect/experimental"]) {
        assert.isFalse(
          existsSync(join(appDir, "node_modules", pkg, "node_modules", nested)),
          `${pkg} has its own ${nested}`
        )
      }
    }
    // Types ship too.
    assert.isTrue(existsSync(join(appDir, "node_modules", name, "dist", "index.d.ts")))

    const js = ts.transpileModule(snippet, {
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 }
    }).outputText
    writeFileSync(join(appDir, "example.mjs"), js)
    return { dir, appDir, remove }
  } catch (error) {
    remove()
    throw error
  }
}
