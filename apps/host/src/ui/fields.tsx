/**
 * Form fields with their label, help and error next to them, for the reclaim and admin forms: an input
 * whose value the service refused says so under it (`aria-invalid`, `aria-describedby`), and the form
 * starts with a summary of what to fix.
 *
 * @since 0.2.0
 */
import type { Child, FC, PropsWithChildren } from "hono/jsx"
import type { ErrorDescription } from "../errors.js"
import { ErrorBox } from "./layout.js"

/**
 * The `aria-describedby` of an input with optional help and error texts.
 *
 * @since 0.2.0
 * @category utils
 */
export const describedBy = (id: string, help: string | undefined, error: string | undefined): string | undefined => {
  const ids = [help === undefined ? undefined : `${id}-help`, error === undefined ? undefined : `${id}-error`].filter((
    s
  ) => s !== undefined)
  return ids.length === 0 ? undefined : ids.join(" ")
}

/**
 * @since 0.2.0
 * @category components
 */
export const Field: FC<
  PropsWithChildren<{ id: string; label: string; help?: string | undefined; error?: string | undefined }>
> = (
  { children, error, help, id, label }
) => (
  <div class="field">
    <label for={id}>{label}</label>
    {children}
    {help === undefined ? null : <p class="help" id={`${id}-help`}>{help}</p>}
    {error === undefined ? null : <p class="error" id={`${id}-error`}>{error}</p>}
  </div>
)

/**
 * A text, number, date or URL input in its field.
 *
 * @since 0.2.0
 * @category components
 */
export const InputField: FC<{
  id: string
  name: string
  label: string
  value: string | undefined
  errors: ReadonlyMap<string, string>
  help?: string | undefined
  type?: "text" | "number" | "date" | "url" | "password" | undefined
  placeholder?: string | undefined
  min?: number | undefined
  max?: number | undefined
  required?: boolean | undefined
  /** The key of the field's error, when it is not `name`. */
  errorKey?: string | undefined
}> = (props) => {
  const error = props.errors.get(props.errorKey ?? props.name)
  return (
    <Field id={props.id} label={props.label} help={props.help} error={error}>
      <input
        type={props.type ?? "text"}
        id={props.id}
        name={props.name}
        value={props.value ?? ""}
        placeholder={props.placeholder}
        min={props.min}
        max={props.max}
        step={props.type === "number" ? 1 : undefined}
        required={props.required}
        autocomplete="off"
        spellcheck={false}
        aria-describedby={describedBy(props.id, props.help, error)}
        aria-invalid={error === undefined ? undefined : "true"}
      />
    </Field>
  )
}

/**
 * A textarea in its field (one value per line).
 *
 * @since 0.2.0
 * @category components
 */
export const TextareaField: FC<{
  id: string
  name: string
  label: string
  value: string | undefined
  errors: ReadonlyMap<string, string>
  help?: string | undefined
}> = (props) => {
  const error = props.errors.get(props.name)
  return (
    <Field id={props.id} label={props.label} help={props.help} error={error}>
      <textarea
        id={props.id}
        name={props.name}
        rows={3}
        spellcheck={false}
        aria-describedby={describedBy(props.id, props.help, error)}
        aria-invalid={error === undefined ? undefined : "true"}
      >
        {props.value ?? ""}
      </textarea>
    </Field>
  )
}

/**
 * What to fix, above a form: the errors no field shows, or a failure that is no field's.
 *
 * @since 0.2.0
 * @category components
 */
export const FormErrors: FC<{
  errors: ReadonlyMap<string, string>
  /** The keys the form shows next to a field. */
  shown: (key: string) => boolean
  error?: ErrorDescription | undefined
  title?: string | undefined
}> = ({ error, errors, shown, title }) => {
  const unmatched: Array<Child> = [...errors.entries()].filter(([key]) => !shown(key)).map(([key, message]) => (
    <p>{key === "" ? message : `${key}: ${message}`}</p>
  ))
  return (
    <>
      {error === undefined ? null : <ErrorBox error={error} title={title ?? "Not saved"} />}
      {errors.size === 0 ? null : (
        <div class="alert" role="alert">
          <strong>Check the fields marked below</strong>
          {unmatched}
        </div>
      )}
    </>
  )
}

/**
 * A number typed in a form as the service takes it: a number, or the text itself (so the service's
 * message names it); blank is left out (the default applies).
 *
 * @since 0.2.0
 * @category utils
 */
export const numberOrText = (raw: string | undefined): number | string | undefined => {
  if (raw === undefined || raw.trim() === "") return undefined
  const n = Number(raw.trim())
  return Number.isFinite(n) ? n : raw
}

/**
 * The non-blank lines of a textarea, trimmed.
 *
 * @since 0.2.0
 * @category utils
 */
export const linesOf = (raw: string | undefined): Array<string> =>
  (raw ?? "").split(/\r?\n/).map((s) => s.trim()).filter((s) => s !== "")
