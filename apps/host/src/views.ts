/**
 * The JSON shapes of the HTTP API (kept stable: the UI, tests and scripts rely on them), made from
 * store records.
 *
 * @since 0.1.0
 */
import type {
  AccountStatus
} from "@seatkeeper/core/Account"
import type {
  ConnectionRecord,
  StatusEvent,
  StoredAccount,
  SyncRun,
  SyncRunStatus,
  SyncStats
} from "@seatkeeper/core/LicenseStore"
import type { ProviderDefinition } from "@seatkeeper/core/Provider"
import { maskConfig } from "./connectionConfig.js"

/**
 * @since 0.1.0
 * @category views
 */
export interface EntitlementView {
  readonly key: string
  readonly name: string
  readonly product: string
  readonly site: string | null
  readonly status: AccountStatus
  readonly lastActiveAt: string | null
}

/**
 * @since 0.1.0
 * @category views
 */
export interface AccountView {
  readonly externalId: string
  readonly email: string | null
  readonly displayName: string
  readonly accountType: string
  readonly status: AccountStatus
  readonly sourceStatus: string
  readonly lastActiveAt: string | null
  readonly firstSeenAt: string
  readonly lastSeenAt: string
  readonly entitlements: ReadonlyArray<EntitlementView>
}

/**
 * @since 0.1.0
 * @category views
 */
export interface AccountDetailView extends AccountView {
  readonly history: ReadonlyArray<StatusEvent>
}

/**
 * @since 0.1.0
 * @category views
 */
export const accountView = (a: StoredAccount): AccountView => ({
  externalId: a.externalId,
  email: a.email,
  displayName: a.displayName,
  accountType: a.accountType,
  status: a.status,
  sourceStatus: a.sourceStatus,
  lastActiveAt: a.lastActiveAt,
  firstSeenAt: a.firstSeenAt,
  lastSeenAt: a.lastSeenAt,
  entitlements: a.entitlements.map((e) => ({
    key: e.key,
    name: e.name,
    product: e.product,
    site: e.site,
    status: e.status,
    lastActiveAt: e.lastActiveAt
  }))
})

/**
 * @since 0.1.0
 * @category views
 */
export interface SyncView {
  readonly id: string
  readonly connectionId: string
  readonly status: SyncRunStatus
  readonly startedAt: string
  readonly finishedAt: string | null
  readonly stats: SyncStats
  readonly error?: { readonly reason: string; readonly message: string; readonly hint?: string | undefined }
}

/**
 * @since 0.1.0
 * @category views
 */
export const syncView = (run: SyncRun): SyncView => ({
  id: run.id,
  connectionId: run.connectionId,
  status: run.status,
  startedAt: run.startedAt,
  finishedAt: run.finishedAt,
  stats: {
    accounts: run.stats.accounts,
    created: run.stats.created,
    updated: run.stats.updated,
    deprovisioned: run.stats.deprovisioned,
    entitlementsDeprovisioned: run.stats.entitlementsDeprovisioned,
    requests: run.stats.requests,
    retries: run.stats.retries,
    rateLimited: run.stats.rateLimited
  },
  ...(run.error === null ? {} : { error: run.error })
})

/**
 * A connection as shown: its config without secrets, and its latest sync.
 *
 * @since 0.1.0
 * @category views
 */
export interface ConnectionView {
  readonly id: string
  readonly provider: string
  readonly name: string
  readonly config: Record<string, unknown>
  readonly syncIntervalMinutes: number
  readonly createdAt: string
  readonly updatedAt: string
  readonly lastSync: SyncView | null
}

/**
 * @since 0.1.0
 * @category views
 */
export const connectionView = (
  c: ConnectionRecord,
  provider: ProviderDefinition | undefined,
  lastSync: SyncRun | undefined
): ConnectionView => ({
  id: c.id,
  provider: c.provider,
  name: c.name,
  config: maskConfig(provider, c.config),
  syncIntervalMinutes: c.syncIntervalMinutes,
  createdAt: c.createdAt,
  updatedAt: c.updatedAt,
  lastSync: lastSync === undefined ? null : syncView(lastSync)
})
