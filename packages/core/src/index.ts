/**
 * `@seatkeeper/core`: the domain model, the provider port, the storage port, the sync engine and the HTTP
 * toolkit adapters share. Each module is also importable on its own: `@seatkeeper/core/<Module>`.
 *
 * @since 0.1.0
 */
export * as Account from "./Account.js"
export * as LicenseStore from "./LicenseStore.js"
export * as Pagination from "./Pagination.js"
export * as Provider from "./Provider.js"
export * as ProviderConfig from "./ProviderConfig.js"
export * as ProviderError from "./ProviderError.js"
export * as ProviderHttp from "./ProviderHttp.js"
export * as RequestBudget from "./RequestBudget.js"
export * as SlidingWindowStore from "./SlidingWindowStore.js"
export * as SyncEngine from "./SyncEngine.js"
