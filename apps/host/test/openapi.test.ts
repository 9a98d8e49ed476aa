// The OpenAPI document at /api/openapi.json: generated from the route table, it lists every API route the
// app serves, and real answers of a whole session (successes and errors) validate against it.
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import addFormatsModule from "ajv-formats"
import { Ajv2020 } from "ajv/dist/2020.js"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { apiRoutes } from "../src/api/index.js"
import { cell } from "../src/csv.js"
import { connect, makeSandbox, sync } from "./support/Org.js"
import { type ApiResponse, makeTestHost, type TestHost } from "./support/TestHost.js"

type Doc = {
  readonly openapi: string
  readonly paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: object }> }> }>
  >
  readonly components: { readonly schemas: Record<string, object> }
}

/** The document's path template matching a concrete path (`/api/connections/{id}` for `/api/connections/x`). */
const templateOf = (doc: Doc, method: string, path: string): string | undefined => {
  const bare = path.split("?")[0]!
  const segments = bare.split("/")
  return Object.keys(doc.paths).find((template) => {
    const parts = template.split("/")
    return parts.length === segments.length && doc.paths[template]![method] !== undefined &&
      parts.every((p, i) => p.startsWith("{") || p === segments[i])
  })
}

describe("OpenAPI document", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let doc: Doc
  let ajv: Ajv2020
  const checked: Array<string> = []

  beforeAll(async () => {
    sandbox = await makeSandbox({ users: 60, pageSize: 25 })
    t = await makeTestHost()
    doc = (await t.request("GET", "/api/openapi.json")).body
    ajv = new Ajv2020({ strict: false, allErrors: true }) // A CommonJS module: its default export is the function itself under NodeNext.
    ;(addFormatsModule as unknown as { default: (a: Ajv2020) => void }).default(ajv)
    ajv.addSchema({ $id: "doc", components: doc.components }, "doc")
  })
  afterAll(async () => {
    await t.close()
    await sandbox.close()
  })

  /** Validates a real answer against the document's schema for its route and status. */
  const validated = async (method: string, path: string, res: Promise<ApiResponse>): Promise<ApiResponse> => {
    const answer = await res
    const template = templateOf(doc, method, path)
    expect(template, `${method.toUpperCase()} ${path} is not in the document`).toBeDefined()
    const operation = doc.paths[template!]![method]!
    const response = operation.responses[String(answer.status)]
    expect(response, `${method.toUpperCase()} ${template} does not document status ${answer.status}`).toBeDefined()
    const schema = response!.content?.["application/json"]?.schema
    if (schema !== undefined) {
      // References point into the document's components.
      const withRefs = JSON.parse(JSON.stringify(schema).replaceAll("\"#/components/", "\"doc#/components/"))
      const validate = ajv.compile(withRefs)
      const ok = validate(answer.body)
      expect(ok, `${method.toUpperCase()} ${path} ${answer.status}: ${ajv.errorsText(validate.errors)}`).toBe(true)
    }
    checked.push(`${method.toUpperCase()} ${template} ${answer.status}`)
    return answer
  }

  it("is OpenAPI 3.1 and lists every API route the app serves", () => {
    expect(doc.openapi).toBe("3.1.0")
    const documented = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m} ${path}`))
    )
    const served = t.host.app.routes
      .filter((r) =>
        r.path.startsWith("/api/") && r.method !== "ALL" && !r.path.includes("*") && r.path !== "/api/openapi.json"
      )
      .map((r) => `${r.method.toLowerCase()} ${r.path.replace(/:(\w+)/g, "{$1}")}`)
    expect(served.length).toBe(apiRoutes.length)
    for (const route of served) expect(documented.has(route), `${route} is served but not documented`).toBe(true)
  })

  it("describes the real answers of a whole session, successes and errors", async () => {
    const get = (path: string) => validated("get", path, t.request("GET", path))
    const post = (path: string, body?: unknown) =>
      validated("post", path, t.request("POST", path, body === undefined ? {} : { body }))
    await get("/api/providers")
    const id = await connect(t.request, sandbox)
    await validated("get", "/api/connections", t.request("GET", "/api/connections"))
    await get(`/api/connections/${id}`)
    await validated(
      "patch",
      `/api/connections/${id}`,
      t.request("PATCH", `/api/connections/${id}`, { body: { name: "Renamed" } })
    )
    await post(`/api/connections/${id}/verify`)
    const run = await sync(t.request, id)
    expect(run.body.status).toBe("succeeded")
    await get(`/api/syncs/${run.body.id}`)
    await get(`/api/connections/${id}/syncs?limit=5`)
    const page = await get(`/api/connections/${id}/accounts?limit=5&sort=lastActive&order=desc`)
    await get(`/api/connections/${id}/accounts?limit=5&cursor=${encodeURIComponent(page.body.nextCursor)}`)
    const account = page.body.data.find((a: { status: string }) => a.status === "active")
    await get(`/api/connections/${id}/accounts/${encodeURIComponent(account.externalId)}`)
    await post(`/api/connections/${id}/accounts/${encodeURIComponent(account.externalId)}/suspend`, { dryRun: true })
    await get(`/api/connections/${id}/seats?unusedDays=30&limit=5`)
    await get(`/api/connections/${id}/products`)
    await get(`/api/connections/${id}/products/trend?runs=3`)
    await get(`/api/connections/${id}/totals`)
    await get("/api/audit?limit=5")
    // Errors answer the one error body, with a documented status.
    await get("/api/connections/no-such-connection")
    await get(`/api/connections/${id}/accounts?limit=0`)
    await get(`/api/connections/${id}/accounts?cursor=forged`)
    await post(`/api/syncs/${run.body.id}/apply`)
    await post("/api/connections", { provider: "atlassian", name: "", config: {} })
    await validated("get", "/api/providers", t.request("GET", "/api/providers", { token: "wrong-token-0123456789" }))
    expect(checked.length).toBe(22)
  })

  it("exports CSV with a header and one row per account, formulas defused", async () => {
    const id = await connect(t.request, sandbox, { name: "CSV" })
    await sync(t.request, id)
    const csv = await t.request("GET", `/api/connections/${id}/accounts.csv?status=active`)
    expect(csv.status).toBe(200)
    expect(csv.headers.get("content-type")).toContain("text/csv")
    const lines = csv.text.trimEnd().split("\r\n")
    expect(lines[0]).toMatch(/^externalId,displayName,email,/)
    const total = (await t.request("GET", `/api/connections/${id}/accounts?status=active&limit=1`)).body.total
    expect(lines.length - 1).toBe(total)
    // A name a spreadsheet would run as a formula is exported as text.
    expect(cell("=HYPERLINK(\"http://evil\")")).toBe("\"'=HYPERLINK(\"\"http://evil\"\")\"")
    expect(cell("@SUM(A1)")).toBe("'@SUM(A1)")
    expect(cell("Ada, \"the first\"")).toBe("\"Ada, \"\"the first\"\"\"")
  })
})
