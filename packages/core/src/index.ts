/**
 * `@seatkeeper/core`: the domain model, the provider port, the storage ports, the sync engine, seat
 * arithmetic and the HTTP toolkit adapters share. Each module is also importable on its own:
 * `@seatkeeper/core/<Module>`.
 *
 * @since 0.1.0
 */
export * as Account from "./Account.js"
export * as Action from "./Action.js"
export * as Audit from "./Audit.js"
export * as Connection from "./Connection.js"
export * as Instant from "./Instant.js"
export * as Inventory from "./Inventory.js"
export * as License from "./License.js"
export * as Pagination from "./Pagination.js"
export * as Provider from "./Provider.js"
export * as ProviderConfig from "./ProviderConfig.js"
export * as ProviderError from "./ProviderError.js"
export * as ProviderHttp from "./ProviderHttp.js"
export * as Reclaim from "./Reclaim.js"
export * as ReclaimEngine from "./ReclaimEngine.js"
export * as ReclaimStore from "./ReclaimStore.js"
export * as RequestBudget from "./RequestBudget.js"
export * as Seats from "./Seats.js"
export * as Secrets from "./Secrets.js"
export * as SlidingWindowStore from "./SlidingWindowStore.js"
export * as StoreError from "./StoreError.js"
export * as SyncEngine from "./SyncEngine.js"
export * as SyncRun from "./SyncRun.js"
export * as SyncStore from "./SyncStore.js"
export * as User from "./User.js"
export * as Webhook from "./Webhook.js"
