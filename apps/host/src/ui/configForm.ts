/**
 * A provider's settings form, generated from its config fields (`describeConfig`): the form's flat
 * field names (`config.rateLimit.requests`), and the conversion of submitted strings into the config
 * object the service validates (numbers as numbers, booleans as booleans, nested objects as objects).
 *
 * @since 0.1.0
 */
import type { ConfigField } from "@seatkeeper/core/ProviderConfig"

type Json = Record<string, unknown>

/**
 * A submitted form: field name → value (files and repeated fields dropped).
 *
 * @since 0.1.0
 * @category models
 */
export type FormValues = Readonly<Record<string, string>>

/**
 * The form field name of a config field: `config.<path>`.
 *
 * @since 0.1.0
 * @category utils
 */
export const fieldName = (path: ReadonlyArray<string>): string => ["config", ...path].join(".")

const isBlank = (s: string | undefined) => s === undefined || s.trim() === ""

const anyGiven = (fields: ReadonlyArray<ConfigField>, form: FormValues, path: ReadonlyArray<string>): boolean =>
  fields.some((f) =>
    f.type === "object"
      ? anyGiven(f.fields ?? [], form, [...path, f.name])
      : f.type === "boolean"
      ? false
      : !isBlank(form[fieldName([...path, f.name])])
  )

const scalar = (f: ConfigField, raw: string): unknown => {
  if (f.type === "number") {
    const n = Number(raw.trim())
    // Not a number: pass the text on so the provider's schema says what is wrong with it.
    return Number.isFinite(n) ? n : raw
  }
  return raw
}

/**
 * The config a form describes.
 *
 * - `create` (and a connection test): blank optional fields are left out; a blank required field is
 *   sent as `""` so the schema reports it as empty.
 * - `update` (merged into the stored config by the service): a blank optional field is `null`, which
 *   removes it; a blank secret is left out, which keeps the stored one.
 *
 * @since 0.1.0
 * @category conversion
 */
export const configFromForm = (
  fields: ReadonlyArray<ConfigField>,
  form: FormValues,
  mode: "create" | "update",
  path: ReadonlyArray<string> = []
): Json => {
  const out: Json = {}
  for (const f of fields) {
    const at = [...path, f.name]
    if (f.type === "object") {
      const children = f.fields ?? []
      if (!anyGiven(children, form, at)) {
        if (!f.optional) out[f.name] = configFromForm(children, form, mode, at)
        else if (mode === "update") out[f.name] = null
        continue
      }
      out[f.name] = configFromForm(children, form, mode, at)
      continue
    }
    const raw = form[fieldName(at)]
    if (f.type === "boolean") {
      out[f.name] = raw === "on" || raw === "true"
      continue
    }
    if (isBlank(raw)) {
      if (f.secret && mode === "update") continue
      if (!f.optional) out[f.name] = f.type === "string" ? "" : raw ?? ""
      else if (mode === "update") out[f.name] = null
      continue
    }
    out[f.name] = scalar(f, raw!)
  }
  return out
}

/**
 * Whether the form leaves some secret blank (on an edit: keep the stored one).
 *
 * @since 0.1.0
 * @category utils
 */
export const blankSecrets = (
  fields: ReadonlyArray<ConfigField>,
  form: FormValues,
  path: ReadonlyArray<string> = []
): boolean =>
  fields.some((f) =>
    f.type === "object"
      ? blankSecrets(f.fields ?? [], form, [...path, f.name])
      : f.secret && isBlank(form[fieldName([...path, f.name])])
  )

const isRecord = (u: unknown): u is Json => typeof u === "object" && u !== null && !Array.isArray(u)

/**
 * Whether the form's non-secret settings are those of `stored` (a connection's masked config), so that
 * testing the stored connection tests what the form shows.
 *
 * @since 0.1.0
 * @category utils
 */
export const sameSettings = (fields: ReadonlyArray<ConfigField>, form: FormValues, stored: unknown): boolean => {
  const given = configFromForm(fields, form, "create")
  const same = (fs: ReadonlyArray<ConfigField>, a: unknown, b: unknown): boolean =>
    fs.every((f) => {
      if (f.secret) return true
      const x = isRecord(a) ? a[f.name] : undefined
      const y = isRecord(b) ? b[f.name] : undefined
      if (f.type === "object") return (x === undefined && y === undefined) || same(f.fields ?? [], x, y)
      // An unchecked box is `false`; a stored config without the field has its default.
      if (f.type === "boolean") return (x === true) === ((y ?? f.default) === true)
      return (x ?? null) === (y ?? null) || String(x ?? "").trim() === String(y ?? "").trim()
    })
  return same(fields, given, stored)
}

/**
 * The form values that show a stored (masked) config, for an edit form.
 *
 * @since 0.1.0
 * @category conversion
 */
export const formFromConfig = (
  fields: ReadonlyArray<ConfigField>,
  config: unknown,
  path: ReadonlyArray<string> = []
): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const f of fields) {
    const value = isRecord(config) ? config[f.name] : undefined
    const at = [...path, f.name]
    if (f.type === "object") Object.assign(out, formFromConfig(f.fields ?? [], value, at))
    else if (f.secret) continue
    else if (f.type === "boolean") out[fieldName(at)] = value === true ? "on" : ""
    else if (value !== undefined && value !== null) out[fieldName(at)] = String(value)
  }
  return out
}

/**
 * How a stored secret is shown: `set, ends with abcd`, `set` or `not set`.
 *
 * @since 0.1.0
 * @category utils
 */
export const describeSecret = (config: unknown, path: ReadonlyArray<string>): string | undefined => {
  const masked = path.reduce<unknown>((o, k) => (isRecord(o) ? o[k] : undefined), config)
  if (!isRecord(masked)) return undefined
  if (masked.set !== true) return "not set"
  return typeof masked.last4 === "string" ? `set, ends with ${masked.last4}` : "set"
}

/**
 * A form's values as strings: a form posts strings (and files, which no form here has).
 *
 * @since 0.1.0
 * @category conversion
 */
export const formValues = (body: Record<string, unknown>): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(body)) if (typeof v === "string") out[k] = v
  return out
}
