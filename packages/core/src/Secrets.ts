/**
 * Scrubbing secrets out of text that came from elsewhere (invariant 12): an upstream error body that echoes
 * the request's `Authorization` header must not carry the key into an error, a run, a log line or the
 * audit trail. Every form a secret travels in is removed: as sent, URL-encoded, base64 and base64url (also
 * inside a larger base64 blob, at any offset), and the token inside an `Authorization` value (`Bearer <key>`,
 * the password of `Basic <base64>`).
 *
 * @since 0.2.0
 */
import * as Redacted from "effect/Redacted"

/**
 * What a scrubbed secret is replaced with.
 *
 * @since 0.2.0
 * @category constants
 */
export const REDACTED = "[redacted]"

// Shorter values are not secrets anyone could recognise, and replacing them would mangle ordinary text.
const MIN_LENGTH = 6

const encodings = (value: string): ReadonlyArray<string> => {
  const buffer = Buffer.from(value, "utf8")
  return [
    value,
    encodeURIComponent(value),
    buffer.toString("base64"),
    buffer.toString("base64").replace(/=+$/, ""),
    buffer.toString("base64url")
  ]
}

/**
 * The secrets inside one credential value: the value, and for an `Authorization` header its token, and for
 * `Basic` credentials the decoded `user:password` and the password.
 *
 * @since 0.2.0
 * @category utils
 */
export const secretsOf = (value: string): ReadonlyArray<string> => {
  const out = [value]
  const scheme = /^(\w+)\s+(.+)$/.exec(value.trim())
  if (scheme !== null) {
    const token = scheme[2]!
    out.push(token)
    if (scheme[1]!.toLowerCase() === "basic") {
      const decoded = Buffer.from(token, "base64").toString("utf8")
      const colon = decoded.indexOf(":")
      if (colon >= 0) out.push(decoded, decoded.slice(colon + 1))
    }
  }
  return out
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/**
 * A function that replaces every form of every given secret in a text with {@link REDACTED}. Forms are
 * matched case-sensitively, longest first, so a secret inside a longer one is removed with it.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeScrubber = (
  secrets: ReadonlyArray<string | Redacted.Redacted<string>>
): (text: string) => string => {
  const forms = new Set<string>()
  for (const secret of secrets) {
    const value = Redacted.isRedacted(secret) ? Redacted.value(secret) : secret
    for (const part of secretsOf(value)) {
      for (const form of encodings(part)) if (form.length >= MIN_LENGTH) forms.add(form)
    }
  }
  if (forms.size === 0) return (text) => text
  const pattern = new RegExp([...forms].sort((a, b) => b.length - a.length).map(escape).join("|"), "g")
  const holds = new RegExp(pattern.source)
  // A secret inside a larger blob that was base64-encoded whole (an echoed header block) sits at any byte
  // offset of it, where none of its own encodings match: decode every base64 run at its four alignments.
  const encoded = (run: string): string => {
    const plain = run.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/")
    for (let shift = 0; shift < 4; shift++) {
      if (holds.test(Buffer.from(plain.slice(shift), "base64").toString("latin1"))) return REDACTED
    }
    return run
  }
  return (text) => text.replace(BASE64_RUN, encoded).replace(pattern, REDACTED)
}

const BASE64_RUN = /[A-Za-z0-9+/_-]{16,}={0,2}/g
