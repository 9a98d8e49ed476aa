/**
 * Wire schemas (plain structs: they decode a page fast) of the Atlassian admin API, checked against Atlassian's OpenAPI documents
 * (`admin-organization` and `admin-user-management`, 2023-08). Every enum is open: an unknown
 * `account_status`, `account_type` or product `key` decodes as a plain string and never fails a sync.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * `Product` of `GET /admin/v1/orgs/{orgId}/users`: one product on one site the user can reach.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProductAccess = Schema.Struct({
  key: Schema.String,
  name: Schema.String,
  url: Schema.optional(Schema.NullOr(Schema.String)),
  last_active: Schema.optional(Schema.NullOr(Schema.String))
})

/**
 * @since 0.1.0
 * @category models
 */
export type ProductAccess = typeof ProductAccess.Type

/**
 * `User` of `GET /admin/v1/orgs/{orgId}/users`. `email` is absent when the user restricted its visibility.
 *
 * @since 0.1.0
 * @category schemas
 */
export const User = Schema.Struct({
  account_id: Schema.NonEmptyString,
  account_type: Schema.String,
  account_status: Schema.String,
  name: Schema.String,
  picture: Schema.optional(Schema.NullOr(Schema.String)),
  email: Schema.optional(Schema.NullOr(Schema.String)),
  access_billable: Schema.optional(Schema.NullOr(Schema.Boolean)),
  last_active: Schema.optional(Schema.NullOr(Schema.String)),
  product_access: Schema.optional(Schema.NullOr(Schema.Array(ProductAccess)))
})

/**
 * @since 0.1.0
 * @category models
 */
export type User = typeof User.Type

/**
 * A page of users. `links.next` is an absolute URL; its absence is the only end of the listing.
 *
 * @since 0.1.0
 * @category schemas
 */
export const UsersPage = Schema.Struct({
  data: Schema.Array(User),
  meta: Schema.optional(Schema.NullOr(Schema.Struct({ total: Schema.optional(Schema.NullOr(Schema.Number)) }))),
  links: Schema.optional(Schema.NullOr(Schema.Struct({
    self: Schema.optional(Schema.NullOr(Schema.String)),
    prev: Schema.optional(Schema.NullOr(Schema.String)),
    next: Schema.optional(Schema.NullOr(Schema.String))
  })))
})

/**
 * @since 0.1.0
 * @category models
 */
export type UsersPage = typeof UsersPage.Type

/**
 * `GET /admin/v1/orgs/{orgId}`.
 *
 * @since 0.1.0
 * @category schemas
 */
export const OrgResponse = Schema.Struct({
  data: Schema.Struct({
    id: Schema.String,
    type: Schema.optional(Schema.String),
    attributes: Schema.optional(Schema.Struct({ name: Schema.optional(Schema.String) }))
  })
})

/**
 * @since 0.1.0
 * @category models
 */
export type OrgResponse = typeof OrgResponse.Type
