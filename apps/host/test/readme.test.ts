import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { tour } from "../examples/api-tour.js"
import { loadHostConfig } from "../src/config.js"
import { serveHost } from "../src/serve.js"
import { ADMIN_TOKEN, makeSandbox } from "./harness.js"

const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), "utf8")

describe("README", () => {
  it("shows the example file unchanged", () => {
    const example = read("../examples/api-tour.ts").split("\n").slice(1).join("\n").trim()
    assert.include(read("../README.md"), example)
  })

  it("connects, syncs, finds stale seats and previews a suspend over HTTP", async () => {
    const org = await makeSandbox({ users: 400 })
    const dataDir = mkdtempSync(join(tmpdir(), "seatkeeper-readme-"))
    const config = await Effect.runPromise(
      loadHostConfig({ SEATKEEPER_DATA_DIR: dataDir, SEATKEEPER_ADMIN_TOKEN: ADMIN_TOKEN, PORT: "0" })
    )
    const host = await serveHost(config, { scheduler: false, requestLog: false })
    try {
      const result = await tour(host.url, ADMIN_TOKEN, org)
      assert.strictEqual(result.run, "succeeded")
      assert.strictEqual(result.accounts, 400)
      // Some, not all, of the active acme Confluence seats are stale in the generated roster.
      const holders = org.users().filter((u) =>
        u.account_status === "active" &&
        u.product_access?.some((p) => p.key === "confluence" && new URL(p.url!).hostname.split(".")[0] === "acme")
      )
      assert.isAbove(result.staleConfluenceSeats, 0)
      assert.isBelow(result.staleConfluenceSeats, holders.length)
      assert.strictEqual(result.preview.dryRun, true)
      assert.strictEqual(org.requests.filter((r) => r.route === "lifecycle").length, 0)
    } finally {
      await host.stop()
      await org.close()
      rmSync(dataDir, { recursive: true, force: true })
    }
  })
})
