/**
 * Issue 8, defect 6 (DESIGN invariants 7 and 12): an upstream error that echoes the request's headers,
 * `Authorization: Bearer <key>` included, must not carry the key into the run's error, an API response, a
 * log line, the audit trail or the store. Every echo form the sandbox offers (plain, URL-encoded, base64,
 * JSON-escaped) in every error shape, on a sync, a connection test and a suspend; every place searched for
 * every form of the key (plain, halves, URL-encoded, hex, base64 at any offset).
 *
 * On SQLite (database file and WAL) and PostgreSQL (a dump of every table).
 */
import type {
  AtlassianSandbox,
  SandboxFault,
  SandboxFaultStatus,
  SandboxFaultTarget
} from "@seatkeeper/provider-atlassian/sandbox"
import * as LogLevel from "effect/LogLevel"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import {
  captureConsole,
  distinctiveSecret,
  findSecrets,
  type OpenedStore,
  storeTargets
} from "../support/Guarantees.js"
import { connect, makeSandbox, sync, UNPACED } from "../support/Org.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"

type Echo = Extract<SandboxFault, { kind: "echoHeaders" }>
const ENCODINGS: ReadonlyArray<NonNullable<Echo["encoding"]>> = ["plain", "url", "base64", "json"]
const SHAPES: ReadonlyArray<NonNullable<Echo["shape"]>> = ["org", "user", "gateway", "text"]
/** What each echo hits: a sync's listing, a connection test, a suspend; permanent and retried statuses. */
const TARGETS: ReadonlyArray<{ readonly on: SandboxFaultTarget; readonly status: SandboxFaultStatus }> = [
  { on: "users", status: 403 },
  { on: "org", status: 401 },
  { on: "lifecycle", status: 400 },
  { on: "users", status: 500 },
  { on: "lifecycle", status: 503 },
  { on: "org", status: 404 }
]

const figures = { echoes: 0, places: 0, leaks: 0 }
afterAll(() => {
  console.log(
    `[echo] ${figures.echoes} upstream errors echoing the key (4 encodings x 4 shapes), ${figures.places} places searched, ${figures.leaks} leaks`
  )
})

describe.each(await storeTargets("the echoed-secret tests"))(
  "an upstream error that echoes the key ($name)",
  (target) => {
    const apiKey = distinctiveSecret("ATECHOKEY")
    let store: OpenedStore
    let sandbox: AtlassianSandbox

    beforeAll(async () => {
      store = await target.open()
      sandbox = await makeSandbox({ users: 30, pageSize: 10, apiKey })
    })
    afterAll(async () => {
      await sandbox?.close()
      await store?.close()
    })

    it("Should really quote the key (the sandbox's echo, checked directly)", async () => {
      for (const encoding of ENCODINGS) {
        sandbox.injectFault({ kind: "echoHeaders", status: 500, encoding }, { on: "org" })
        const res = await fetch(`${sandbox.url}/admin/v1/orgs/${sandbox.orgId}`, {
          headers: { authorization: `Bearer ${apiKey}` }
        })
        expect(findSecrets(await res.text(), { apiKey }), encoding).not.toEqual([])
      }
    })

    it("Should keep the key out of runs, responses, log lines, the audit trail and the store", async () => {
      const capture = captureConsole()
      let t: TestHost | undefined
      try {
        t = await makeTestHost({
          env: { ...store.env, SEATKEEPER_PROVIDER_RETRY_DELAY_MS: "20" },
          logLevel: LogLevel.All,
          requestLog: true
        })
        const id = await connect(t.request, sandbox, { rateLimit: UNPACED })
        expect((await sync(t.request, id)).body.status).toBe("succeeded")
        const targets = sandbox.users().filter((u) => u.account_status === "active" && u.managedBy === undefined)
        const runs: Array<string> = []
        let i = 0
        for (const encoding of ENCODINGS) {
          for (const shape of SHAPES) {
            const { on, status } = TARGETS[i % TARGETS.length]!
            i++
            sandbox.injectFault({ kind: "echoHeaders", status, shape, encoding }, {
              on,
              times: status >= 500 ? Infinity : 1
            })
            figures.echoes++
            if (on === "users") {
              const run = await sync(t.request, id, { audited: true })
              expect(run.body.status, `${encoding}/${shape}`).toBe("failed")
              // Still a useful error: the status and a reason, without the key.
              expect(run.body.error.message, `${encoding}/${shape}`).toMatch(/\w/)
              runs.push(run.body.id)
            } else if (on === "org") {
              const res = await t.request("POST", `/api/connections/${id}/verify`)
              expect(res.status, `${encoding}/${shape}`).toBeGreaterThanOrEqual(400)
            } else {
              const who = targets[i % targets.length]!.account_id
              const res = await t.request(
                "POST",
                `/api/connections/${id}/accounts/${encodeURIComponent(who)}/suspend`,
                { body: { reason: "echo" } }
              )
              expect(res.status, `${encoding}/${shape}`).toBeGreaterThanOrEqual(400)
            }
            sandbox.clearFaults()
          }
        }
        // The key was really sent upstream every time (so its absence below means something).
        expect(sandbox.requests.filter((r) => r.fault === "echoHeaders" && r.authorized).length).toBeGreaterThanOrEqual(
          figures.echoes / 2
        )

        const runsText = (await Promise.all(runs.map((r) => t!.request("GET", `/api/syncs/${r}`)))).map((r) => r.text)
          .join("\n")
        const audit = [
          (await t.request("GET", "/api/audit?limit=500")).text,
          (await t.request("GET", "/api/audit.csv")).text
        ].join("\n")
        const responses = t.responses.map((r) => `${r.method} ${r.path} ${r.status} ${r.headers} ${r.text}`).join("\n")
        await t.close({ keepData: true })
        capture.restore()
        const stored = await store.contents(t.dataDir)
        const logs = capture.lines.join("\n")
        expect(logs).toContain(`"message":"sync finished"`)

        const places: Record<string, string | Buffer> = { runs: runsText, responses, logs, audit, store: stored }
        for (const [place, haystack] of Object.entries(places)) {
          const found = findSecrets(haystack, { apiKey })
          figures.places++
          figures.leaks += found.length
          expect(found, place).toEqual([])
        }
      } finally {
        capture.restore()
        if (t !== undefined) await t.close().catch(() => undefined)
      }
    }, 120_000)
  }
)
