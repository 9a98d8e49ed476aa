/**
 * The OpenAPI 3.1 document of the HTTP API, generated from the route table: each route's query schema
 * becomes its parameters, its body and answer schemas its request and response bodies (JSON Schema from
 * Effect's `JSONSchema`), and every error answers the one error body. Served at `/api/openapi.json`.
 *
 * @since 0.2.0
 */
import * as JSONSchema from "effect/JSONSchema"
import * as Schema from "effect/Schema"
import * as SchemaAST from "effect/SchemaAST"
import { type ApiRoute, openApiPath, roleOf } from "./Route.js"

/**
 * The error body of every error answer.
 *
 * @since 0.2.0
 * @category schemas
 */
export const ErrorBody = Schema.Struct({
  error: Schema.Struct({
    code: Schema.String,
    message: Schema.String,
    hint: Schema.optional(Schema.String),
    details: Schema.optional(Schema.Unknown)
  })
}).annotations({ identifier: "Error" })

const errorWords: Record<number, string> = {
  400: "The input is not valid: `error.details.issues` lists every field problem",
  401: "The admin token (or a user's token) is missing or not valid",
  404: "No such resource",
  409: "Refused in the current state (a sync holds the lock, the provider refuses the action, ...)",
  413: "The body is too large",
  415: "The body is not JSON",
  422: "The connection cannot do this until its settings are edited",
  500: "An unexpected error; the host's log has the details",
  502: "The provider refused or answered something Seatkeeper cannot use",
  503: "The provider or the store is unavailable; try again later"
}

/**
 * The OpenAPI document of `routes`, mounted at `/api`.
 *
 * @since 0.2.0
 * @category constructors
 */
export const document = (routes: ReadonlyArray<ApiRoute>, info: { readonly version: string }) => {
  const definitions: Record<string, JSONSchema.JsonSchema7> = {}
  const schemaOf = (schema: Schema.Schema.Any) =>
    JSONSchema.fromAST(schema.ast, { definitions, definitionPath: "#/components/schemas/", target: "openApi3.1" })
  const errorRef = schemaOf(ErrorBody)
  const paths: Record<string, Record<string, unknown>> = {}
  for (const r of routes) {
    const path = `/api${openApiPath(r.path)}`
    const pathParameters = [...r.path.matchAll(/:(\w+)/g)].map((m) => ({
      name: m[1]!,
      in: "path",
      required: true,
      schema: { type: "string" }
    }))
    const queryParameters = r.query === undefined ? [] : queryParametersOf(r.query, schemaOf)
    const responses: Record<string, unknown> = {
      [String(r.response.status)]: r.response.status === 204
        ? { description: "Done" }
        : {
          description: "OK",
          content: r.response.mediaType === undefined
            ? { "application/json": { schema: r.response.schema === undefined ? {} : schemaOf(r.response.schema) } }
            : { [r.response.mediaType]: { schema: { type: "string" } } }
        }
    }
    // A route that needs more than `viewer` answers 403 to a principal without its role.
    const statuses = [401, ...(roleOf(r) !== "viewer" && !r.errors.includes(403) ? [403] : []), ...r.errors, 500]
    for (const status of statuses.sort((a, b) => a - b)) {
      responses[String(status)] = {
        description: errorWords[status] ?? "Error",
        content: { "application/json": { schema: errorRef } }
      }
    }
    paths[path] = {
      ...paths[path],
      [r.method]: {
        operationId: `${r.method}${
          r.path.replace(/[^A-Za-z0-9]+(\w)?/g, (_, c: string | undefined) => (c ?? "").toUpperCase())
        }`,
        summary: r.summary,
        description: [r.description, `Needs the \`${roleOf(r)}\` role or higher.`].filter(Boolean).join("\n\n"),
        "x-seatkeeper-role": roleOf(r),
        tags: [r.tag],
        parameters: [...pathParameters, ...queryParameters],
        ...(r.body === undefined
          ? {}
          : {
            requestBody: {
              required: r.bodyOptional !== true,
              content: { "application/json": { schema: schemaOf(r.body) } }
            }
          }),
        responses
      }
    }
  }
  return withoutMarkers({
    openapi: "3.1.0",
    info: {
      title: "Seatkeeper host API",
      version: info.version,
      description: "Connections, syncs, the inventory (accounts, seats, products), account actions and reclaiming " +
        "seats. Every route needs `Authorization: Bearer <token>` (the admin token or a user's token); each " +
        "names the least role it needs (viewer < operator < approver < admin) in `x-seatkeeper-role`."
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: definitions
    },
    paths
  })
}

// Effect marks `Schema.Unknown` as `{"$id": "/schemas/unknown"}`: many such ids in one document are
// ambiguous to validators, and "anything" needs no id.
const withoutMarkers = <A>(value: A): A => {
  if (Array.isArray(value)) return value.map(withoutMarkers) as A
  if (typeof value !== "object" || value === null) return value
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) {
    if (k === "$id" && typeof v === "string" && v.startsWith("/schemas/")) continue
    out[k] = withoutMarkers(v)
  }
  return out as A
}

// A query string is a struct of optional strings: each property is one parameter.
const queryParametersOf = (schema: Schema.Schema.Any, schemaOf: (s: Schema.Schema.Any) => unknown) => {
  let ast = schema.ast
  while (ast._tag === "Transformation" || ast._tag === "Refinement") {
    ast = ast._tag === "Transformation"
      ? ast.from
      : ast.from
  }
  if (ast._tag !== "TypeLiteral") return []
  return ast.propertySignatures.map((ps) => {
    const type = ps.type
    const inner = type._tag === "Union" ? (type.types.find((t) => t._tag !== "UndefinedKeyword") ?? type) : type
    const description = SchemaAST.getDescriptionAnnotation(inner)
    return {
      name: String(ps.name),
      in: "query",
      required: !ps.isOptional,
      schema: schemaOf(Schema.make(SchemaAST.encodedAST(inner))),
      ...(description._tag === "Some" ? { description: description.value } : {})
    }
  })
}
