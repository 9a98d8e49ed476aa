// Text from upstream is scrubbed of every form a secret travels in before it reaches an error or a log.
import { assert, describe, it } from "@effect/vitest"
import * as Redacted from "effect/Redacted"
import { makeScrubber } from "../src/Secrets.js"

const KEY = "org-key-7f3a9-c0ffee-0123456789"

describe("Secrets.makeScrubber", () => {
  const clean = makeScrubber([Redacted.make(`Bearer ${KEY}`)])

  it("removes the key as sent, URL-encoded, base64 and base64url, and the whole header value", () => {
    for (
      const form of [
        KEY,
        encodeURIComponent(KEY),
        Buffer.from(KEY).toString("base64"),
        Buffer.from(KEY).toString("base64url")
      ]
    ) {
      assert.strictEqual(clean(`echo: ${form}.`), "echo: [redacted].")
    }
    assert.strictEqual(clean(`Authorization: Bearer ${KEY}`), "Authorization: [redacted]")
  })

  it("removes a base64 blob whose decoding holds the key, at any offset, and leaves other text alone", () => {
    for (const prefix of ["", "a", "ab", "abc", "host: x\nauthorization: Bearer "]) {
      const blob = Buffer.from(`${prefix}${KEY}\naccept: application/json`).toString("base64")
      assert.strictEqual(clean(`headers: ${blob} end`), "headers: [redacted] end", JSON.stringify(prefix))
      // Glued to other base64 letters, so the run starts off its alignment.
      assert.notInclude(clean(`xy${blob}`), blob)
    }
    const harmless = "cursor kloHX1ZQVasDAkx_P48NYQ and ADMIN-UAM-403-2"
    assert.strictEqual(clean(harmless), harmless)
  })

  it("removes the password of Basic credentials", () => {
    const basic = makeScrubber([Redacted.make(`Basic ${Buffer.from(`admin@acme.test:${KEY}`).toString("base64")}`)])
    assert.strictEqual(basic(`the token ${KEY} was refused`), "the token [redacted] was refused")
  })
})
