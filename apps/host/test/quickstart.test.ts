// The root README's quick start, as a new user runs it: its commands ask nothing (`npx -y`), and the
// install-and-demo line, exactly as written, works in a fresh `git clone` with no terminal (stdin closed, no
// TTY, as in CI, a Dockerfile or a script): it installs, builds, prints the demo's URL, answers /healthz,
// and stops on SIGTERM.
//
// The clone is of HEAD (committed files only); the command is the one in this checkout's README, which in
// CI is HEAD's too.
import { assert, describe, it } from "@effect/vitest"
import { spawn, spawnSync } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { delimiter, join, resolve } from "node:path"
import { fileURLToPath } from "node:url"

const root = resolve(fileURLToPath(new URL("../../..", import.meta.url)))
const readme = readFileSync(join(root, "README.md"), "utf8")

const shBlocks = [...readme.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1].trim())
const quickStart = (what: RegExp) => {
  const block = shBlocks.find((b) => /\binstall\b/.test(b) && b.split("&&").slice(1).some((part) => what.test(part)))
  assert.isDefined(block, `the README's quick start has an \`install && ... ${what.source}\` command`)
  return block!
}

const gitMissing = spawnSync("git", ["--version"], { stdio: "ignore" }).error !== undefined
if (gitMissing) console.warn("skipping the fresh-clone quick start test: git is not installed")

// A new user's shell: none of the variables this test run inherits from vitest, pnpm, turbo or the
// repository's services (`npx -y pnpm@10 test` itself passes npm_config_yes=true down), no node_modules/.bin
// of this workspace on PATH, and an empty npm cache, so npx has to fetch pnpm. npm 7+ only warns when it
// fetches without -y in a shell with no terminal, unless `yes` is false (as on the reporter's machine, or
// with `yes=false` in an .npmrc): then it stops with "npx canceled due to missing packages and no YES
// option". The run sets it false, so a command without -y fails here as it did there.
const networkSettings = /^npm_config_(registry|@[^_]+:registry|cafile|ca|proxy|https_proxy|noproxy|strict_ssl)$/i
const freshEnv = (npmCache: string): NodeJS.ProcessEnv => {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) =>
      (!/^(VITEST|npm_|PNPM_|TURBO_|SEATKEEPER_)/i.test(name) || networkSettings.test(name)) &&
      !["NODE_OPTIONS", "FORCE_COLOR", "INIT_CWD", "DATABASE_URL", "REDIS_URL", "HOST", "PORT"].includes(name)
    )
  )
  env.PATH = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => !dir.includes("node_modules/.bin") && !resolve(dir).startsWith(root))
    .join(delimiter)
  // Any free port, so the demo never collides with another host on this machine.
  env.PORT = "0"
  env.NO_COLOR = "1"
  env.npm_config_cache = npmCache
  env.npm_config_yes = "false"
  return env
}

describe("README quick start", () => {
  it("asks nothing: every npx in the README runs with -y", () => {
    for (const command of [quickStart(/\b(demo|start)\b/), quickStart(/\btest\b/)]) {
      for (const step of command.split("&&").map((s) => s.trim())) {
        assert.match(
          step,
          /^npx (-y|--yes) /,
          `"${step}" in \`${command}\` runs with only Node.js and npm, without a prompt`
        )
      }
    }
    // Every npx command in the README: in a code block (a line, or after &&) or in inline code.
    const npx = [...readme.matchAll(/(?:^|`|&&\s*)(npx\s[^`\n&]*)/gm)].map((m) => m[1].trim())
    assert.isAbove(npx.length, 0)
    for (const use of npx) assert.match(use, /^npx (-y|--yes) /, `"${use}" in the README would stop at npx's prompt`)
  })

  it.skipIf(gitMissing)(
    `\`install && demo\`, exactly as written, works in a fresh clone without a terminal${
      gitMissing ? " (skipped: no git)" : ""
    }`,
    async () => {
      const command = quickStart(/\b(demo|start)\b/)
      const dir = mkdtempSync(join(tmpdir(), "seatkeeper-quickstart-"))
      const clone = join(dir, "seatkeeper")
      let output = ""
      let child: ReturnType<typeof spawn> | undefined
      let exited: Promise<number | string> = Promise.resolve(0)
      const stopGroup = (signal: NodeJS.Signals) => {
        try {
          if (child?.pid !== undefined) process.kill(-child.pid, signal)
        } catch {
          // already gone
        }
      }
      try {
        const cloned = spawnSync("git", ["clone", "--quiet", root, clone], {
          encoding: "utf8",
          stdio: ["ignore", "pipe", "pipe"],
          timeout: 60_000
        })
        assert.strictEqual(cloned.status, 0, `git clone ${root} failed: ${cloned.stderr}${cloned.error?.message ?? ""}`)

        const started = Date.now()
        child = spawn("sh", ["-c", command], {
          cwd: clone,
          env: freshEnv(join(dir, "npm-cache")),
          stdio: ["ignore", "pipe", "pipe"],
          detached: true
        })
        child.stdout!.on("data", (chunk) => (output += chunk))
        child.stderr!.on("data", (chunk) => (output += chunk))
        exited = new Promise((done) => child!.on("exit", (code, signal) => done(code ?? signal ?? "?")))

        // Up to 8 minutes for install, build and start (about one on this machine, with pnpm's store warm).
        const url = await new Promise<string>((done, fail) => {
          const timer = setTimeout(
            () => fail(new Error(`\`${command}\` printed no URL in 8 minutes. Its output:\n${output}`)),
            480_000
          )
          const look = () => {
            const found = /Web UI and API:\s+(http:\/\/\S+)/.exec(output)
            if (found) {
              clearTimeout(timer)
              done(found[1])
            }
          }
          child!.stdout!.on("data", look)
          child!.stderr!.on("data", look)
          void exited.then((status) => {
            clearTimeout(timer)
            fail(new Error(`\`${command}\` ended (${status}) before printing a URL. Its output:\n${output}`))
          })
        })
        console.log(
          `quick start: \`${command}\` in a fresh clone printed ${url} after ${
            ((Date.now() - started) / 1000).toFixed(1)
          } s`
        )

        const health = await fetch(`${url}/healthz`)
        assert.strictEqual(health.status, 200)
        assert.deepStrictEqual(await health.json(), { status: "ok" })

        // Ctrl+C's cousin: SIGTERM to the whole command (sh, npx, pnpm, node); the demo stops cleanly.
        stopGroup("SIGTERM")
        const status = await Promise.race([
          exited,
          new Promise((done) => setTimeout(() => done("still running"), 20_000))
        ])
        assert.notStrictEqual(
          status,
          "still running",
          `the demo did not stop within 20 s of SIGTERM. Its output:\n${output}`
        )
      } finally {
        stopGroup("SIGKILL")
        rmSync(dir, { recursive: true, force: true })
      }
    },
    600_000
  )
})
