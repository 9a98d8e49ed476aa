// The in-memory store against the storage conformance suite: the reference every SQL store is held to.
import * as MemoryStore from "../src/testing/MemoryStore.js"
import { runStoreConformance } from "../src/testing/StoreConformance.js"

runStoreConformance("MemoryStore", MemoryStore.layer())
