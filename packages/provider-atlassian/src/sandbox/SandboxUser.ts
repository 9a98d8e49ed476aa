/**
 * The accounts a sandbox serves, in Atlassian's v1 wire shape, and a deterministic generator for them.
 *
 * @since 0.1.0
 */

/**
 * One product on one site that a sandbox user can reach (the wire `Product` of
 * `GET /admin/v1/orgs/{orgId}/users`). `key` is open: an unknown key such as `"compass"` is served as given.
 *
 * @since 0.1.0
 * @category models
 */
export interface SandboxProductAccess {
  readonly key: string
  readonly name: string
  readonly url?: string
  readonly last_active?: string
}

/**
 * An account as the sandbox serves it: the v1 wire `User` fields verbatim (snake_case, so a test can
 * produce any value the real API could, including unknown `account_status` values such as
 * `"pending_deletion"`), plus camelCase fields that the v1 listing never serializes (they feed the v2
 * directory API, the profile and the manage endpoints):
 *
 * - `managedBy`: the account is synced from an external directory, so lifecycle calls answer 403
 *   `forbidden.action` with reason `externalDirectory.scim` / `externalDirectory.google`, and
 *   `GET /users/{id}/manage` says `lifecycle.enablement` is not allowed for that reason.
 * - `claimStatus`: `managed` (absent means managed) or `unmanaged`. The v1 listing shows managed accounts
 *   only; v2 search shows both; the user-management API answers 403 for an unmanaged account.
 * - `membershipStatus`: `active` (absent means active), `suspended` or `no_membership` (open: any string).
 *   v2 suspend/restore set it.
 * - `addedToOrg` (ISO-8601), `platformRoles` (e.g. `atlassian/org-admin`), `groups` (group names),
 *   `directoryId` (absent means the first directory), `forDeletion` (v2 composite status `for_deletion`),
 *   `nickname` (default: the first word of `name`), `mfaEnabled` (default false).
 *
 * Any other extra property is passed through to the v1 wire as is.
 *
 * @since 0.1.0
 * @category models
 */
export interface SandboxUser {
  readonly account_id: string
  readonly account_type: "atlassian" | "customer" | "app" | (string & {})
  readonly account_status: "active" | "inactive" | "closed" | (string & {})
  readonly name: string
  readonly picture: string
  readonly email?: string
  readonly access_billable?: boolean
  readonly last_active?: string
  readonly product_access?: ReadonlyArray<SandboxProductAccess>
  readonly managedBy?: "scim" | "google"
  /** @since 0.2.0 */
  readonly claimStatus?: "managed" | "unmanaged"
  /** @since 0.2.0 */
  readonly membershipStatus?: "active" | "suspended" | "no_membership" | (string & {})
  /** @since 0.2.0 */
  readonly addedToOrg?: string
  /** @since 0.2.0 */
  readonly platformRoles?: ReadonlyArray<string>
  /** @since 0.2.0 */
  readonly groups?: ReadonlyArray<string>
  /** @since 0.2.0 */
  readonly directoryId?: string
  /** @since 0.2.0 */
  readonly forDeletion?: boolean
  /** @since 0.2.0 */
  readonly nickname?: string
  /** @since 0.2.0 */
  readonly mfaEnabled?: boolean
}

/**
 * The fields of {@link SandboxUser} that the v1 listing never serializes.
 *
 * @since 0.2.0
 * @category constants
 */
export const SANDBOX_ONLY_FIELDS: ReadonlyArray<keyof SandboxUser> = [
  "managedBy",
  "claimStatus",
  "membershipStatus",
  "addedToOrg",
  "platformRoles",
  "groups",
  "directoryId",
  "forDeletion",
  "nickname",
  "mfaEnabled"
]

/**
 * Input for adding a user: any subset of the fields. Missing required wire fields (`account_id`,
 * `account_type`, `account_status`, `name`, `picture`) are filled in; optional ones stay as given
 * (absent when absent).
 *
 * @since 0.1.0
 * @category models
 */
export type SandboxUserInput = Partial<SandboxUser>

/**
 * A patch for `updateUser`: a property set to `undefined` removes that field from the account.
 *
 * @since 0.1.0
 * @category models
 */
export type SandboxUserPatch = { readonly [K in keyof SandboxUser]?: SandboxUser[K] | undefined }

/**
 * The sites and products generated users are spread across. Product URLs follow Atlassian's forms
 * (`https://acme.atlassian.net/`, `https://acme-eu.atlassian.net/wiki`).
 *
 * @since 0.1.0
 * @category constants
 */
export const productCatalog: ReadonlyArray<SandboxProductAccess & { readonly share: number }> = [
  { key: "jira-software", name: "Jira", url: "https://acme.atlassian.net/", share: 0.7 },
  { key: "confluence", name: "Confluence", url: "https://acme.atlassian.net/wiki", share: 0.6 },
  { key: "jira-service-desk", name: "Jira Service Management", url: "https://acme.atlassian.net/", share: 0.15 },
  { key: "jira-software", name: "Jira", url: "https://acme-eu.atlassian.net/", share: 0.2 },
  { key: "confluence", name: "Confluence", url: "https://acme-eu.atlassian.net/wiki", share: 0.2 },
  { key: "jira-core", name: "Jira Work Management", url: "https://acme-eu.atlassian.net/", share: 0.1 },
  { key: "opsgenie", name: "Opsgenie", url: "https://acme.app.opsgenie.com/", share: 0.05 },
  { key: "statuspage", name: "Statuspage", url: "https://acme.statuspage.io/", share: 0.03 },
  { key: "bitbucket", name: "Bitbucket", url: "https://bitbucket.org/acme/", share: 0.08 },
  { key: "trello", name: "Trello", url: "https://trello.com/w/acme", share: 0.05 },
  { key: "jira-ops", name: "Jira Ops", url: "https://acme-ops.atlassian.net/", share: 0.01 }
]

const FIRST = [
  "Ada",
  "Alan",
  "Grace",
  "Linus",
  "Margaret",
  "Ken",
  "Barbara",
  "Dennis",
  "Frances",
  "Edsger",
  "Radia",
  "John",
  "Katherine",
  "Donald",
  "Hedy",
  "Tim",
  "Joan",
  "Guido",
  "Sophie",
  "Yukihiro",
  "Anita",
  "Bjarne",
  "Adele",
  "Niklaus"
]
const LAST = [
  "Lovelace",
  "Turing",
  "Hopper",
  "Torvalds",
  "Hamilton",
  "Thompson",
  "Liskov",
  "Ritchie",
  "Allen",
  "Dijkstra",
  "Perlman",
  "McCarthy",
  "Johnson",
  "Knuth",
  "Lamarr",
  "Berners-Lee",
  "Clarke",
  "Rossum",
  "Wilson",
  "Matsumoto",
  "Borg",
  "Stroustrup",
  "Goldberg",
  "Wirth"
]
const APPS = ["Jira Cloud for Slack", "Automation for Jira", "Trello Power-Up", "Opsgenie Integration", "Backup Bot"]

const DAY_MS = 86_400_000

/**
 * The instant generated last-activity dates count back from: the start of the current UTC day, so a
 * demo always shows recent activity, and a seed yields the same roster all day. Pass a fixed instant to
 * `generateUser`/`SandboxOptions.referenceTime` for a roster that never changes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const defaultReferenceTime = (): number => Math.floor(Date.now() / DAY_MS) * DAY_MS

const mix = (a: number, b: number): number => {
  let h = (a ^ Math.imul(b + 0x7f4a7c15, 0x9e3779b1)) >>> 0
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b)
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35)
  return (h ^ (h >>> 16)) >>> 0
}

// mulberry32, seeded per user, so user i is the same whatever the roster size.
const random = (seed: number): () => number => {
  let state = seed | 0
  return () => {
    state = (state + 0x6d2b79f5) | 0
    let t = Math.imul(state ^ (state >>> 15), 1 | state)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const hex = (n: number, width: number): string => n.toString(16).padStart(width, "0").slice(-width)

const hexOfIndex = (index: number, width: number): string => index.toString(16).padStart(width, "0")

const accountIdFor = (rand: () => number, index: number): string => {
  const r = rand()
  const word = () => hex(Math.floor(rand() * 0x100000000), 8)
  // The index is embedded, so ids are unique within a roster whatever the seed.
  if (r < 0.6) return word() + hexOfIndex(index, 16)
  const w = word() + word()
  const uuid = `${w.slice(0, 8)}-${w.slice(8, 12)}-4${w.slice(13, 16)}-a${hexOfIndex(index, 15).slice(0, 3)}-${
    hexOfIndex(index, 15).slice(3)
  }`
  return (r < 0.9 ? "557058:" : "712020:") + uuid
}

/**
 * The `index`-th generated user for `seed`. Deterministic and independent of the roster size: the
 * first 100 users of a 100-user roster and of a 100,000-user roster are the same.
 *
 * @since 0.1.0
 * @category constructors
 */
export const generateUser = (
  seed: number,
  index: number,
  referenceTime: number = defaultReferenceTime()
): SandboxUser => {
  const user = generateBase(seed, index, referenceTime)
  addExtras(user, seed, index, referenceTime)
  return user
}

type MutableUser = { -readonly [K in keyof SandboxUser]: SandboxUser[K] }

// The v1 fields of user i (unchanged since 0.1.0, so rosters and counts of a seed stay the same).
const generateBase = (seed: number, index: number, referenceTime: number): MutableUser => {
  const rand = random(mix(seed, index))
  const isoDaysAgo = (days: number): string => new Date(referenceTime - Math.floor(days * DAY_MS)).toISOString()
  const account_id = accountIdFor(rand, index)
  const first = FIRST[Math.floor(rand() * FIRST.length)]!
  const last = LAST[Math.floor(rand() * LAST.length)]!
  const typeRoll = rand()
  const account_type = typeRoll < 0.03 ? "app" : typeRoll < 0.08 ? "customer" : "atlassian"
  const statusRoll = rand()
  const account_status = statusRoll < 0.85 ? "active" : statusRoll < 0.95 ? "inactive" : "closed"
  const name = account_type === "app" ? APPS[index % APPS.length]! : `${first} ${last}`
  const initials = account_type === "app" ? "AP" : `${first[0]}${last[0]}`
  const picture = `https://avatar-management--avatars.us-west-2.prod.public.atl-paas.net/initials/${initials}-${
    index % 6
  }.png`
  const hidesEmail = rand() < 0.08
  const email = account_type === "app" || hidesEmail
    ? undefined
    : account_type === "customer"
    ? `${first}.${last}${index}@customer.example`.toLowerCase()
    : `${first}.${last.replace(/[^A-Za-z]/g, "")}${index}@acme.com`.toLowerCase()
  // Most people used a product in the last month; a long tail stopped months ago: the seats to reclaim.
  const activeDaysAgo = rand() < 0.7 ? rand() * 30 : 30 + rand() * 330
  const last_active = rand() < 0.1 ? undefined : isoDaysAgo(activeDaysAgo)
  const product_access: Array<SandboxProductAccess> = []
  if (account_status !== "closed" && account_type !== "app") {
    for (const product of productCatalog) {
      const roll = rand()
      if (account_type === "customer" ? product.key === "jira-service-desk" && roll < 0.9 : roll < product.share) {
        const access: { -readonly [K in keyof SandboxProductAccess]: SandboxProductAccess[K] } = {
          key: product.key,
          name: product.name,
          url: product.url!
        }
        if (rand() >= 0.3 && last_active !== undefined) access.last_active = isoDaysAgo(activeDaysAgo + rand() * 30)
        product_access.push(access)
      }
    }
  }
  // Built field by field (not with spreads): generating 100,000 users must stay well under a second.
  const user: { -readonly [K in keyof SandboxUser]: SandboxUser[K] } = {
    account_id,
    account_type,
    account_status,
    name,
    picture
  }
  if (email !== undefined) user.email = email
  user.access_billable = account_type === "atlassian" && account_status === "active" && product_access.length > 0
  if (last_active !== undefined) user.last_active = last_active
  user.product_access = product_access
  return user
}

/**
 * Where org and site admins sit in every block of 1,000 generated users: the first active `atlassian`
 * account from index 17 (org admin) and from index 29 (site admin). Late enough that tests picking "the
 * first active user" do not pick an admin, whom v2 suspend refuses.
 */
const ORG_ADMIN_FROM = 17
const SITE_ADMIN_FROM = 29
const adminSlots = new Map<string, number>()

const adminSlot = (seed: number, block: number, from: number, referenceTime: number): number => {
  const key = `${seed}:${block}:${from}`
  let slot = adminSlots.get(key)
  if (slot === undefined) {
    slot = -1
    for (let i = block * 1000 + from; i < block * 1000 + from + 12; i++) {
      const base = generateBase(seed, i, referenceTime)
      if (base.account_type === "atlassian" && base.account_status === "active") {
        slot = i
        break
      }
    }
    if (adminSlots.size > 10_000) adminSlots.clear()
    adminSlots.set(key, slot)
  }
  return slot
}

// The v2-only fields come from a second random stream, so the v1 fields of user i never change.
const addExtras = (
  user: MutableUser,
  seed: number,
  index: number,
  referenceTime: number
): void => {
  const rand = random(mix(seed ^ 0x5eed2, index))
  user.addedToOrg = new Date(referenceTime - Math.floor((30 + rand() * 2000) * DAY_MS)).toISOString()
  const groups: Array<string> = []
  const keys = new Set((user.product_access ?? []).map((p) => p.key))
  if (keys.has("jira-software") || keys.has("jira-core")) groups.push("jira-users")
  if (keys.has("confluence")) groups.push("confluence-users")
  if (keys.has("jira-service-desk")) groups.push("jira-servicemanagement-users")
  const roll = rand()
  if (roll < 0.1) groups.push("contractors")
  else if (roll < 0.13) groups.push("leadership")
  const within = index % 1000
  if (within >= ORG_ADMIN_FROM && within < SITE_ADMIN_FROM + 12) {
    const block = Math.floor(index / 1000)
    if (adminSlot(seed, block, ORG_ADMIN_FROM, referenceTime) === index) {
      user.platformRoles = ["atlassian/org-admin"]
      groups.push("org-admins")
    } else if (adminSlot(seed, block, SITE_ADMIN_FROM, referenceTime) === index) {
      user.platformRoles = ["atlassian/site-admin"]
      groups.push("site-admins")
    }
  }
  user.groups = groups
  user.mfaEnabled = rand() < 0.6
}

/**
 * The `index`-th generated unmanaged account for `seed`: a person whose email is on a domain the org has
 * not verified (a contractor, a partner), with product access and activity like the others. Indices
 * live apart from managed ones, so ids never collide.
 *
 * @since 0.2.0
 * @category constructors
 */
export const generateUnmanagedUser = (
  seed: number,
  index: number,
  referenceTime: number = defaultReferenceTime()
): SandboxUser => {
  const base = generateUser(seed, UNMANAGED_BASE + index, referenceTime)
  const domain = UNMANAGED_DOMAINS[index % UNMANAGED_DOMAINS.length]!
  const [first = "guest", last = "user"] = base.name.toLowerCase().split(" ")
  const user: { -readonly [K in keyof SandboxUser]: SandboxUser[K] } = {
    ...base,
    account_type: "atlassian",
    name: base.account_type === "app" ? `Guest ${index}` : base.name,
    email: `${first}.${last.replace(/[^a-z]/g, "")}${index}@${domain}`,
    claimStatus: "unmanaged"
  }
  if (user.account_status === "closed") user.account_status = "active"
  // Platform roles belong to the org's own (managed) people.
  delete user.platformRoles
  user.groups = (base.groups ?? []).filter((g) => g !== "org-admins" && g !== "site-admins")
  return user
}

const UNMANAGED_BASE = 0x40000000
const UNMANAGED_DOMAINS = ["contractor.example", "partner.example", "gmail.example"]

/**
 * `count` generated users starting at generator index `from` (default 0).
 *
 * @since 0.1.0
 * @category constructors
 */
export const generateUsers = (
  count: number,
  seed = 1,
  from = 0,
  referenceTime: number = defaultReferenceTime()
): Array<SandboxUser> => {
  const users = new Array<SandboxUser>(count)
  for (let i = 0; i < count; i++) users[i] = generateUser(seed, from + i, referenceTime)
  return users
}

/**
 * A user from partial input: required wire fields are filled from the generator at `index`, optional
 * ones are kept exactly as given.
 *
 * @since 0.1.0
 * @category constructors
 */
export const completeUser = (input: SandboxUserInput, seed: number, index: number): SandboxUser => {
  const generated = generateUser(seed, index)
  return {
    ...input,
    account_id: input.account_id ?? generated.account_id,
    account_type: input.account_type ?? generated.account_type,
    account_status: input.account_status ?? generated.account_status,
    name: input.name ?? generated.name,
    picture: input.picture ?? generated.picture
  }
}

const ACCOUNT_ID = /^[a-zA-Z0-9_|:-]{1,128}$/

/**
 * Why `user` cannot be served, or `undefined` when it can. Only checks what would make the sandbox
 * itself misbehave (ids it cannot route, non-string required fields); values outside Atlassian's enums
 * are allowed on purpose.
 *
 * @since 0.1.0
 * @category validation
 */
export const userProblem = (user: unknown): string | undefined => {
  if (typeof user !== "object" || user === null || Array.isArray(user)) return "a user must be a JSON object"
  const u = user as Record<string, unknown>
  if (typeof u.account_id !== "string" || !ACCOUNT_ID.test(u.account_id)) {
    return `account_id must match [a-zA-Z0-9_|:-]{1,128}, got ${JSON.stringify(u.account_id)}`
  }
  for (const field of ["account_type", "account_status", "name", "picture"] as const) {
    if (typeof u[field] !== "string") return `${field} of ${u.account_id} must be a string`
  }
  if (u.managedBy !== undefined && u.managedBy !== "scim" && u.managedBy !== "google") {
    return `managedBy of ${u.account_id} must be "scim" or "google", got ${JSON.stringify(u.managedBy)}`
  }
  if (u.claimStatus !== undefined && u.claimStatus !== "managed" && u.claimStatus !== "unmanaged") {
    return `claimStatus of ${u.account_id} must be "managed" or "unmanaged", got ${JSON.stringify(u.claimStatus)}`
  }
  for (const field of ["membershipStatus", "addedToOrg", "directoryId", "nickname"] as const) {
    if (u[field] !== undefined && typeof u[field] !== "string") return `${field} of ${u.account_id} must be a string`
  }
  for (const field of ["forDeletion", "mfaEnabled"] as const) {
    if (u[field] !== undefined && typeof u[field] !== "boolean") return `${field} of ${u.account_id} must be a boolean`
  }
  for (const field of ["platformRoles", "groups"] as const) {
    const v = u[field]
    if (v !== undefined && (!Array.isArray(v) || !v.every((x) => typeof x === "string"))) {
      return `${field} of ${u.account_id} must be an array of strings`
    }
  }
  if (u.product_access !== undefined) {
    if (!Array.isArray(u.product_access)) return `product_access of ${u.account_id} must be an array`
    for (const p of u.product_access) {
      if (typeof p !== "object" || p === null || typeof p.key !== "string" || typeof p.name !== "string") {
        return `every product_access entry of ${u.account_id} needs a string key and name`
      }
    }
  }
  return undefined
}
