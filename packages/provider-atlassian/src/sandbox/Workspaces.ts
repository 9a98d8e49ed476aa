/**
 * The org's product instances ("workspaces") and directories, as `POST /admin/v2/orgs/{orgId}/workspaces`
 * and `GET /admin/v2/orgs/{orgId}/directories` serve them. A workspace is one product on one site; its
 * `hostUrl` is the host (and path, for Bitbucket and Trello) of the product URLs users hold, so an
 * adapter can join licences to entitlements by product key and the site's full host.
 *
 * @since 0.2.0
 */
import { stableUuid } from "./Cursor.js"
import type { SandboxUser } from "./SandboxUser.js"
import { productCatalog } from "./SandboxUser.js"

/**
 * One workspace. `hostUrl` has no scheme (`acme.atlassian.net`, `bitbucket.org/acme`). `plan` is open:
 * any string is served verbatim. `usage` left out (or `undefined`) is computed from the users holding
 * the product on that host whose account and membership are active; `null` is served as `null`.
 *
 * @since 0.2.0
 * @category models
 */
export interface SandboxWorkspace {
  /** Default: the workspace's ARI, `ari:cloud:<key>::site/<site id>`. */
  readonly id: string
  /** The product key (`attributes.typeKey` and the entitlement's `key`), e.g. `jira-software`. */
  readonly key: string
  /** `attributes.type`; default the product family (`jira`, `confluence`, ...) or `key`. */
  readonly type: string
  /** `attributes.name`; default the first label of the host. */
  readonly name: string
  readonly hostUrl: string
  readonly plan: string
  readonly planKey?: string | null
  readonly capacity?: number | null
  readonly usage?: number | null
  readonly status?: "online" | "offline" | "deprecated" | (string & {})
  readonly realm?: string
  readonly createdAt?: string
}

/**
 * Input for adding a workspace: `key`, `hostUrl` and `plan` are needed, the rest is derived.
 *
 * @since 0.2.0
 * @category models
 */
export type SandboxWorkspaceInput =
  & Pick<SandboxWorkspace, "key" | "hostUrl" | "plan">
  & Partial<Omit<SandboxWorkspace, "key" | "hostUrl" | "plan">>

/**
 * A patch for `updateWorkspace`; a property set to `undefined` is removed (so `usage` is computed again).
 *
 * @since 0.2.0
 * @category models
 */
export type SandboxWorkspacePatch = {
  readonly [K in keyof SandboxWorkspace]?: SandboxWorkspace[K] | undefined
}

/**
 * @since 0.2.0
 * @category models
 */
export interface SandboxDirectory {
  readonly directoryId: string
  readonly name: string
  readonly icon?: string
}

/**
 * The host part of a product URL or a `hostUrl` (`https://acme.atlassian.net/wiki` and
 * `acme.atlassian.net` both give `acme.atlassian.net`).
 *
 * @since 0.2.0
 * @category utils
 */
export const hostOf = (url: string): string => {
  const withoutScheme = url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "")
  const end = withoutScheme.search(/[/?#]/)
  return (end === -1 ? withoutScheme : withoutScheme.slice(0, end)).toLowerCase()
}

/**
 * The ARI of a product on a site, as v2 `productAccess[].id` and the workspace's `id` carry it.
 *
 * @since 0.2.0
 * @category utils
 */
export const productAri = (key: string, host: string): string => `ari:cloud:${key}::site/${stableUuid(host)}`

const FAMILY: Readonly<Record<string, string>> = {
  "jira-software": "jira",
  "jira-service-desk": "jira",
  "jira-core": "jira",
  "jira-ops": "jira"
}

const hostUrlOf = (url: string): string => url.replace(/^https?:\/\//, "").replace(/\/wiki\/?$/, "").replace(/\/+$/, "")

/**
 * A workspace from partial input, with the derived fields filled in.
 *
 * @since 0.2.0
 * @category constructors
 */
export const completeWorkspace = (input: SandboxWorkspaceInput): SandboxWorkspace => {
  const host = hostOf(input.hostUrl)
  const label = host.split(".")[0] ?? host
  return {
    ...input,
    id: input.id ?? productAri(input.key, host),
    type: input.type ?? FAMILY[input.key] ?? input.key,
    name: input.name ?? label
  }
}

// Plans of the default workspaces: every documented one, one the enums do not know (Statuspage's
// "Business", kept verbatim) and one product that left the catalogue (Jira Ops, deprecated).
const DEFAULT_PLANS: Readonly<Record<string, { readonly plan: string; readonly status?: string }>> = {
  "jira-software acme.atlassian.net": { plan: "Premium" },
  "confluence acme.atlassian.net": { plan: "Standard" },
  "jira-service-desk acme.atlassian.net": { plan: "Standard" },
  "jira-software acme-eu.atlassian.net": { plan: "Enterprise" },
  "confluence acme-eu.atlassian.net": { plan: "Premium" },
  "jira-core acme-eu.atlassian.net": { plan: "Standard" },
  "opsgenie acme.app.opsgenie.com": { plan: "Standard" },
  "statuspage acme.statuspage.io": { plan: "Business" },
  "bitbucket bitbucket.org": { plan: "Premium" },
  "trello trello.com": { plan: "Standard" },
  "jira-ops acme-ops.atlassian.net": { plan: "Free", status: "deprecated" }
}

/**
 * The default workspaces: one per distinct product and site of `productCatalog`, plus one product type
 * no enum knows (`compass`) that nobody holds. Capacity is seats bought: 10 on Free, else the users
 * holding it when the sandbox starts plus a quarter, rounded up to tens.
 *
 * @since 0.2.0
 * @category constructors
 */
export const defaultWorkspaces = (users: ReadonlyArray<SandboxUser>): ReadonlyArray<SandboxWorkspace> => {
  const seen = new Set<string>()
  const usage = usageByProduct(users)
  const out: Array<SandboxWorkspace> = []
  const add = (key: string, hostUrl: string, plan: string, status: string | undefined) => {
    const ws = completeWorkspace({ key, hostUrl, plan, ...(status === undefined ? {} : { status }) })
    const used = usage.get(usageKey(key, hostOf(hostUrl))) ?? 0
    out.push({
      ...ws,
      planKey: `${key}.${plan.toLowerCase()}`,
      capacity: plan === "Free" ? 10 : Math.max(10, Math.ceil((used * 1.25) / 10) * 10),
      realm: hostUrl.includes("-eu") ? "eu" : "us",
      createdAt: "2021-03-04T09:00:00.000Z"
    })
  }
  for (const product of productCatalog) {
    const hostUrl = hostUrlOf(product.url!)
    const id = `${product.key} ${hostOf(hostUrl)}`
    if (seen.has(id)) continue
    seen.add(id)
    const preset = DEFAULT_PLANS[id] ?? { plan: "Standard" }
    add(product.key, hostUrl, preset.plan, preset.status)
  }
  add("compass", "acme.atlassian.net", "Free", undefined)
  return out
}

const usageKey = (key: string, host: string): string => `${key} ${host}`

/**
 * Seats in use per product and host: users whose account and membership are active and who hold it.
 *
 * @since 0.2.0
 * @category utils
 */
export const usageByProduct = (users: ReadonlyArray<SandboxUser>): Map<string, number> => {
  const counts = new Map<string, number>()
  for (const user of users) {
    if (user.account_status !== "active" || (user.membershipStatus ?? "active") !== "active") continue
    for (const product of user.product_access ?? []) {
      if (product.url === undefined) continue
      const k = usageKey(product.key, hostOf(product.url))
      counts.set(k, (counts.get(k) ?? 0) + 1)
    }
  }
  return counts
}

/**
 * The wire `WorkspaceModel` of the org OpenAPI document.
 *
 * @since 0.2.0
 * @category serialization
 */
export const workspaceWire = (
  ws: SandboxWorkspace,
  usage: Map<string, number>,
  orgId: string,
  baseUrl: string
) => {
  const region = ws.realm === "eu" ? "eu-central-1" : "us-east-1"
  return {
    id: ws.id,
    type: "workspaces",
    attributes: {
      name: ws.name,
      typeKey: ws.key,
      type: ws.type,
      owner: orgId,
      status: ws.status ?? "online",
      statusDetails: [],
      icons: {},
      avatars: {},
      labels: [],
      sandbox: { type: "NONE" },
      usage: ws.usage === undefined ? usage.get(usageKey(ws.key, hostOf(ws.hostUrl))) ?? 0 : ws.usage,
      capacity: ws.capacity ?? null,
      createdAt: ws.createdAt ?? null,
      createdBy: null,
      updatedAt: ws.createdAt ?? null,
      hostUrl: ws.hostUrl,
      realm: ws.realm ?? "us",
      regions: [region]
    },
    links: { self: `${baseUrl}/admin/v2/orgs/${encodeURIComponent(orgId)}/workspaces/${encodeURIComponent(ws.id)}` },
    relationships: {
      entitlements: [{
        id: `${ws.id}/entitlement`,
        type: "entitlements",
        attributes: { key: ws.key, planKey: ws.planKey ?? null, plan: ws.plan }
      }]
    }
  }
}

/**
 * The default directory of an org: one, as in the centralized user-management experience.
 *
 * @since 0.2.0
 * @category constructors
 */
export const defaultDirectory = (orgId: string, orgName: string): SandboxDirectory => ({
  directoryId: stableUuid(`directory:${orgId}`),
  name: orgName,
  icon: "https://admin.atlassian.com/static/directory-icon.svg"
})

/**
 * Why a workspace cannot be served, or `undefined`.
 *
 * @since 0.2.0
 * @category validation
 */
export const workspaceProblem = (ws: SandboxWorkspace): string | undefined => {
  for (const field of ["id", "key", "type", "name", "hostUrl", "plan"] as const) {
    if (typeof ws[field] !== "string" || ws[field].length === 0) return `workspace ${field} must be a non-empty string`
  }
  for (const field of ["capacity", "usage"] as const) {
    const v = ws[field]
    if (v !== undefined && v !== null && (!Number.isInteger(v) || v < 0)) {
      return `workspace ${field} must be a whole number >= 0 or null`
    }
  }
  return undefined
}
