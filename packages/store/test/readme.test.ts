import { assert, describe, it } from "@effect/vitest"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { main } from "../examples/sync-into-sqlite.js"

const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), "utf8")

describe("README", () => {
  it("shows the example file unchanged", () => {
    const example = read("../examples/sync-into-sqlite.ts").split("\n").slice(1).join("\n").trim()
    assert.include(read("../README.md"), example)
  })

  it("syncs twice into SQLite and deprovisions the account the source stopped returning", async () => {
    const dir = mkdtempSync(join(tmpdir(), "seatkeeper-store-readme-"))
    try {
      assert.deepStrictEqual(await main(dir), {
        deprovisioned: 1,
        statuses: ["ada: active", "ben: deprovisioned", "cid: active"]
      })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
