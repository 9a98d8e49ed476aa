import { assert, describe, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Pagination from "../src/Pagination.js"
import { ProviderError } from "../src/ProviderError.js"

// A source of pages keyed by cursor, recording which cursors were fetched.
const source = (pages: Record<string, { readonly items: ReadonlyArray<number>; readonly next?: string }>) => {
  const fetched: Array<string> = []
  const fetch = (cursor: string) =>
    Effect.sync(() => {
      fetched.push(cursor)
      const page = pages[cursor]
      if (page === undefined) throw new Error(`test source has no page ${cursor}`)
      return [page.items, Option.fromNullable(page.next)] as const
    })
  return { fetch, fetched }
}

const options = { provider: "test", operation: "list" }

describe("Pagination.cursorPages", () => {
  it.effect("emits every page in order until there is no next cursor", () =>
    Effect.gen(function*() {
      const pages: Record<string, { items: ReadonlyArray<number>; next?: string }> = {}
      for (let i = 0; i < 50; i++) {
        pages[`c${i}`] = i === 49 ? { items: [i * 2, i * 2 + 1] } : { items: [i * 2, i * 2 + 1], next: `c${i + 1}` }
      }
      const { fetch, fetched } = source(pages)
      const out = yield* Stream.runCollect(Pagination.cursorPages("c0", fetch, options))
      assert.strictEqual(Chunk.size(out), 50)
      assert.deepStrictEqual(Chunk.toReadonlyArray(out).flat(), Array.from({ length: 100 }, (_, i) => i))
      assert.strictEqual(fetched.length, 50)
    }))

  it.effect("goes on past an empty page that has a next cursor", () =>
    Effect.gen(function*() {
      const { fetch, fetched } = source({
        a: { items: [1, 2], next: "b" },
        b: { items: [], next: "c" },
        c: { items: [3] }
      })
      const out = yield* Stream.runCollect(Pagination.cursorPages("a", fetch, options))
      assert.deepStrictEqual(Chunk.toReadonlyArray(out), [[1, 2], [], [3]])
      assert.deepStrictEqual(fetched, ["a", "b", "c"])
    }))

  it.effect("goes on past a short page that has a next cursor", () =>
    Effect.gen(function*() {
      const { fetch, fetched } = source({
        a: { items: [1, 2, 3], next: "b" },
        b: { items: [4], next: "c" },
        c: { items: [5, 6, 7] }
      })
      const out = yield* Stream.runCollect(Pagination.cursorPages("a", fetch, options))
      assert.deepStrictEqual(Chunk.toReadonlyArray(out).flat(), [1, 2, 3, 4, 5, 6, 7])
      assert.deepStrictEqual(fetched, ["a", "b", "c"])
    }))

  it.effect("fails Incomplete when the source repeats a cursor, after emitting the pages before it", () =>
    Effect.gen(function*() {
      const { fetch, fetched } = source({
        a: { items: [1], next: "b" },
        b: { items: [2], next: "c" },
        c: { items: [3], next: "b" }
      })
      const emitted: Array<ReadonlyArray<number>> = []
      const error = yield* Pagination.cursorPages("a", fetch, options).pipe(
        Stream.runForEach((page) => Effect.sync(() => emitted.push(page))),
        Effect.flip
      )
      assert.deepStrictEqual(emitted, [[1], [2], [3]])
      assert.deepStrictEqual(fetched, ["a", "b", "c"])
      assert.strictEqual(error.reason, "Incomplete")
      assert.strictEqual(error.provider, "test")
      assert.strictEqual(error.operation, "list")
      assert.include(error.description, "the source repeated a page cursor")
    }))

  it.effect("uses the key function to compare structured cursors", () =>
    Effect.gen(function*() {
      const fetch = (cursor: { readonly offset: number; readonly requestId: number }) =>
        // The source answers with a new request id but the same offset: the same page again.
        Effect.succeed(
          [
            cursor.offset,
            Option.some({ offset: Math.min(cursor.offset + 1, 2), requestId: cursor.requestId + 1 })
          ] as const
        )
      const error = yield* Pagination.cursorPages({ offset: 0, requestId: 0 }, fetch, {
        ...options,
        key: (c) => String(c.offset)
      }).pipe(Stream.runCollect, Effect.flip)
      assert.strictEqual(error.reason, "Incomplete")
    }))

  describe("prefetch", () => {
    const prefetching = { ...options, prefetch: true }

    it.effect("emits the same pages in order, fetching each cursor once", () =>
      Effect.gen(function*() {
        const { fetch, fetched } = source({
          a: { items: [1, 2], next: "b" },
          b: { items: [], next: "c" },
          c: { items: [3] }
        })
        const out = yield* Stream.runCollect(Pagination.cursorPages("a", fetch, prefetching))
        assert.deepStrictEqual(Chunk.toReadonlyArray(out), [[1, 2], [], [3]])
        assert.deepStrictEqual(fetched, ["a", "b", "c"])
      }))

    it.live("asks for the next page while the current one is processed, and for no page beyond it", () =>
      Effect.gen(function*() {
        const pages: Record<string, { items: ReadonlyArray<number>; next?: string }> = {}
        for (let i = 0; i < 5; i++) pages[`c${i}`] = i === 4 ? { items: [i] } : { items: [i], next: `c${i + 1}` }
        const { fetch, fetched } = source(pages)
        const seenWhileProcessing: Array<ReadonlyArray<string>> = []
        yield* Pagination.cursorPages("c0", fetch, prefetching).pipe(
          Stream.runForEach(() =>
            // A consumer that takes its time (a store write): the next page is on its way meanwhile.
            Effect.zipRight(Effect.sleep("5 millis"), Effect.sync(() => seenWhileProcessing.push([...fetched])))
          )
        )
        assert.deepStrictEqual(seenWhileProcessing, [
          ["c0", "c1"],
          ["c0", "c1", "c2"],
          ["c0", "c1", "c2", "c3"],
          ["c0", "c1", "c2", "c3", "c4"],
          ["c0", "c1", "c2", "c3", "c4"]
        ])
      }))

    it.effect("fails Incomplete on a repeated cursor after emitting the pages before it", () =>
      Effect.gen(function*() {
        const { fetch, fetched } = source({
          a: { items: [1], next: "b" },
          b: { items: [2], next: "c" },
          c: { items: [3], next: "b" }
        })
        const emitted: Array<ReadonlyArray<number>> = []
        const error = yield* Pagination.cursorPages("a", fetch, prefetching).pipe(
          Stream.runForEach((page) => Effect.sync(() => emitted.push(page))),
          Effect.flip
        )
        assert.deepStrictEqual(emitted, [[1], [2], [3]])
        assert.deepStrictEqual(fetched, ["a", "b", "c"])
        assert.strictEqual(error.reason, "Incomplete")
      }))

    it.effect("fails with the next page's error only after the current page was emitted", () =>
      Effect.gen(function*() {
        const emitted: Array<string> = []
        const fetch = (cursor: string) =>
          cursor === "b"
            ? Effect.fail(
              new ProviderError({ reason: "Unavailable", provider: "test", operation: "list", description: "down" })
            )
            : Effect.succeed([cursor, Option.some("b")] as const)
        const error = yield* Pagination.cursorPages("a", fetch, prefetching).pipe(
          Stream.runForEach((page) => Effect.sync(() => emitted.push(page))),
          Effect.flip
        )
        assert.deepStrictEqual(emitted, ["a"])
        assert.strictEqual(error.reason, "Unavailable")
      }))

    it.live("interrupts the page on its way when the consumer stops", () =>
      Effect.gen(function*() {
        let interrupted = false
        const fetch = (cursor: string) =>
          cursor === "a"
            ? Effect.succeed([cursor, Option.some("b")] as const)
            : Effect.never.pipe(Effect.onInterrupt(() => Effect.sync(() => (interrupted = true))))
        const out = yield* Stream.runCollect(Stream.take(Pagination.cursorPages("a", fetch, prefetching), 1))
        assert.deepStrictEqual(Chunk.toReadonlyArray(out), ["a"])
        assert.isTrue(interrupted)
      }))
  })
})
