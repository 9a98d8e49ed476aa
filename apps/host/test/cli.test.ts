// The `seatkeeper` CLI (the host package's bin, built on @effect/cli), run as a user would against a
// running host: sync a connection, list idle accounts and seats as a table, JSON and CSV.
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Url from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connect, makeSandbox } from "./support/Org.js"
import { ADMIN_TOKEN, makeTestHost, type TestHost } from "./support/TestHost.js"

const CLI = Path.join(Path.dirname(Url.fileURLToPath(import.meta.url)), "..", "dist", "cli", "main.js")

const cli = (args: ReadonlyArray<string>, env: Record<string, string>) =>
  new Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }>((resolve) => {
    const child = ChildProcess.spawn(process.execPath, [CLI, ...args], {
      env: { PATH: process.env.PATH ?? "", NO_COLOR: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")))
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")))
    child.on("exit", (code) => resolve({ code, stdout, stderr }))
  })

// Built by turbo before the tests run; CI (SEATKEEPER_REQUIRE_SERVICES=1) fails instead of skipping without it.
describe.skipIf(!Fs.existsSync(CLI) && process.env.SEATKEEPER_REQUIRE_SERVICES !== "1")("seatkeeper CLI", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let env: Record<string, string>
  let id: string
  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 150, pageSize: 50 })
    t = await makeTestHost({ listen: true })
    id = await connect(t.request, sandbox, { name: "Acme CLI" })
    env = { SEATKEEPER_URL: t.url!, SEATKEEPER_TOKEN: ADMIN_TOKEN }
  })
  afterAll(async () => {
    await t?.close()
    await sandbox?.close()
  })

  it("syncs a connection by name and waits for the run's end", async () => {
    const out = await cli(["sync", "Acme CLI"], env)
    expect(out.code, out.stderr).toBe(0)
    expect(out.stdout).toMatch(/Acme CLI: sync \S+ succeeded \(150 accounts, 150 created/)
  })

  it("lists idle accounts holding a product, as JSON, CSV and a table, the same ones the API gives", async () => {
    const api =
      (await t.request("GET", `/api/connections/${id}/accounts?inactiveDays=90&product=jira-software&limit=500`)).body
    expect(api.total).toBeGreaterThan(0)
    const json = await cli(["accounts", id, "--inactive", "90", "--product", "jira-software", "--format", "json"], env)
    expect(json.code, json.stderr).toBe(0)
    const rows = JSON.parse(json.stdout)
    expect(rows.map((r: { externalId: string }) => r.externalId)).toEqual(
      api.data.map((a: { externalId: string }) => a.externalId)
    )
    const csv = await cli(
      ["accounts", "Acme CLI", "--inactive", "90", "--product", "jira-software", "--format", "csv"],
      env
    )
    expect(csv.stdout.trimEnd().split(/\r?\n/).length).toBe(api.total + 1)
    const table = await cli(["accounts", "Acme CLI", "--inactive", "90", "--product", "jira-software"], env)
    expect(table.stdout).toContain(`${api.total} accounts`)
  })

  it("lists unused seats", async () => {
    const api = (await t.request("GET", `/api/connections/${id}/seats?unusedDays=90&limit=1`)).body
    const out = await cli(["seats", "Acme CLI", "--unused", "90"], { ...env, SEATKEEPER_TOKEN: ADMIN_TOKEN })
    expect(out.code, out.stderr).toBe(0)
    expect(out.stdout).toContain(`${api.total} seats`)
  })

  it("makes, approves, executes and undoes a reclaim plan, the same plan the API shows", async () => {
    const policy = await t.request("POST", `/api/connections/${id}/policies`, {
      body: {
        policy: {
          name: "Idle Confluence",
          scope: { _tag: "seats", products: ["confluence"], plans: [] },
          inactiveDays: 90,
          exclude: { newerThanDays: 0 },
          fourEyesAbove: 1_000
        }
      }
    })
    expect(policy.status, policy.text).toBe(201)
    const made = await cli(["plans", "make", policy.body.id, "--format", "json"], env)
    expect(made.code, made.stderr).toBe(0)
    const plan = JSON.parse(made.stdout)
    expect(plan.accounts).toBeGreaterThan(0)
    expect((await t.request("GET", `/api/plans/${plan.id}`)).body.accounts).toBe(plan.accounts)

    const listed = await cli(["plans", "list", "--connection", "Acme CLI"], env)
    expect(listed.code, listed.stderr).toBe(0)
    expect(listed.stdout).toContain(plan.id)
    expect(listed.stdout).toContain("Idle Confluence")

    const approved = await cli(["plans", "approve", plan.id], env)
    expect(approved.code, approved.stderr).toBe(0)
    expect(approved.stdout).toContain("approved")

    const executed = await cli(["plans", "execute", plan.id], env)
    expect(executed.code, executed.stderr).toBe(0)
    expect(executed.stdout).toContain(`plan ${plan.id} (Idle Confluence) done`)
    const done = (await t.request("GET", `/api/plans/${plan.id}`)).body
    expect(executed.stdout).toContain(`done ${done.progress.done}, refused ${done.progress.refused}`)
    expect(done.progress.done + done.progress.refused + done.progress.failed).toBe(plan.accounts)

    const csv = await cli(["plans", "show", plan.id, "--format", "csv"], env)
    expect(csv.stdout.trimEnd().split(/\r?\n/).length).toBe(plan.accounts + 1)

    const undone = await cli(["plans", "undo", plan.id, "--format", "json"], env)
    expect(undone.code, undone.stderr).toBe(0)
    expect(JSON.parse(undone.stdout).undone).toBe(done.progress.done)
  })

  it("says what is wrong and what to do, with exit code 1", async () => {
    const badToken = await cli(["connections"], { ...env, SEATKEEPER_TOKEN: "not-the-token-0123456789" })
    expect(badToken.code).toBe(1)
    expect(badToken.stderr).toContain("--token or SEATKEEPER_TOKEN")
    const unknown = await cli(["sync", "No such org"], env)
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toContain(`no connection named or with id "No such org"`)
    expect(unknown.stderr).toContain("Acme CLI")
    const down = await cli(["connections"], { ...env, SEATKEEPER_URL: "http://127.0.0.1:9" })
    expect(down.code).toBe(1)
    expect(down.stderr).toContain("cannot reach the Seatkeeper host")
  })
})
