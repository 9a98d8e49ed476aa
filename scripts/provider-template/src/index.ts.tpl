/**
 * `@seatkeeper/provider-__ID__`: the __DISPLAY__ adapter of Seatkeeper.
 *
 * @since 0.1.0
 */
export {
  __NAME__,
  __NAME__Provider,
  activitySource,
  capabilities,
  connect,
  layer,
  mapStatus,
  METHOD,
  readUser,
  toAccount
} from "./__NAME__Provider.js"
export { __NAME__Config, DEFAULT_RATE_LIMIT } from "./__NAME__Config.js"
export * as __NAME__Client from "./__NAME__Client.js"
