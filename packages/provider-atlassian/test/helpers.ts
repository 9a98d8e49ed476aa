import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import type { ProviderAccount } from "@seatkeeper/core/Account"
import * as RequestBudget from "@seatkeeper/core/RequestBudget"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type { IncomingHttpHeaders, IncomingMessage } from "node:http"
import { createServer, request as httpRequest } from "node:http"
import type { AddressInfo } from "node:net"
import type { AtlassianConfig } from "../src/AtlassianConfig.js"
import { connect } from "../src/AtlassianProvider.js"
import type { AtlassianSandbox, SandboxRoute } from "../src/sandbox/index.js"

/** The config that reaches a sandbox (or a proxy in front of one, at `baseUrl`); `overrides` replace fields. */
export const configFor = (sandbox: AtlassianSandbox, overrides: Partial<AtlassianConfig> = {}): AtlassianConfig => ({
  organizationId: sandbox.orgId,
  apiKey: Redacted.make(sandbox.apiKey),
  adminEmail: "admin@example.com",
  baseUrl: sandbox.url,
  rateLimit: { requests: 1000, windowSeconds: 1 },
  ...overrides
})

export const Env = Layer.merge(FetchHttpClient.layer, RequestBudget.layerMemory)

/** A connection to the sandbox, with its own budget store. */
export const connectTo = (sandbox: AtlassianSandbox, overrides: Partial<AtlassianConfig> = {}) =>
  connect(configFor(sandbox, overrides)).pipe(Effect.provide(Env))

/** The requests the sandbox saw on one route. */
export const requestsOn = (sandbox: AtlassianSandbox, route: SandboxRoute) =>
  sandbox.requests.filter((r) => r.route === route)

/** Every account of a stream, in order. */
export const collect = <E>(stream: Stream.Stream<ProviderAccount, E>) =>
  Effect.map(Stream.runCollect(stream), Chunk.toReadonlyArray)

/** The accounts of a stream by id. */
export const byId = (accounts: ReadonlyArray<ProviderAccount>) => new Map(accounts.map((a) => [a.externalId, a]))

/** Runs `effect` and returns what it logged at warning level or above, with its result. */
export const withWarnings = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const warnings: Array<string> = []
    const logger = Logger.make(({ logLevel, message }) => {
      if (logLevel._tag === "Warning" || logLevel._tag === "Error") {
        warnings.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
      }
    })
    const result = yield* Effect.provide(effect, Logger.replace(Logger.defaultLogger, logger))
    return { result, warnings }
  })

/** One request a {@link proxy} passed on, as it arrived: what the adapter really sent on the wire. */
export interface ProxiedRequest {
  readonly method: string
  readonly path: string
  readonly headers: IncomingHttpHeaders
  readonly body: string
}

const readAll = (stream: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    stream.on("data", (chunk: Buffer) => chunks.push(chunk))
    stream.once("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    stream.once("error", reject)
  })

/**
 * A recording reverse proxy on loopback in front of `target` (a sandbox's `url`), for the adapter's base
 * URL: it records every request exactly as it arrived (headers and body), and can rewrite a response body
 * (`rewrite`, e.g. to serve a `links.next` the sandbox never would). The target's origin in bodies becomes
 * the proxy's, so an absolute `links.next` leads back through it.
 */
export const proxy = (
  target: string,
  options: { readonly rewrite?: (request: ProxiedRequest, body: string) => string } = {}
): Effect.Effect<{ readonly url: string; readonly requests: ReadonlyArray<ProxiedRequest> }, never, Scope.Scope> =>
  Effect.gen(function*() {
    const upstream = new URL(target)
    const requests: Array<ProxiedRequest> = []
    let origin = ""
    const server = createServer((req, res) => {
      readAll(req).then((body) => {
        const seen: ProxiedRequest = { method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers, body }
        requests.push(seen)
        const out = httpRequest({
          host: upstream.hostname,
          port: upstream.port,
          method: seen.method,
          path: seen.path,
          headers: { ...req.headers, host: upstream.host }
        })
        out.once("error", () => req.socket.destroy())
        out.once("response", (answer) => {
          readAll(answer).then((text) => {
            const relayed = text.split(upstream.origin).join(origin)
            const final = options.rewrite === undefined ? relayed : options.rewrite(seen, relayed)
            const headers = { ...answer.headers }
            delete headers["content-length"]
            delete headers["transfer-encoding"]
            delete headers.connection
            res.writeHead(answer.statusCode ?? 502, { ...headers, "content-length": Buffer.byteLength(final) })
            res.end(final)
          }, () => req.socket.destroy())
        })
        out.end(body)
      }, () => req.socket.destroy())
    })
    yield* Effect.acquireRelease(
      Effect.async<void>((resume) => {
        server.listen(0, "127.0.0.1", () => resume(Effect.void))
      }),
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        })
    )
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    return { url: origin, requests }
  })
