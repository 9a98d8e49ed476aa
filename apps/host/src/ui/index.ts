/**
 * The web UI of the host.
 *
 * @since 0.1.0
 */
export { type LoginThrottleOptions } from "./LoginThrottle.js"
export { mountPages, type PagesOptions } from "./pages.js"
export { CSRF_FIELD, SESSION_COOKIE } from "./security.js"
export { type SessionStoreOptions } from "./Sessions.js"
