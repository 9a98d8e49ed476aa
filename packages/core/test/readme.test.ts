import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { readFileSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { program } from "../examples/checked-accounts.js"
import { program as confirmedAbsence } from "../examples/confirmed-absence.js"

const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), "utf8")

describe("README", () => {
  it("shows the example files unchanged", () => {
    for (const file of ["checked-accounts", "confirmed-absence"]) {
      const example = read(`../examples/${file}.ts`).split("\n").slice(1).join("\n").trim()
      assert.include(read("../README.md"), example)
    }
  })

  it.effect("streams every account once and refuses a truncated roster", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* program, { ids: ["a", "b", "c"], truncated: "Incomplete" })
    }))

  it.effect("deprovisions only the confirmed absence and holds an emptied roster", () =>
    Effect.gen(function*() {
      assert.deepStrictEqual(yield* confirmedAbsence, {
        second: { status: "succeeded", absentConfirmed: 1, absentButPresent: 1 },
        third: { status: "held", hold: "emptyRoster" },
        deprovisioned: ["user-2"]
      })
    }))
})
