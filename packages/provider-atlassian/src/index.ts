/**
 * `@seatkeeper/provider-atlassian`: the Atlassian Cloud adapter of Seatkeeper.
 *
 * @since 0.1.0
 */
export {
  Atlassian,
  type AtlassianConnection,
  AtlassianProvider,
  capabilities,
  connect,
  layer,
  layerConfig,
  mapStatus,
  toAccount,
  toEntitlement
} from "./AtlassianProvider.js"
export { AtlassianConfig, type AtlassianConfigEncoded, DEFAULT_BASE_URL, DEFAULT_RATE_LIMIT } from "./AtlassianConfig.js"
export { classify, hints, parseErrorBody } from "./AtlassianError.js"
export * as AtlassianClient from "./AtlassianClient.js"
export * as AtlassianSchema from "./AtlassianSchema.js"
