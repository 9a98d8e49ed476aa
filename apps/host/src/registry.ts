/**
 * The providers this host offers. Adding a provider is one line here; nothing else in the host knows
 * any provider.
 *
 * @since 0.1.0
 */
import type { ProviderDefinition } from "@seatkeeper/core/Provider"
import { AtlassianProvider } from "@seatkeeper/provider-atlassian"
import { ScimProvider } from "@seatkeeper/provider-scim"

/**
 * @since 0.1.0
 * @category registry
 */
export const providers: Readonly<Record<string, ProviderDefinition>> = {
  atlassian: AtlassianProvider,
  scim: ScimProvider
}
