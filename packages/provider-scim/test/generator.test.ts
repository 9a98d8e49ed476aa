// `pnpm new-provider` (scripts/new-provider.mjs) scaffolds a provider package that type-checks, builds and
// passes the core conformance suite against its generated sandbox, before any real API code is written.
// The package is generated into a git-ignored folder of the repository (.tmp/), linked to the workspace's
// core and to this package's effect and vitest, checked with tsc, tested with vitest, and removed.
// (It lives here because the SCIM package is the guide's worked example; the generator has no package.)
import { assert, describe, it } from "@effect/vitest"
import { execFileSync, spawnSync } from "node:child_process"
import { existsSync, mkdirSync, readFileSync, realpathSync, rmdirSync, rmSync, symlinkSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const packageDir = fileURLToPath(new URL("..", import.meta.url))
const root = join(packageDir, "..", "..")
const script = join(root, "scripts", "new-provider.mjs")

// Without the parent's vitest variables, so the nested run is a run of its own, and without colours.
const env = {
  ...Object.fromEntries(
    Object.entries(process.env).filter(([name]) =>
      !name.startsWith("VITEST") && name !== "NODE_OPTIONS" && name !== "FORCE_COLOR"
    )
  ),
  NO_COLOR: "1"
}

const run = (args: ReadonlyArray<string>, cwd: string) =>
  spawnSync(process.execPath, args, { cwd, env, encoding: "utf8", timeout: 240_000 })

const link = (generated: string, name: string, target: string) => {
  const at = join(generated, "node_modules", name)
  mkdirSync(join(at, ".."), { recursive: true })
  symlinkSync(target, at, "dir")
}

describe("new-provider generator", () => {
  it("scaffolds a package that type-checks, builds and passes the conformance suite", () => {
    assert.isTrue(
      existsSync(join(root, "packages", "core", "dist", "index.d.ts")),
      "build @seatkeeper/core first (turbo's test task does): the generated package builds against its types"
    )
    const parent = join(root, ".tmp", `generator-test-${process.pid}-${Date.now().toString(36)}`)
    mkdirSync(parent, { recursive: true })
    try {
      const created = execFileSync(process.execPath, [script, "acme-hr", "--name", "Acme HR", "--dir", parent], {
        cwd: root,
        encoding: "utf8"
      })
      const generated = join(parent, "provider-acme-hr")
      assert.include(created, "Created @seatkeeper/provider-acme-hr (Acme HR)")
      assert.include(created, "\"acme-hr\": AcmeHrProvider")
      for (
        const file of [
          "package.json",
          "tsconfig.json",
          "tsconfig.build.json",
          "vitest.config.ts",
          "README.md",
          "src/AcmeHrConfig.ts",
          "src/AcmeHrClient.ts",
          "src/AcmeHrProvider.ts",
          "src/index.ts",
          "src/sandbox/index.ts",
          "test/conformance.test.ts"
        ]
      ) assert.isTrue(existsSync(join(generated, file)), `${file} was not generated`)
      const manifest = JSON.parse(readFileSync(join(generated, "package.json"), "utf8"))
      assert.strictEqual(manifest.name, "@seatkeeper/provider-acme-hr")
      assert.strictEqual(manifest.exports["."]["@seatkeeper/source"], "./src/index.ts")
      assert.strictEqual(manifest.dependencies["@seatkeeper/core"], "workspace:^")
      // effect is a peer, as in the core and the other adapters: an app has one copy of it.
      assert.deepStrictEqual(Object.keys(manifest.dependencies), ["@seatkeeper/core"])
      assert.match(manifest.peerDependencies.effect, /^\^3\./)
      assert.notMatch(JSON.stringify(manifest), /__[A-Z_]+__/, "a placeholder was left in package.json")
      assert.notMatch(
        readFileSync(join(generated, "src/AcmeHrProvider.ts"), "utf8"),
        /__[A-Z]+__/,
        "a placeholder was left"
      )

      // What `pnpm install` would link, without touching the workspace's install.
      link(generated, "@seatkeeper/core", join(root, "packages", "core"))
      for (const dep of ["effect", "@effect/platform", "@effect/vitest", "vitest"]) {
        link(generated, dep, realpathSync(join(packageDir, "node_modules", dep)))
      }
      const tsc = join(packageDir, "node_modules", "typescript", "bin", "tsc")

      const typecheck = run([tsc, "-p", "tsconfig.json", "--noEmit"], generated)
      assert.strictEqual(typecheck.status, 0, `typecheck failed:\n${typecheck.stdout}${typecheck.stderr}`)
      const build = run([tsc, "-p", "tsconfig.build.json"], generated)
      assert.strictEqual(build.status, 0, `build failed:\n${build.stdout}${build.stderr}`)
      assert.isTrue(existsSync(join(generated, "dist", "sandbox", "index.js")))

      // The suite's budget check allows ~60 ms of arrival jitter on a 1 s window (core's budget margin); on a
      // heavily loaded machine the sandbox, in the same event loop, can record an arrival later than that.
      // A retry keeps this test about the generator; the check itself is core's and stays as strict.
      const test = run([
        join(generated, "node_modules", "vitest", "vitest.mjs"),
        "run",
        "--reporter=verbose",
        "--retry=2"
      ], generated)
      const output = `${test.stdout}${test.stderr}`
      assert.strictEqual(test.status, 0, `the conformance suite failed:\n${output}`)
      assert.include(output, "acme-hr provider conformance")
      // Accounts, budget, verify, lookup, suspend/restore.
      assert.match(output, /Tests\s+5 passed \(5\)/)
      assert.include(output, "looks an account up")
      assert.include(output, "suspends and restores an account")
    } finally {
      rmSync(parent, { recursive: true, force: true })
      try {
        rmdirSync(join(root, ".tmp")) // only when nothing else is in it
      } catch {
        // another run's files are there: leave them
      }
    }
  }, 300_000)

  it("refuses an id that cannot be a package, and a package that exists", () => {
    const bad = run([script, "Acme_HR"], root)
    assert.strictEqual(bad.status, 1)
    assert.include(bad.stderr, "\"Acme_HR\" is not a valid id")
    const existing = run([script, "scim"], root)
    assert.strictEqual(existing.status, 1)
    assert.include(existing.stderr, "already exists")
  })
})
