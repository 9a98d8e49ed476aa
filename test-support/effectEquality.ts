// Vitest setup of every package: chai's deep equality (`assert.deepStrictEqual`, `assert.deepEqual`,
// `expect(...).to.deep.equal`) tells apart the effect values it could not.
// - An `Option`'s `None` from its `Some`: deep-eql compares objects that iterate by what they iterate (one
//   opaque `YieldWrap` each) and found `None` equal to any `Some`, at any depth. A `Some` is compared by its
//   value, with these same rules.
// - Two `Redacted` secrets: a `Redacted` keeps its value outside the object, so any two were equal. They
//   are compared by their values, as effect's `Equal` compares them.
// Everything else is compared as before.
import { chai } from "vitest"

// effect's type ids and its `Equal` method, all symbol keys: this needs no import of effect.
const OptionTypeId = Symbol.for("effect/Option")
const RedactedTypeId = Symbol.for("effect/Redacted")
const EqualSymbol = Symbol.for("effect/Equal")

type AnyOption = { readonly _tag: "None" } | { readonly _tag: "Some"; readonly value: unknown }
type AnyRedacted = { readonly [EqualSymbol]: (that: unknown) => boolean }

const has = (value: unknown, id: symbol): boolean => typeof value === "object" && value !== null && id in value
const isOption = (value: unknown): value is AnyOption => has(value, OptionTypeId)
const isRedacted = (value: unknown): value is AnyRedacted => has(value, RedactedTypeId)

const comparator = (expected: unknown, actual: unknown): boolean | null => {
  if (isRedacted(expected) || isRedacted(actual)) {
    return isRedacted(expected) && isRedacted(actual) && expected[EqualSymbol](actual)
  }
  if (!isOption(expected) && !isOption(actual)) return null
  if (!isOption(expected) || !isOption(actual)) return false
  if (expected._tag === "None" || actual._tag === "None") return expected._tag === actual._tag
  return deepEqual(expected.value, actual.value)
}

const deepEqual = (expected: unknown, actual: unknown): boolean => chai.util.eql(expected, actual, { comparator })

chai.config.deepEqual = deepEqual
