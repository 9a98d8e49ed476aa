/**
 * What the page tests read off a rendered page: the count links with the numbers they show, the total a
 * list says it has, the JSON API address of a page's list; and a browser-like client for one session.
 */
import type { ApiResponse, Request, RequestOptions } from "../support/TestHost.js"
import { csrfTokenOf } from "../support/TestHost.js"

/** `&amp;` and friends back to text, as a browser reads an attribute or a cell. */
export const unescapeHtml = (s: string): string =>
  s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, "\"").replace(/&#39;/g, "'").replace(/&amp;/g, "&")

/** The number a count shows, `1,234` read as 1234; a count link's text is digits and commas only. */
export const numberOf = (text: string): number => {
  const digits = text.replace(/<[^>]*>/g, " ").replace(/[^\d,]/g, " ").trim().split(/\s+/).filter((s) => s !== "")
  const value = digits.at(-1)
  if (value === undefined) throw new Error(`no number in ${JSON.stringify(text)}`)
  return Number(value.replace(/,/g, ""))
}

export interface CountLink {
  readonly href: string
  readonly shown: number
}

/** Every count link of a page (`<a class="count">`): where it leads and the number it shows. */
export const countLinks = (html: string): ReadonlyArray<CountLink> =>
  [...html.matchAll(/<a class="count" href="([^"]*)"[^>]*>([\s\S]*?)<\/a>/g)].map((m) => {
    // A card shows its label and then its value; the value is the count.
    const value = /<div class="value">([^<]*)<\/div>/.exec(m[2]!)?.[1] ?? m[2]!
    return { href: unescapeHtml(m[1]!), shown: numberOf(value) }
  })

/** The total a list page says it has (`<span class="total">`). */
export const totalOf = (html: string): number => {
  const match = /<span class="total">([\d,]+)<\/span>/.exec(html)
  if (match === null) throw new Error(`the page shows no total: ${html.slice(0, 200)}`)
  return Number(match[1]!.replace(/,/g, ""))
}

/** The JSON API request behind a list page: `/connections/c/seats?x=1` → `/api/connections/c/seats?x=1&limit=1`. */
export const apiPathOf = (pagePath: string): string => {
  const url = new URL(pagePath, "http://localhost")
  if (!/^\/connections\/[^/]+\/(seats|accounts)$/.test(url.pathname)) throw new Error(`not a list page: ${pagePath}`)
  url.searchParams.set("limit", "1")
  return `/api${url.pathname}${url.search}`
}

/** The rows of the first table body on a page (accounts or seats): the account ids their links name. */
export const rowIdsOf = (html: string): ReadonlyArray<string> =>
  [...html.matchAll(/<tr><th scope="row"><a href="\/connections\/[^/"]+\/accounts\/([^"/]+)">/g)].map((m) =>
    decodeURIComponent(m[1]!)
  )

/** The `href` of the link whose text is `text` (first match). */
export const linkTo = (html: string, text: string | RegExp): string | undefined => {
  for (const m of html.matchAll(/<a ([^>]*)>([\s\S]*?)<\/a>/g)) {
    const label = unescapeHtml(m[2]!.replace(/<[^>]*>/g, "")).trim()
    if (typeof text === "string" ? label === text : text.test(label)) {
      const href = /href="([^"]*)"/.exec(m[1]!)?.[1]
      return href === undefined ? undefined : unescapeHtml(href)
    }
  }
  return undefined
}

export interface Browser {
  readonly cookie: string
  /** A page, as a logged-in browser asks for it. */
  readonly get: (path: string) => Promise<ApiResponse>
  /** A form post with the session's CSRF token. */
  readonly post: (path: string, form?: Record<string, string>, options?: RequestOptions) => Promise<ApiResponse>
  readonly csrf: string
}

/** A logged-in browser session over a test host's `request` and `login`. */
export const browserSession = async (
  request: Request,
  login: () => Promise<string>
): Promise<Browser> => {
  const cookie = await login()
  const csrf = csrfTokenOf((await request("GET", "/", { cookie })).text)
  return {
    cookie,
    csrf,
    get: (path) => request("GET", path, { cookie }),
    post: (path, form = {}, options = {}) =>
      request("POST", path, { ...options, cookie, form: { _csrf: csrf, ...form } })
  }
}
