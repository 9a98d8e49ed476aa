import { assert, describe, it } from "@effect/vitest"
import { describeConfig, secretBindingPaths, secretPaths } from "@seatkeeper/core/ProviderConfig"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import { ScimConfig } from "../src/ScimConfig.js"

const decode = (input: unknown) =>
  Schema.decodeUnknownEither(ScimConfig, { errors: "all", onExcessProperty: "error" })(input)
const problems = (input: unknown) =>
  Either.match(decode(input), {
    onLeft: (e) => ParseResult.ArrayFormatter.formatErrorSync(e).map((i) => `${i.path.join(".")}: ${i.message}`),
    onRight: () => []
  })

const valid = { appName: " Slack ", baseUrl: "https://api.slack.com/scim/v2/", bearerToken: "xoxp-123" }

describe("ScimConfig", () => {
  it("accepts the three required fields, trims them and keeps the token Redacted", () => {
    const config = Either.getOrThrow(decode(valid))
    assert.strictEqual(config.appName, "Slack")
    assert.isTrue(Redacted.isRedacted(config.bearerToken))
    assert.strictEqual(Redacted.value(config.bearerToken), "xoxp-123")
    assert.notInclude(String(config.bearerToken), "xoxp-123")
    // What the host stores: the encoded form round-trips.
    assert.deepStrictEqual(Schema.encodeSync(ScimConfig)(config), { ...valid, appName: "Slack" })
  })

  it("accepts a full dialect", () => {
    const config = Either.getOrThrow(decode({
      ...valid,
      rateLimit: { requests: 20, windowSeconds: 60 },
      dialect: {
        pageSizeCap: 50,
        deactivation: "delete",
        patchOp: "add",
        lastActivityAttribute: "urn:ietf:params:scim:schemas:extension:acme:2.0:User:lastLoginAt"
      }
    }))
    assert.deepStrictEqual(config.dialect?.deactivation, "delete")
    assert.deepStrictEqual(config.dialect?.patchOp, "add")
  })

  it("names every field that cannot work, with what to do", () => {
    const text = problems({
      appName: " ",
      baseUrl: "ftp://scim.example.com",
      bearerToken: "",
      rateLimit: { requests: 0, windowSeconds: 0 },
      dialect: { pageSizeCap: 0, deactivation: "deactivate", patchOp: "set", lastActivityAttribute: "last login" }
    }).join("\n")
    assert.include(text, "appName: must not be empty")
    assert.include(text, "baseUrl: must use https, not ftp")
    assert.include(text, "bearerToken")
    assert.include(text, "rateLimit.requests: must be between 1 and 100000 requests")
    assert.include(text, "rateLimit.windowSeconds: must be more than 0 seconds")
    assert.include(text, "dialect.pageSizeCap: must be between 1 and 10000 users")
    assert.include(text, "dialect.deactivation: must be \"active-false\" (the app deactivates the user) or \"delete\"")
    assert.include(text, "dialect.patchOp: must be \"replace\" or \"add\"")
    assert.include(text, "dialect.lastActivityAttribute: must be a SCIM attribute path")
  })

  it("refuses the Users endpoint, credentials or a query in the base URL", () => {
    assert.include(problems({ ...valid, baseUrl: "https://api.example.com/scim/v2/Users" }).join(), "without /Users")
    assert.include(
      problems({ ...valid, baseUrl: "https://me:pw@api.example.com/scim/v2" }).join(),
      "must not carry credentials"
    )
    assert.include(problems({ ...valid, baseUrl: "https://api.example.com/scim/v2?token=x" }).join(), "query string")
    assert.include(problems({ ...valid, baseUrl: "scim.example.com" }).join(), "must be an absolute URL")
  })

  it("takes https, and http only for a loopback host, so the token never crosses the network readable", () => {
    assert.include(
      problems({ ...valid, baseUrl: "http://api.example.com/scim/v2" }).join(),
      "http:// is only accepted for a loopback host"
    )
    for (const baseUrl of ["http://127.0.0.1:8080/scim/v2", "http://localhost/scim/v2", "http://[::1]:3000/scim"]) {
      assert.deepStrictEqual(problems({ ...valid, baseUrl }), [], baseUrl)
    }
    assert.deepStrictEqual(problems({ ...valid, baseUrl: "  https://api.example.com/scim/v2  " }), [])
    const trimmed = Either.getOrThrow(decode({ ...valid, baseUrl: " https://x.test/scim/v2 " }))
    assert.strictEqual(trimmed.baseUrl, "https://x.test/scim/v2")
  })

  it("marks the base URL as where the token goes: changing it asks for the token again", () => {
    assert.deepStrictEqual(secretBindingPaths(ScimConfig), [["baseUrl"]])
    assert.deepStrictEqual(describeConfig(ScimConfig).filter((f) => f.bindsSecrets).map((f) => f.name), ["baseUrl"])
  })

  it("describes a settings form with help text, the token as a secret and budget and dialect as nested groups", () => {
    const fields = describeConfig(ScimConfig)
    assert.deepStrictEqual(fields.map((f) => [f.name, f.type, f.secret, f.optional]), [
      ["appName", "string", false, false],
      ["baseUrl", "string", false, false],
      ["bearerToken", "string", true, false],
      ["rateLimit", "object", false, true],
      ["dialect", "object", false, true]
    ])
    assert.include(fields[1]!.description ?? "", "/ServiceProviderConfig")
    assert.strictEqual(fields[2]!.title, "Bearer token")
    assert.deepStrictEqual(fields[3]!.default, { requests: 100, windowSeconds: 60 })
    const dialect = fields[4]!.fields!
    assert.deepStrictEqual(dialect.map((f) => [f.name, f.type, f.default]), [
      ["pageSizeCap", "number", 100],
      ["deactivation", "string", "active-false"],
      ["patchOp", "string", "replace"],
      ["lastActivityAttribute", "string", undefined]
    ])
    assert.include(dialect[1]!.description ?? "", "PagerDuty")
    // The form offers the dialect's choices rather than a free text field.
    assert.deepStrictEqual(dialect.map((f) => f.choices), [
      undefined,
      ["active-false", "delete"],
      ["replace", "add"],
      undefined
    ])
    assert.deepStrictEqual(secretPaths(ScimConfig), [["bearerToken"]])
  })
})
