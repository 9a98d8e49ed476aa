/**
 * `@seatkeeper/provider-scim`: the generic SCIM 2.0 adapter of Seatkeeper.
 *
 * @since 0.1.0
 */
export * as ScimClient from "./ScimClient.js"
export {
  Deactivation,
  DEFAULT_DIALECT,
  DEFAULT_PAGE_SIZE,
  DEFAULT_RATE_LIMIT,
  Dialect,
  PatchOp,
  ScimBaseUrl,
  ScimConfig,
  type ScimConfigEncoded
} from "./ScimConfig.js"
export { classify, hints, parseErrorBody, type ScimErrorBody } from "./ScimError.js"
export {
  ACTIVE_METHOD,
  capabilities,
  connect,
  entitlementKinds,
  lastSignInSource,
  layer,
  layerConfig,
  type MappingOptions,
  mapStatus,
  methodLabel,
  readAttribute,
  readUser,
  Scim,
  type ScimConnection,
  ScimProvider,
  toAccount,
  toEntitlements,
  type UserReading,
  warnDropped
} from "./ScimProvider.js"
export * as ScimSchema from "./ScimSchema.js"
