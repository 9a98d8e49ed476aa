/**
 * A host with the web pages mounted, on a fresh temporary data directory: driven in process
 * (`app.request`, with a simulated client address) or listening on 127.0.0.1 for a browser.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Effect from "effect/Effect"
import * as LogLevel from "effect/LogLevel"
import { loadHostConfig } from "../../src/config.js"
import { type RunningHost, startHost } from "../../src/runtime.js"
import { serveHost, type ServingHost } from "../../src/serve.js"
import { mountPages, type PagesOptions } from "../../src/ui/index.js"
import { ADMIN_TOKEN } from "../harness.js"

export { ADMIN_TOKEN }

const configFor = (dataDir: string) =>
  Effect.runPromise(
    loadHostConfig({ SEATKEEPER_DATA_DIR: dataDir, SEATKEEPER_ADMIN_TOKEN: ADMIN_TOKEN, HOST: "127.0.0.1", PORT: "0" })
  )

const hostOptions = (pages: PagesOptions) => ({
  scheduler: false,
  requestLog: false,
  logLevel: LogLevel.Error,
  extend: (app: Parameters<typeof mountPages>[0], host: Parameters<typeof mountPages>[1]) => mountPages(app, host, pages)
})

export interface PageResponse {
  readonly status: number
  readonly headers: Headers
  readonly text: string
  /** `Location`, for redirects. */
  readonly location: string | null
}

export interface InProcessHost {
  readonly host: RunningHost
  /** A request as a browser at `address` would send it. */
  readonly request: (
    method: string,
    path: string,
    options?: {
      readonly cookie?: string | undefined
      readonly form?: Record<string, string> | undefined
      readonly headers?: Record<string, string> | undefined
      readonly address?: string | undefined
    }
  ) => Promise<PageResponse>
  /** Logs in and returns the session cookie (`name=value`). */
  readonly login: (options?: { readonly headers?: Record<string, string> }) => Promise<string>
  readonly close: () => Promise<void>
}

export const ORIGIN = "http://localhost"

export const makeInProcessHost = async (pages: PagesOptions = {}): Promise<InProcessHost> => {
  const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "seatkeeper-ui-test-"))
  const host = await startHost(await configFor(dataDir), hostOptions(pages))
  const request: InProcessHost["request"] = async (method, path, options = {}) => {
    const headers: Record<string, string> = {
      // What a browser sends with a form post from one of our pages.
      ...(method === "POST" ? { origin: ORIGIN } : {}),
      ...options.headers
    }
    if (options.cookie !== undefined) headers.cookie = options.cookie
    let body: string | undefined
    if (options.form !== undefined) {
      body = new URLSearchParams(options.form).toString()
      headers["content-type"] = "application/x-www-form-urlencoded"
    }
    // The third argument is the server's bindings: what @hono/node-server passes, with the peer address.
    const res = await host.app.request(
      path,
      { method, headers, ...(body === undefined ? {} : { body }) },
      { incoming: { socket: { remoteAddress: options.address ?? "192.0.2.1" } } }
    )
    return { status: res.status, headers: res.headers, text: await res.text(), location: res.headers.get("location") }
  }
  const login: InProcessHost["login"] = async (options = {}) => {
    const res = await request("POST", "/login", { form: { token: ADMIN_TOKEN }, headers: options.headers ?? {} })
    if (res.status !== 303) throw new Error(`login failed: ${res.status} ${res.text.slice(0, 300)}`)
    return sessionCookieOf(res.headers)
  }
  return {
    host,
    request,
    login,
    close: async () => {
      await host.dispose()
      Fs.rmSync(dataDir, { recursive: true, force: true })
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

export interface ListeningHost {
  readonly host: ServingHost
  readonly url: string
  readonly close: () => Promise<void>
}

export const makeListeningHost = async (pages: PagesOptions = {}): Promise<ListeningHost> => {
  const dataDir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "seatkeeper-ui-browser-"))
  const host = await serveHost(await configFor(dataDir), hostOptions(pages))
  return {
    host,
    url: host.url,
    close: async () => {
      await host.stop()
      Fs.rmSync(dataDir, { recursive: true, force: true })
    }
  }
}
