/**
 * What the SQL stores keep secret or refuse: configs and webhook secrets encrypted at rest (invariant 7),
 * user tokens kept only as their hashes, paging cursors that cannot be forged, and text PostgreSQL could not
 * store (a NUL) kept out of the way.
 */
import { assert, describe, it } from "@effect/vitest"
import { ProviderAccount } from "@seatkeeper/core/Account"
import { ReclaimPolicy } from "@seatkeeper/core/Reclaim"
import { noCounters } from "@seatkeeper/core/SyncRun"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import { account, openStore, OTHER_SECRET_KEY, targets } from "./fixtures.js"

const API_KEY = "ATATT-super-secret-api-key-0123456789"
const WEBHOOK_SECRET = "whsec-super-secret-signing-key-0123456789"
const TOKEN = "skt_super-secret-user-token-0123456789"
const sha256 = (value: string) => Crypto.createHash("sha256").update(value, "utf8").digest("hex")

/** Every byte the database keeps that a test can read: the rows of the tables given, and SQLite's files. */
const everything = (
  db: { readonly files: ReadonlyArray<string> },
  sql: Effect.Effect.Success<ReturnType<typeof openStore>>["sql"],
  tables: ReadonlyArray<string>
) =>
  Effect.gen(function*() {
    const rows = yield* Effect.forEach(tables, (table) => sql`SELECT * FROM ${sql(table)}`)
    const files = db.files.filter((file) => Fs.existsSync(file)).map((file) => Fs.readFileSync(file))
    return { rows: JSON.stringify(rows), files }
  })

for (const target of targets("the security suite")) {
  describe(`store security on ${target.name}`, () => {
    it.scopedLive("keeps connection configs encrypted at rest: no plaintext in any row or file", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { connections, sql } = yield* openStore(db)
        const created = yield* connections.create({
          provider: "atlassian",
          name: "Acme",
          config: { organizationId: "org-secret-1", apiKey: API_KEY, adminEmail: "admin@acme.test" }
        })
        yield* connections.update(created.id, { config: { ...created.config as object, apiKey: `${API_KEY}-rotated` } })
        const rows = yield* sql`SELECT * FROM connections`
        const raw = JSON.stringify(rows)
        for (const secret of [API_KEY, "org-secret-1", "admin@acme.test"]) assert.notInclude(raw, secret)
        for (const file of db.files) {
          if (Fs.existsSync(file)) assert.isFalse(Fs.readFileSync(file).includes(API_KEY), `${file} holds the API key`)
        }
        assert.deepStrictEqual(
          (Option.getOrThrow(yield* connections.get(created.id)).config as { apiKey: string }).apiKey,
          `${API_KEY}-rotated`
        )
      }))

    it.scopedLive("keeps webhook secrets encrypted and user tokens only as their SHA-256, in every row and file", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { sql, users, webhooks } = yield* openStore(db)
        const hook = yield* webhooks.create({
          url: "https://hooks.example.test/seatkeeper",
          events: ["plan.ready"],
          secret: Redacted.make(WEBHOOK_SECRET),
          createdBy: "admin"
        })
        const user = yield* users.create({ name: "Ada", role: "admin", tokenHash: sha256(TOKEN), createdBy: "admin" })
        yield* users.update(user.id, { tokenHash: sha256(`${TOKEN}-rotated`) })
        const stored = yield* everything(db, sql, ["webhooks", "users"])
        for (const secret of [WEBHOOK_SECRET, TOKEN, `${TOKEN}-rotated`]) {
          assert.notInclude(stored.rows, secret)
          for (const file of stored.files) assert.isFalse(file.includes(secret), `a file holds ${secret}`)
        }
        assert.include(stored.rows, sha256(`${TOKEN}-rotated`), "the token's hash is what is kept")
        assert.notInclude(stored.rows, sha256(TOKEN), "the replaced hash is gone")
        // The sender reads it back; a copy of the sealed secret on another webhook's row does not decrypt.
        const [sender] = (yield* webhooks.targets("plan.ready")).filter((t) => t.id === hook.id)
        assert.strictEqual(Redacted.value(sender!.secret), WEBHOOK_SECRET)
        const other = yield* webhooks.create({
          url: "https://hooks.example.test/other",
          events: ["sync.held"],
          secret: Redacted.make("whsec-other-0123456789"),
          createdBy: "admin"
        })
        yield* sql`UPDATE webhooks SET secret_ciphertext = (SELECT w.secret_ciphertext FROM webhooks w WHERE w.id = ${hook.id})
          WHERE id = ${other.id}`
        const moved = yield* Effect.flip(webhooks.targets("sync.held"))
        assert.strictEqual(moved.reason, "Corrupt")
        assert.notInclude(moved.message, WEBHOOK_SECRET)
      }))

    it.scopedLive("a store opened with another key cannot read the webhook secrets", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { webhooks } = yield* openStore(db)
        yield* webhooks.create({
          url: "https://hooks.example.test/seatkeeper",
          events: ["sync.failed"],
          secret: Redacted.make(WEBHOOK_SECRET),
          createdBy: "admin"
        })
        const other = yield* openStore(db, { secretKey: OTHER_SECRET_KEY })
        assert.strictEqual((yield* other.webhooks.list).length, 1, "the webhook itself is not secret")
        const error = yield* Effect.flip(other.webhooks.targets("sync.failed"))
        assert.strictEqual(error.reason, "Corrupt")
        assert.include(error.message, "SEATKEEPER_SECRET_KEY")
        assert.notInclude(error.message, WEBHOOK_SECRET)
      }))

    it.scopedLive("a plan's item cursor altered or signed by another key is Corrupt", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { connections, reclaim } = yield* openStore(db)
        const c = yield* connections.create({ provider: "atlassian", name: "Acme", config: {} })
        const policy = yield* reclaim.createPolicy(
          c.id,
          Schema.decodeUnknownSync(ReclaimPolicy)({ name: "All", scope: { _tag: "accounts" }, inactiveDays: 30 }),
          "me"
        )
        const plan = yield* reclaim.createPlan({
          connectionId: c.id,
          policy,
          createdBy: "me",
          basedOnRunId: "run",
          dataAt: "2026-03-01T00:00:00.000Z",
          blockedBecause: null,
          fourEyes: false,
          monthly: {},
          unpriced: 0,
          excluded: [],
          items: Array.from({ length: 9 }, (_, i) => ({
            externalId: `p${i}`,
            displayName: `P ${i}`,
            email: null,
            managed: null,
            roles: [],
            attributes: {},
            lastActiveAt: null,
            seats: [],
            action: "suspend" as const,
            preflight: null,
            monthly: {}
          }))
        })
        const cursor = (yield* reclaim.listItems({ planId: plan.id, limit: 2 })).nextCursor!
        const [body, signature] = cursor.split(".")
        const position = JSON.parse(Buffer.from(body!, "base64url").toString("utf8"))
        const forged = Buffer.from(JSON.stringify({ ...position, v: [6] })).toString("base64url")
        for (const bad of [`${forged}.${signature}`, `${body}.${signature}x`, `${body}.`, `.${signature}`]) {
          const error = yield* Effect.flip(reclaim.listItems({ planId: plan.id, limit: 2, cursor: bad }))
          assert.strictEqual(error.reason, "Corrupt", bad)
          assert.include(error.message, "Request the first page again")
        }
        const rekeyed = yield* openStore(db, { secretKey: OTHER_SECRET_KEY })
        const error = yield* Effect.flip(rekeyed.reclaim.listItems({ planId: plan.id, limit: 2, cursor }))
        assert.strictEqual(error.reason, "Corrupt")
        assert.include(error.message, "signature")
      }))

    it.scopedLive("a store opened with another key cannot read the configs and says which key to use", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { connections } = yield* openStore(db)
        const created = yield* connections.create({ provider: "atlassian", name: "Acme", config: { apiKey: API_KEY } })
        const other = yield* openStore(db, { secretKey: OTHER_SECRET_KEY })
        const error = yield* Effect.flip(other.connections.get(created.id))
        assert.strictEqual(error.reason, "Corrupt")
        assert.include(error.message, "SEATKEEPER_SECRET_KEY")
        assert.notInclude(error.message, API_KEY)
        assert.strictEqual((yield* Effect.flip(other.connections.list)).reason, "Corrupt")
        // A passphrase works as a key too, and is not interchangeable with the raw key.
        const passphrase = yield* openStore(db, { secretKey: Redacted.make("correct horse battery staple") })
        assert.strictEqual((yield* Effect.flip(passphrase.connections.get(created.id))).reason, "Corrupt")
      }))

    it.scopedLive("a cursor altered or signed by another key is Corrupt", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { connections, inventory, syncs } = yield* openStore(db)
        const c = yield* connections.create({ provider: "atlassian", name: "Acme", config: {} })
        const run = yield* syncs.start(c.id, "me")
        yield* syncs.stage(run.id, Array.from({ length: 9 }, (_, i) => account(`p${i}`)))
        yield* syncs.apply(run.id, noCounters)
        const cursor = (yield* inventory.listAccounts({ connectionId: c.id, limit: 2 })).nextCursor!
        const [body, signature] = cursor.split(".")
        const position = JSON.parse(Buffer.from(body!, "base64url").toString("utf8"))
        // A well-formed position for the same list, moved on by hand: its signature no longer matches.
        const forged = Buffer.from(JSON.stringify({ ...position, v: [position.v[0], "p7"] })).toString("base64url")
        for (const bad of [`${forged}.${signature}`, `${body}.${signature}x`, `${body}.`, `.${signature}`]) {
          const error = yield* Effect.flip(inventory.listAccounts({ connectionId: c.id, limit: 2, cursor: bad }))
          assert.strictEqual(error.reason, "Corrupt", bad)
          assert.include(error.message, "Request the first page again")
        }
        const rekeyed = yield* openStore(db, { secretKey: OTHER_SECRET_KEY })
        const error = yield* Effect.flip(rekeyed.inventory.listAccounts({ connectionId: c.id, limit: 2, cursor }))
        assert.strictEqual(error.reason, "Corrupt")
        assert.include(error.message, "signature")
      }))

    it.scopedLive("text with a NUL (which PostgreSQL cannot store) is kept without it, on both databases", () =>
      Effect.gen(function*() {
        const db = yield* target.database
        const { audit, connections, inventory, syncs } = yield* openStore(db)
        const c = yield* connections.create({ provider: "atlassian", name: "Ac\u0000me", config: { note: "a\u0000b" } })
        assert.strictEqual(c.name, "Acme")
        const run = yield* syncs.start(c.id, "me")
        yield* syncs.stage(run.id, [
          new ProviderAccount({
            externalId: "n\u0000ul",
            displayName: "Nul\u0000 Person",
            email: "nul@example.com",
            accountType: "atlassian",
            status: "active",
            sourceStatus: "act\u0000ive",
            entitlements: []
          })
        ])
        yield* syncs.apply(run.id, noCounters)
        const stored = Option.getOrThrow(yield* inventory.getAccount(c.id, "nul"))
        assert.deepStrictEqual([stored.account.displayName, stored.account.sourceStatus], ["Nul Person", "active"])
        assert.deepStrictEqual(
          (Option.getOrThrow(yield* connections.get(c.id)).config as { note: string }).note,
          "a\u0000b",
          "the config is JSON, encrypted: kept exactly"
        )
        const event = yield* audit.append({
          actor: "ad\u0000min",
          action: "account.suspend",
          connectionId: c.id,
          target: "n\u0000ul",
          input: { reason: "x\u0000y" },
          outcome: "ok",
          detail: null
        })
        const [listed] = (yield* audit.list({ connectionId: c.id, limit: 1 })).data
        assert.deepStrictEqual([listed!.actor, listed!.target, listed!.input], ["admin", "nul", { reason: "x\u0000y" }])
        assert.strictEqual(listed!.id, event.id)
      }))
  })
}
