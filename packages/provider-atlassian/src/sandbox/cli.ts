#!/usr/bin/env node
/**
 * `node dist/sandbox/cli.js [--port n] [--users n] ...`: starts a sandbox org, prints one JSON line
 * `{"url":...,"orgId":...,"apiKey":...}` on stdout and runs until SIGTERM/SIGINT. See `--help`.
 *
 * @since 0.1.0
 */
import { cliUsage, parseCli } from "./CliOptions.js"
import { startSandbox } from "./Sandbox.js"

const main = async (): Promise<void> => {
  let command
  try {
    command = parseCli(process.argv.slice(2), process.env)
  } catch (error) {
    process.stderr.write(`atlassian-sandbox: ${error instanceof Error ? error.message : String(error)}\n`)
    process.exitCode = 2
    return
  }
  if (command._tag === "Help") {
    process.stdout.write(cliUsage)
    return
  }
  const sandbox = await startSandbox(command.options)
  process.stdout.write(JSON.stringify({ url: sandbox.url, orgId: sandbox.orgId, apiKey: sandbox.apiKey }) + "\n")
  const stop = () => {
    sandbox.close().then(() => process.exit(0), () => process.exit(1))
  }
  process.once("SIGTERM", stop)
  process.once("SIGINT", stop)
}

main().catch((error: unknown) => {
  process.stderr.write(
    `atlassian-sandbox: could not start: ${error instanceof Error ? error.message : String(error)}\n`
  )
  process.exit(1)
})
