/**
 * The pieces the paged lists (accounts, seats) share: sortable column headers, the caption with the range
 * and the total, previous and next links, and the page-size choice. Sorting and paging keep every filter.
 *
 * @since 0.2.0
 */
import type { AccountSort } from "@seatkeeper/core/Inventory"
import type { Child, FC } from "hono/jsx"
import { formatCount } from "./format.js"
import { withQuery } from "./paths.js"

/**
 * The raw query of a list page: its filters, `sort`, `order`, `limit`, `cursor`, and `n` (the position of
 * the page's first row, kept by the links so the caption can say `51–100`).
 *
 * @since 0.2.0
 * @category models
 */
export type ListQuery = Readonly<Record<string, string | undefined>>

/**
 * The page sizes offered.
 *
 * @since 0.2.0
 * @category constants
 */
export const PAGE_SIZES = [25, 50, 100, 200, 500] as const

/**
 * The default order of the lists: least recently active first (never active before all), the accounts
 * and seats to look at.
 *
 * @since 0.2.0
 * @category constants
 */
export const DEFAULT_SORT: { readonly sort: AccountSort; readonly order: "asc" | "desc" } = {
  sort: "lastActive",
  order: "asc"
}

/**
 * The sort a list shows: the query's, else the default.
 *
 * @since 0.2.0
 * @category utils
 */
export const currentSort = (query: ListQuery): { readonly sort: string; readonly order: "asc" | "desc" } => ({
  sort: query.sort === undefined || query.sort === "" ? DEFAULT_SORT.sort : query.sort,
  order: query.order === "desc" ? "desc" : query.order === "asc" ? "asc" : DEFAULT_SORT.order
})

/**
 * The query with sort and paging applied: the first page of that order, every filter kept.
 *
 * @since 0.2.0
 * @category utils
 */
export const withSort = (
  query: ListQuery,
  sort: string,
  order: "asc" | "desc"
): Record<string, string | undefined> => ({
  ...query,
  sort,
  order,
  cursor: undefined,
  n: undefined
})

/**
 * The decoded filters' `sort` and `order`, with the default sort when the query names none.
 *
 * @since 0.2.0
 * @category utils
 */
export const sortedQuery = (query: ListQuery): Record<string, string | undefined> => {
  const { order, sort } = currentSort(query)
  return { ...query, sort, order }
}

/**
 * A column header that sorts the list by its column: ascending first, reversed when clicked again.
 *
 * @since 0.2.0
 * @category components
 */
export const SortHeader: FC<{ label: string; sort: AccountSort; base: string; query: ListQuery; class?: string }> = (
  props
) => {
  const current = currentSort(props.query)
  const active = current.sort === props.sort
  const next = active && current.order === "asc" ? "desc" : "asc"
  const arrow = !active ? "" : current.order === "asc" ? " ▲" : " ▼"
  const ariaSort = !active ? undefined : current.order === "asc" ? "ascending" : "descending"
  return (
    <th scope="col" class={props.class} aria-sort={ariaSort}>
      <a
        class="sort"
        href={withQuery(props.base, withSort(props.query, props.sort, next))}
        aria-label={`${props.label}: sort ${next === "asc" ? "ascending" : "descending"}`}
      >
        {props.label}
        <span aria-hidden="true">{arrow}</span>
      </a>
    </th>
  )
}

/**
 * The position of a page's first row (from the links), 0 on the first page.
 *
 * @since 0.2.0
 * @category utils
 */
export const startOf = (query: ListQuery): number =>
  query.cursor === undefined || query.cursor === "" ? 0 : Math.max(0, Number.parseInt(query.n ?? "0", 10) || 0)

/**
 * `51–100 of 563 seats`: the total in its own element (`.total`), so a reader and a test find it.
 *
 * @since 0.2.0
 * @category components
 */
export const RangeCaption: FC<{ start: number; shown: number; total: number; noun: string }> = (
  { noun, shown, start, total }
) => (
  <caption>
    {`${formatCount(start + 1)}–${formatCount(start + shown)} of `}
    <span class="total">{formatCount(total)}</span>
    {` ${noun}`}
  </caption>
)

/**
 * Previous, next and first page; each keeps the filters, the sort and the page size.
 *
 * @since 0.2.0
 * @category components
 */
export const Pager: FC<{
  base: string
  query: ListQuery
  page: {
    readonly nextCursor: string | null
    readonly prevCursor: string | null
    readonly data: ReadonlyArray<unknown>
  }
  limit: number
}> = ({ base, limit, page, query }) => {
  const start = startOf(query)
  const links: Array<Child> = []
  if (page.prevCursor !== null && start > limit) {
    links.push(<a href={withQuery(base, { ...query, cursor: undefined, n: undefined })}>« First page</a>)
  }
  if (page.prevCursor !== null) {
    const n = Math.max(0, start - limit)
    links.push(<a href={withQuery(base, { ...query, cursor: page.prevCursor, n })} rel="prev">‹ Previous page</a>)
  }
  if (page.nextCursor !== null) {
    const n = start + page.data.length
    links.push(<a href={withQuery(base, { ...query, cursor: page.nextCursor, n })} rel="next">Next page ›</a>)
  }
  return links.length === 0 ? null : <nav class="pager" aria-label="Pages">{links}</nav>
}

/**
 * The search field of a filter form (name, email or id), with its error under it.
 *
 * @since 0.2.0
 * @category components
 */
export const SearchField: FC<{ id: string; value: string | undefined; error: Child }> = ({ error, id, value }) => (
  <div class="field">
    <label for={id}>Search</label>
    <input type="search" id={id} name="q" placeholder="name, email or id" value={value ?? ""} maxlength={200} />
    {error}
  </div>
)

/**
 * The page-size field of a filter form.
 *
 * @since 0.2.0
 * @category components
 */
export const PageSizeField: FC<{ id: string; value: string | undefined }> = ({ id, value }) => {
  const current = value === undefined || value === "" ? "50" : value
  const sizes: ReadonlyArray<string> = PAGE_SIZES.map(String)
  return (
    <div class="field">
      <label for={id}>Per page</label>
      <select id={id} name="limit">
        {sizes.includes(current) ? null : <option value={current} selected>{current}</option>}
        {sizes.map((n) => <option value={n} selected={current === n}>{n}</option>)}
      </select>
    </div>
  )
}

/**
 * Hidden fields that carry the sort through a filter form, so filtering keeps the order.
 *
 * @since 0.2.0
 * @category components
 */
export const SortFields: FC<{ query: ListQuery }> = ({ query }) => (
  <>
    {query.sort === undefined || query.sort === "" ? null : <input type="hidden" name="sort" value={query.sort} />}
    {query.order === undefined || query.order === "" ? null : <input type="hidden" name="order" value={query.order} />}
  </>
)
