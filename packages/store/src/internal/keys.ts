/**
 * The keys derived from `SEATKEEPER_SECRET_KEY`, shared by the stores of one layer.
 *
 * @internal
 */
import type { StoreError } from "@seatkeeper/core/StoreError"
import * as Context from "effect/Context"
import * as Layer from "effect/Layer"
import type * as Redacted from "effect/Redacted"
import { deriveKeys, type SecretKeys } from "./secretBox.js"

/** @internal */
export class StoreKeys extends Context.Tag("@seatkeeper/store/internal/StoreKeys")<StoreKeys, SecretKeys>() {}

/** @internal */
export const layer = (secretKey: Redacted.Redacted<string>): Layer.Layer<StoreKeys, StoreError> =>
  Layer.effect(StoreKeys, deriveKeys(secretKey))
