/**
 * `/api/providers` and `/api/connections`.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { CreateConnection, UpdateConnection, VerifyConfig } from "../inputs.js"
import { Connections } from "../services/Connections.js"
import { ConnectionView, ListView } from "../views.js"
import { route } from "./Route.js"

const ConfigField: Schema.Schema<unknown> = Schema.Unknown.annotations({ identifier: "ConfigField" })

const ProviderView = Schema.Struct({
  id: Schema.String,
  displayName: Schema.String,
  description: Schema.String,
  capabilities: Schema.Array(Schema.String),
  configFields: Schema.Array(ConfigField)
}).annotations({ identifier: "Provider" })

const Ok = Schema.Struct({ ok: Schema.Literal(true) })

/**
 * @since 0.2.0
 * @category routes
 */
export const connectionRoutes = [
  route({
    method: "get",
    path: "/providers",
    tag: "connections",
    summary: "The providers this host can connect to, with the fields of their settings",
    response: { status: 200, schema: ListView(ProviderView) },
    errors: [],
    handler: () => Effect.map(Connections.listProviders, (data) => ({ data }))
  }),
  route({
    method: "get",
    path: "/connections",
    tag: "connections",
    summary: "Every connection with its last sync",
    response: { status: 200, schema: ListView(ConnectionView) },
    errors: [503],
    handler: () => Effect.map(Connections.list, (data) => ({ data }))
  }),
  route({
    method: "post",
    path: "/connections",
    role: "admin",
    tag: "connections",
    summary: "Creates a connection (its secrets are stored encrypted and never shown again)",
    body: CreateConnection,
    response: { status: 201, schema: ConnectionView },
    errors: [400, 413, 415, 503],
    handler: ({ body, principal }) => Connections.create(body, principal)
  }),
  route({
    method: "post",
    path: "/connections/verify",
    role: "admin",
    tag: "connections",
    summary: "Tests settings before saving them: reaches the organisation with them",
    body: VerifyConfig,
    response: { status: 200, schema: Ok },
    errors: [400, 413, 415, 422, 502, 503],
    handler: ({ body, principal }) => Connections.verifyConfig(body, principal)
  }),
  route({
    method: "get",
    path: "/connections/:id",
    tag: "connections",
    summary: "One connection",
    response: { status: 200, schema: ConnectionView },
    errors: [404, 503],
    handler: ({ params }) => Connections.get(params.id!)
  }),
  route({
    method: "patch",
    path: "/connections/:id",
    role: "admin",
    tag: "connections",
    summary: "Changes a connection: its name, settings or config (a secret left out is kept; changing where a " +
      "secret is sent requires entering it again)",
    body: UpdateConnection,
    response: { status: 200, schema: ConnectionView },
    errors: [400, 404, 413, 415, 503],
    handler: ({ body, params, principal }) => Connections.update(params.id!, body ?? {}, principal)
  }),
  route({
    method: "delete",
    path: "/connections/:id",
    role: "admin",
    tag: "connections",
    summary: "Deletes a connection and what was synced under it (refused while it syncs)",
    response: { status: 204 },
    errors: [404, 409, 503],
    handler: ({ params, principal }) => Connections.remove(params.id!, principal)
  }),
  route({
    method: "post",
    path: "/connections/:id/verify",
    tag: "connections",
    summary: "Tests a stored connection's credentials against its organisation",
    response: { status: 200, schema: Ok },
    errors: [404, 422, 502, 503],
    handler: ({ params, principal }) => Connections.verify(params.id!, principal)
  })
]
