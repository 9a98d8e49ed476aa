/**
 * A list's total may be kept between pages (see `SqlInventoryStore`); here two stores on one database, as two
 * processes (two hosts on one PostgreSQL, or a CLI beside the host on SQLite), each keeping its own counts:
 * a change made through one is counted at once by the other.
 */
import { assert, describe, it } from "@effect/vitest"
import { noCounters } from "@seatkeeper/core/SyncRun"
import * as Effect from "effect/Effect"
import { account, entitlement, openStore, roster, targets } from "./fixtures.js"

for (const target of targets("kept list totals")) {
  describe(`kept list totals on ${target.name}`, () => {
    it.scopedLive(
      "a count kept by one store is never reused after another store changes the inventory",
      () =>
        Effect.gen(function*() {
          const db = yield* target.database
          const one = yield* openStore(db)
          const two = yield* openStore(db)
          const c = yield* one.connections.create({ provider: "atlassian", name: "Kept", config: {} })
          const sync = (accounts: ReturnType<typeof roster>) =>
            Effect.gen(function*() {
              const run = yield* one.syncs.start(c.id, "me")
              yield* one.syncs.stage(run.id, accounts)
              yield* one.syncs.settle(run.id, "streak")
              yield* one.syncs.apply(run.id, noCounters)
            })
          yield* sync(roster(30))
          const now = new Date(Date.UTC(2026, 0, 2)).toISOString()
          const totals = Effect.gen(function*() {
            const active = yield* two.inventory.listAccounts({ connectionId: c.id, limit: 5, status: "active", now })
            const inactive = yield* two.inventory.listAccounts({ connectionId: c.id, limit: 5, inactiveDays: 30, now })
            const seats = yield* two.inventory.listSeats({ connectionId: c.id, limit: 5 })
            return [active.total, inactive.total, seats.total]
          })
          const first = yield* totals
          assert.deepStrictEqual(yield* totals, first, "kept, the same")
          // An admin action through the other store.
          yield* one.inventory.recordAction(c.id, "user-0000001", "suspended", "suspend")
          const suspended = yield* totals
          assert.deepStrictEqual(suspended, [first[0]! - 1, first[1], first[2]! - 3])
          // An apply through the other store: one account more, never active, with one seat.
          yield* sync([...roster(30), account("new-1", { entitlements: [entitlement("trello")] })])
          const applied = yield* totals
          assert.deepStrictEqual(applied, [first[0]! + 1, first[1]! + 1, first[2]! + 1])
          // Lists and totals agree, page by page.
          let cursor: string | undefined
          let seen = 0
          do {
            const page = yield* two.inventory.listAccounts({
              connectionId: c.id,
              limit: 7,
              inactiveDays: 30,
              now,
              cursor
            })
            assert.strictEqual(page.total, applied[1])
            seen += page.data.length
            cursor = page.nextCursor ?? undefined
          } while (cursor !== undefined)
          assert.strictEqual(seen, applied[1])
          // The connection removed through the other store.
          assert.isTrue(yield* one.connections.remove(c.id))
          assert.deepStrictEqual(yield* totals, [0, 0, 0])
        }),
      60_000
    )
  })
}
