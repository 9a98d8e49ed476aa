/**
 * The one test host and the one request helper of the host's tests. A host runs in this process on a fresh
 * data directory (SQLite) or a PostgreSQL schema, with or without the web pages, driven through its Hono
 * app or listening on 127.0.0.1; `request` talks to it (or to any host at a URL) the way a client would,
 * and keeps every response for checks across a whole session.
 */
import * as Effect from "effect/Effect"
import * as LogLevel from "effect/LogLevel"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { loadHostConfig } from "../../src/config.js"
import type { AppOptions } from "../../src/http/app.js"
import { type RunningHost, startHost } from "../../src/runtime.js"
import { serveHost } from "../../src/serve.js"
import { mountPages, type PagesOptions } from "../../src/ui/index.js"

export const ADMIN_TOKEN = "test-admin-token-0123456789abcdef"

/** The origin a browser sends with a form post from one of the host's own pages (in-process requests). */
export const ORIGIN = "http://localhost"

export interface ApiResponse {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  /** The parsed JSON body, or `undefined` when the body is empty or not JSON. */
  readonly body: any
  /** `Location`, for redirects. */
  readonly location: string | null
}

export interface RecordedResponse {
  readonly method: string
  readonly path: string
  readonly status: number
  readonly headers: string
  readonly text: string
}

export interface RequestOptions {
  /** A JSON body (sets `content-type: application/json`). */
  readonly body?: unknown
  /** A body sent as is. */
  readonly rawBody?: string | Uint8Array | undefined
  /** A form post (sets `content-type: application/x-www-form-urlencoded`). */
  readonly form?: Record<string, string> | undefined
  /** The bearer token; `null` sends none. Default: the host's admin token. */
  readonly token?: string | null | undefined
  readonly cookie?: string | undefined
  readonly headers?: Record<string, string> | undefined
  /** The client's address as the server sees it (in-process only). Default 192.0.2.1. */
  readonly address?: string | undefined
}

export type Request = (method: string, path: string, options?: RequestOptions) => Promise<ApiResponse>

type Send = (path: string, init: RequestInit, address: string) => Promise<Response>

const parse = (text: string): unknown => {
  try {
    return text === "" ? undefined : JSON.parse(text)
  } catch {
    return undefined
  }
}

/**
 * The request helper over any way of sending: a host's `app.request` or `fetch` to a URL. A form post or a
 * request with a cookie is a browser's (no token); anything else is an API client's (the token).
 */
export const requester = (
  send: Send,
  options: {
    readonly token: string
    readonly responses: Array<RecordedResponse>
    readonly browserOrigin?: string | undefined
  }
): Request =>
async (method, path, opts = {}) => {
  const browser = opts.form !== undefined || opts.cookie !== undefined
  const headers: Record<string, string> = {
    ...(browser && method === "POST" && options.browserOrigin !== undefined ? { origin: options.browserOrigin } : {}),
    ...opts.headers
  }
  const token = opts.token === undefined ? (browser ? null : options.token) : opts.token
  if (token !== null) headers.authorization = `Bearer ${token}`
  if (opts.cookie !== undefined) headers.cookie = opts.cookie
  let body: string | Uint8Array | undefined = opts.rawBody
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body)
    headers["content-type"] ??= "application/json"
  }
  if (opts.form !== undefined) {
    body = new URLSearchParams(opts.form).toString()
    headers["content-type"] ??= "application/x-www-form-urlencoded"
  }
  const res = await send(
    path,
    { method, headers, ...(body === undefined ? {} : { body }) },
    opts.address ?? "192.0.2.1"
  )
  const text = await res.text()
  options.responses.push({ method, path, status: res.status, headers: JSON.stringify([...res.headers]), text })
  return { status: res.status, headers: res.headers, text, body: parse(text), location: res.headers.get("location") }
}

/** A request helper for a host listening at `url` (a spawned process, or `listen: true`). */
export const httpClient = (url: string, token: string = ADMIN_TOKEN) => {
  const responses: Array<RecordedResponse> = []
  const request = requester(
    (path, init) => fetch(`${url}${path}`, { ...init, signal: AbortSignal.timeout(30_000) }),
    { token, responses }
  )
  return { request, responses }
}

export interface TestHost {
  readonly host: RunningHost
  readonly dataDir: string
  /** Set when the host listens (`listen: true`). */
  readonly url: string | undefined
  readonly adminToken: string
  readonly request: Request
  /** Every response this host sent through `request`: status, headers and body. */
  readonly responses: ReadonlyArray<RecordedResponse>
  /** Logs in through the login page and returns the session cookie (`name=value`). */
  readonly login: (options?: { readonly headers?: Record<string, string> }) => Promise<string>
  /** Stops the host; removes its data directory unless `keepData`. */
  readonly close: (options?: { readonly keepData?: boolean }) => Promise<void>
}

export interface TestHostOptions {
  /** Reopen a data directory (a restart); default a new temporary one. */
  readonly dataDir?: string | undefined
  /** More host environment (`SEATKEEPER_PROVIDER_TIMEOUT_MS`, `DATABASE_URL`, `REDIS_URL`, ...). */
  readonly env?: Record<string, string | undefined> | undefined
  readonly adminToken?: string | undefined
  /** Mount the web pages (with these options). Default false. */
  readonly pages?: boolean | PagesOptions | undefined
  /** Listen on 127.0.0.1 (for a browser or keep-alive clients). Default false: requests go to the app. */
  readonly listen?: boolean | undefined
  /** Default Error; a check for a leaked secret passes All, to see every line the host can write. */
  readonly logLevel?: LogLevel.LogLevel | undefined
  readonly requestLog?: boolean | undefined
  readonly scheduler?: boolean | undefined
  readonly extend?: AppOptions["extend"]
}

/** A host in this process, scheduler off unless asked. */
export const makeTestHost = async (options: TestHostOptions = {}): Promise<TestHost> => {
  const dataDir = options.dataDir ?? Fs.mkdtempSync(Path.join(Os.tmpdir(), "seatkeeper-host-test-"))
  const adminToken = options.adminToken ?? ADMIN_TOKEN
  const config = await Effect.runPromise(
    loadHostConfig({
      SEATKEEPER_DATA_DIR: dataDir,
      SEATKEEPER_ADMIN_TOKEN: adminToken,
      HOST: "127.0.0.1",
      PORT: "0",
      ...options.env
    })
  )
  const pages = options.pages === undefined || options.pages === false
    ? undefined
    : options.pages === true
    ? {}
    : options.pages
  const hostOptions = {
    scheduler: options.scheduler ?? false,
    requestLog: options.requestLog ?? false,
    logLevel: options.logLevel ?? LogLevel.Error,
    extend: (app: Parameters<typeof mountPages>[0], host: Parameters<typeof mountPages>[1]) => {
      options.extend?.(app, host)
      if (pages !== undefined) mountPages(app, host, pages)
    }
  }
  const responses: Array<RecordedResponse> = []
  let host: RunningHost
  let url: string | undefined
  let stop: () => Promise<void>
  let send: Send
  if (options.listen === true) {
    const serving = await serveHost(config, hostOptions)
    host = serving
    url = serving.url
    stop = serving.stop
    send = (path, init) => fetch(`${serving.url}${path}`, { ...init, signal: AbortSignal.timeout(30_000) })
  } else {
    const started = await startHost(config, hostOptions)
    host = started
    stop = started.dispose
    // The third argument is the server's bindings: what @hono/node-server passes, with the peer address.
    send = async (path, init, address) =>
      started.app.request(path, init, { incoming: { socket: { remoteAddress: address } } })
  }
  const request = requester(send, { token: adminToken, responses, browserOrigin: url ?? ORIGIN })
  const login: TestHost["login"] = async (opts = {}) => {
    const res = await request("POST", "/login", { form: { token: adminToken }, headers: opts.headers ?? {} })
    if (res.status !== 303) throw new Error(`login failed: ${res.status} ${res.text.slice(0, 300)}`)
    return sessionCookieOf(res.headers)
  }
  return {
    host,
    dataDir,
    url,
    adminToken,
    request,
    responses,
    login,
    close: async (opts = {}) => {
      await stop()
      if (opts.keepData !== true) Fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }
}

/** The `name=value` of the session cookie a response sets. */
export const sessionCookieOf = (headers: Headers): string => {
  const cookie = headers.getSetCookie().find((c) => c.startsWith("seatkeeper_session="))
  if (cookie === undefined) throw new Error(`no session cookie in ${JSON.stringify(headers.getSetCookie())}`)
  return cookie.split(";")[0]!
}

/** The CSRF token of the first form on a page. */
export const csrfTokenOf = (html: string): string => {
  const match = /name="_csrf" value="([^"]+)"/.exec(html)
  if (match === null) throw new Error("no CSRF field on the page")
  return match[1]!
}
