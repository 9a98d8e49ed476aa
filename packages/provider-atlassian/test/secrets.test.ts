// DESIGN.md invariant 12: an upstream error that echoes the request's Authorization header (the sandbox's
// `echoHeaders` fault) never carries the key into a ProviderError, in any encoding or error shape, on any
// call: not in its description, hint, code or message, not even inside a blob that decodes to it.
import { assert, describe, it } from "@effect/vitest"
import type { ProviderError } from "@seatkeeper/core/ProviderError"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import * as Sandbox from "../src/sandbox/index.js"
import { connectTo } from "./helpers.js"

const KEY = "org-key-7f3a9c1e-very-secret-value"

/** Every text of an error, and every base64 run in it decoded at each alignment. */
const everything = (error: ProviderError): string => {
  const texts = [error.description, error.hint ?? "", error.code ?? "", error.message, JSON.stringify(error)]
  const decoded = texts.flatMap((text) =>
    [...text.matchAll(/[A-Za-z0-9+/_-]{8,}={0,2}/g)].flatMap(([run]) => {
      const standard = run.replace(/-/g, "+").replace(/_/g, "/")
      return [0, 1, 2, 3].map((shift) => Buffer.from(standard.slice(shift), "base64").toString("latin1"))
    })
  )
  return [...texts, ...decoded].join("\n")
}

const assertNoKey = (error: ProviderError, what: string) => {
  const text = everything(error)
  for (const form of [KEY, encodeURIComponent(`Bearer ${KEY}`), Buffer.from(KEY).toString("base64").slice(0, 20)]) {
    assert.notInclude(text, form, `${what}: ${error.message}`)
  }
  // Nor any part of it: a blob cut to length can end inside the key.
  for (let i = 0; i + 8 <= KEY.length; i++) assert.notInclude(text, KEY.slice(i, i + 8), `${what}: part of the key`)
}

describe("an error body that echoes the request's headers", () => {
  const shapes = ["org", "user", "gateway", "text"] as const
  const encodings = ["plain", "url", "base64", "json"] as const
  for (const shape of shapes) {
    it.scopedLive(`never puts the key in an error (${shape} shape, every encoding, every kind of call)`, () =>
      Effect.gen(function*() {
        const org = yield* Sandbox.make({ users: 5, apiKey: KEY })
        const id = org.users()[0]!.account_id
        const connection = yield* connectTo(org)
        const calls: ReadonlyArray<readonly [string, Effect.Effect<unknown, ProviderError>, "users"?]> = [
          ["verify", connection.verify],
          // The listing's own pages: a refused directory search before them only costs the directory statuses.
          ["accounts", Stream.runDrain(connection.accounts), "users"],
          ["lookup", connection.lookup(id)],
          ["licenses", Stream.runDrain(connection.licenses)],
          ["preflight", connection.preflight(id, "suspend")],
          ["suspend", connection.suspend(id, { reason: "test" })]
        ]
        for (const encoding of encodings) {
          for (const [name, call, on] of calls) {
            // 403 is permanent: one request, one echo, no retry.
            org.injectFault({ kind: "echoHeaders", shape, encoding, status: 403 }, on === undefined ? {} : { on })
            const error = yield* Effect.flip(call)
            assert.strictEqual(error.status, 403, `${name} ${encoding}`)
            assertNoKey(error, `${name} ${shape} ${encoding}`)
            // What Atlassian said is still there for a person to read.
            assert.include(error.description, "Atlassian answered HTTP 403", `${name} ${encoding}`)
          }
        }
        assert.isTrue(org.requests.every((r) => r.fault === "echoHeaders" || r.route === "directoryUsers"))
      }))
  }

  it.scopedLive("keeps the key out of the directory calls too (v2 search, directory suspend)", () =>
    Effect.gen(function*() {
      const org = yield* Sandbox.make({ users: 0, apiKey: KEY })
      org.addUsers([{ account_id: "guest", account_status: "active", claimStatus: "unmanaged" }])
      const connection = yield* connectTo(org, { includeUnmanaged: true })
      for (const encoding of encodings) {
        org.injectFault({ kind: "echoHeaders", encoding, status: 400 }, { on: "directoryUsers" })
        assertNoKey(yield* Effect.flip(Stream.runDrain(connection.accounts)), `search ${encoding}`)
        org.injectFault({ kind: "echoHeaders", encoding, status: 403 }, { on: "directorySuspend" })
        const suspend = yield* Effect.flip(connection.suspend({ externalId: "guest", managed: false }))
        assertNoKey(suspend, `suspend ${encoding}`)
      }
    }))
})
