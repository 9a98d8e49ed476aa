import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { isLoopback, loadHostConfig } from "../src/config.js"

const dirs: Array<string> = []
const tempDir = () => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "seatkeeper-config-test-"))
  dirs.push(dir)
  return dir
}
afterEach(() => {
  for (const dir of dirs.splice(0)) Fs.rmSync(dir, { recursive: true, force: true })
})

const load = (env: Record<string, string>) => Effect.runPromise(Effect.either(loadHostConfig(env)))

describe("host configuration", () => {
  it("Should default to 127.0.0.1:8787", async () => {
    const config = Either.getOrThrow(await load({ SEATKEEPER_DATA_DIR: tempDir() }))
    expect(config.host).toBe("127.0.0.1")
    expect(config.port).toBe(8787)
  })

  it("Should generate the admin token and secret key once, with mode 0600, and report only the first as new", async () => {
    const dir = Path.join(tempDir(), "nested", "data")
    const first = Either.getOrThrow(await load({ SEATKEEPER_DATA_DIR: dir }))
    expect(first.adminTokenCreated).toBe(true)
    expect(first.adminTokenFile).toBe(Path.join(dir, "admin-token"))
    expect(Redacted.value(first.adminToken).length).toBeGreaterThanOrEqual(32)
    for (const file of ["admin-token", "secret-key"]) {
      expect(Fs.statSync(Path.join(dir, file)).mode & 0o777).toBe(0o600)
    }
    expect(Buffer.from(Redacted.value(first.secretKey), "base64").length).toBe(32)

    const second = Either.getOrThrow(await load({ SEATKEEPER_DATA_DIR: dir }))
    expect(second.adminTokenCreated).toBe(false)
    expect(Redacted.value(second.adminToken)).toBe(Redacted.value(first.adminToken))
    expect(Redacted.value(second.secretKey)).toBe(Redacted.value(first.secretKey))
    expect(String(second.adminToken)).not.toContain(Redacted.value(first.adminToken))
  })

  it("Should use tokens from the environment without writing a token file", async () => {
    const dir = tempDir()
    const config = Either.getOrThrow(
      await load({
        SEATKEEPER_DATA_DIR: dir,
        SEATKEEPER_ADMIN_TOKEN: "an-explicit-admin-token-value",
        SEATKEEPER_SECRET_KEY: "an explicit passphrase"
      })
    )
    expect(Redacted.value(config.adminToken)).toBe("an-explicit-admin-token-value")
    expect(config.adminTokenFile).toBeUndefined()
    expect(Fs.existsSync(Path.join(dir, "admin-token"))).toBe(false)
    expect(Fs.existsSync(Path.join(dir, "secret-key"))).toBe(false)
  })

  it("Should refuse a non-loopback HOST without an explicit admin token", async () => {
    const refused = await load({ SEATKEEPER_DATA_DIR: tempDir(), HOST: "0.0.0.0" })
    expect(Either.isLeft(refused)).toBe(true)
    const message = Either.isLeft(refused) ? refused.left.message : ""
    expect(message).toContain("SEATKEEPER_ADMIN_TOKEN")
    expect(message).toContain("HOST=0.0.0.0")

    const allowed = await load({
      SEATKEEPER_DATA_DIR: tempDir(),
      HOST: "0.0.0.0",
      SEATKEEPER_ADMIN_TOKEN: "a-long-enough-admin-token"
    })
    expect(Either.isRight(allowed)).toBe(true)
  })

  it("Should refuse a short admin token and a bad port", async () => {
    const short = await load({ SEATKEEPER_DATA_DIR: tempDir(), SEATKEEPER_ADMIN_TOKEN: "short" })
    expect(Either.isLeft(short) && short.left.message).toContain("at least 16 characters")
    for (const port of ["abc", "-1", "70000", "80.5"]) {
      const bad = await load({ SEATKEEPER_DATA_DIR: tempDir(), PORT: port })
      expect(Either.isLeft(bad) && bad.left.message, port).toContain("PORT must be a whole number")
    }
  })

  it("Should tell loopback addresses from others", () => {
    for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"]) expect(isLoopback(h), h).toBe(true)
    for (const h of ["0.0.0.0", "::", "192.168.1.10", "example.com", "128.0.0.1"]) expect(isLoopback(h), h).toBe(false)
  })
})
