// The README's example, executed by test/readme.test.ts against a running host and the sandbox.
export const tour = async (host: string, token: string, org: { url: string; orgId: string; apiKey: string }) => {
  const api = async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await fetch(`${host}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { "content-type": "application/json" })
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) })
    })
    const json: any = res.status === 204 ? undefined : await res.json()
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${json.error.message} ${json.error.hint ?? ""}`)
    return json
  }

  // Connect an Atlassian organisation (the key is stored encrypted and never returned).
  const connection = await api("POST", "/api/connections", {
    provider: "atlassian",
    name: "Acme",
    config: { organizationId: org.orgId, apiKey: org.apiKey, adminEmail: "it@acme.test", baseUrl: org.url }
  })

  // Sync it, and wait for the run to finish.
  let run = await api("POST", `/api/connections/${connection.id}/syncs`)
  while (run.status === "running") {
    await new Promise((resolve) => setTimeout(resolve, 200))
    run = await api("GET", `/api/syncs/${run.id}`)
  }

  // Which Confluence seats on the acme site have not been used for 90 days? (A seat is an active product of
  // an active, billable account; its key is the product and the site's full host.)
  const stale = await api(
    "GET",
    `/api/connections/${connection.id}/seats?license=${
      encodeURIComponent("confluence:acme.atlassian.net")
    }&unusedDays=90&limit=10`
  )

  // Preview suspending the first one: a dry run calls nothing upstream, and is audited as such.
  const first = stale.data[0]?.account
  const preview = first === undefined
    ? undefined
    : await api(
      "POST",
      `/api/connections/${connection.id}/accounts/${encodeURIComponent(first.externalId)}/suspend`,
      { reason: "No activity for 90 days", dryRun: true }
    )
  return { run: run.status, accounts: run.stats.accounts, staleConfluenceSeats: stale.total, preview: preview?.action }
}
