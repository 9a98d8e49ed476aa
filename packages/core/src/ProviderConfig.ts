/**
 * Turns a provider's config schema into the description of a settings form, from the schema's own
 * `title`/`description` annotations, so the host renders any provider's form without knowing it.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"

/**
 * @since 0.1.0
 * @category models
 */
export interface ConfigField {
  readonly name: string
  readonly title: string
  readonly description: string | undefined
  readonly type: "string" | "number" | "boolean" | "object"
  readonly secret: boolean
  readonly optional: boolean
  readonly default: unknown
  readonly fields: ReadonlyArray<ConfigField> | undefined
  /** The allowed values of a field that is a union of literals (a form shows a choice). */
  readonly choices: ReadonlyArray<string | number> | undefined
  /**
   * Whether the field says where the connection's secrets are sent (a base URL, an organisation): changing
   * it requires entering the secrets again (invariant 12).
   */
  readonly bindsSecrets: boolean
}

/**
 * The request budget of a connection, as every provider's config offers it: at most `requests` requests in
 * any `windowSeconds`, shared by everything that calls the same upstream organisation. `upstream` names
 * the upstream in the help text ("this organization", "this SCIM service").
 *
 * @since 0.1.0
 * @category schemas
 */
export const BudgetConfig = (upstream: string) =>
  Schema.Struct({
    requests: Schema.Number.pipe(
      Schema.int({ message: () => "must be a whole number of requests" }),
      Schema.between(1, 100_000, { message: () => "must be between 1 and 100000 requests" })
    ).annotations({
      title: "Requests",
      description: `How many requests Seatkeeper may send to ${upstream} in one window.`
    }),
    windowSeconds: Schema.Number.pipe(
      Schema.greaterThan(0, { message: () => "must be more than 0 seconds" }),
      Schema.lessThanOrEqualTo(86_400, { message: () => "must be at most 86400 seconds (a day)" })
    ).annotations({
      title: "Window (seconds)",
      description: "The length of the window, in seconds."
    })
  })

/**
 * Annotation for a config field's default value, shown in forms as a placeholder.
 *
 * @since 0.1.0
 * @category annotations
 */
export const DefaultValueId: unique symbol = Symbol.for("@seatkeeper/core/ProviderConfig/DefaultValue")

/**
 * Annotation for a config field that says where the secrets go (`baseUrl`, `organizationId`): a change of
 * it without the secrets entered again is refused, so a stored key is never sent somewhere new.
 *
 * @since 0.2.0
 * @category annotations
 */
export const BindsSecretsId: unique symbol = Symbol.for("@seatkeeper/core/ProviderConfig/BindsSecrets")

const isLoopbackHost = (hostname: string): boolean => {
  const h = hostname.toLowerCase().replace(/^\[(.*)\]$/, "$1")
  return h === "localhost" || h === "::1" || /^127(\.\d{1,3}){3}$/.test(h)
}

/**
 * An absolute `https://` URL without credentials, query or fragment, e.g. an API's base URL; `http://`
 * only for a loopback host (a local proxy or a simulated organisation), because over plain HTTP the key
 * would cross the network readable.
 *
 * @since 0.2.0
 * @category schemas
 */
export const BaseUrl = (example: string) =>
  Schema.String.pipe(
    Schema.filter((s) => {
      let url: URL
      try {
        url = new URL(s)
      } catch {
        return `must be an absolute URL such as ${example}`
      }
      if (url.protocol !== "https:" && url.protocol !== "http:") {
        return `must use https, not ${url.protocol.replace(/:$/, "")}`
      }
      if (url.protocol === "http:" && !isLoopbackHost(url.hostname)) {
        return "must use https: http:// is only accepted for a loopback host (localhost, 127.0.0.1, ::1)"
      }
      if (url.username !== "" || url.password !== "") return "must not carry credentials"
      if (url.search !== "" || url.hash !== "") return "must not have a query string or fragment"
      return true
    })
  )

const typeOf = (ast: AST.AST): { type: ConfigField["type"]; secret: boolean; struct: AST.TypeLiteral | undefined } => {
  switch (ast._tag) {
    case "Transformation": {
      const to = AST.encodedAST(ast)
      // Schema.Redacted(Schema.String): a secret string on the wire, Redacted in memory
      const ctor = ast.to.annotations[AST.TypeConstructorAnnotationId] as { readonly _tag?: string } | undefined
      const isRedacted = ctor?._tag === "effect/Redacted"
      const inner = typeOf(to)
      return { ...inner, secret: inner.secret || isRedacted }
    }
    case "Refinement":
      return typeOf(ast.from)
    case "StringKeyword":
    case "TemplateLiteral":
    case "Literal":
      return {
        type: typeof (ast as AST.Literal).literal === "number" ? "number" : "string",
        secret: false,
        struct: undefined
      }
    case "NumberKeyword":
      return { type: "number", secret: false, struct: undefined }
    case "BooleanKeyword":
      return { type: "boolean", secret: false, struct: undefined }
    case "TypeLiteral":
      return { type: "object", secret: false, struct: ast }
    case "Union": {
      const members = ast.types.filter((t) => t._tag !== "UndefinedKeyword")
      return members.length === 1 ? typeOf(members[0]!) : { type: "string", secret: false, struct: undefined }
    }
    default:
      return { type: "string", secret: false, struct: undefined }
  }
}

// The values of a union of literals (`Schema.Literal("a", "b")`), seen through refinements and `| undefined`.
const choicesOf = (ast: AST.AST): ReadonlyArray<string | number> | undefined => {
  if (ast._tag === "Refinement") return choicesOf(ast.from)
  if (ast._tag === "Literal") {
    return typeof ast.literal === "string" || typeof ast.literal === "number"
      ? [ast.literal]
      : undefined
  }
  if (ast._tag !== "Union") return undefined
  const values: Array<string | number> = []
  for (const member of ast.types) {
    if (member._tag === "UndefinedKeyword") continue
    const inner = choicesOf(member)
    if (inner === undefined) return undefined
    values.push(...inner)
  }
  return values.length > 0 ? values : undefined
}

const describeStruct = (struct: AST.TypeLiteral): ReadonlyArray<ConfigField> =>
  struct.propertySignatures.map((ps) => {
    const t = typeOf(ps.type)
    // An optional field's type is `X | undefined`: its title and help text sit on X.
    const inner = ps.type._tag === "Union"
      ? (ps.type.types.find((m) => m._tag !== "UndefinedKeyword") ?? ps.type)
      : ps.type
    const annotations = { ...inner.annotations, ...ps.type.annotations, ...ps.annotations }
    return {
      name: String(ps.name),
      title: String(annotations[AST.TitleAnnotationId] ?? String(ps.name)),
      description: annotations[AST.DescriptionAnnotationId] as string | undefined,
      type: t.type,
      secret: t.secret,
      optional: ps.isOptional,
      default: annotations[DefaultValueId],
      fields: t.struct === undefined ? undefined : describeStruct(t.struct),
      choices: choicesOf(ps.type),
      bindsSecrets: annotations[BindsSecretsId] === true
    }
  })

/**
 * The form fields of a provider's config schema (a `Schema.Struct`, possibly refined or transformed).
 *
 * @since 0.1.0
 * @category utils
 */
export const describeConfig = <A, I>(schema: Schema.Schema<A, I>): ReadonlyArray<ConfigField> => {
  let ast: AST.AST = schema.ast
  for (;;) {
    if (ast._tag === "TypeLiteral") return describeStruct(ast)
    if (ast._tag === "Refinement") ast = ast.from
    else if (ast._tag === "Transformation") ast = ast.from._tag === "TypeLiteral" ? ast.from : ast.to
    else if (ast._tag === "Declaration") ast = AST.encodedAST(ast)
    else return []
  }
}

/**
 * Every config field path whose value is a secret, e.g. `["apiKey"]`: what a store encrypts and an API
 * never returns.
 *
 * @since 0.1.0
 * @category utils
 */
export const secretPaths = <A, I>(schema: Schema.Schema<A, I>): ReadonlyArray<ReadonlyArray<string>> => {
  const out: Array<ReadonlyArray<string>> = []
  const walk = (fields: ReadonlyArray<ConfigField>, prefix: ReadonlyArray<string>) => {
    for (const f of fields) {
      if (f.secret) out.push([...prefix, f.name])
      if (f.fields) walk(f.fields, [...prefix, f.name])
    }
  }
  walk(describeConfig(schema), [])
  return out
}

/**
 * Every config field path that says where secrets are sent (annotated with {@link BindsSecretsId}).
 *
 * @since 0.2.0
 * @category utils
 */
export const secretBindingPaths = <A, I>(schema: Schema.Schema<A, I>): ReadonlyArray<ReadonlyArray<string>> => {
  const out: Array<ReadonlyArray<string>> = []
  const walk = (fields: ReadonlyArray<ConfigField>, prefix: ReadonlyArray<string>) => {
    for (const f of fields) {
      if (f.bindsSecrets) out.push([...prefix, f.name])
      if (f.fields) walk(f.fields, [...prefix, f.name])
    }
  }
  walk(describeConfig(schema), [])
  return out
}
