/**
 * The built host as a process: `node dist/main.js`, as `pnpm start` runs it.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { eventually } from "./support/Org.js"
import { launchHost, requireBuilt, tempDir } from "./support/Process.js"

const dirs: Array<string> = []
afterEach(() => {
  for (const dir of dirs.splice(0)) Fs.rmSync(dir, { recursive: true, force: true })
})

describe.skipIf(!requireBuilt("the process tests"))("host process", () => {
  it("Should refuse a non-loopback HOST without an explicit token, with exit code 1", async () => {
    const dir = tempDir("seatkeeper-process-test-")
    dirs.push(dir)
    const p = launchHost({ HOST: "0.0.0.0", SEATKEEPER_DATA_DIR: dir })
    expect((await p.exited).code).toBe(1)
    expect(p.stderr()).toContain("SEATKEEPER_ADMIN_TOKEN must be set")
    expect(p.lines.some((l) => l.logLevel === "ERROR")).toBe(true)
  })

  it("Should serve, log JSON lines without the token, and stop with exit code 0 on SIGTERM", async () => {
    const dir = tempDir("seatkeeper-process-test-")
    dirs.push(dir)
    const p = launchHost({ PORT: "0", SEATKEEPER_DATA_DIR: dir })
    const url = await p.listening
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const token = Fs.readFileSync(Path.join(dir, "admin-token"), "utf8").trim()

    expect((await fetch(`${url}/healthz`)).status).toBe(200)
    expect((await fetch(`${url}/api/connections`)).status).toBe(401)
    const ok = await fetch(`${url}/api/connections`, { headers: { authorization: `Bearer ${token}` } })
    expect(ok.status).toBe(200)
    // The request lines are written after the answers: wait for them before stopping. A passing health
    // check is not logged (an orchestrator's heartbeat); the two API requests are, with their statuses.
    const requests = () => p.lines.filter((l) => l.message === "request")
    await eventually("the request log lines", () => requests().length >= 2 ? true : undefined, 10_000)
    const fields = (l: Record<string, unknown>) => l.annotations as { path: string; status: number }
    expect(requests().map((l) => [fields(l).path, fields(l).status])).toEqual([["/api/connections", 401], [
      "/api/connections",
      200
    ]])

    p.child.kill("SIGTERM")
    expect((await p.exited).code).toBe(0)
    expect(p.lines.map((l) => l.message)).toEqual(
      expect.arrayContaining(["listening", "request", "stopping", "stopped"])
    )
    // Not a terminal: the generated token is not printed anywhere, only its file is named.
    expect(p.lines.map((l) => JSON.stringify(l)).join("\n")).not.toContain(token)
    expect(p.stderr()).not.toContain(token)
    expect(p.lines.find((l) => l.message === "generated an admin token")).toBeDefined()
  })
})
