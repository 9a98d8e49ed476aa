/**
 * The Effect Schemas of every request body the sandbox reads: the Atlassian endpoints' bodies (v2 user
 * search, workspace search, lifecycle disable) and the control API's, with a decoder that turns the first
 * problem into one readable sentence.
 *
 * @since 0.2.0
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

// ---- decoding

/**
 * The first problem of a failed decode as a sentence: the field path and what is wrong with it.
 *
 * @since 0.2.0
 * @category decoding
 */
export const firstProblem = (error: ParseResult.ParseError): string => {
  const [issue] = ParseResult.ArrayFormatter.formatErrorSync(error)
  if (issue === undefined) return "invalid input"
  const path = issue.path.map(String).join(".")
  return path === "" || issue.message.startsWith(String(issue.path[0])) ? issue.message : `${path}: ${issue.message}`
}

/**
 * Decodes `input` or returns the first problem. Unknown properties are refused when `exact` is set.
 *
 * @since 0.2.0
 * @category decoding
 */
export const decode = <A, I>(
  schema: Schema.Schema<A, I>,
  input: unknown,
  options: { readonly exact?: boolean } = {}
): Either.Either<A, string> =>
  Schema.decodeUnknownEither(schema, { onExcessProperty: options.exact === true ? "error" : "ignore" })(input).pipe(
    Either.mapLeft(firstProblem)
  )

/**
 * Decodes `input` or throws a `TypeError` whose message starts with `prefix`.
 *
 * @since 0.2.0
 * @category decoding
 */
export const decodeOrThrow = <A, I>(schema: Schema.Schema<A, I>, input: unknown, prefix: string): A => {
  const result = decode(schema, input)
  if (Either.isLeft(result)) throw new TypeError(`${prefix}: ${result.left}`)
  return result.right
}

/**
 * Parses a request body as JSON: `undefined` for an empty body, `Either.left` for text that is not JSON.
 *
 * @since 0.2.0
 * @category decoding
 */
export const parseJson = (text: string): Either.Either<unknown, string> => {
  if (text.trim().length === 0) return Either.right(undefined)
  try {
    return Either.right(JSON.parse(text) as unknown)
  } catch {
    return Either.left("the body is not valid JSON")
  }
}

/**
 * A schema whose failures read `text(actual)`, whatever the nested problem.
 *
 * @since 0.2.0
 * @category decoding
 */
export const withMessage = <A, I>(schema: Schema.Schema<A, I>, text: (actual: unknown) => string) =>
  schema.annotations({ message: (issue) => ({ message: text(issue.actual), override: true }) })

/**
 * A required field whose failures and absence read `text(actual)`.
 *
 * @since 0.2.0
 * @category decoding
 */
export const required = <A, I>(schema: Schema.Schema<A, I>, text: (actual: unknown) => string) =>
  Schema.propertySignature(withMessage(schema, text)).annotations({ missingMessage: () => text(undefined) })

const optional = <A, I>(schema: Schema.Schema<A, I>) => Schema.optionalWith(schema, { exact: true })

const WholeNonNegative = Schema.Int.pipe(Schema.greaterThanOrEqualTo(0))

// ---- users

/**
 * @since 0.2.0
 * @category schemas
 */
export const ProductAccessInput = Schema.Struct(
  {
    key: Schema.String,
    name: Schema.String,
    url: optional(Schema.String),
    last_active: optional(Schema.String)
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

const userFields = {
  account_id: optional(Schema.String),
  account_type: optional(Schema.String),
  account_status: optional(Schema.String),
  name: optional(Schema.String),
  picture: optional(Schema.String),
  email: optional(Schema.String),
  access_billable: optional(Schema.Boolean),
  last_active: optional(Schema.String),
  product_access: optional(Schema.Array(ProductAccessInput)),
  managedBy: optional(Schema.Literal("scim", "google")),
  claimStatus: optional(Schema.Literal("managed", "unmanaged")),
  membershipStatus: optional(Schema.String),
  addedToOrg: optional(Schema.String),
  platformRoles: optional(Schema.Array(Schema.String)),
  groups: optional(Schema.Array(Schema.String)),
  directoryId: optional(Schema.String),
  forDeletion: optional(Schema.Boolean),
  nickname: optional(Schema.String),
  mfaEnabled: optional(Schema.Boolean)
}

/**
 * A partial user as the control API accepts it (other properties pass through to the v1 wire).
 *
 * @since 0.2.0
 * @category schemas
 */
export const UserInput = Schema.Struct(userFields, Schema.Record({ key: Schema.String, value: Schema.Unknown }))

/**
 * A user patch over HTTP: `null` removes a field.
 *
 * @since 0.2.0
 * @category schemas
 */
export const UserPatchInput = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * `POST /__sandbox/users`.
 *
 * @since 0.2.0
 * @category schemas
 */
export const AddUsersBody = Schema.Union(
  Schema.Struct({ count: WholeNonNegative, claimStatus: optional(Schema.Literal("managed", "unmanaged")) }),
  Schema.Struct({ users: Schema.Array(UserInput) })
).annotations({ message: () => ({ message: "expected {\"count\": n} or {\"users\": [...]}", override: false }) })

// ---- rate limit

/**
 * `POST /__sandbox/rate-limit` and the `rateLimit` option (`false` and `null` lift it, before decoding).
 *
 * @since 0.2.0
 * @category schemas
 */
export const RateLimitInput = Schema.Struct({
  requests: required(
    Schema.Int.pipe(Schema.greaterThanOrEqualTo(1)),
    (v) => `rateLimit.requests must be a whole number >= 1, got ${JSON.stringify(v)}`
  ),
  windowSeconds: required(
    Schema.Number.pipe(Schema.finite(), Schema.greaterThan(0)),
    (v) => `rateLimit.windowSeconds must be a number > 0, got ${JSON.stringify(v)}`
  ),
  resetFormat: optional(withMessage(
    Schema.Literal("seconds", "minutes"),
    (v) => `rateLimit.resetFormat must be "seconds" or "minutes", got ${JSON.stringify(v)}`
  )),
  phaseMs: optional(withMessage(
    Schema.Number.pipe(Schema.finite()),
    (v) => `rateLimit.phaseMs must be an epoch time in milliseconds, got ${JSON.stringify(v)}`
  ))
})

// ---- Atlassian request bodies

/**
 * `POST /users/{account_id}/manage/lifecycle/disable`: `{message?}`; other properties are ignored.
 *
 * @since 0.2.0
 * @category schemas
 */
export const DisableBody = Schema.Struct({ message: optional(Schema.String) })

/**
 * The v2 composite statuses a search may filter on.
 *
 * @since 0.2.0
 * @category schemas
 */
export const V2Status = Schema.Literal("active", "suspended", "not_invited", "deactivated", "for_deletion")

const ids = (field: string, max: number) =>
  Schema.Array(Schema.String).pipe(
    Schema.maxItems(max, { message: () => `${field} takes at most ${max} values` })
  )

/**
 * `POST /admin/v2/orgs/{orgId}/directories/{directoryId}/users/search` (API-NOTES §1.4). Unknown
 * properties are refused (400). `limit` defaults to 50, at most 100; at most 10 account, directory and
 * group ids and 20 resource ids (third-party figures, API-NOTES §1.4).
 *
 * @since 0.2.0
 * @category schemas
 */
export const V2SearchBody = Schema.Struct({
  cursor: optional(Schema.String),
  limit: optional(withMessage(
    Schema.Int.pipe(Schema.between(1, 100)),
    (v) => `limit must be a whole number from 1 to 100, got ${JSON.stringify(v)}`
  )),
  accountIds: optional(ids("accountIds", 10)),
  directoryIds: optional(ids("directoryIds", 10)),
  resourceIds: optional(ids("resourceIds", 20)),
  groupIds: optional(ids("groupIds", 10)),
  roleIds: optional(Schema.Array(Schema.String)),
  emailDomains: optional(Schema.Array(Schema.String)),
  emails: optional(Schema.Array(Schema.String)),
  searchTerm: optional(Schema.String),
  mfaEnabled: optional(Schema.Boolean),
  claimStatus: optional(Schema.Literal("managed", "unmanaged")),
  status: optional(Schema.Array(V2Status)),
  accountStatus: optional(Schema.Array(Schema.Literal("active", "inactive", "closed"))),
  membershipStatus: optional(Schema.Array(Schema.Literal("active", "suspended", "no_membership"))),
  sortBy: optional(Schema.Array(Schema.Struct({
    field: Schema.Literal("nick_name"),
    direction: optional(Schema.Literal("asc", "desc"))
  }))),
  expand: optional(Schema.Array(Schema.Literal("platformRoles", "counts.resources", "productAccess", "groups")))
})

/**
 * @since 0.2.0
 * @category models
 */
export type V2SearchBody = typeof V2SearchBody.Type

/**
 * What a v2 search cursor carries: position, roster version, page size, directory, the search's filters
 * and its `expand`.
 *
 * @since 0.2.0
 * @category schemas
 */
export const V2SearchState = Schema.Struct({
  o: Schema.Int,
  v: Schema.Int,
  l: Schema.Int,
  d: Schema.String,
  f: Schema.Unknown,
  e: Schema.optionalWith(
    Schema.Array(Schema.Literal("platformRoles", "counts.resources", "productAccess", "groups")),
    { exact: true }
  )
})

/**
 * A workspace query (`QueryVariants` of the org document), in the forms its example uses.
 *
 * @since 0.2.0
 * @category schemas
 */
export type WorkspaceQuery =
  | { readonly and: ReadonlyArray<WorkspaceQuery> }
  | { readonly field: { readonly name: string; readonly values: ReadonlyArray<string> } }
  | { readonly searchWorkspaces: string }
  | { readonly features: ReadonlyArray<string> }
  | { readonly policies: ReadonlyArray<string> }

/**
 * @since 0.2.0
 * @category schemas
 */
export const WorkspaceQuery: Schema.Schema<WorkspaceQuery> = Schema.Union(
  Schema.Struct({ and: Schema.Array(Schema.suspend(() => WorkspaceQuery)) }),
  Schema.Struct({ field: Schema.Struct({ name: Schema.String, values: Schema.Array(Schema.String) }) }),
  Schema.Struct({ searchWorkspaces: Schema.String }),
  Schema.Struct({ features: Schema.Array(Schema.String) }),
  Schema.Struct({ policies: Schema.Array(Schema.String) })
)

/**
 * `POST /admin/v2/orgs/{orgId}/workspaces` (`SearchWorkspacesRequestV2`): `limit` 1 to 1000 (default
 * 20), `cursor`, `query`, `sort`. Unknown properties are refused (400).
 *
 * @since 0.2.0
 * @category schemas
 */
export const WorkspacesBody = Schema.Struct({
  limit: optional(withMessage(
    Schema.Int.pipe(Schema.between(1, 1000)),
    (v) => `limit must be a whole number from 1 to 1000, got ${JSON.stringify(v)}`
  )),
  cursor: optional(Schema.NullOr(Schema.String)),
  sort: optional(Schema.NullOr(Schema.Array(Schema.Struct({
    field: Schema.String,
    order: optional(Schema.Literal("asc", "desc"))
  })))),
  query: optional(Schema.NullOr(WorkspaceQuery))
})

/**
 * @since 0.2.0
 * @category models
 */
export type WorkspacesBody = typeof WorkspacesBody.Type

/**
 * The state a workspace cursor carries.
 *
 * @since 0.2.0
 * @category schemas
 */
export const WorkspacesState = Schema.Struct({
  o: Schema.Int,
  v: Schema.Int,
  l: Schema.Int,
  q: Schema.Unknown
})

/**
 * The state a directories cursor carries.
 *
 * @since 0.2.0
 * @category schemas
 */
export const DirectoriesState = Schema.Struct({ o: Schema.Int, l: Schema.Int })

/**
 * A workspace as the control API accepts it.
 *
 * @since 0.2.0
 * @category schemas
 */
export const WorkspaceInput = Schema.Struct({
  id: optional(Schema.String),
  key: Schema.String,
  type: optional(Schema.String),
  name: optional(Schema.String),
  hostUrl: Schema.String,
  plan: Schema.String,
  planKey: optional(Schema.NullOr(Schema.String)),
  capacity: optional(Schema.NullOr(WholeNonNegative)),
  usage: optional(Schema.NullOr(WholeNonNegative)),
  status: optional(Schema.String),
  realm: optional(Schema.String),
  createdAt: optional(Schema.String)
})
