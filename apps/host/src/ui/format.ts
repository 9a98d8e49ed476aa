/**
 * How numbers and times read on the pages.
 *
 * @since 0.1.0
 */

const DAY_MS = 86_400_000

/**
 * `12,345`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatCount = (n: number): string => n.toLocaleString("en-US")

/**
 * `2024-05-01 12:34 UTC`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatTime = (iso: string): string => {
  const d = new Date(iso)
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 10)} ${d.toISOString().slice(11, 16)} UTC`
}

/**
 * `today`, `yesterday`, `12 days ago`, `3 months ago`, `2 years ago`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatAge = (iso: string, now: number = Date.now()): string => {
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return ""
  const ms = now - t
  if (ms < 60_000) return "just now"
  if (ms < 3_600_000) return `${Math.floor(ms / 60_000)} min ago`
  if (ms < DAY_MS) return `${Math.floor(ms / 3_600_000)} h ago`
  const days = Math.floor(ms / DAY_MS)
  if (days === 1) return "yesterday"
  if (days < 60) return `${days} days ago`
  if (days < 730) return `${Math.floor(days / 30)} months ago`
  return `${Math.floor(days / 365)} years ago`
}

/**
 * `1 min 5 s`, `850 ms`.
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatDuration = (fromIso: string, toIso: string): string => {
  const ms = Date.parse(toIso) - Date.parse(fromIso)
  if (Number.isNaN(ms) || ms < 0) return ""
  if (ms < 1_000) return `${ms} ms`
  const s = Math.round(ms / 1_000)
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`
}
