/**
 * The host settings the fault tests rely on to keep waits short, `SEATKEEPER_PROVIDER_TIMEOUT_MS`,
 * `SEATKEEPER_PROVIDER_RETRY_DELAY_MS` and `SEATKEEPER_LEASE_MS`: unset by default (production keeps 30 s,
 * 500 ms and a 30 s lease), and a value that cannot work is refused at start-up with a message that names
 * the variable.
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Fs from "node:fs"
import { afterEach, describe, expect, it } from "vitest"
import { loadHostConfig } from "../../src/config.js"
import { tempDir } from "../support/Process.js"

const dirs: Array<string> = []
afterEach(() => {
  for (const dir of dirs.splice(0)) Fs.rmSync(dir, { recursive: true, force: true })
})

const load = (env: Record<string, string>) => {
  const dir = tempDir("seatkeeper-faults-config-")
  dirs.push(dir)
  return Effect.runPromise(Effect.either(loadHostConfig({ SEATKEEPER_DATA_DIR: dir, ...env })))
}

describe("provider HTTP settings of the host", () => {
  it("Should leave the provider defaults alone when unset", async () => {
    const config = await load({})
    expect(config._tag).toBe("Right")
    if (config._tag !== "Right") return
    expect(Option.isNone(config.right.providerHttp!.timeoutMs)).toBe(true)
    expect(Option.isNone(config.right.providerHttp!.retryDelayMs)).toBe(true)
    expect(Option.isNone(config.right.leaseMs!)).toBe(true)
  })

  it("Should read each in milliseconds", async () => {
    const config = await load({
      SEATKEEPER_PROVIDER_TIMEOUT_MS: "1500",
      SEATKEEPER_PROVIDER_RETRY_DELAY_MS: " 20 ",
      SEATKEEPER_LEASE_MS: "2000"
    })
    expect(config._tag).toBe("Right")
    if (config._tag !== "Right") return
    expect(config.right.providerHttp).toEqual({ timeoutMs: Option.some(1500), retryDelayMs: Option.some(20) })
    expect(config.right.leaseMs).toEqual(Option.some(2000))
  })

  it.each([
    ["SEATKEEPER_PROVIDER_TIMEOUT_MS", "0"],
    ["SEATKEEPER_PROVIDER_TIMEOUT_MS", "1.5s"],
    ["SEATKEEPER_PROVIDER_TIMEOUT_MS", "-5"],
    ["SEATKEEPER_PROVIDER_RETRY_DELAY_MS", "soon"],
    ["SEATKEEPER_PROVIDER_RETRY_DELAY_MS", "99999999"],
    ["SEATKEEPER_LEASE_MS", "0"],
    ["SEATKEEPER_LEASE_MS", "2s"]
  ])("Should refuse %s=%s, naming the variable and the range", async (name, value) => {
    const config = await load({ [name]: value })
    expect(config._tag).toBe("Left")
    if (config._tag !== "Left") return
    expect(config.left.message).toContain(name)
    expect(config.left.message).toContain("from 1 to 3600000")
    expect(config.left.message).toContain(JSON.stringify(value))
  })
})
