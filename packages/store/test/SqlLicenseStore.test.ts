import { describe, it } from "@effect/vitest"
import { conformance } from "./StoreConformance.js"
import { pgTarget, pgUnavailable, PG_URL, sqliteTarget } from "./fixtures.js"

conformance(sqliteTarget)

// PostgreSQL runs where it is reachable; CI sets SEATKEEPER_REQUIRE_SERVICES=1 so that its absence fails.
const pgDown = await pgUnavailable()
if (pgDown === undefined) {
  conformance(pgTarget)
} else if (process.env.SEATKEEPER_REQUIRE_SERVICES === "1") {
  describe("LicenseStore conformance on PostgreSQL", () => {
    it("needs PostgreSQL", () => {
      throw new Error(`PostgreSQL at ${PG_URL} is required (SEATKEEPER_REQUIRE_SERVICES=1) but unreachable: ${pgDown}`)
    })
  })
} else {
  console.warn(`Skipping the PostgreSQL store suite: ${PG_URL} is unreachable (${pgDown}). Set SEATKEEPER_REQUIRE_SERVICES=1 to fail instead.`)
  describe.skip(`LicenseStore conformance on PostgreSQL (skipped: ${PG_URL} unreachable)`, () => {
    it("skipped", () => {})
  })
}
