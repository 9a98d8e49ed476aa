/**
 * The providers a host offers, as a service, so a test can run the host with other providers.
 *
 * @since 0.1.0
 */
import type { ProviderDefinition } from "@seatkeeper/core/Provider"
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import { providers } from "./registry.js"

/**
 * @since 0.1.0
 * @category tags
 */
export class ProviderRegistry extends Context.Tag("@seatkeeper/host/ProviderRegistry")<
  ProviderRegistry,
  Readonly<Record<string, ProviderDefinition>>
>() {
  /** The providers of `registry.ts`. */
  static readonly layer = Layer.succeed(ProviderRegistry, providers)
}

/**
 * The provider registered under `id`, if any. Only the registry's own entries count: `registry[id]` with
 * an id from a request ("__proto__", "constructor") would find `Object.prototype`'s members instead.
 *
 * @since 0.1.0
 * @category utils
 */
export const providerById = (
  registry: Readonly<Record<string, ProviderDefinition>>,
  id: string
): ProviderDefinition | undefined => (Object.hasOwn(registry, id) ? registry[id] : undefined)
