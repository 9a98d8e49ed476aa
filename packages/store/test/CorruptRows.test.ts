/**
 * The accounts and seats lists decode their rows with leaf schemas of their own (`internal/rows.ts`, for
 * speed); a value they do not expect is still `Corrupt`, naming the field and the value, never a wrong
 * account. Each case changes one stored value by hand, as a tool or another version might.
 */
import { assert, describe, it } from "@effect/vitest"
import { noCounters } from "@seatkeeper/core/SyncRun"
import * as Effect from "effect/Effect"
import { openStore, roster, targets } from "./fixtures.js"

const cases = [
  // A status no list filters for is read by the account's own page only.
  {
    what: "an account's status",
    set: "UPDATE accounts SET status = 'gone'",
    expect: ["status", "\"gone\""],
    listed: false
  },
  { what: "an account's billable flag", set: "UPDATE accounts SET billable = 7", expect: ["billable", "7"] },
  {
    what: "an account's roles that are not JSON",
    set: "UPDATE accounts SET roles_json = 'admin'",
    expect: ["roles", "not JSON"]
  },
  {
    what: "an account's groups that are not strings",
    set: "UPDATE accounts SET groups_json = '[1]'",
    expect: ["groups", "an array of strings"]
  },
  {
    what: "an account's attributes that are not an object of strings",
    set: "UPDATE accounts SET attributes_json = '[\"a\"]'",
    expect: ["attributes", "an object of strings"]
  },
  {
    what: "an entitlement's status",
    set: "UPDATE entitlements SET status = 'lapsed'",
    expect: ["status", "lapsed"],
    listed: false
  }
] as const

for (const target of targets("corrupt list rows")) {
  describe(`corrupt list rows on ${target.name}`, () => {
    for (const bad of cases) {
      it.scopedLive(`${bad.what} is Corrupt`, () =>
        Effect.gen(function*() {
          const db = yield* target.database
          const store = yield* openStore(db)
          const c = yield* store.connections.create({ provider: "atlassian", name: "Corrupt", config: {} })
          const run = yield* store.syncs.start(c.id, "me")
          yield* store.syncs.stage(run.id, roster(3))
          yield* store.syncs.settle(run.id, "streak")
          yield* store.syncs.apply(run.id, noCounters)
          const accounts = store.inventory.listAccounts({ connectionId: c.id, limit: 10 })
          const seats = Effect.asVoid(store.inventory.listSeats({ connectionId: c.id, limit: 10 }))
          const one = Effect.asVoid(store.inventory.getAccount(c.id, "user-0000001"))
          assert.strictEqual((yield* accounts).data.length, 3, "reads before the change")

          yield* store.sql.unsafe(bad.set)
          for (const read of "listed" in bad ? [one] : [Effect.asVoid(accounts), seats, one]) {
            const error = yield* Effect.flip(read)
            assert.strictEqual(error.reason, "Corrupt")
            for (const part of bad.expect) assert.include(error.message, part)
          }
        }))
    }
  })
}
