import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { program } from "../examples/checked-accounts.js"

const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), "utf8")

describe("README", () => {
  it("shows the example file unchanged", () => {
    const example = read("../examples/checked-accounts.ts").split("\n").slice(1).join("\n").trim()
    assert.include(read("../README.md"), example)
  })

  it.effect("streams every account once and refuses a truncated roster", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* program, { ids: ["a", "b", "c"], truncated: "Incomplete" })
    }))
})
