/**
 * `@seatkeeper/store`: core's storage ports (connections, syncs, inventory, audit, reclaim plans, users and
 * webhooks) over `@effect/sql` (SQLite embedded by default, with its writer off the event loop; PostgreSQL by
 * `DATABASE_URL`), their migrations, and a Redis store for shared request budgets. Each module is also importable on its own: `@seatkeeper/store/<Module>`.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as Migrations from "./Migrations.js"

/**
 * @since 0.1.0
 */
export * as RedisBudgetStore from "./RedisBudgetStore.js"

/**
 * @since 0.2.0
 */
export * as SqlAuditStore from "./SqlAuditStore.js"

/**
 * @since 0.2.0
 */
export * as SqlConnectionStore from "./SqlConnectionStore.js"

/**
 * @since 0.2.0
 */
export * as SqlInventoryStore from "./SqlInventoryStore.js"

/**
 * @since 0.2.0
 */
export * as SqlReclaimStore from "./SqlReclaimStore.js"

/**
 * @since 0.2.0
 */
export * as SqlStore from "./SqlStore.js"

/**
 * @since 0.2.0
 */
export * as SqlSyncStore from "./SqlSyncStore.js"

/**
 * @since 0.2.0
 */
export * as SqlUserStore from "./SqlUserStore.js"

/**
 * @since 0.2.0
 */
export * as SqlWebhookStore from "./SqlWebhookStore.js"

/**
 * @since 0.1.0
 */
export * as SyncOwner from "./SyncOwner.js"
