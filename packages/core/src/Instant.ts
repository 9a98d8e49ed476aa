/**
 * Instants as upstream APIs send them, read strictly (DESIGN.md invariant 4): ISO-8601 dates and date-times,
 * with or without seconds, no offset meaning UTC. Anything else (`"1"`, `"yesterday"`, `"1700000000"`) is
 * not an instant: `Date.parse` would read `"1"` as the year 2001 and make an active user look decades idle.
 *
 * @since 0.2.0
 */
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"

const isoInstant =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?\s*(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/

/**
 * The epoch milliseconds of an ISO-8601 date (`2026-08-03`, midnight UTC) or date-time
 * (`2023-10-11T12:35Z`, `2023-10-11T12:35:07.123+02:00`, `2023-10-11 12:35:07`), or `None`. Field ranges are
 * checked (no month 13, no February 30), so a value is either read exactly or not at all.
 *
 * @since 0.2.0
 * @category parsing
 */
export const parseMillis = (value: string): Option.Option<number> => {
  const m = isoInstant.exec(value.trim())
  if (m === null) return Option.none()
  const [, y, mo, d, h, mi, s, frac, zone] = m
  const year = Number(y)
  const month = Number(mo)
  const day = Number(d)
  const hour = Number(h ?? "0")
  const minute = Number(mi ?? "0")
  const second = Number(s ?? "0")
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59) return Option.none()
  const millis = frac === undefined ? 0 : Number(frac.slice(0, 3).padEnd(3, "0"))
  const utc = Date.UTC(year, month - 1, day, hour, minute, second, millis)
  // Date.UTC rolls 2026-02-30 over to March: a day that does not exist is not read.
  if (Number.isNaN(utc) || new Date(utc).getUTCDate() !== day) return Option.none()
  let offsetMinutes = 0
  if (zone !== undefined && zone !== "Z" && zone !== "z") {
    const digits = zone.slice(1).replace(":", "")
    const sign = zone.startsWith("-") ? -1 : 1
    const hours = Number(digits.slice(0, 2))
    const minutes = Number(digits.slice(2, 4) || "0")
    if (hours > 23 || minutes > 59) return Option.none()
    offsetMinutes = sign * (hours * 60 + minutes)
  }
  return Option.some(utc - offsetMinutes * 60_000)
}

/**
 * The instant in Seatkeeper's one stored form (`Date#toISOString`: UTC, milliseconds, fixed width, so text
 * order is time order), or `None` when the value is not a strict ISO-8601 date or date-time.
 *
 * @since 0.2.0
 * @category parsing
 */
export const normalize = (value: string): Option.Option<string> =>
  Option.map(parseMillis(value), (ms) => new Date(ms).toISOString())

/**
 * An ISO-8601 instant, kept as the string the source sent after checking that it reads strictly.
 *
 * @since 0.2.0
 * @category schemas
 */
export const Instant = Schema.String.pipe(
  Schema.filter((s) => Option.isSome(parseMillis(s)), {
    message: () => "expected an ISO-8601 date or date-time such as 2026-08-03T12:00:00Z"
  })
).annotations({ identifier: "Instant" })
