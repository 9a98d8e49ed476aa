/**
 * Turns the sandbox CLI's flags and environment into {@link SandboxOptions}, with a clear message for
 * anything it cannot use.
 *
 * @since 0.1.0
 */
import { parseArgs } from "node:util"
import type { SandboxOptions } from "./Sandbox.js"

/**
 * @since 0.1.0
 * @category constants
 */
export const cliUsage = `Usage: atlassian-sandbox [options]

Starts a simulated Atlassian Cloud organisation on loopback, prints one JSON line
{"url":...,"orgId":...,"apiKey":...} and runs until SIGTERM/SIGINT.

Options (environment variable in brackets):
  --port <n>           port to listen on, 0 = any free port   [ATLASSIAN_SANDBOX_PORT]   (default 0)
  --host <addr>        loopback address                       [ATLASSIAN_SANDBOX_HOST]   (default 127.0.0.1)
  --users <n>          generated users                        [ATLASSIAN_SANDBOX_USERS]  (default 50)
  --unmanaged <n>      extra unmanaged users (v2 search only) [ATLASSIAN_SANDBOX_UNMANAGED] (default 0)
  --page-size <n>      users per page                         [ATLASSIAN_SANDBOX_PAGE_SIZE] (default 100)
  --seed <n>           generator seed                         [ATLASSIAN_SANDBOX_SEED]   (default 1)
  --api-key <key>      the key the sandbox accepts            [ATLASSIAN_SANDBOX_API_KEY]
  --org-id <id>        organisation id                        [ATLASSIAN_SANDBOX_ORG_ID] (default sandbox-org-0001)
  --org-name <name>    organisation name                      [ATLASSIAN_SANDBOX_ORG_NAME]
  --rate-limit <n/s>   n requests per s-second fixed window   [ATLASSIAN_SANDBOX_RATE_LIMIT] (e.g. 100/60)
  --reset-format <f>   X-RateLimit-Reset as minutes|seconds   [ATLASSIAN_SANDBOX_RESET_FORMAT] (default minutes)
  --cursor-mode <m>    stale cursors: offset|strict           [ATLASSIAN_SANDBOX_CURSOR_MODE] (default offset)
  --help               show this text
`

/**
 * What the CLI should do: start a sandbox with `options`, or print the usage.
 *
 * @since 0.1.0
 * @category models
 */
export type CliCommand = { readonly _tag: "Start"; readonly options: SandboxOptions } | { readonly _tag: "Help" }

const whole = (name: string, text: string, min: number): number => {
  const n = Number(text)
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(n) || n < min) {
    throw new Error(`${name} must be a whole number >= ${min}, got ${JSON.stringify(text)}`)
  }
  return n
}

/**
 * Reads flags first, then `ATLASSIAN_SANDBOX_*` variables. Throws an `Error` whose message says which
 * value was wrong and what is expected.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseCli = (
  argv: ReadonlyArray<string>,
  env: Readonly<Record<string, string | undefined>>
): CliCommand => {
  let values: Record<string, string | boolean | undefined>
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        port: { type: "string" },
        host: { type: "string" },
        users: { type: "string" },
        unmanaged: { type: "string" },
        "cursor-mode": { type: "string" },
        "page-size": { type: "string" },
        seed: { type: "string" },
        "api-key": { type: "string" },
        "org-id": { type: "string" },
        "org-name": { type: "string" },
        "rate-limit": { type: "string" },
        "reset-format": { type: "string" },
        help: { type: "boolean" }
      },
      strict: true,
      allowPositionals: false
    }).values
  } catch (error) {
    throw new Error(`${error instanceof Error ? error.message : String(error)}; run with --help for the options`)
  }
  if (values.help === true) return { _tag: "Help" }
  const get = (flag: string): string | undefined => {
    const value = values[flag] ?? env[`ATLASSIAN_SANDBOX_${flag.toUpperCase().replace(/-/g, "_")}`]
    return typeof value === "string" && value.length > 0 ? value : undefined
  }
  const options: { -readonly [K in keyof SandboxOptions]: SandboxOptions[K] } = {}
  const port = get("port")
  if (port !== undefined) {
    options.port = whole("--port", port, 0)
    if (options.port > 65535) throw new Error(`--port must be at most 65535, got ${port}`)
  }
  const host = get("host")
  if (host !== undefined) options.host = host
  const users = get("users")
  if (users !== undefined) options.users = whole("--users", users, 0)
  const unmanaged = get("unmanaged")
  if (unmanaged !== undefined) options.unmanaged = whole("--unmanaged", unmanaged, 0)
  const cursorMode = get("cursor-mode")
  if (cursorMode !== undefined) {
    if (cursorMode !== "offset" && cursorMode !== "strict") {
      throw new Error(`--cursor-mode must be offset or strict, got ${JSON.stringify(cursorMode)}`)
    }
    options.cursorMode = cursorMode
  }
  const pageSize = get("page-size")
  if (pageSize !== undefined) options.pageSize = whole("--page-size", pageSize, 1)
  const seed = get("seed")
  if (seed !== undefined) options.seed = whole("--seed", seed, 0)
  const apiKey = get("api-key")
  if (apiKey !== undefined) options.apiKey = apiKey
  const orgId = get("org-id")
  if (orgId !== undefined) options.orgId = orgId
  const orgName = get("org-name")
  if (orgName !== undefined) options.orgName = orgName
  const resetFormat = get("reset-format")
  if (resetFormat !== undefined && resetFormat !== "minutes" && resetFormat !== "seconds") {
    throw new Error(`--reset-format must be minutes or seconds, got ${JSON.stringify(resetFormat)}`)
  }
  const rateLimit = get("rate-limit")
  if (rateLimit !== undefined) {
    const match = /^(\d+)\/(\d+(?:\.\d+)?)s?$/.exec(rateLimit.trim())
    if (match === null || Number(match[1]) < 1 || Number(match[2]) <= 0) {
      throw new Error(`--rate-limit must look like 100/60 (100 requests per 60 s), got ${JSON.stringify(rateLimit)}`)
    }
    options.rateLimit = {
      requests: Number(match[1]),
      windowSeconds: Number(match[2]),
      ...(resetFormat === undefined ? {} : { resetFormat })
    }
  }
  return { _tag: "Start", options }
}
