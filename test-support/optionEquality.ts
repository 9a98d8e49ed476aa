// Vitest setup of every package: chai's deep equality (`assert.deepStrictEqual`, `assert.deepEqual`,
// `expect(...).to.deep.equal`) tells an effect `Option`'s `None` from its `Some`. Left to itself, deep-eql
// compares them by what they iterate (one opaque `YieldWrap` each) and finds `None` equal to any `Some`, at
// any depth: an assertion of `Option.some(x)` passed on `None`. A `Some` is compared by its value, so
// `Some(1)` still differs from `Some(2)`; everything that is not an Option is compared as before.
import { chai } from "vitest"

// effect's `Option` type id (`effect/Option`); a symbol key, so this needs no import of effect.
const OptionTypeId = Symbol.for("effect/Option")

type AnyOption = { readonly _tag: "None" } | { readonly _tag: "Some"; readonly value: unknown }

const isOption = (value: unknown): value is AnyOption =>
  typeof value === "object" && value !== null && OptionTypeId in value

const comparator = (expected: unknown, actual: unknown): boolean | null => {
  if (!isOption(expected) && !isOption(actual)) return null
  if (!isOption(expected) || !isOption(actual)) return false
  if (expected._tag === "None" || actual._tag === "None") return expected._tag === actual._tag
  return deepEqual(expected.value, actual.value)
}

const deepEqual = (expected: unknown, actual: unknown): boolean => chai.util.eql(expected, actual, { comparator })

chai.config.deepEqual = deepEqual
