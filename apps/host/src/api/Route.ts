/**
 * An API route as data: its method and path, the schemas of its query, body and answer, and its handler.
 * The same table mounts the routes on Hono and generates the OpenAPI document (`openapi.ts`), so the
 * document cannot drift from what the API accepts and answers: the query is decoded with the schema it
 * documents, the body schema is the one its service decodes with, and tests validate real answers against
 * the answer schema.
 *
 * @since 0.2.0
 */
import type { Role } from "@seatkeeper/core/User"
import * as Effect from "effect/Effect"
import type * as Schema from "effect/Schema"
import type { Context, Hono } from "hono"
import type { ErrorDescription, HostError } from "../errors.js"
import { type Host, type HostServices, jsonError, readJson, respond, runOperation } from "../http/Host.js"
import { decodeQuery } from "../inputs.js"
import type { Actor } from "../services/AuditLog.js"
import { bootstrapAdmin, type Principal, requireRole } from "../services/Users.js"

/**
 * What a handler gets: the path parameters (decoded by the router), the decoded query, the raw JSON body
 * (services decode it with the route's `body` schema) and who asks.
 *
 * @since 0.2.0
 * @category models
 */
export interface RouteInput<Q> {
  readonly params: Readonly<Record<string, string>>
  readonly query: Q
  readonly body: unknown
  /** Who asks (the audit trail's actor is `principal.name`). */
  readonly principal: Principal
  readonly actor: Actor
}

/**
 * @since 0.2.0
 * @category models
 */
export interface ApiRoute<Q = any> {
  readonly method: "get" | "post" | "put" | "patch" | "delete"
  /** Relative to `/api`, Hono style (`/connections/:id`). */
  readonly path: string
  readonly summary: string
  readonly description?: string | undefined
  readonly tag: string
  readonly query?: Schema.Schema<Q, any> | undefined
  readonly body?: Schema.Schema<any, any> | undefined
  /** A request may leave the body out: it then means `{}`, every field at its default. */
  readonly bodyOptional?: boolean | undefined
  readonly response: {
    readonly status: 200 | 201 | 202 | 204
    readonly schema?: Schema.Schema<any, any> | undefined
    /** Another media type than JSON (a CSV export). */
    readonly mediaType?: string | undefined
  }
  /**
   * The least role that may call it. Default: `viewer` for a read, `operator` for anything else; routes
   * that change connections, users, prices or webhooks say `admin`.
   */
  readonly role?: Role | undefined
  /** The error statuses it can answer, beside 401 (every route) and 500. */
  readonly errors: ReadonlyArray<ErrorDescription["status"]>
  readonly handler: (input: RouteInput<Q>, c: Context) => Effect.Effect<unknown, HostError, HostServices>
  /** Answers with something other than JSON (`handler` then returns a `Response`). */
  readonly raw?: boolean | undefined
}

/**
 * Declares a route; the query type flows from its schema to its handler.
 *
 * @since 0.2.0
 * @category constructors
 */
export const route = <Q = undefined>(definition: ApiRoute<Q>): ApiRoute<Q> => definition

/** Hono path parameters to OpenAPI's: `/connections/:id` → `/connections/{id}`. */
export const openApiPath = (path: string): string => path.replace(/:(\w+)/g, "{$1}")

/**
 * The actor of a request, as the API's auth middleware set it.
 *
 * @since 0.2.0
 * @category utils
 */
export const principalOf = (c: Context): Principal =>
  (c.get("principal" as never) as Principal | undefined) ?? bootstrapAdmin

/**
 * The least role a route needs.
 *
 * @since 0.2.0
 * @category utils
 */
export const roleOf = (r: ApiRoute): Role => r.role ?? (r.method === "get" ? "viewer" : "operator")

/**
 * Mounts routes on a Hono app (meant for `/api`).
 *
 * @since 0.2.0
 * @category constructors
 */
export const mount = (app: Hono, host: Host, routes: ReadonlyArray<ApiRoute>): Hono => {
  for (const r of routes) {
    app.on(r.method.toUpperCase(), r.path, async (c) => {
      const body = r.method === "get" || r.method === "delete" ? undefined : await readJson(c)
      const principal = principalOf(c)
      const effect = Effect.gen(function*() {
        yield* requireRole(principal, roleOf(r), `${r.method.toUpperCase()} /api${r.path}`)
        const query = r.query === undefined ? undefined : yield* decodeQuery(r.query, c.req.query(), c.req.queries())
        return yield* r.handler({
          params: c.req.param() as Record<string, string>,
          query,
          body,
          principal,
          actor: principal.name
        }, c)
      })
      if (r.raw === true) {
        const outcome = await runOperation(host, effect)
        return outcome._tag === "Success" ? (outcome.value as Response) : jsonError(c, outcome.error)
      }
      if (r.response.status === 204) {
        const res = await respond(c, host, effect)
        return res.ok ? c.body(null, 204) : res
      }
      return respond(c, host, effect, r.response.status)
    })
  }
  return app
}
