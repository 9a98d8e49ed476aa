import { assert, describe, it } from "@effect/vitest"
import { describeConfig, secretBindingPaths, secretPaths } from "@seatkeeper/core/ProviderConfig"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { AtlassianConfig } from "../src/AtlassianConfig.js"

const decode = (input: unknown) =>
  Schema.decodeUnknownEither(AtlassianConfig, { errors: "all", onExcessProperty: "error" })(input)
const problems = (input: unknown) =>
  Either.match(decode(input), {
    onLeft: (e) => ParseResult.ArrayFormatter.formatErrorSync(e).map((i) => `${i.path.join(".")}: ${i.message}`),
    onRight: () => []
  })

const valid = { organizationId: "6665kc2j-4644-14k8", apiKey: "key-123", adminEmail: "admin@acme.test" }

describe("AtlassianConfig", () => {
  it("accepts the seed's three fields and keeps the key Redacted", () => {
    const config = Either.getOrThrow(decode(valid))
    assert.isTrue(Redacted.isRedacted(config.apiKey))
    assert.strictEqual(Redacted.value(config.apiKey), "key-123")
    assert.notInclude(String(config.apiKey), "key-123")
  })

  it("names every field that cannot work, with what to do", () => {
    const found = problems({
      organizationId: " ",
      apiKey: "",
      adminEmail: "not-an-email",
      baseUrl: "ftp://api.atlassian.com",
      rateLimit: { requests: 0, windowSeconds: 0 }
    })
    const text = found.join("\n")
    assert.include(text, "organizationId: must not be empty")
    assert.include(text, "apiKey")
    assert.include(text, "adminEmail: must be an email address")
    assert.include(text, "baseUrl: must use https, not ftp")
    assert.include(text, "rateLimit.requests: must be between 1 and 100000 requests")
    assert.include(text, "rateLimit.windowSeconds: must be more than 0 seconds")
  })

  it("sends the key over https only, except to this machine (a local proxy or a sandbox)", () => {
    const plainHttp = problems({ ...valid, baseUrl: "http://api.atlassian.com" }).join()
    assert.include(plainHttp, "only accepted for a loopback host")
    assert.include(problems({ ...valid, baseUrl: "https://user:pw@api.atlassian.com" }).join(), "credentials")
    assert.deepStrictEqual(problems({ ...valid, baseUrl: "http://127.0.0.1:4000" }), [])
    assert.deepStrictEqual(problems({ ...valid, baseUrl: "https://proxy.acme.test/atlassian" }), [])
  })

  it("refuses an organization ID that would change the request path", () => {
    assert.include(problems({ ...valid, organizationId: "../../users" }).join(), "organizationId")
  })

  it("describes a settings form with help text, the key as a secret and the budget as a nested group", () => {
    const fields = describeConfig(AtlassianConfig)
    assert.deepStrictEqual(fields.map((f) => [f.name, f.type, f.secret, f.optional]), [
      ["organizationId", "string", false, false],
      ["apiKey", "string", true, false],
      ["adminEmail", "string", false, false],
      ["baseUrl", "string", false, true],
      ["includeUnmanaged", "boolean", false, true],
      ["rateLimit", "object", false, true]
    ])
    assert.include(fields[0]!.description ?? "", "admin.atlassian.com")
    assert.strictEqual(fields[1]!.title, "API key")
    assert.strictEqual(fields[4]!.title, "Include unmanaged accounts")
    assert.strictEqual(fields[4]!.default, false)
    assert.deepStrictEqual(fields[5]!.fields!.map((f) => [f.name, f.type]), [
      ["requests", "number"],
      ["windowSeconds", "number"]
    ])
    assert.deepStrictEqual(fields[5]!.default, { requests: 100, windowSeconds: 60 })
    assert.deepStrictEqual(secretPaths(AtlassianConfig), [["apiKey"]])
    // Changing where the key goes (the API's host, the organization) needs the key entered again.
    assert.deepStrictEqual(secretBindingPaths(AtlassianConfig), [["organizationId"], ["baseUrl"]])
  })
})
