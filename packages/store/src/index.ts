/**
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as Cursor from "./Cursor.js"

/**
 * @since 0.1.0
 */
export * as Migrations from "./Migrations.js"

/**
 * @since 0.1.0
 */
export * as RedisBudgetStore from "./RedisBudgetStore.js"

/**
 * @since 0.1.0
 */
export * as SecretBox from "./SecretBox.js"

/**
 * @since 0.1.0
 */
export * as SqlLicenseStore from "./SqlLicenseStore.js"

/**
 * @since 0.1.0
 */
export * as SyncOwner from "./SyncOwner.js"
