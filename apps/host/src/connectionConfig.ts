/**
 * A connection's provider config at the host's edges: checked against the provider's schema, merged on
 * update without losing a secret the form left blank, and shown without its secrets.
 *
 * @since 0.1.0
 */
import type { ProviderDefinition } from "@seatkeeper/core/Provider"
import { secretBindingPaths, secretPaths } from "@seatkeeper/core/ProviderConfig"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { type FieldIssue, InvalidInput } from "./errors.js"

type Json = Record<string, unknown>

const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

const getPath = (obj: unknown, path: ReadonlyArray<string>): unknown =>
  path.reduce<unknown>((o, k) => (isRecord(o) ? o[k] : undefined), obj)

const setPath = (obj: Json, path: ReadonlyArray<string>, value: unknown): Json => {
  const [head, ...rest] = path
  if (head === undefined) return obj
  if (rest.length === 0) return { ...obj, [head]: value }
  const child = isRecord(obj[head]) ? obj[head] : {}
  return { ...obj, [head]: setPath(child, rest, value) }
}

/**
 * Checks `input` against the provider's config schema, reporting every problem (unknown fields
 * included) with paths under `prefix`. Returns the config in its encoded (storable) form, normalised
 * by the schema (trimmed strings and so on).
 *
 * @since 0.1.0
 * @category validation
 */
export const validateConfig = (
  provider: ProviderDefinition,
  input: unknown,
  prefix: ReadonlyArray<string> = ["config"]
): Effect.Effect<Json, InvalidInput> =>
  Schema.decodeUnknown(provider.configSchema, { errors: "all", onExcessProperty: "error" })(input).pipe(
    Effect.flatMap((decoded) => Schema.encode(provider.configSchema)(decoded)),
    Effect.map((encoded) => encoded as Json),
    Effect.mapError((e) => {
      const secrets = secretPaths(provider.configSchema).map((p) => [...prefix, ...p].join("."))
      // Schema's default messages end with ", actual <value>": never echo a secret's value back.
      return InvalidInput.fromIssues(
        InvalidInput.fromParseError(e, prefix).map((issue) =>
          secrets.some((s) => issue.path.join(".").startsWith(s))
            ? { ...issue, message: issue.message.replace(/,?\s*actual[\s\S]*$/, "") }
            : issue
        )
      )
    })
  )

/**
 * Field issues of a config that is not an object at all.
 *
 * @since 0.1.0
 * @category validation
 */
export const configObjectIssues = (
  input: unknown,
  prefix: ReadonlyArray<string> = ["config"]
): ReadonlyArray<FieldIssue> =>
  isRecord(input) ? [] : [{ path: prefix, message: "must be an object with the provider's fields" }]

/**
 * Applies an update to a stored (encoded) config: objects merge field by field, `null` removes an
 * optional field, and a secret that is omitted or blank keeps its stored value (a settings form never
 * holds the secret, so it sends nothing for it).
 *
 * @since 0.1.0
 * @category utils
 */
export const mergeConfig = (provider: ProviderDefinition, stored: unknown, patch: Json): Json => {
  const merge = (base: Json, over: Json): Json => {
    const out: Json = { ...base }
    for (const [k, v] of Object.entries(over)) {
      if (v === null) delete out[k]
      else if (isRecord(v) && isRecord(base[k])) out[k] = merge(base[k], v)
      else out[k] = v
    }
    return out
  }
  let merged = merge(isRecord(stored) ? stored : {}, patch)
  for (const path of secretPaths(provider.configSchema)) {
    const given = getPath(patch, path)
    const kept = getPath(stored, path)
    if ((given === undefined || given === "") && kept !== undefined) merged = setPath(merged, path, kept)
  }
  return merged
}

const destination = (value: unknown): string | undefined =>
  value === undefined || value === null ? undefined : String(value).trim().replace(/\/+$/, "").toLowerCase()

/**
 * Field issues of an update that changes where the connection's secrets go (a field annotated
 * `BindsSecretsId`, such as a base URL or an organisation) without entering the secrets again: a stored key
 * must never be sent somewhere its owner did not type it for (invariant 12). One issue per secret, on the
 * secret's field, saying what to do.
 *
 * @since 0.2.0
 * @category validation
 */
export const rebindingIssues = (
  provider: ProviderDefinition,
  stored: unknown,
  patch: Json,
  prefix: ReadonlyArray<string> = ["config"]
): ReadonlyArray<FieldIssue> => {
  const moved = secretBindingPaths(provider.configSchema).filter((path) => {
    const given = getPath(patch, path)
    if (given === undefined) return false
    return destination(given) !== destination(getPath(stored, path))
  })
  if (moved.length === 0) return []
  const names = moved.map((path) => path.join(".")).join(" and ")
  return secretPaths(provider.configSchema)
    .filter((path) => {
      const given = getPath(patch, path)
      return given === undefined || given === ""
    })
    .map((path) => ({
      path: [...prefix, ...path],
      message: `must be entered again: changing ${names} sends it to a new destination, and a stored secret is only ` +
        `sent where it was entered`
    }))
}

/**
 * How a secret is shown: only that it is set, and its last 4 characters when it is long enough that
 * they give nothing away.
 *
 * @since 0.1.0
 * @category models
 */
export interface MaskedSecret {
  readonly set: boolean
  readonly last4: string | null
}

const mask = (value: unknown): MaskedSecret =>
  typeof value === "string" && value !== ""
    ? { set: true, last4: value.length >= 12 ? value.slice(-4) : null }
    : { set: false, last4: null }

/**
 * The stored config with every secret replaced by a {@link MaskedSecret}: what responses, pages and
 * audit events show.
 *
 * @since 0.1.0
 * @category utils
 */
export const maskConfig = (provider: ProviderDefinition | undefined, stored: unknown): Json => {
  let out: Json = isRecord(stored) ? { ...stored } : {}
  // Without the provider's schema there is no telling which fields are secret: show nothing.
  if (provider === undefined) return {}
  for (const path of secretPaths(provider.configSchema)) {
    out = setPath(out, path, mask(getPath(stored, path)))
  }
  return out
}
