/**
 * Cursor pagination into a `Stream`, with the completeness rules of DESIGN.md invariant 2: paging stops
 * only when the source says there is no next page, never on a short or empty page, and a source that
 * repeats a cursor fails instead of looping forever.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
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
  /**
   * Fetch the next page while the current one is processed: as soon as a page names its next cursor, that
   * page is requested, before the current page is emitted. One page ahead at most, so memory stays that of
   * two pages; every request still goes through `fetch` (and so the request budget). Use this for long
   * listings whose pages take the consumer about as long as the source takes to serve them. Default
   * `false`.
   */
  readonly prefetch?: boolean | undefined
}

const defaultKey = (cursor: unknown): string => typeof cursor === "string" ? cursor : JSON.stringify(cursor) ?? ""

// Lets the event loop run once (I/O included), so a request just started is on the wire before the
// consumer goes on with work that does not yield.
const yieldToEventLoop: Effect.Effect<void> = Effect.async<void>((resume) => {
  if (typeof setImmediate !== "function") {
    const timer = setTimeout(() => resume(Effect.void), 0)
    return Effect.sync(() => clearTimeout(timer))
  }
  const handle = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(handle))
})

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
): Stream.Stream<A, ProviderError> => {
  const checked = () => {
    const keyOf: (cursor: Cursor) => string = options.key ?? defaultKey
    const seen = new Set<string>()
    return (cursor: Cursor): Effect.Effect<readonly [A, Option.Option<Cursor>], ProviderError> => {
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
    }
  }
  if (options.prefetch !== true) return Stream.suspend(() => Stream.paginateEffect(initial, checked()))
  // The state is the next page on its way: a fiber started before the page before it was emitted, in the
  // stream's scope, so it is interrupted with the stream. The fiber leaves its page in a variable and ends
  // with nothing: a large value handed over through a fiber's exit outlives young-generation collections.
  type Pending = Effect.Effect<readonly [A, Option.Option<Cursor>], ProviderError>
  return Stream.unwrapScoped(Effect.map(Effect.scope, (scope) => {
    const request = checked()
    const ahead = (cursor: Cursor): Effect.Effect<Pending> => {
      let fetched: readonly [A, Option.Option<Cursor>] | undefined
      const fetch = Effect.suspend(() => request(cursor)).pipe(
        Effect.map((result) => {
          fetched = result
        })
      )
      return Effect.forkIn(fetch, scope).pipe(
        Effect.zipLeft(yieldToEventLoop),
        Effect.map((fiber) =>
          Effect.flatMap(Fiber.join(fiber), () =>
            Effect.sync(() => {
              const result = fetched!
              fetched = undefined
              return result
            }))
        )
      )
    }
    return Stream.paginateEffect<Pending, A, ProviderError, never>(
      Effect.suspend(() => request(initial)),
      (pending) =>
        Effect.flatMap(pending, ([page, next]) =>
          Option.isNone(next)
            ? Effect.succeed([page, Option.none()] as const)
            : Effect.map(ahead(next.value), (nextPage) => [page, Option.some(nextPage)] as const))
    )
  }))
}
