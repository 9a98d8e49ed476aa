/**
 * Cursor pagination into a `Stream`, with the completeness rules of DESIGN.md invariant 2: paging stops
 * only when the source says there is no next page, never on a short or empty page, and a source that
 * repeats a cursor fails instead of looping forever.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import type * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { ProviderError } from "./ProviderError.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface CursorPagesOptions<Cursor> {
  readonly provider: string
  readonly operation: string
  /**
   * Identity of a cursor, to detect a source that sends the same cursor twice. Default: the cursor itself
   * for a string, else its JSON.
   */
  readonly key?: ((cursor: Cursor) => string) | undefined
}

const defaultKey = (cursor: unknown): string => typeof cursor === "string" ? cursor : JSON.stringify(cursor) ?? ""

/**
 * Emits every page `fetch` returns, in order, starting from `initial` and following each page's next
 * cursor. It ends only when `fetch` returns no next cursor: an empty or short page with a next cursor goes
 * on. A cursor seen before fails with `Incomplete`, because the source would otherwise be read forever.
 *
 * @since 0.1.0
 * @category constructors
 */
export const cursorPages = <Cursor, A>(
  initial: Cursor,
  fetch: (cursor: Cursor) => Effect.Effect<readonly [A, Option.Option<Cursor>], ProviderError>,
  options: CursorPagesOptions<Cursor>
): Stream.Stream<A, ProviderError> =>
  Stream.suspend(() => {
    const keyOf: (cursor: Cursor) => string = options.key ?? defaultKey
    const seen = new Set<string>()
    return Stream.paginateEffect(initial, (cursor) => {
      const key = keyOf(cursor)
      if (seen.has(key)) {
        return Effect.fail(
          new ProviderError({
            reason: "Incomplete",
            provider: options.provider,
            operation: options.operation,
            description: `the source repeated a page cursor after ${seen.size} pages; ` +
              `paging stopped so the list is not read forever, and it is treated as incomplete`,
            hint: "The provider's paging is inconsistent; try again later. If it persists, report it to the provider."
          })
        )
      }
      seen.add(key)
      return fetch(cursor)
    })
  })
