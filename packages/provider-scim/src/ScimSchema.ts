/**
 * Wire schemas of the SCIM 2.0 calls Seatkeeper makes (RFC 7643 resources, RFC 7644 protocol, RFC 9865
 * cursor paging). They are lenient where real services differ (optional attributes, extra attributes kept,
 * a number or a string for numbers) and strict where completeness depends on it (`totalResults` of an
 * index-paged list).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * @since 0.1.0
 * @category ids
 */
export const ListResponseSchema = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

/**
 * @since 0.1.0
 * @category ids
 */
export const PatchOpSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

/**
 * @since 0.1.0
 * @category ids
 */
export const ErrorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"

/**
 * @since 0.1.0
 * @category ids
 */
export const UserSchema = "urn:ietf:params:scim:schemas:core:2.0:User"

// Some services send integers as strings ("totalResults": "42"); both decode to a number.
const Count = Schema.Union(
  Schema.NonNegativeInt,
  Schema.NumberFromString.pipe(Schema.int(), Schema.nonNegative())
)

const OptionalString = Schema.optional(Schema.NullOr(Schema.String))

/**
 * One value of a multi-valued attribute (`groups`, `roles`, `entitlements`, `emails`): RFC 7643 §2.4.
 *
 * @since 0.1.0
 * @category schemas
 */
export const MultiValue = Schema.Struct({
  value: Schema.optional(Schema.NullOr(Schema.Union(Schema.String, Schema.Number, Schema.Boolean))),
  display: OptionalString,
  type: OptionalString,
  primary: Schema.optional(Schema.NullOr(Schema.Boolean))
})

/**
 * @since 0.1.0
 * @category models
 */
export type MultiValue = typeof MultiValue.Type

const MultiValues = Schema.optional(Schema.NullOr(Schema.Array(MultiValue)))

/**
 * A User resource (RFC 7643 §4.1). Only `id` is required; every other attribute is optional, and the
 * attributes not named here (extensions such as the enterprise user) are kept.
 *
 * @since 0.1.0
 * @category schemas
 */
export const User = Schema.Struct(
  {
    id: Schema.NonEmptyString,
    userName: OptionalString,
    displayName: OptionalString,
    name: Schema.optional(Schema.NullOr(Schema.Struct({
      formatted: OptionalString,
      givenName: OptionalString,
      familyName: OptionalString
    }))),
    userType: OptionalString,
    active: Schema.optional(
      Schema.NullOr(Schema.Union(Schema.Boolean, Schema.Literal("true", "false", "True", "False")))
    ),
    emails: MultiValues,
    groups: MultiValues,
    roles: MultiValues,
    entitlements: MultiValues
  },
  Schema.Record({ key: Schema.String, value: Schema.Unknown })
)

/**
 * @since 0.1.0
 * @category models
 */
export type User = typeof User.Type

/**
 * A page of `GET /Users`: index paging (RFC 7644 §3.4.2.4) with a required `totalResults`, or cursor paging
 * (RFC 9865) where `nextCursor` is absent only on the last page and `totalResults` may be left out.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ListResponse = Schema.Struct({
  totalResults: Schema.optional(Count),
  startIndex: Schema.optional(Schema.NullOr(Count)),
  itemsPerPage: Schema.optional(Schema.NullOr(Count)),
  nextCursor: OptionalString,
  Resources: Schema.optional(Schema.NullOr(Schema.Array(User)))
})

/**
 * @since 0.1.0
 * @category models
 */
export type ListResponse = typeof ListResponse.Type

/**
 * Any JSON object: `GET /ServiceProviderConfig` (read leniently by `ScimClient.serviceFeatures`) and a user
 * as `GET /Users/{id}` returns it, kept whole for a PUT.
 *
 * @since 0.1.0
 * @category schemas
 */
export const JsonObject = Schema.Record({ key: Schema.String, value: Schema.Unknown })

/**
 * @since 0.1.0
 * @category models
 */
export type JsonObject = typeof JsonObject.Type
