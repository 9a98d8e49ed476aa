/**
 * Opaque page cursors: base64url of an offset and the roster version, with a check value so a garbled or
 * foreign cursor is refused (400 `ADMIN-400-1`) instead of silently starting somewhere else.
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
 * @since 0.1.0
 * @category models
 */
export interface CursorCodec {
  readonly encode: (offset: number, version: number) => string
  /** The offset, or `undefined` when the cursor is not one this sandbox issued. */
  readonly decode: (cursor: string) => number | undefined
}

/**
 * A codec bound to one org, so cursors of another sandbox org are refused too.
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
    return Number(parts[0])
  }
})
