/**
 * `@seatkeeper/provider-atlassian`: the Atlassian Cloud adapter of Seatkeeper.
 *
 * @since 0.1.0
 */
export * as AtlassianClient from "./AtlassianClient.js"
export {
  AtlassianConfig,
  type AtlassianConfigEncoded,
  DEFAULT_BASE_URL,
  DEFAULT_RATE_LIMIT
} from "./AtlassianConfig.js"
export {
  type AtlassianErrorBody,
  classify,
  hints,
  parseErrorBody,
  restrictionHint,
  restrictionReasons
} from "./AtlassianError.js"
export {
  activitySources,
  Atlassian,
  type AtlassianConnection,
  AtlassianProvider,
  capabilities,
  connect,
  isMethod,
  layer,
  layerConfig,
  mapDirectoryStatus,
  mapStatus,
  type Method,
  methodFor,
  methods,
  nonBillableAccountTypes,
  type ProductInstance,
  toAccount,
  toDirectoryAccount,
  toEntitlement,
  toLicense,
  toProductInstance
} from "./AtlassianProvider.js"
export * as AtlassianSchema from "./AtlassianSchema.js"
