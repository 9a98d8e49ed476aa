/**
 * Every place where the contract checked against the sandbox differs from Atlassian's OpenAPI documents
 * (`shared/atlassian/openapi/*.2023-08.json`), with the reason. Nothing else is changed.
 *
 * @since 0.2.0
 */

/**
 * A JSON value of an OpenAPI document, walked as such (the documents are data, not typed code).
 *
 * @since 0.2.0
 * @category models
 */
export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

type Doc = { [key: string]: Json }

/**
 * One override: what it changes and why.
 *
 * @since 0.2.0
 * @category models
 */
export interface Override {
  readonly document: "organization" | "user-management"
  readonly what: string
  readonly why: string
  readonly apply: (doc: Doc) => void
}

const obj = (value: Json | undefined): Doc => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new Error("override: expected an object")
  }
  return value as Doc
}

const operations = (doc: Doc): Array<{ readonly path: string; readonly method: string; readonly op: Doc }> =>
  Object.entries(obj(doc.paths)).flatMap(([path, item]) =>
    Object.entries(obj(item))
      .filter(([method]) => ["get", "post", "put", "patch", "delete"].includes(method))
      .map(([method, op]) => ({ path, method, op: obj(op) }))
  )

const PROXY_429 = {
  description: "Too many requests (gateway)",
  content: {
    "application/json": {
      schema: { type: "object", properties: { code: { type: "number" }, message: { type: "string" } } }
    }
  }
}

/**
 * @since 0.2.0
 * @category overrides
 */
export const overrides: ReadonlyArray<Override> = [
  ...(["organization", "user-management"] as const).map((document): Override => ({
    document,
    what: "`nullable: true` without `type` becomes `anyOf: [..., {type: \"null\"}]`",
    why: "The organization document marks `$ref`/`anyOf` schemas (QueryVariants, ...) nullable; OpenAPI 3.0.3 gives " +
      "`nullable` no effect without `type`, and Ajv refuses it. The intent, null allowed, is kept.",
    apply: (doc) => {
      const visit = (node: Json): Json => {
        if (typeof node !== "object" || node === null) return node
        if (Array.isArray(node)) return node.map(visit)
        const o = Object.fromEntries(Object.entries(node as Doc).map(([k, v]) => [k, visit(v)])) as Doc
        if (o.nullable !== true || o.type !== undefined) return o
        const { nullable: _nullable, ...rest } = o
        if (Array.isArray(rest.anyOf)) return { ...rest, anyOf: [...rest.anyOf, { type: "null" }] }
        if (typeof rest.$ref === "string") return { anyOf: [{ $ref: rest.$ref }, { type: "null" }] }
        return rest
      }
      for (const key of Object.keys(doc)) doc[key] = visit(doc[key]!)
    }
  })),
  ...(["organization", "user-management"] as const).map((document): Override => ({
    document,
    what: "keys beside a `$ref` (`type`, `description`) are dropped",
    why: "OpenAPI 3.0 ignores siblings of `$ref`, so this changes nothing, but the document validation that " +
      "openapi-backend runs first refuses them (the organization document has many).",
    apply: (doc) => {
      const visit = (node: Json): Json => {
        if (typeof node !== "object" || node === null) return node
        if (Array.isArray(node)) return node.map(visit)
        const o = node as Doc
        if (typeof o.$ref === "string") return { $ref: o.$ref }
        return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, visit(v)]))
      }
      for (const key of Object.keys(doc)) doc[key] = visit(doc[key]!)
    }
  })),
  {
    document: "user-management",
    what: "AccountId.pattern `[a-zA-Z0-9_|:-]{1,128}\\n` becomes `^[a-zA-Z0-9_|:-]{1,128}$`",
    why: "The document's pattern ends in a newline character, so no real account id matches it; the org " +
      "document gives the same format without one.",
    apply: (doc) => {
      const schemas = obj(obj(doc.components).schemas)
      schemas.AccountId = { ...obj(schemas.AccountId), pattern: "^[a-zA-Z0-9_|:-]{1,128}$" }
    }
  },
  {
    document: "user-management",
    what: "oneOf schemas with a discriminator mapping: each mapped schema's tag property gets `enum: [tag]`",
    why: "The document relies on `discriminator.mapping` to tell `bodyParseFailure` from " +
      "`fieldConstraintsViolated` (whose `key` has no enum), so plain JSON Schema `oneOf` matches a " +
      "fieldConstraintsViolated body twice and fails it. This makes `oneOf` mean what the mapping says.",
    apply: (doc) => {
      const schemas = obj(obj(doc.components).schemas)
      const visit = (node: Json): void => {
        if (typeof node !== "object" || node === null) return
        if (Array.isArray(node)) return node.forEach(visit)
        const o = node as Doc
        const discriminator = o.discriminator
        if (typeof discriminator === "object" && discriminator !== null && !Array.isArray(discriminator)) {
          const d = discriminator as Doc
          const property = String(d.propertyName)
          for (const [tag, ref] of Object.entries(obj(d.mapping ?? {}))) {
            const name = String(ref).replace("#/components/schemas/", "")
            const target = obj(schemas[name])
            const properties = obj(target.properties ?? {})
            const current = obj(properties[property] ?? {})
            if (current.enum !== undefined) continue
            const value = tag === "true" ? true : tag === "false" ? false : tag
            schemas[name] = { ...target, properties: { ...properties, [property]: { ...current, enum: [value] } } }
          }
        }
        Object.values(o).forEach(visit)
      }
      visit(doc)
    }
  },
  {
    document: "user-management",
    what: "User.email is optional",
    why: "The sandbox's roster has accounts whose email is hidden (restricted visibility) or absent (apps); the " +
      "org document says the property is then absent (API-NOTES §1.1), and the profile serves them the same way.",
    apply: (doc) => {
      const schemas = obj(obj(doc.components).schemas)
      const user = obj(schemas.User)
      schemas.User = { ...user, required: (user.required as ReadonlyArray<string>).filter((f) => f !== "email") }
    }
  },
  {
    document: "user-management",
    what: "lifecycle disable/enable document a 400 `BadRequest.Body` answer",
    why: "The document requires a JSON body on disable but lists no 400; the sandbox answers a missing or " +
      "non-object body with the API's own `bodyParseFailure` (API-NOTES §2.1).",
    apply: (doc) => {
      for (const { op, path } of operations(doc)) {
        if (path.includes("/manage/lifecycle/")) {
          obj(op.responses)["400"] = { $ref: "#/components/responses/BadRequest.Body" }
        }
      }
    }
  },
  {
    document: "organization",
    what: "every operation documents the gateway's 429 `ProxyError`",
    why: "\"All API requests are subjected to rate limits\" (API-NOTES §4.1), but some operations (workspaces, " +
      "last-active dates' siblings) list no 429.",
    apply: (doc) => {
      for (const { op } of operations(doc)) obj(op.responses)["429"] ??= PROXY_429
    }
  },
  {
    document: "user-management",
    what: "every operation documents the gateway's 429 `ProxyError`",
    why: "The same gateway rate limit applies to the user-management API (API-NOTES §2.1, §4.1).",
    apply: (doc) => {
      for (const { op } of operations(doc)) obj(op.responses)["429"] ??= PROXY_429
    }
  },
  {
    document: "organization",
    what: "operations without an operationId get `<method> <path>`",
    why: "Technical: the validator library (openapi-backend) addresses operations by id. No semantics change.",
    apply: (doc) => {
      for (const { method, op, path } of operations(doc)) op.operationId ??= `${method} ${path}`
    }
  },
  {
    document: "user-management",
    what: "operations without an operationId get `<method> <path>`",
    why: "Technical, as above.",
    apply: (doc) => {
      for (const { method, op, path } of operations(doc)) op.operationId ??= `${method} ${path}`
    }
  }
]

/**
 * A copy of `doc` with the overrides for `document` applied.
 *
 * @since 0.2.0
 * @category overrides
 */
export const withOverrides = (document: Override["document"], doc: Json): Doc => {
  const copy = obj(JSON.parse(JSON.stringify(doc)) as Json)
  for (const override of overrides) if (override.document === document) override.apply(copy)
  return copy
}
