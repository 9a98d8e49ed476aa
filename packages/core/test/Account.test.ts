// Upstream data is input like any other: instants read strictly, text without control characters, and one
// digest per reading whatever order the adapter built it in.
import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Equal from "effect/Equal"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Crypto from "node:crypto"
import {
  cleanText,
  digest,
  Entitlement,
  entitlementKey,
  ProviderAccount,
  readInstant,
  siteOf,
  unsafeEntitlement,
  unsafeProviderAccount
} from "../src/Account.js"
import * as Instant from "../src/Instant.js"
import * as Provider from "../src/Provider.js"

describe("Instant", () => {
  it("reads ISO-8601 dates and date-times, with or without seconds; no offset means UTC", () => {
    assert.deepStrictEqual(Instant.normalize("2026-08-03"), Option.some("2026-08-03T00:00:00.000Z"))
    assert.deepStrictEqual(Instant.normalize("2023-10-11T12:35Z"), Option.some("2023-10-11T12:35:00.000Z"))
    assert.deepStrictEqual(
      Instant.normalize("2023-10-11T12:35:07.123456+02:00"),
      Option.some("2023-10-11T10:35:07.123Z")
    )
    assert.deepStrictEqual(Instant.normalize("2023-10-11 12:35:07"), Option.some("2023-10-11T12:35:07.000Z"))
  })

  it("refuses what only a lenient parser would guess at", () => {
    // Date.parse reads "1" as 2001-01-01: an active user would look decades idle.
    for (
      const value of ["1", "1700000000", "yesterday", "2026-13-01", "2026-02-30", "2026-08-03T25:00Z", "", "2026/08/03"]
    ) {
      assert.isTrue(Option.isNone(Instant.normalize(value)), `read ${JSON.stringify(value)}`)
      assert.isUndefined(readInstant(value))
    }
    assert.isUndefined(readInstant(null))
  })
})

describe("Account", () => {
  it("keys entitlements by product and the site's full host", () => {
    assert.deepStrictEqual(siteOf("https://acme.atlassian.net/wiki"), { site: "acme", host: "acme.atlassian.net" })
    assert.strictEqual(entitlementKey("confluence", "acme.atlassian.net"), "confluence:acme.atlassian.net")
    assert.strictEqual(entitlementKey("trello", undefined), "trello")
    assert.isUndefined(siteOf("not a url"))
  })

  it("removes control characters from upstream text", () => {
    assert.strictEqual(cleanText("Ada\u0000 Lovelace"), "Ada Lovelace")
    assert.strictEqual(cleanText("two\nlines\tand\u007f"), "two lines and")
    assert.strictEqual(cleanText("plain"), "plain")
  })

  it.effect("cleans every account a connection lists or looks up", () =>
    Effect.gen(function*() {
      const dirty = new ProviderAccount({
        externalId: "a1",
        email: "ada\u0000@acme.test",
        displayName: "Ada\u0000",
        accountType: "atlassian",
        status: "active",
        sourceStatus: "active\u0001",
        entitlements: [
          new Entitlement({
            key: "confluence:acme",
            product: "confluence",
            displayName: "Conf\u0000luence",
            status: "active"
          })
        ]
      })
      const connection = Provider.makeConnection({
        provider: "test",
        budgetKey: "test",
        verify: Effect.void,
        requestStats: Effect.succeed({ requests: 0, retries: 0, rateLimited: 0 }),
        pages: Stream.make({ accounts: [dirty], total: 1 }),
        lookup: () => Effect.succeed(Option.some(dirty))
      })
      const [listed] = Chunk.toReadonlyArray(yield* Stream.runCollect(connection.accounts))
      assert.deepStrictEqual([listed!.email, listed!.displayName, listed!.sourceStatus], [
        "ada@acme.test",
        "Ada",
        "active"
      ])
      assert.strictEqual(listed!.entitlements?.[0]?.displayName, "Confluence")
      const looked = Option.getOrThrow(yield* connection.lookup!("a1"))
      assert.strictEqual(looked.displayName, "Ada")
    }))

  it("digests a reading the same whatever order its entitlements came in, and tells absent from empty", () => {
    const ent = (key: string) => new Entitlement({ key, product: key, displayName: key, status: "active" })
    const base = {
      externalId: "a",
      displayName: "A",
      accountType: "atlassian",
      status: "active" as const,
      sourceStatus: "active"
    }
    const one = new ProviderAccount({ ...base, entitlements: [ent("x"), ent("y")] })
    const two = new ProviderAccount({ ...base, entitlements: [ent("y"), ent("x")] })
    assert.strictEqual(digest(one), digest(two))
    assert.notStrictEqual(digest(new ProviderAccount({ ...base, entitlements: [] })), digest(new ProviderAccount(base)))
    assert.notStrictEqual(
      digest(one),
      digest(new ProviderAccount({ ...base, status: "suspended", entitlements: [ent("x"), ent("y")] }))
    )
    // No attributes and unknown attributes digest alike (an adapter that starts sending `{}` rewrites
    // nothing); an attribute that comes or goes changes the digest.
    const plain = digest(new ProviderAccount(base))
    assert.strictEqual(digest(new ProviderAccount({ ...base, attributes: {} })), plain)
    assert.notStrictEqual(
      digest(new ProviderAccount({ ...base, attributes: { membershipStatus: "suspended" } })),
      plain
    )
  })

  it("constructs trusted entitlements and accounts equal to the class constructor's", () => {
    const fields = () => ({
      key: "confluence:acme.atlassian.net",
      product: "confluence",
      site: "acme",
      siteHost: "acme.atlassian.net",
      displayName: "Confluence (acme)",
      status: "active" as const,
      lastActiveAt: undefined
    })
    const fast = unsafeEntitlement(fields())
    const slow = new Entitlement(fields())
    assert.instanceOf(fast, Entitlement)
    assert.isTrue(Equal.equals(fast, slow))
    assert.deepStrictEqual(Object.keys(fast), Object.keys(slow))
    const account = (entitlements: ReadonlyArray<Entitlement>) => ({
      externalId: "a1",
      email: undefined,
      displayName: "Ada",
      accountType: "atlassian",
      status: "active" as const,
      sourceStatus: "active",
      entitlements
    })
    const entitlements = [slow]
    const fastAccount = unsafeProviderAccount(account(entitlements))
    assert.instanceOf(fastAccount, ProviderAccount)
    // Equal compares arrays by reference (a validating constructor copies them): the same array, unchecked.
    assert.isTrue(Equal.equals(fastAccount, new ProviderAccount(account(entitlements), { disableValidation: true })))
    assert.deepStrictEqual(fastAccount, new ProviderAccount(account([fast])))
    assert.strictEqual(digest(fastAccount), digest(new ProviderAccount(account([fast]))))
  })

  it("reads instants in the stored form without a Date, exactly as the strict reader does", () => {
    const values = [
      "2026-08-03T12:00:07.123Z",
      "2024-02-29T00:00:00.000Z",
      "2023-02-29T00:00:00.000Z",
      "2000-02-29T23:59:59.999Z",
      "1900-02-29T00:00:00.000Z",
      "2026-04-31T00:00:00.000Z",
      "2026-12-31T23:59:59.999Z",
      "2026-13-01T00:00:00.000Z",
      "2026-00-10T00:00:00.000Z",
      "2026-01-00T00:00:00.000Z",
      "2026-01-01T24:00:00.000Z",
      "2026-01-01T23:60:00.000Z",
      "2026-01-01T23:59:60.000Z",
      "0999-01-01T00:00:00.000Z",
      "0050-01-01T00:00:00.000Z",
      "1000-01-01T00:00:00.000Z",
      "2026-01-01t00:00:00.000z",
      "2026-01-01T00:00:00.000+00:00",
      "2026-01-01T00:00:00.12Z",
      "2026-01-01T00:00:00.1234Z",
      "2026-01-01T0a:00:00.000Z",
      " 2026-01-01T00:00:00.000Z",
      "2026-01-01T00:00:00.000Z "
    ]
    for (const value of values) {
      assert.strictEqual(readInstant(value), Option.getOrUndefined(Instant.normalize(value)), value)
    }
  })

  it("digests byte for byte as before: stored digests depend on it", () => {
    // The digest as first written (createHash and a copied, sorted array): what every stored digest is.
    const reference = (account: ProviderAccount): string => {
      const entitlements = account.entitlements === undefined
        ? null
        : [...account.entitlements].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)).map((e) => [
          e.key,
          e.product,
          e.site ?? null,
          e.siteHost ?? null,
          e.displayName,
          e.status,
          e.lastActiveAt ?? null,
          e.activitySource ?? null,
          e.role ?? null,
          e.billable ?? null
        ])
      const attributes = account.attributes === undefined
        ? null
        : Object.keys(account.attributes).sort().map((k) => [k, account.attributes![k]])
      const fields = [
        account.externalId,
        account.email ?? null,
        account.displayName,
        account.accountType,
        account.status,
        account.sourceStatus,
        account.lastActiveAt ?? null,
        account.activitySource ?? null,
        account.billable ?? null,
        account.managed ?? null,
        account.addedAt ?? null,
        account.roles ?? null,
        account.groups ?? null,
        attributes,
        entitlements
      ]
      return Crypto.createHash("sha1").update(JSON.stringify(fields)).digest("base64url")
    }
    const ent = (key: string, extra: Partial<Entitlement> = {}) =>
      new Entitlement({
        key,
        product: key.split(":")[0]!,
        displayName: `${key} "ü" \u2028`,
        status: "active",
        ...extra
      })
    const accounts = [
      new ProviderAccount({
        externalId: "a",
        displayName: "A",
        accountType: "atlassian",
        status: "active",
        sourceStatus: "active"
      }),
      new ProviderAccount({
        externalId: "712020:06ee2174",
        email: "ada@acme.test",
        displayName: "Ada \"Countess\" Lovelace ☃",
        accountType: "atlassian",
        status: "suspended",
        sourceStatus: "inactive",
        lastActiveAt: "2026-06-18T19:04:42.559Z",
        activitySource: "atlassian.account",
        entitlements: [
          ent("jira-core:acme-eu.atlassian.net", { site: "acme-eu", lastActiveAt: "2026-06-04T14:15:55.851Z" }),
          ent("confluence:acme.atlassian.net", { role: "atlassian/user", billable: false }),
          ent("confluence:acme.atlassian.net", { siteHost: "acme.atlassian.net" })
        ],
        billable: true,
        managed: false,
        addedAt: "2020-01-01T00:00:00.000Z",
        roles: ["atlassian/org-admin"],
        groups: ["b", "a"],
        attributes: { z: "1", directoryId: "d-1", a: "2" }
      }),
      new ProviderAccount({
        externalId: "sorted",
        displayName: "S",
        accountType: "app",
        status: "unknown",
        sourceStatus: "weird",
        entitlements: [ent("a:x"), ent("b:x"), ent("c:x")]
      }),
      new ProviderAccount({
        externalId: "none",
        displayName: "N",
        accountType: "x",
        status: "active",
        sourceStatus: "",
        entitlements: []
      })
    ]
    for (const account of accounts) assert.strictEqual(digest(account), reference(account), account.externalId)
    // And a known value, should the reference above ever be edited by mistake.
    assert.strictEqual(digest(accounts[0]!), "p4b88Z6ZTxANixclimbcE3o1FUw")
  })
})
