// The storage conformance suite of @seatkeeper/core (the one MemoryStore passes) on SQLite and PostgreSQL.
import { runStoreConformance } from "@seatkeeper/core/testing/StoreConformance"
import { databaseLayer, targets } from "./fixtures.js"

for (const target of targets("the store conformance suite")) {
  runStoreConformance(target.name, databaseLayer(target))
}
