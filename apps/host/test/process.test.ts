/**
 * The built host as a process: `node dist/main.js`, as `pnpm start` runs it.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Url from "node:url"
import { afterEach, describe, expect, it } from "vitest"

const main = Path.join(Path.dirname(Url.fileURLToPath(import.meta.url)), "..", "dist", "main.js")
const built = Fs.existsSync(main)
if (!built) console.warn(`skipping process tests: ${main} is missing (run the build first; turbo's test task does)`)

const dirs: Array<string> = []
afterEach(() => {
  for (const dir of dirs.splice(0)) Fs.rmSync(dir, { recursive: true, force: true })
})

interface Spawned {
  readonly child: ChildProcess.ChildProcess
  readonly lines: Array<Record<string, unknown>>
  readonly stderr: () => string
  readonly exited: Promise<number | null>
  readonly waitForLog: (message: string) => Promise<Record<string, unknown>>
}

const spawn = (env: Record<string, string>): Spawned => {
  const child = ChildProcess.spawn(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const lines: Array<Record<string, unknown>> = []
  let stderr = ""
  const waiters: Array<() => void> = []
  let buffer = ""
  child.stdout!.on("data", (chunk: Buffer) => {
    buffer += chunk.toString("utf8")
    const parts = buffer.split("\n")
    buffer = parts.pop()!
    for (const line of parts) if (line.trim() !== "") lines.push(JSON.parse(line))
    for (const w of waiters.splice(0)) w()
  })
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)))
  const waitForLog = async (message: string) => {
    for (;;) {
      const found = lines.find((l) => l.message === message)
      if (found) return found
      await new Promise<void>((resolve) => waiters.push(resolve))
    }
  }
  return { child, lines, stderr: () => stderr, exited, waitForLog }
}

describe.skipIf(!built)("host process", () => {
  it("Should refuse a non-loopback HOST without an explicit token, with exit code 1", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "seatkeeper-process-test-"))
    dirs.push(dir)
    const p = spawn({ HOST: "0.0.0.0", SEATKEEPER_DATA_DIR: dir })
    expect(await p.exited).toBe(1)
    expect(p.stderr()).toContain("SEATKEEPER_ADMIN_TOKEN must be set")
    expect(p.lines.some((l) => l.logLevel === "ERROR")).toBe(true)
  })

  it("Should serve, log JSON lines without the token, and stop with exit code 0 on SIGTERM", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "seatkeeper-process-test-"))
    dirs.push(dir)
    const p = spawn({ PORT: "0", SEATKEEPER_DATA_DIR: dir })
    const listening = await p.waitForLog("listening")
    const url = (listening.annotations as { url: string }).url
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const token = Fs.readFileSync(Path.join(dir, "admin-token"), "utf8").trim()

    expect((await fetch(`${url}/healthz`)).status).toBe(200)
    expect((await fetch(`${url}/api/connections`)).status).toBe(401)
    const ok = await fetch(`${url}/api/connections`, { headers: { authorization: `Bearer ${token}` } })
    expect(ok.status).toBe(200)

    p.child.kill("SIGTERM")
    expect(await p.exited).toBe(0)
    expect(p.lines.map((l) => l.message)).toEqual(expect.arrayContaining(["listening", "request", "stopping", "stopped"]))
    // Not a terminal: the generated token is not printed anywhere, only its file is named.
    expect(p.lines.map((l) => JSON.stringify(l)).join("\n")).not.toContain(token)
    expect(p.stderr()).not.toContain(token)
    expect(p.lines.find((l) => l.message === "generated an admin token")).toBeDefined()
  })
})
