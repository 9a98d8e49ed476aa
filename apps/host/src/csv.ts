/**
 * CSV exports (RFC 4180), streamed page by page so an export of 100,000 accounts never holds them all.
 * Cells that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, carriage return first) are
 * prefixed with a `'`: an exported display name must not become a formula on a finance admin's machine.
 *
 * @since 0.2.0
 */
import type { Page } from "@seatkeeper/core/Inventory"
import * as Effect from "effect/Effect"
import * as Runtime from "effect/Runtime"

/**
 * A column: its header and how a row gives its cell.
 *
 * @since 0.2.0
 * @category models
 */
export interface Column<A> {
  readonly header: string
  readonly cell: (row: A) => string | number | boolean | null | undefined
}

const FORMULA = /^[=+\-@\t\r]/

/**
 * One CSV cell: quoted when it holds a comma, a quote or a line break; formula-like text defused.
 *
 * @since 0.2.0
 * @category encoding
 */
export const cell = (value: string | number | boolean | null | undefined): string => {
  if (value === null || value === undefined) return ""
  let text = String(value)
  if (typeof value === "string" && FORMULA.test(text)) text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, "\"\"")}"` : text
}

/**
 * @since 0.2.0
 * @category encoding
 */
export const line = <A>(columns: ReadonlyArray<Column<A>>, row: A): string =>
  columns.map((c) => cell(c.cell(row))).join(",") + "\r\n"

/**
 * A streamed CSV response of every page `fetch` returns, starting without a cursor and following
 * `nextCursor`. The next page is fetched while the client reads the one before, and each is one walk of an
 * index from where the last ended, so an export's time grows with its rows, not their square (`fetch`
 * should not count the list on every page: `withTotal: false`). A failure after the first page ends the
 * stream (the status is already sent); the first page's failure fails the effect, so the client gets a
 * proper error answer.
 *
 * @since 0.2.0
 * @category constructors
 */
export const csvResponse = <A, E, R>(options: {
  readonly filename: string
  readonly columns: ReadonlyArray<Column<A>>
  readonly fetch: (cursor: string | undefined) => Effect.Effect<Page<A>, E, R>
}): Effect.Effect<Response, E, R> =>
  Effect.gen(function*() {
    const runtime = yield* Effect.runtime<R>()
    const first = yield* options.fetch(undefined)
    const encoder = new TextEncoder()
    const fetchPage = (cursor: string) => Runtime.runPromiseExit(runtime)(options.fetch(cursor))
    let pending: Page<A> | undefined = first
    // The next page, asked for as soon as the previous one is sent.
    let next: ReturnType<typeof fetchPage> | undefined
    let cancelled = false
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(encoder.encode(options.columns.map((c) => cell(c.header)).join(",") + "\r\n"))
      },
      async pull(controller) {
        if (pending === undefined) {
          if (next === undefined) return controller.close()
          const exit = await next
          next = undefined
          if (cancelled) return
          if (exit._tag === "Failure") return controller.error(new Error("the export failed part way; run it again"))
          pending = exit.value
        }
        const page = pending
        pending = undefined
        if (page.nextCursor !== null) next = fetchPage(page.nextCursor)
        let chunk = ""
        for (const row of page.data) chunk += line(options.columns, row)
        controller.enqueue(encoder.encode(chunk))
        if (next === undefined) controller.close()
      },
      cancel() {
        // The client went away: the page being fetched is dropped when it arrives.
        cancelled = true
      }
    })
    return new Response(body, {
      status: 200,
      headers: {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="${options.filename.replace(/[^\w.-]/g, "_")}"`,
        "cache-control": "no-store"
      }
    })
  })
