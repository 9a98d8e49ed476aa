/**
 * Atlassian's OpenAPI documents as a request/response checker, and a validating reverse proxy on loopback
 * that puts it in front of a sandbox (or anything that speaks the admin API).
 *
 * The checking is openapi-backend's: it routes a request to its operation, validates path, query and body
 * against the operation's parameters and request body, and a response body against the schema the
 * document gives for its status, with Ajv 8 (which reads OpenAPI 3.0's `nullable`; `discriminator` is
 * honoured through an override, see overrides.ts). Formats (`date`, `date-time`) come from ajv-formats.
 * It works offline on the two local 3.0 documents, with no code generation.
 *
 * @since 0.2.0
 */
import addFormats from "ajv-formats"
import { existsSync, readFileSync } from "node:fs"
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http"
import { createServer, request as httpRequest } from "node:http"
import type { AddressInfo } from "node:net"
import { fileURLToPath } from "node:url"
import type { Document, Operation } from "openapi-backend"
import { OpenAPIBackend, ValidationContext } from "openapi-backend"
import type { Json } from "./overrides.js"
import { withOverrides } from "./overrides.js"

/**
 * Where the documents live: `SEATKEEPER_ATLASSIAN_OPENAPI_DIR` when set, else `shared/atlassian/openapi`
 * beside the checkout.
 *
 * @since 0.2.0
 * @category constants
 */
export const SPEC_DIR = ((dir) => dir.endsWith("/") ? dir : `${dir}/`)(
  process.env.SEATKEEPER_ATLASSIAN_OPENAPI_DIR ??
    fileURLToPath(new URL("../../../../../shared/atlassian/openapi/", import.meta.url))
)

/**
 * Whether the documents are there (a checkout without `shared/` skips the contract tests).
 *
 * @since 0.2.0
 * @category constants
 */
export const specsAvailable = existsSync(`${SPEC_DIR}admin-organization.2023-08.json`) &&
  existsSync(`${SPEC_DIR}admin-user-management.2023-08.json`)

/**
 * A request or response that does not match the documents.
 *
 * @since 0.2.0
 * @category models
 */
export interface Violation {
  readonly kind: "request" | "response"
  readonly method: string
  readonly path: string
  readonly operation: string
  readonly status?: number
  readonly problems: ReadonlyArray<string>
}

/**
 * What the checker saw of one exchange: the operation it matched (`undefined`: not covered by the
 * documents, so not checked) and whether the response was an injected sandbox fault (not checked either).
 *
 * @since 0.2.0
 * @category models
 */
export interface Checked {
  readonly method: string
  readonly path: string
  readonly status: number
  readonly operation: string | undefined
  readonly fault: string | undefined
}

/**
 * @since 0.2.0
 * @category models
 */
export interface Contract {
  /** The operation a request is for, or `undefined` when the documents do not cover it. */
  readonly match: (method: string, path: string) => Operation | undefined
  readonly checkRequest: (
    operation: Operation,
    request: {
      readonly method: string
      readonly path: string
      readonly query: string
      readonly headers: IncomingHttpHeaders
      readonly body: string
    }
  ) => ReadonlyArray<string>
  readonly checkResponse: (
    operation: Operation,
    response: { readonly status: number; readonly contentType: string | undefined; readonly body: string }
  ) => ReadonlyArray<string>
  /**
   * Checks a value against one of a document's component schemas, for a body the document defines but no
   * operation lists for that status (the gateway's 403 `NoPermsError` on a users page, for example).
   */
  readonly checkSchema: (
    document: "organization" | "user-management",
    schema: string,
    value: unknown
  ) => ReadonlyArray<string>
}

const load = (file: string): Json => JSON.parse(readFileSync(SPEC_DIR + file, "utf8")) as Json

const backend = async (definition: ReturnType<typeof withOverrides>, apiRoot: string) => {
  const api = new OpenAPIBackend({
    definition: definition as unknown as Document,
    apiRoot,
    validate: true,
    strict: false,
    ajvOpts: { strict: false, allErrors: true },
    customizeAjv: (ajv) => {
      addFormats.default(ajv, ["date", "date-time", "uri", "email"])
      return ajv
    }
  })
  return api.init()
}

const ajvProblems = (
  errors: ReadonlyArray<{ readonly instancePath?: string; readonly message?: string }> | null | undefined
) =>
  (errors ?? []).map((e) =>
    `${e.instancePath === undefined || e.instancePath === "" ? "(root)" : e.instancePath} ${e.message ?? ""}`.trim()
  )

/**
 * Loads both documents, with the overrides of overrides.ts.
 *
 * @since 0.2.0
 * @category constructors
 */
export const loadContract = async (): Promise<Contract> => {
  const org = await backend(withOverrides("organization", load("admin-organization.2023-08.json")), "/admin")
  const user = await backend(withOverrides("user-management", load("admin-user-management.2023-08.json")), "/")
  const apiFor = (path: string) => (path === "/admin" || path.startsWith("/admin/") ? org : user)
  // Compiled once per schema, with the validator's own Ajv (its formats and OpenAPI 3.0 keywords).
  const schemaChecks = new Map<string, (value: unknown) => ReadonlyArray<string>>()
  const compiled = (document: "organization" | "user-management", name: string) => {
    const key = `${document}#${name}`
    let check = schemaChecks.get(key)
    if (check === undefined) {
      const api = document === "organization" ? org : user
      const schema = (api.definition.components?.schemas as Record<string, object> | undefined)?.[name]
      if (schema === undefined) throw new Error(`the ${document} document has no component schema ${name}`)
      const validate = api.validator.getAjv(ValidationContext.Response).compile(schema)
      check = (value) => (validate(value) ? [] : ajvProblems(validate.errors))
      schemaChecks.set(key, check)
    }
    return check
  }
  return {
    checkSchema: (document, name, value) => compiled(document, name)(value),
    match: (method, path) => apiFor(path).router.matchOperation({ method, path, headers: {} }) as Operation | undefined,
    checkRequest: (operation, request) => {
      const api = apiFor(request.path)
      const hasBody = request.body.length > 0
      let body: unknown = request.body
      if (hasBody) {
        try {
          body = JSON.parse(request.body)
        } catch {
          return ["the request body is not JSON"]
        }
      }
      const problems: Array<string> = []
      const requestBody = operation.requestBody as { readonly required?: boolean } | undefined
      if (requestBody?.required === true && !hasBody) {
        problems.push("the operation requires a request body; none was sent")
      }
      const result = api.validator.validateRequest(
        {
          method: request.method,
          path: request.path,
          query: request.query.replace(/^\?/, ""),
          headers: request.headers as Record<string, string>,
          ...(hasBody ? { body } : {})
        },
        operation.operationId!
      )
      return [...problems, ...ajvProblems(result.errors)]
    },
    checkResponse: (operation, response) => {
      const api = apiFor(operation.path.startsWith("/v") ? "/admin" : "/")
      const documented = operation.responses ?? {}
      const key = [String(response.status), `${Math.floor(response.status / 100)}XX`, "default"].find((k) =>
        k in documented
      )
      if (key === undefined) return [`status ${response.status} is not documented for this operation`]
      const spec = documented[key] as { readonly content?: Record<string, unknown> }
      if (spec.content === undefined) {
        return response.body.length === 0
          ? []
          : [`status ${response.status} documents no body, got ${response.body.length} bytes`]
      }
      if (spec.content["application/json"] === undefined) return []
      if (!(response.contentType ?? "").includes("application/json")) {
        return [`expected application/json, got ${response.contentType ?? "no content type"}`]
      }
      let body: unknown
      try {
        body = JSON.parse(response.body)
      } catch {
        return ["the response body is not JSON"]
      }
      return ajvProblems(api.validator.validateResponse(body, operation.operationId!, response.status).errors)
    }
  }
}

/**
 * A validating reverse proxy: forwards every request to `target`, checks the request it received and the
 * response it got for operations the documents cover, and answers the client with the response
 * unchanged, except that the target's origin in bodies and `Location` is replaced by the proxy's (so an
 * absolute `links.next` leads back through the proxy). Responses the sandbox marked as injected faults
 * (`X-Sandbox-Fault`) are passed on without being checked.
 *
 * @since 0.2.0
 * @category models
 */
export interface ValidatingProxy {
  readonly url: string
  /** Every contract violation seen so far. */
  readonly violations: () => ReadonlyArray<Violation>
  /** Every exchange seen so far, covered or not. */
  readonly checked: () => ReadonlyArray<Checked>
  readonly reset: () => void
  readonly close: () => Promise<void>
}

const readAll = (stream: IncomingMessage): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    stream.on("data", (chunk: Buffer) => chunks.push(chunk))
    stream.once("end", () => resolve(Buffer.concat(chunks)))
    stream.once("error", reject)
    stream.once("aborted", () => reject(new Error("aborted")))
  })

/**
 * Starts a validating proxy on loopback in front of `target` (e.g. a sandbox's `url`).
 *
 * @since 0.2.0
 * @category constructors
 */
export const startValidatingProxy = async (
  options: { readonly target: string; readonly contract?: Contract }
): Promise<ValidatingProxy> => {
  const contract = options.contract ?? (await loadContract())
  const target = new URL(options.target)
  let violations: Array<Violation> = []
  let checked: Array<Checked> = []
  let origin = ""

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const raw = req.url ?? "/"
    const q = raw.indexOf("?")
    const path = q === -1 ? raw : raw.slice(0, q)
    const query = q === -1 ? "" : raw.slice(q)
    const method = req.method ?? "GET"
    const requestBody = await readAll(req)
    const operation = path.startsWith("/__sandbox") ? undefined : contract.match(method, path)
    const opId = operation?.operationId ?? `${method.toLowerCase()} ${path}`
    if (operation !== undefined) {
      const problems = contract.checkRequest(operation, {
        method,
        path,
        query,
        headers: req.headers,
        body: requestBody.toString("utf8")
      })
      if (problems.length > 0) violations.push({ kind: "request", method, path, operation: opId, problems })
    }
    const headers = { ...req.headers, host: target.host }
    const upstream = httpRequest({ host: target.hostname, port: target.port, method, path: raw, headers })
    upstream.once("error", () => req.socket.destroy())
    upstream.end(requestBody)
    upstream.once("response", (answer) => {
      readAll(answer).then(
        (buffer) => {
          const status = answer.statusCode ?? 0
          const fault = answer.headers["x-sandbox-fault"] as string | undefined
          checked.push({ method, path, status, operation: operation?.operationId, fault })
          const text = buffer.toString("utf8").split(target.origin).join(origin)
          if (operation !== undefined && fault === undefined) {
            const problems = contract.checkResponse(operation, {
              status,
              contentType: answer.headers["content-type"],
              body: text
            })
            if (problems.length > 0) {
              violations.push({ kind: "response", method, path, operation: opId, status, problems })
            }
          }
          const out: Record<string, string | ReadonlyArray<string>> = {}
          for (const [name, value] of Object.entries(answer.headers)) {
            if (
              value === undefined || name === "content-length" || name === "transfer-encoding" || name === "connection"
            ) {
              continue
            }
            out[name] = name === "location" && typeof value === "string"
              ? value.split(target.origin).join(origin)
              : value
          }
          res.writeHead(status, { ...out, "content-length": Buffer.byteLength(text) })
          res.end(method === "HEAD" ? undefined : text)
        },
        // The target cut the body off (a `reset` fault): do the same to the client.
        () => req.socket.destroy()
      )
    })
  }

  const server = createServer((req, res) => {
    handle(req, res).catch(() => req.socket.destroy())
  })
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    url: origin,
    violations: () => violations,
    checked: () => checked,
    reset: () => {
      violations = []
      checked = []
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
  }
}
