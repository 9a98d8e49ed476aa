// Pins test-support/effectEquality.ts, the setup every package's tests run with: chai's deep equality tells
// None from Some and one Redacted secret from another, at any depth, and leaves everything else as it was.
import { assert, describe, expect, it } from "@effect/vitest"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
// Already run as a setup file; imported too, so that the typecheck covers it.
import "../../../test-support/effectEquality.js"

const none: Option.Option<{ readonly staged: number }> = Option.none()

describe("deep equality of effect values in tests", () => {
  it("None is not Some", () => {
    assert.throws(() => assert.deepStrictEqual(none, Option.some({ staged: 1 })))
    assert.throws(() => assert.deepStrictEqual(Option.some({ staged: 1 }), none))
    assert.throws(() => assert.deepEqual(none, Option.some({ staged: 1 })))
    assert.throws(() => expect(none).to.deep.equal(Option.some({ staged: 1 })))
  })

  it("nor is it inside arrays and objects", () => {
    assert.throws(() => assert.deepStrictEqual([none], [Option.some({ staged: 1 })]))
    assert.throws(() => assert.deepStrictEqual({ found: none }, { found: Option.some({ staged: 1 }) }))
  })

  it("Somes are compared by their values, deeply", () => {
    assert.deepStrictEqual(Option.some({ staged: 1 }), Option.some({ staged: 1 }))
    assert.deepStrictEqual({ found: [Option.some([1, 2])] }, { found: [Option.some([1, 2])] })
    assert.throws(() => assert.deepStrictEqual(Option.some({ staged: 2 }), Option.some({ staged: 1 })))
    assert.throws(() => assert.deepStrictEqual(Option.some(Option.none()), Option.some(Option.some(1))))
    assert.notDeepEqual(Option.some(1), Option.some(2))
  })

  it("None equals None, and an Option is not what it holds", () => {
    assert.deepStrictEqual(none, Option.none())
    assert.throws(() => assert.deepStrictEqual(Option.some(1) as unknown, 1))
    assert.throws(() => assert.deepStrictEqual(undefined as unknown, Option.none()))
  })

  it("Redacted secrets are compared by their values, never equal to anything else", () => {
    assert.deepStrictEqual(Redacted.make("key-1"), Redacted.make("key-1"))
    assert.throws(() => assert.deepStrictEqual(Redacted.make("key-1"), Redacted.make("key-2")))
    assert.throws(() => assert.deepStrictEqual({ apiKey: Redacted.make("old") }, { apiKey: Redacted.make("new") }))
    assert.throws(() => assert.deepStrictEqual(Redacted.make("key-1") as unknown, "key-1"))
    assert.throws(() => assert.deepStrictEqual({} as unknown, Redacted.make("key-1")))
  })

  it("other values are compared as chai always did", () => {
    assert.deepStrictEqual({ a: [1, { b: "c" }] }, { a: [1, { b: "c" }] })
    assert.throws(() => assert.deepStrictEqual({ a: 1 }, { a: 2 }))
    assert.deepStrictEqual(new Map([["k", Option.some(1)]]), new Map([["k", Option.some(1)]]))
    assert.throws(() => assert.deepStrictEqual(new Map([["k", none]]), new Map([["k", Option.some({ staged: 1 })]])))
  })
})
