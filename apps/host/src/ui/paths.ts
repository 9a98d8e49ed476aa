/**
 * The web pages' addresses, in one place. Every id in a path is URL-encoded (Atlassian account ids
 * contain `:`).
 *
 * @since 0.1.0
 */

const enc = encodeURIComponent

/**
 * `path` with the given query parameters; blank or missing ones are left out.
 *
 * @since 0.1.0
 * @category utils
 */
export const withQuery = (path: string, params: Record<string, string | number | undefined | null>): string => {
  const query = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") query.set(k, String(v))
  }
  const s = query.toString()
  return s === "" ? path : `${path}?${s}`
}

/**
 * @since 0.1.0
 * @category paths
 */
export const paths = {
  dashboard: "/",
  login: "/login",
  logout: "/logout",
  audit: "/audit",
  plans: "/plans",
  users: "/users",
  webhooks: "/webhooks",
  newConnection: "/connections/new",
  user: (id: string) => {
    const base = `/users/${enc(id)}`
    return { role: `${base}/role`, disable: `${base}/disable`, enable: `${base}/enable`, token: `${base}/token` }
  },
  webhook: (id: string) => ({ page: `/webhooks/${enc(id)}`, remove: `/webhooks/${enc(id)}/remove` }),
  connection: (id: string) => {
    const base = `/connections/${enc(id)}`
    return {
      settings: `${base}/settings`,
      test: `${base}/test`,
      delete: `${base}/delete`,
      accounts: `${base}/accounts`,
      seats: `${base}/seats`,
      apps: `${base}/apps`,
      syncs: `${base}/syncs`,
      applyRun: (runId: string) => `${base}/syncs/${enc(runId)}/apply`,
      discardRun: (runId: string) => `${base}/syncs/${enc(runId)}/discard`,
      account: (externalId: string) => `${base}/accounts/${enc(externalId)}`,
      suspend: (externalId: string) => `${base}/accounts/${enc(externalId)}/suspend`,
      restore: (externalId: string) => `${base}/accounts/${enc(externalId)}/restore`,
      reclaim: `${base}/reclaim`,
      prices: `${base}/prices`,
      newPolicy: `${base}/reclaim/policies/new`,
      policy: (policyId: string) => `${base}/reclaim/policies/${enc(policyId)}`,
      archivePolicy: (policyId: string) => `${base}/reclaim/policies/${enc(policyId)}/archive`,
      makePlan: (policyId: string) => `${base}/reclaim/policies/${enc(policyId)}/plans`,
      plan: (planId: string) => `${base}/plans/${enc(planId)}`,
      planCsv: (planId: string) => `${base}/plans/${enc(planId)}/items.csv`,
      planAction: (planId: string, action: "approve" | "execute" | "cancel" | "undo") =>
        `${base}/plans/${enc(planId)}/${action}`
    }
  }
} as const

/**
 * Where to go after logging in: only a path on this site (never `//evil.example` or a full URL).
 *
 * @since 0.1.0
 * @category utils
 */
export const safeNext = (next: string | undefined): string =>
  next !== undefined && localPath.test(next) && !next.startsWith(paths.login) ? next : paths.dashboard

// One leading slash, then no second slash or backslash right after it, and no whitespace or control
// characters anywhere: browsers drop tabs and newlines from a URL, so `/\t/evil.example` would become
// `//evil.example`, another site.
const localPath = /^\/(?![/\\])[^\s\\\u0000-\u001f\u007f]*$/
