/**
 * The start-up notice for a person at a terminal: where the admin token is.
 *
 * @since 0.1.0
 */
import * as Redacted from "effect/Redacted"
import type { HostConfig } from "./config.js"
import { logLine } from "./serve.js"

/**
 * Shows a freshly generated admin token once, on the terminal (stderr). Never in a log line: when stderr
 * is not a terminal (a service manager, a container log) only the file that holds it is named.
 *
 * @since 0.1.0
 * @category start-up
 */
export const printAdminToken = (config: HostConfig, options: { readonly always?: boolean } = {}) => {
  if (config.adminTokenFile === undefined) return
  if (!config.adminTokenCreated && options.always !== true) return
  if (process.stderr.isTTY || options.always === true) {
    process.stderr.write(
      `\nAdmin token${config.adminTokenCreated ? " (generated now; shown only this once)" : ""}:\n\n  ${
        Redacted.value(config.adminToken)
      }\n\n` +
        `It is kept in ${config.adminTokenFile} (mode 0600). Log in with it in the browser, or send\n` +
        `  Authorization: Bearer <token>\nwith every /api request.\n\n`
    )
  } else {
    logLine("info", "generated an admin token", { file: config.adminTokenFile })
  }
}
