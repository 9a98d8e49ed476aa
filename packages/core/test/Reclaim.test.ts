// A reclaim policy evaluated against an inventory: who it reclaims from, whom it spares and why.
import { assert, describe, it } from "@effect/vitest"
import * as Schema from "effect/Schema"
import type { StoredAccount, StoredEntitlement } from "../src/Inventory.js"
import { costOf, evaluate, monthlyCost, ReclaimPolicy } from "../src/Reclaim.js"

const NOW = Date.parse("2026-12-01T00:00:00Z")
const daysAgo = (d: number) => new Date(NOW - d * 86_400_000).toISOString()

const seat = (
  product: string,
  lastActive: number | null,
  overrides: Partial<StoredEntitlement> = {}
): StoredEntitlement => ({
  key: `${product}:acme.atlassian.net`,
  name: `${product} (acme)`,
  product,
  site: "acme",
  siteHost: "acme.atlassian.net",
  status: "active",
  lastActiveAt: lastActive === null ? null : daysAgo(lastActive),
  activitySource: "atlassian.product",
  role: null,
  billable: null,
  firstSeenAt: daysAgo(400),
  lastSeenAt: daysAgo(0),
  ...overrides
})

const account = (
  id: string,
  entitlements: ReadonlyArray<StoredEntitlement>,
  overrides: Partial<StoredAccount> = {}
): StoredAccount => ({
  connectionId: "c1",
  externalId: id,
  email: `${id}@acme.test`,
  displayName: id,
  accountType: "atlassian",
  status: "active",
  sourceStatus: "active",
  lastActiveAt: null,
  activitySource: null,
  billable: true,
  managed: true,
  addedAt: daysAgo(400),
  roles: [],
  groups: [],
  attributes: {},
  firstSeenAt: daysAgo(400),
  lastSeenAt: daysAgo(0),
  adminActionAt: null,
  entitlements,
  ...overrides
})

const policy = (input: Partial<Schema.Schema.Encoded<typeof ReclaimPolicy>> = {}) =>
  Schema.decodeUnknownSync(ReclaimPolicy)({
    name: "Idle Jira",
    scope: { _tag: "seats", products: ["jira-software"], plans: [] },
    inactiveDays: 90,
    ...input
  })

describe("Reclaim.evaluate", () => {
  const inventory = [
    account("idle", [seat("jira-software", 200)]),
    account("recent", [seat("jira-software", 10)]),
    account("uses-confluence", [seat("jira-software", 200), seat("confluence", 5)]),
    account("idle-everywhere", [seat("jira-software", 120), seat("confluence", 150)]),
    account("on-leave", [seat("jira-software", 300)]),
    account("leave-over", [seat("jira-software", 300)]),
    account("admin", [seat("jira-software", 300)], { roles: ["atlassian/org-admin"] }),
    account("contractor", [seat("jira-software", 300)], { groups: ["contractors"] }),
    // Never active and added 100 days ago: idle for 90 days, but newer than the policy's 120.
    account("newcomer", [seat("jira-software", null)], { addedAt: daysAgo(100) }),
    account("bot", [seat("jira-software", 300)], { accountType: "app", billable: false }),
    account("suspended", [seat("jira-software", 300)], { status: "suspended" }),
    account("never-used", [seat("jira-software", null)])
  ]
  const exemptions = [
    { externalId: "on-leave", reason: "parental leave", until: "2027-03-01" },
    { externalId: "leave-over", reason: "seasonal", until: "2026-11-01" }
  ]

  it("reclaims idle seats, spares what the policy excludes, and says why", () => {
    const result = evaluate(
      policy({ exclude: { groups: ["contractors"], exemptions, newerThanDays: 120 } }),
      inventory,
      { now: NOW }
    )
    assert.deepStrictEqual(result.candidates.map((c) => c.externalId), [
      "idle",
      "idle-everywhere",
      "leave-over",
      "never-used"
    ])
    assert.deepStrictEqual(
      result.excluded.map((e) => [e.externalId, e.reason]),
      [
        ["admin", "admin"],
        ["contractor", "group"],
        ["newcomer", "new"],
        ["on-leave", "exempt"],
        ["uses-confluence", "inUse"]
      ]
    )
    assert.strictEqual(
      result.excluded.find((e) => e.externalId === "on-leave")?.detail,
      "exempt until 2027-03-01: parental leave"
    )
    assert.match(
      result.excluded.find((e) => e.externalId === "uses-confluence")!.detail,
      /^uses confluence \(acme\), last active/
    )
    // Suspending an account frees every seat it holds, each with its evidence.
    const everywhere = result.candidates.find((c) => c.externalId === "idle-everywhere")!
    assert.deepStrictEqual(everywhere.seats.map((s) => [s.product, s.lastActiveAt]), [
      ["jira-software", daysAgo(120)],
      ["confluence", daysAgo(150)]
    ])
  })

  it("ends an exemption at its instant, whatever offset it was typed with", () => {
    // 20:00 at +05:00 is 15:00Z: at 16:00Z the exemption is over, though its text sorts after the hour.
    const at = Date.parse("2026-12-01T16:00:00Z")
    const exempted = (until: string) =>
      evaluate(
        policy({ exclude: { exemptions: [{ externalId: "idle", reason: "leave", until }] } }),
        [account("idle", [seat("jira-software", 200)])],
        { now: at }
      ).excluded.map((e) => e.reason)
    assert.deepStrictEqual(exempted("2026-12-01T20:00:00+05:00"), [])
    assert.deepStrictEqual(exempted("2026-12-01T12:00:00-05:00"), ["exempt"])
  })

  it("counts an account without a join date as new only when nothing shows it is older", () => {
    // Seatkeeper was installed yesterday (first seen), and the provider gives no join date (Atlassian's
    // v1 listing): an account last active 200 days ago is not new, one never active is.
    const installed = { addedAt: null, firstSeenAt: daysAgo(1) }
    const result = evaluate(
      policy({ exclude: { newerThanDays: 30 } }),
      [
        account("old-idle", [seat("jira-software", 200, { firstSeenAt: daysAgo(1) })], installed),
        account("unknown", [seat("jira-software", null, { firstSeenAt: daysAgo(1) })], {
          ...installed,
          firstSeenAt: daysAgo(100)
        })
      ],
      { now: NOW }
    )
    assert.deepStrictEqual(result.candidates.map((c) => c.externalId), ["old-idle", "unknown"])
    const fresh = evaluate(
      policy({ exclude: { newerThanDays: 30 } }),
      [account("fresh", [seat("jira-software", 100)], {
        addedAt: null,
        firstSeenAt: daysAgo(1),
        lastActiveAt: daysAgo(100)
      })],
      { now: NOW }
    )
    assert.deepStrictEqual(fresh.candidates.map((c) => c.externalId), ["fresh"])
    const joined = evaluate(
      policy({ exclude: { newerThanDays: 120 } }),
      [account("recent-join", [seat("jira-software", 100)], { addedAt: null, firstSeenAt: daysAgo(10) })],
      { now: NOW }
    )
    assert.deepStrictEqual(joined.excluded.map((e) => [e.reason, e.detail]), [
      ["new", `active since at least ${daysAgo(100).slice(0, 10)}, less than 120 days ago`]
    ])
  })

  it("never reclaims what is not a seat: bots, customers, suspended accounts", () => {
    const ids = evaluate(policy({ scope: { _tag: "accounts" } }), inventory, { now: NOW }).candidates.map((c) =>
      c.externalId
    )
    for (const id of ["bot", "suspended", "recent"]) assert.notInclude(ids, id)
  })

  it("scopes by plan when licences say which plan a product instance is on", () => {
    const premium = evaluate(
      policy({ scope: { _tag: "seats", products: [], plans: ["Premium"] } }),
      [account("a", [seat("jira-software", 200)]), account("b", [seat("confluence", 200)])],
      { now: NOW, planOf: (key) => (key.startsWith("confluence") ? "Premium" : "Standard") }
    )
    assert.deepStrictEqual(premium.candidates.map((c) => c.externalId), ["b"])
    assert.strictEqual(premium.candidates[0]!.seats[0]!.plan, "Premium")
  })

  it("can keep admins in scope when the policy says so", () => {
    const ids = evaluate(policy({ exclude: { admins: false } }), inventory, { now: NOW }).candidates.map((c) =>
      c.externalId
    )
    assert.include(ids, "admin")
  })
})

describe("Reclaim prices", () => {
  const prices = [
    { product: "jira-software", amount: 8.6, currency: "USD", period: "monthly" as const },
    { product: "jira-software", plan: "Premium", amount: 171.6, currency: "USD", period: "annual" as const },
    { product: "confluence", amount: 60, currency: "EUR", period: "annual" as const }
  ]

  it("takes the most specific price, per month, and never adds up two currencies", () => {
    assert.deepStrictEqual(monthlyCost(prices, "jira-software", "Standard"), { amount: 8.6, currency: "USD" })
    assert.closeTo(monthlyCost(prices, "jira-software", "Premium")!.amount, 14.3, 1e-9)
    assert.isUndefined(monthlyCost(prices, "trello", null))
    assert.deepStrictEqual(
      costOf(prices, [
        { product: "jira-software", plan: null },
        { product: "jira-software", plan: "Premium" },
        { product: "confluence", plan: null },
        { product: "trello", plan: null }
      ]),
      { monthly: { USD: 22.9, EUR: 5 }, unpriced: 1 }
    )
  })
})
