/**
 * DESIGN invariant 7: after a full admin session, the connection's API key is in no response, no log line,
 * no error message, and not in plaintext in the SQLite file (and its WAL) or any PostgreSQL table. The
 * admin token is in no log line either.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import * as LogLevel from "effect/LogLevel"
import * as fc from "fast-check"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { captureConsole, distinctiveSecret, findSecrets, makePgSchema, pgSkipReason } from "../support/Guarantees.js"
import { makeSandbox } from "../support/Org.js"
import { launchHost, requireBuilt, tempDir } from "../support/Process.js"
import { runSession, type SessionKeys } from "../support/Session.js"
import { httpClient, makeTestHost, type TestHost } from "../support/TestHost.js"

const keysFor = (sandbox: AtlassianSandbox): SessionKeys => ({
  apiKey: sandbox.apiKey,
  wrongKey: distinctiveSecret("WRONGKEY")
})

const sqliteFiles = (dataDir: string) =>
  Fs.readdirSync(dataDir).filter((f) => f.startsWith("seatkeeper.db")).map((f) => Path.join(dataDir, f))

/** Every SQLite file of `dataDir` (database, WAL, shared memory) searched byte by byte. */
const leaksInFiles = (dataDir: string, secrets: Record<string, string>) => {
  const files = sqliteFiles(dataDir)
  expect(files.map((f) => Path.basename(f))).toContain("seatkeeper.db")
  const found: Array<string> = []
  let bytes = 0
  for (const file of files) {
    const data = Fs.readFileSync(file)
    bytes += data.length
    for (const hit of findSecrets(data, secrets)) found.push(`${Path.basename(file)}: ${hit}`)
  }
  return { found, bytes, files: files.map((f) => Path.basename(f)) }
}

describe("the leak detector", () => {
  it("Should find a secret however it is embedded: plain, halved, URL-encoded, hex, base64 at any offset", () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: 16, maxLength: 60 }),
        fc.string({ maxLength: 20 }),
        fc.string({ maxLength: 20 }),
        (secret, before, after) => {
          const embeddings = [
            `${before}${secret}${after}`,
            `${before}${secret.slice(0, Math.ceil(secret.length / 2))}…`,
            `q=${encodeURIComponent(secret)}&x=${after}`,
            Buffer.from(`${before}${secret}`).toString("hex"),
            `Basic ${Buffer.from(`${before}:${secret}${after}`).toString("base64")}`,
            Buffer.from(`${before}${secret}`).toString("base64url")
          ]
          for (const text of embeddings) expect(findSecrets(text, { secret }), text).not.toEqual([])
          expect(findSecrets(Buffer.from(`${before}${secret}`, "utf16le"), { secret })).not.toEqual([])
        }
      ),
      { numRuns: 300 }
    )
  })
})

describe("secrets stay secret (in process, SQLite, every log level)", () => {
  let sandbox: AtlassianSandbox
  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 30, pageSize: 10, seed: 21, apiKey: distinctiveSecret("ATSECRETKEY") })
  })
  afterAll(() => sandbox.close())

  it("Should keep the API key out of every response, log line, error and the database file", async () => {
    const keys = keysFor(sandbox)
    const adminToken = distinctiveSecret("ADMINTOKEN")
    const capture = captureConsole()
    let t: TestHost | undefined
    try {
      t = await makeTestHost({ adminToken, logLevel: LogLevel.All, requestLog: true })
      const session = await runSession(t.request, sandbox, keys)
      expect(session.runs.map((r) => r.status)).toEqual(["succeeded", "failed", "discarded", "succeeded"])
      // The database as it is while the host runs (WAL not yet checkpointed) ...
      const running = leaksInFiles(t.dataDir, keys)
      await t.host.dispose()
      // ... and after it closed.
      const closed = leaksInFiles(t.dataDir, keys)
      capture.restore()

      const responses = t.responses.map((r) => `${r.method} ${r.path} ${r.status} ${r.headers} ${r.text}`)
      const logs = capture.lines.join("\n")
      expect(t.responses.length).toBeGreaterThan(25)
      // The logs are there to search: requests, syncs and the failures of the session.
      expect(logs).toContain(`"message":"request"`)
      expect(logs).toContain(`"message":"sync finished"`)
      expect(findSecrets(responses.join("\n"), keys)).toEqual([])
      expect(findSecrets(logs, { ...keys, adminToken })).toEqual([])
      expect(running.found).toEqual([])
      expect(closed.found).toEqual([])
      // The key was really used (so its absence means something): the sandbox saw it on every call.
      expect(sandbox.requests.filter((r) => r.authorized).length).toBeGreaterThan(5)
      console.log(
        `[secrets] sqlite in-process: ${t.responses.length} responses, ${capture.lines.length} log lines, ` +
          `${running.bytes + closed.bytes} database bytes (${running.files.join(", ")}) searched, 0 leaks`
      )
    } finally {
      capture.restore()
      if (t !== undefined) Fs.rmSync(t.dataDir, { recursive: true, force: true })
    }
  })
})

describe.skipIf(!requireBuilt("the process secrets test"))("secrets stay secret (node dist/main.js, SQLite)", () => {
  let sandbox: AtlassianSandbox
  const dirs: Array<string> = []
  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 30, pageSize: 10, seed: 22, apiKey: distinctiveSecret("ATSECRETKEY") })
  })
  afterAll(async () => {
    await sandbox.close()
    for (const dir of dirs) Fs.rmSync(dir, { recursive: true, force: true })
  })

  it("Should write no secret to stdout, stderr, responses or the database file", async () => {
    const keys = keysFor(sandbox)
    const adminToken = distinctiveSecret("ADMINTOKEN")
    const dataDir = tempDir("seatkeeper-security-process-")
    dirs.push(dataDir)
    const p = launchHost({
      PORT: "0",
      HOST: "127.0.0.1",
      SEATKEEPER_DATA_DIR: dataDir,
      SEATKEEPER_ADMIN_TOKEN: adminToken
    })
    try {
      const url = await p.listening
      const client = httpClient(url, adminToken)
      await runSession(client.request, sandbox, keys)
      const running = leaksInFiles(dataDir, keys)
      p.child.kill("SIGTERM")
      expect((await p.exited).code).toBe(0)
      const closed = leaksInFiles(dataDir, keys)

      const output = p.output()
      expect(output).toContain(`"message":"listening"`)
      expect(output).toContain(`"message":"sync finished"`)
      expect(findSecrets(output, { ...keys, adminToken })).toEqual([])
      expect(findSecrets(client.responses.map((r) => `${r.headers} ${r.text}`).join("\n"), { ...keys, adminToken }))
        .toEqual([])
      expect(running.found).toEqual([])
      expect(closed.found).toEqual([])
      console.log(
        `[secrets] sqlite process: ${client.responses.length} responses, ${output.split("\n").length} output lines, ` +
          `${running.bytes + closed.bytes} database bytes searched, 0 leaks`
      )
    } finally {
      if (p.child.exitCode === null) p.child.kill("SIGKILL")
    }
  })
})

describe("secrets stay secret (in process, PostgreSQL)", async () => {
  const skip = await pgSkipReason("the PostgreSQL secrets test")
  let sandbox: AtlassianSandbox
  beforeAll(async () => {
    if (skip !== undefined) return
    sandbox = await makeSandbox({ users: 30, pageSize: 10, seed: 23, apiKey: distinctiveSecret("ATSECRETKEY") })
  })
  afterAll(() => sandbox?.close())

  it.skipIf(skip !== undefined)("Should keep the API key out of every table, response and log line", async () => {
    const keys = keysFor(sandbox)
    const adminToken = distinctiveSecret("ADMINTOKEN")
    const schema = await makePgSchema()
    const capture = captureConsole()
    try {
      const t = await makeTestHost({
        adminToken,
        env: { DATABASE_URL: schema.url },
        logLevel: LogLevel.All,
        requestLog: true
      })
      try {
        await runSession(t.request, sandbox, keys)
        // One more connection that stays: a stored, encrypted config to search, not only deleted rows.
        const kept = await t.request("POST", "/api/connections", {
          body: {
            provider: "atlassian",
            name: "Kept",
            config: {
              organizationId: sandbox.orgId,
              apiKey: keys.apiKey,
              adminEmail: "a@b.example",
              baseUrl: sandbox.url
            }
          }
        })
        expect(kept.status).toBe(201)
      } finally {
        await t.close()
      }
      capture.restore()
      const dump = await schema.dump()
      // The dump has the tables and rows the session wrote: audit events and the kept connection.
      expect(dump).toContain("connection.create")
      expect(dump).toContain("Kept")
      expect(findSecrets(dump, keys)).toEqual([])
      expect(findSecrets(t.responses.map((r) => `${r.headers} ${r.text}`).join("\n"), keys)).toEqual([])
      expect(findSecrets(capture.lines.join("\n"), { ...keys, adminToken })).toEqual([])
      console.log(
        `[secrets] postgresql: ${dump.split("\n").filter((l) => l.startsWith("-- ")).length} tables, ` +
          `${dump.length} characters of rows searched, 0 leaks`
      )
    } finally {
      capture.restore()
      await schema.drop()
    }
  })
})
