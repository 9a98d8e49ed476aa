/**
 * The built host (`dist/main.js`) as a child process, for crash, signal and multi-process tests.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Url from "node:url"
import { ADMIN_TOKEN, httpClient, type RecordedResponse, type Request } from "./TestHost.js"

export const MAIN_JS = Path.join(Path.dirname(Url.fileURLToPath(import.meta.url)), "..", "..", "dist", "main.js")

/** Whether `dist/main.js` exists (turbo's test task builds it first). */
export const built = Fs.existsSync(MAIN_JS)

/** Prints why a suite that needs `dist/main.js` is skipped; returns whether it runs. */
export const requireBuilt = (suite: string): boolean => {
  if (!built) console.warn(`skipping ${suite}: ${MAIN_JS} is missing (run the build first; turbo's test task does)`)
  return built
}

/** A new temporary directory (the caller removes it). */
export const tempDir = (prefix = "seatkeeper-test-"): string => Fs.mkdtempSync(Path.join(Os.tmpdir(), prefix))

/** A host process as launched, before it is known to listen (it may exit first: a refused configuration). */
export interface LaunchedHost {
  readonly child: ChildProcess.ChildProcess
  /** Its JSON log lines, parsed (a line that is not JSON is kept as `{message}`). */
  readonly lines: Array<Record<string, unknown>>
  /** Everything it wrote to stdout and stderr, as written. */
  readonly output: () => string
  readonly stderr: () => string
  readonly exited: Promise<{ readonly code: number | null; readonly signal: NodeJS.Signals | null }>
  /** The URL of its `listening` line; rejects with its output if it exits before listening. */
  readonly listening: Promise<string>
}

/** Starts `node dist/main.js` with exactly `env` (and PATH), without waiting for anything. */
export const launchHost = (env: Record<string, string>): LaunchedHost => {
  const child = ChildProcess.spawn(process.execPath, [MAIN_JS], {
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })
  const lines: Array<Record<string, unknown>> = []
  let output = ""
  let stderr = ""
  let buffer = ""
  let resolveUrl: (url: string) => void = () => {}
  let rejectUrl: (e: Error) => void = () => {}
  const listening = new Promise<string>((resolve, reject) => {
    resolveUrl = resolve
    rejectUrl = reject
  })
  // Awaited only by callers that expect the host to start.
  listening.catch(() => {})
  child.stdout!.on("data", (chunk: Buffer) => {
    const text = chunk.toString("utf8")
    output += text
    buffer += text
    const parts = buffer.split("\n")
    buffer = parts.pop()!
    for (const line of parts) {
      if (line.trim() === "") continue
      let parsed: Record<string, unknown>
      try {
        parsed = JSON.parse(line)
      } catch {
        parsed = { message: line }
      }
      lines.push(parsed)
      if (parsed.message === "listening") resolveUrl((parsed.annotations as { url: string }).url)
    }
  })
  child.stderr!.on("data", (chunk: Buffer) => {
    const text = chunk.toString("utf8")
    output += text
    stderr += text
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      rejectUrl(new Error(`the host exited (${code ?? signal}) before listening:\n${output}`))
      resolve({ code, signal })
    })
  )
  return { child, lines, output: () => output, stderr: () => stderr, exited, listening }
}

export interface SpawnedHost extends LaunchedHost {
  readonly url: string
  readonly request: Request
  readonly responses: ReadonlyArray<RecordedResponse>
}

/**
 * Starts `node dist/main.js` with only `env` (plus PATH, PORT=0 and the admin token unless `env` sets
 * them), and waits until it listens. Fails with its output if it exits first.
 */
export const spawnHost = async (env: Record<string, string>, timeoutMs = 30_000): Promise<SpawnedHost> => {
  const launched = launchHost({ PORT: "0", SEATKEEPER_ADMIN_TOKEN: ADMIN_TOKEN, ...env })
  let timer: ReturnType<typeof setTimeout> | undefined
  const url = await Promise.race([
    launched.listening,
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the host did not listen within ${timeoutMs} ms:\n${launched.output()}`)),
        timeoutMs
      )
    })
  ]).catch((e) => {
    launched.child.kill("SIGKILL")
    throw e
  }).finally(() => clearTimeout(timer))
  const client = httpClient(url, env.SEATKEEPER_ADMIN_TOKEN ?? ADMIN_TOKEN)
  return { ...launched, url, request: client.request, responses: client.responses }
}

/** Stops a spawned host if it still runs (SIGKILL: tests that care about a clean stop do it themselves). */
export const killHost = async (host: LaunchedHost | undefined): Promise<void> => {
  if (host === undefined || host.child.exitCode !== null || host.child.signalCode !== null) return
  host.child.kill("SIGKILL")
  await host.exited
}
