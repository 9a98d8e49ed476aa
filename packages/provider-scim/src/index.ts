/**
 * `@seatkeeper/provider-scim`: the generic SCIM 2.0 adapter of Seatkeeper.
 *
 * @since 0.1.0
 */
export {
  capabilities,
  connect,
  entitlementKinds,
  layer,
  layerConfig,
  mapStatus,
  readAttribute,
  Scim,
  type ScimConnection,
  ScimProvider,
  toAccount,
  toEntitlements
} from "./ScimProvider.js"
export {
  DEFAULT_DIALECT,
  DEFAULT_PAGE_SIZE,
  DEFAULT_RATE_LIMIT,
  Deactivation,
  Dialect,
  PatchOp,
  ScimConfig,
  type ScimConfigEncoded
} from "./ScimConfig.js"
export { classify, hints, parseErrorBody, type ScimErrorBody } from "./ScimError.js"
export * as ScimClient from "./ScimClient.js"
export * as ScimSchema from "./ScimSchema.js"
