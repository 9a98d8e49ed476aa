/**
 * Wire schemas of the Atlassian admin APIs Seatkeeper calls, checked against Atlassian's OpenAPI documents
 * (`admin-organization` and `admin-user-management`, 2023-08) where they cover them, and against
 * API-NOTES for the v2 directory API they do not. Plain structs, so a page decodes fast. Every enum is
 * open: an unknown `account_status`, `account_type`, `status`, product `key` or plan decodes as a plain
 * string and never fails a sync.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

const optionalNullable = <S extends Schema.Schema.Any>(s: S) => Schema.optional(Schema.NullOr(s))

// Guards that accept exactly (or less than) what the schemas beside them decode, for
// `ProviderHttp.withFastPath`: a page they accept is used as parsed, anything else goes through the schema.
type Fields = { readonly [key: string]: unknown }
const isObject = (u: unknown): u is Fields => typeof u === "object" && u !== null && !Array.isArray(u)
const isText = (u: unknown): boolean => typeof u === "string"
const isOptionalText = (u: unknown): boolean => u === undefined || u === null || typeof u === "string"
const isOptionalNumber = (u: unknown): boolean => u === undefined || u === null || typeof u === "number"
const isOptionalBoolean = (u: unknown): boolean => u === undefined || u === null || typeof u === "boolean"
const isOptionalArrayOf = (u: unknown, item: (u: unknown) => boolean): boolean => {
  if (u === undefined || u === null) return true
  if (!Array.isArray(u)) return false
  for (let i = 0; i < u.length; i++) if (!item(u[i])) return false
  return true
}
const isLinks = (u: unknown): boolean =>
  u === undefined || u === null ||
  (isObject(u) && isOptionalText(u.self) && isOptionalText(u.prev) && isOptionalText(u.next))

// =============================================================================
// v1: GET /admin/v1/orgs/{orgId}/users (managed accounts)
// =============================================================================

/**
 * `Product` of `GET /admin/v1/orgs/{orgId}/users`: one product on one site the user can reach.
 *
 * @since 0.1.0
 * @category schemas
 */
export const ProductAccess = Schema.Struct({
  key: Schema.String,
  name: Schema.String,
  url: optionalNullable(Schema.String),
  last_active: optionalNullable(Schema.String)
})

/**
 * @since 0.1.0
 * @category models
 */
export type ProductAccess = typeof ProductAccess.Type

/**
 * `User` of `GET /admin/v1/orgs/{orgId}/users`. `email` is absent when the user restricted its visibility;
 * `product_access` absent means Atlassian did not say (kept), `[]` means none.
 *
 * @since 0.1.0
 * @category schemas
 */
export const User = Schema.Struct({
  account_id: Schema.NonEmptyString,
  account_type: Schema.String,
  account_status: Schema.String,
  name: Schema.String,
  picture: optionalNullable(Schema.String),
  email: optionalNullable(Schema.String),
  access_billable: optionalNullable(Schema.Boolean),
  last_active: optionalNullable(Schema.String),
  product_access: optionalNullable(Schema.Array(ProductAccess))
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
  meta: optionalNullable(Schema.Struct({ total: optionalNullable(Schema.Number) })),
  links: optionalNullable(Schema.Struct({
    self: optionalNullable(Schema.String),
    prev: optionalNullable(Schema.String),
    next: optionalNullable(Schema.String)
  }))
})

/**
 * @since 0.1.0
 * @category models
 */
export type UsersPage = typeof UsersPage.Type

const isProductAccess = (u: unknown): boolean =>
  isObject(u) && isText(u.key) && isText(u.name) && isOptionalText(u.url) && isOptionalText(u.last_active)

/**
 * Whether a value is a {@link User} as it is, without decoding it.
 *
 * @since 0.2.0
 * @category guards
 */
export const isUser = (u: unknown): u is User =>
  isObject(u) && typeof u.account_id === "string" && u.account_id !== "" && isText(u.account_type) &&
  isText(u.account_status) && isText(u.name) && isOptionalText(u.picture) && isOptionalText(u.email) &&
  isOptionalBoolean(u.access_billable) && isOptionalText(u.last_active) &&
  isOptionalArrayOf(u.product_access, isProductAccess)

/**
 * Whether a value is a {@link UsersPage} as it is, without decoding it.
 *
 * @since 0.2.0
 * @category guards
 */
export const isUsersPage = (u: unknown): u is UsersPage =>
  isObject(u) && Array.isArray(u.data) && isLinks(u.links) &&
  (u.meta === undefined || u.meta === null || (isObject(u.meta) && isOptionalNumber(u.meta.total))) &&
  isOptionalArrayOf(u.data, isUser)

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

// =============================================================================
// user management: profile and manageability
// =============================================================================

/**
 * `GET /users/{account_id}/manage/profile` (`{account: AtlassianAccountUser}`): how the sync engine confirms
 * that an account a listing skipped still exists. `closed` means gone.
 *
 * @since 0.2.0
 * @category schemas
 */
export const ProfileResponse = Schema.Struct({
  account: Schema.Struct({
    account_id: Schema.NonEmptyString,
    account_type: Schema.String,
    account_status: Schema.String,
    name: Schema.String,
    email: optionalNullable(Schema.String),
    nickname: optionalNullable(Schema.String)
  })
})

/**
 * @since 0.2.0
 * @category models
 */
export type ProfileResponse = typeof ProfileResponse.Type

/**
 * `Manageability.Rule.Simple`: allowed, or not with a restriction reason.
 *
 * @since 0.2.0
 * @category schemas
 */
export const ManageabilityRule = Schema.Struct({
  allowed: Schema.Boolean,
  reason: optionalNullable(Schema.Struct({ key: Schema.String }))
})

/**
 * `GET /users/{account_id}/manage?privileges=lifecycle.enablement`: the read-only preflight of a
 * deactivation.
 *
 * @since 0.2.0
 * @category schemas
 */
export const ManageResponse = Schema.Struct({
  "lifecycle.enablement": Schema.optional(ManageabilityRule)
})

/**
 * @since 0.2.0
 * @category models
 */
export type ManageResponse = typeof ManageResponse.Type

// =============================================================================
// v2: directories and users search (managed and unmanaged accounts)
// =============================================================================

/**
 * `productAccess` of a v2 user: the product's resource id (an ARI), its key and the user's last activity.
 *
 * @since 0.2.0
 * @category schemas
 */
export const V2ProductAccess = Schema.Struct({
  id: optionalNullable(Schema.String),
  key: optionalNullable(Schema.String),
  lastActiveTimestamp: optionalNullable(Schema.String)
})

/**
 * @since 0.2.0
 * @category models
 */
export type V2ProductAccess = typeof V2ProductAccess.Type

/**
 * `MultiDirectoryUser` of `POST /admin/v2/orgs/{orgId}/directories/{directoryId}/users/search`.
 *
 * @since 0.2.0
 * @category schemas
 */
export const V2User = Schema.Struct({
  accountId: Schema.NonEmptyString,
  accountType: optionalNullable(Schema.String),
  status: optionalNullable(Schema.String),
  accountStatus: optionalNullable(Schema.String),
  membershipStatus: optionalNullable(Schema.String),
  addedToOrg: optionalNullable(Schema.String),
  name: optionalNullable(Schema.String),
  nickname: optionalNullable(Schema.String),
  email: optionalNullable(Schema.String),
  claimStatus: optionalNullable(Schema.String),
  managementSource: optionalNullable(Schema.String),
  directoryId: optionalNullable(Schema.String),
  platformRoles: optionalNullable(Schema.Array(Schema.String)),
  productAccess: optionalNullable(Schema.Array(V2ProductAccess)),
  groups: optionalNullable(Schema.Array(Schema.Struct({
    id: optionalNullable(Schema.String),
    name: optionalNullable(Schema.String)
  })))
})

/**
 * @since 0.2.0
 * @category models
 */
export type V2User = typeof V2User.Type

/**
 * Links of the v2 APIs: bare cursors, not URLs.
 *
 * @since 0.2.0
 * @category schemas
 */
export const CursorLinks = Schema.Struct({
  self: optionalNullable(Schema.String),
  prev: optionalNullable(Schema.String),
  next: optionalNullable(Schema.String)
})

/**
 * A page of v2 users.
 *
 * @since 0.2.0
 * @category schemas
 */
export const V2UsersPage = Schema.Struct({
  data: Schema.Array(V2User),
  links: optionalNullable(CursorLinks)
})

/**
 * @since 0.2.0
 * @category models
 */
export type V2UsersPage = typeof V2UsersPage.Type

const isV2ProductAccess = (u: unknown): boolean =>
  isObject(u) && isOptionalText(u.id) && isOptionalText(u.key) && isOptionalText(u.lastActiveTimestamp)

const isGroup = (u: unknown): boolean => isObject(u) && isOptionalText(u.id) && isOptionalText(u.name)

/**
 * Whether a value is a {@link V2User} as it is, without decoding it.
 *
 * @since 0.2.0
 * @category guards
 */
export const isV2User = (u: unknown): u is V2User =>
  isObject(u) && typeof u.accountId === "string" && u.accountId !== "" && isOptionalText(u.accountType) &&
  isOptionalText(u.status) && isOptionalText(u.accountStatus) && isOptionalText(u.membershipStatus) &&
  isOptionalText(u.addedToOrg) && isOptionalText(u.name) && isOptionalText(u.nickname) && isOptionalText(u.email) &&
  isOptionalText(u.claimStatus) && isOptionalText(u.managementSource) && isOptionalText(u.directoryId) &&
  isOptionalArrayOf(u.platformRoles, isText) && isOptionalArrayOf(u.productAccess, isV2ProductAccess) &&
  isOptionalArrayOf(u.groups, isGroup)

/**
 * Whether a value is a {@link V2UsersPage} as it is, without decoding it.
 *
 * @since 0.2.0
 * @category guards
 */
export const isV2UsersPage = (u: unknown): u is V2UsersPage =>
  isObject(u) && Array.isArray(u.data) && isLinks(u.links) && isOptionalArrayOf(u.data, isV2User)

// =============================================================================
// v2: workspaces (product instances, their plans and seats)
// =============================================================================

/**
 * `EntitlementModelV2` in a workspace's relationships: the plan it is on.
 *
 * @since 0.2.0
 * @category schemas
 */
export const WorkspaceEntitlement = Schema.Struct({
  id: optionalNullable(Schema.String),
  type: optionalNullable(Schema.String),
  attributes: optionalNullable(Schema.Struct({
    key: optionalNullable(Schema.String),
    planKey: optionalNullable(Schema.String),
    plan: optionalNullable(Schema.String)
  }))
})

/**
 * `WorkspaceModel` of `POST /admin/v2/orgs/{orgId}/workspaces`.
 *
 * @since 0.2.0
 * @category schemas
 */
export const Workspace = Schema.Struct({
  id: Schema.String,
  type: optionalNullable(Schema.String),
  attributes: optionalNullable(Schema.Struct({
    name: optionalNullable(Schema.String),
    typeKey: optionalNullable(Schema.String),
    type: optionalNullable(Schema.String),
    status: optionalNullable(Schema.String),
    usage: optionalNullable(Schema.Number),
    capacity: optionalNullable(Schema.Number),
    hostUrl: optionalNullable(Schema.String)
  })),
  // Arrays of policies, entitlements and features per the document; read item by item (an unexpected
  // relationship never fails the licence listing).
  relationships: optionalNullable(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
})

/**
 * @since 0.2.0
 * @category models
 */
export type Workspace = typeof Workspace.Type

/**
 * `PageDataResponseV2`.
 *
 * @since 0.2.0
 * @category schemas
 */
export const WorkspacesPage = Schema.Struct({
  data: Schema.Array(Workspace),
  links: optionalNullable(CursorLinks),
  meta: optionalNullable(Schema.Struct({ total: optionalNullable(Schema.Number) }))
})

/**
 * @since 0.2.0
 * @category models
 */
export type WorkspacesPage = typeof WorkspacesPage.Type

// =============================================================================
// error bodies
// =============================================================================

/**
 * 1 and 2: the Org API's `ApplicationError` and the v2 user API's `ApiErrorResponse` (same envelope).
 *
 * @since 0.2.0
 * @category errors
 */
export const ApplicationErrorBody = Schema.Struct({
  errors: Schema.NonEmptyArray(Schema.Struct({
    id: optionalNullable(Schema.String),
    status: optionalNullable(Schema.Union(Schema.String, Schema.Number)),
    code: optionalNullable(Schema.String),
    title: optionalNullable(Schema.String),
    detail: optionalNullable(Schema.String)
  }))
}).annotations({ identifier: "ApplicationError" })

/**
 * 5: the user-management API's `{key, context}`, e.g. `forbidden.action` with a restriction reason.
 *
 * @since 0.2.0
 * @category errors
 */
export const UserManagementErrorBody = Schema.Struct({
  key: Schema.String,
  message: optionalNullable(Schema.String),
  context: optionalNullable(Schema.Struct({
    message: optionalNullable(Schema.String),
    reason: optionalNullable(Schema.Struct({ key: optionalNullable(Schema.String) }))
  }))
}).annotations({ identifier: "UserManagementError" })

/**
 * 4: the 403 `NoPermsError`.
 *
 * @since 0.2.0
 * @category errors
 */
export const NoPermsErrorBody = Schema.Struct({
  requestId: Schema.String,
  error: optionalNullable(Schema.String),
  message: optionalNullable(Schema.String)
}).annotations({ identifier: "NoPermsError" })

/**
 * 3: the gateway's `ProxyError` (`code` is a number).
 *
 * @since 0.2.0
 * @category errors
 */
export const ProxyErrorBody = Schema.Struct({
  code: Schema.Union(Schema.Number, Schema.String),
  message: optionalNullable(Schema.String)
}).annotations({ identifier: "ProxyError" })

/**
 * Any of the five error bodies (API-NOTES §4.2), tried in order.
 *
 * @since 0.2.0
 * @category errors
 */
export const ErrorBody = Schema.Union(ApplicationErrorBody, UserManagementErrorBody, NoPermsErrorBody, ProxyErrorBody)

/**
 * @since 0.2.0
 * @category errors
 */
export type ErrorBody = typeof ErrorBody.Type
