/**
 * Opaque page cursors. Each carries the roster version it was issued at (so a listing can tell a cursor
 * issued before a roster change) and a check value, so a garbled or foreign cursor is refused (400
 * `ADMIN-400-1`) instead of silently starting somewhere else.
 *
 * @since 0.1.0
 */

const fnv1a = (text: string): string => {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return (h >>> 0).toString(36)
}

/**
 * A decoded v1 cursor.
 *
 * @since 0.2.0
 * @category models
 */
export interface CursorPosition {
  readonly offset: number
  readonly version: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface CursorCodec {
  readonly encode: (offset: number, version: number) => string
  /** The position, or `undefined` when the cursor is not one this sandbox issued. */
  readonly decode: (cursor: string) => CursorPosition | undefined
}

/**
 * The v1 listing's codec, bound to one org, so cursors of another sandbox org are refused too.
 *
 * @since 0.1.0
 * @category constructors
 */
export const cursorCodec = (orgId: string): CursorCodec => ({
  encode: (offset, version) => {
    const body = `${offset}.${version}`
    return Buffer.from(`${body}.${fnv1a(`${orgId}:${body}`)}`).toString("base64url")
  },
  decode: (cursor) => {
    if (!/^[A-Za-z0-9_-]{1,200}$/.test(cursor)) return undefined
    const parts = Buffer.from(cursor, "base64url").toString("latin1").split(".")
    if (parts.length !== 3 || !/^\d{1,9}$/.test(parts[0]!) || !/^\d{1,12}$/.test(parts[1]!)) return undefined
    if (fnv1a(`${orgId}:${parts[0]}.${parts[1]}`) !== parts[2]) return undefined
    return { offset: Number(parts[0]), version: Number(parts[1]) }
  }
})

/**
 * A codec for cursors that carry a small JSON state (the v2 search's filters, a workspace query), bound to
 * an org and a listing (`scope`), so a cursor of one listing is refused by another. `decode` returns the
 * state as parsed JSON; the caller decodes it with its Schema.
 *
 * @since 0.2.0
 * @category models
 */
export interface StateCursorCodec {
  readonly encode: (state: unknown) => string
  readonly decode: (cursor: string) => unknown
}

/**
 * @since 0.2.0
 * @category constructors
 */
export const stateCursorCodec = (orgId: string, scope: string): StateCursorCodec => ({
  encode: (state) => {
    const json = JSON.stringify(state)
    return Buffer.from(`${fnv1a(`${orgId}:${scope}:${json}`)}.${json}`).toString("base64url")
  },
  decode: (cursor) => {
    if (!/^[A-Za-z0-9_-]{1,4000}$/.test(cursor)) return undefined
    const text = Buffer.from(cursor, "base64url").toString("utf8")
    const dot = text.indexOf(".")
    if (dot < 1) return undefined
    const json = text.slice(dot + 1)
    if (fnv1a(`${orgId}:${scope}:${json}`) !== text.slice(0, dot)) return undefined
    try {
      return JSON.parse(json) as unknown
    } catch {
      return undefined
    }
  }
})

/**
 * A stable id in UUID form for a name (a site's host, a group's name), so generated ids never change.
 *
 * @since 0.2.0
 * @category constructors
 */
export const stableUuid = (name: string): string => {
  let hex = ""
  for (let i = 0; hex.length < 32; i++) {
    hex += (Number.parseInt(fnv1a(`${i}:${name}`), 36) >>> 0).toString(16).padStart(8, "0")
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`
}
