/**
 * How a roster user looks on the v2 directory API (`MultiDirectoryUser`, API-NOTES §1.4), on the
 * user-management profile and in last-active dates. v2 user JSON is built from cached pieces, so a page of
 * a 100,000-user search is joined strings, like the v1 listing.
 *
 * @since 0.2.0
 */
import { stableUuid } from "./Cursor.js"
import type { SandboxUser } from "./SandboxUser.js"
import { hostOf, productAri } from "./Workspaces.js"

/**
 * What a v2 search can expand (API-NOTES §1.4, POST search `expand[]`).
 *
 * @since 0.2.0
 * @category models
 */
export type V2Expand = "productAccess" | "groups" | "platformRoles" | "counts.resources"

/**
 * The v2 composite `status`, exactly as API-NOTES §1.4 defines it: `for_deletion` when the account is
 * scheduled for deletion; `deactivated` when `accountStatus` is `inactive` (or `closed`: a closed account
 * cannot be used either); otherwise from `membershipStatus`: `active`, `suspended`, or `not_invited` for
 * `no_membership`. An unknown `accountStatus` or `membershipStatus` is passed through verbatim.
 *
 * @since 0.2.0
 * @category serialization
 */
export const compositeStatus = (user: SandboxUser): string => {
  if (user.forDeletion === true) return "for_deletion"
  if (user.account_status === "inactive" || user.account_status === "closed") return "deactivated"
  if (user.account_status !== "active") return user.account_status
  const membership = user.membershipStatus ?? "active"
  return membership === "no_membership" ? "not_invited" : membership
}

/**
 * The nickname a user goes by: the `nickname` field, else the first word of the name (at most 30
 * characters, as the user-management document allows).
 *
 * @since 0.2.0
 * @category serialization
 */
export const nicknameOf = (user: SandboxUser): string =>
  (user.nickname ?? user.name.split(" ")[0] ?? user.name).slice(0, 30) || "user"

/**
 * The ARI of a group, from its name.
 *
 * @since 0.2.0
 * @category serialization
 */
export const groupAri = (name: string): string => `ari:cloud:identity::group/${stableUuid(`group:${name}`)}`

interface V2Pieces {
  readonly head: string
  readonly productAccess: string
  readonly groups: string
  readonly platformRoles: string
  readonly counts: string
}

const pieces = new WeakMap<SandboxUser, V2Pieces>()

const build = (user: SandboxUser): V2Pieces => {
  const head: Record<string, unknown> = {
    accountId: user.account_id,
    accountType: user.account_type,
    status: compositeStatus(user),
    accountStatus: user.account_status,
    membershipStatus: user.membershipStatus ?? "active",
    claimStatus: user.claimStatus ?? "managed"
  }
  if (user.addedToOrg !== undefined) head.addedToOrg = user.addedToOrg
  head.name = user.name
  head.nickname = nicknameOf(user)
  if (user.email !== undefined) {
    head.email = user.email
    head.emailVerified = true
  } else {
    head.emailVerified = false
  }
  head.picture = user.picture
  head.managementSource = user.managedBy !== undefined
    ? "synced"
    : (user.claimStatus ?? "managed") === "managed"
    ? null
    : "invited"
  head.mfaEnabled = user.mfaEnabled ?? false
  const text = JSON.stringify(head)
  const access = (user.product_access ?? []).map((p) => {
    const entry: Record<string, unknown> = {
      id: productAri(p.key, p.url === undefined ? "unknown" : hostOf(p.url)),
      key: p.key
    }
    if (p.last_active !== undefined) entry.lastActiveTimestamp = p.last_active
    return entry
  })
  const groups = (user.groups ?? []).map((name) => ({ id: groupAri(name), name, description: null }))
  return {
    head: text.slice(0, -1),
    productAccess: `"productAccess":${JSON.stringify(access)}`,
    groups: `"groups":${JSON.stringify(groups)}`,
    platformRoles: `"platformRoles":${JSON.stringify(user.platformRoles ?? [])}`,
    counts: `"counts":{"resources":${new Set(access.map((a) => a.id)).size}}`
  }
}

/**
 * One user of a v2 search page as JSON text. `links.self` is an opaque token (API-NOTES: a cursor).
 *
 * @since 0.2.0
 * @category serialization
 */
export const v2UserJson = (user: SandboxUser, expand: ReadonlySet<V2Expand>): string => {
  let p = pieces.get(user)
  if (p === undefined) {
    p = build(user)
    pieces.set(user, p)
  }
  let out = p.head
  if (expand.has("productAccess")) out += "," + p.productAccess
  if (expand.has("groups")) out += "," + p.groups
  if (expand.has("platformRoles")) out += "," + p.platformRoles
  if (expand.has("counts.resources")) out += "," + p.counts
  return `${out},"links":{"self":"${Buffer.from(user.account_id).toString("base64url")}"}}`
}

/**
 * The `account` of `GET /users/{account_id}/manage/profile` (user-management `AtlassianAccountUser`).
 * `email` is left out when the user has none, like the v1 listing (see the validator's overrides).
 *
 * @since 0.2.0
 * @category serialization
 */
export const profileAccount = (user: SandboxUser) => {
  const account: Record<string, unknown> = {
    account_id: user.account_id,
    account_type: user.account_type,
    account_status: user.account_status,
    name: user.name,
    picture: user.picture
  }
  if (user.email !== undefined) account.email = user.email
  account.nickname = nicknameOf(user)
  account.zoneinfo = "Europe/London"
  account.locale = "en-GB"
  account.characteristics = { not_mentionable: false }
  return { account }
}

/**
 * `GET /admin/v1/orgs/{orgId}/directory/users/{accountId}/last-active-dates` data: the products the user
 * used (a product never used is left out, as the document says), dates as `yyyy-MM-dd` plus the newer
 * spec's full timestamps.
 *
 * @since 0.2.0
 * @category serialization
 */
export const lastActiveData = (user: SandboxUser) => {
  const product_access = (user.product_access ?? []).flatMap((p) =>
    p.last_active === undefined ? [] : [{
      id: productAri(p.key, p.url === undefined ? "unknown" : hostOf(p.url)),
      key: p.key,
      last_active: p.last_active.slice(0, 10),
      last_active_timestamp: `${p.last_active.slice(0, 19)}Z`
    }]
  )
  return {
    product_access,
    added_to_org: user.addedToOrg === undefined ? null : user.addedToOrg.slice(0, 10),
    added_to_org_timestamp: user.addedToOrg === undefined ? null : `${user.addedToOrg.slice(0, 19)}Z`
  }
}
