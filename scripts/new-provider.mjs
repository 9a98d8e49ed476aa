#!/usr/bin/env node
// Scaffolds a provider package that builds and passes the core conformance suite against its own
// generated sandbox before any real API code is written. See docs/adding-a-provider.md.
//
//   pnpm new-provider <id> [--name "Display Name"] [--dir <parent folder>]
//
// <id> is the provider's id in the host registry and the package suffix: `acme-hr` makes
// packages/provider-acme-hr (@seatkeeper/provider-acme-hr) with AcmeHrProvider, AcmeHrConfig, ...
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { dirname, join, relative, resolve, sep } from "node:path"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..")
const templateDir = join(root, "scripts", "provider-template")

const usage = `Usage: pnpm new-provider <id> [--name "Display Name"] [--dir <parent folder>]

  <id>    lower-case letters, digits and dashes, starting with a letter (e.g. acme-hr)
  --name  the name people see (default: the id in title case, e.g. "Acme Hr")
  --dir   where to create provider-<id> (default: packages)`

const fail = (message) => {
  console.error(`new-provider: ${message}\n\n${usage}`)
  process.exit(1)
}

let parsed
try {
  parsed = parseArgs({
    allowPositionals: true,
    options: { name: { type: "string" }, dir: { type: "string" }, help: { type: "boolean", short: "h" } }
  })
} catch (error) {
  fail(error.message)
}
if (parsed.values.help) {
  console.log(usage)
  process.exit(0)
}
const [id, ...extra] = parsed.positionals
if (id === undefined) fail("give the provider's id, e.g. `pnpm new-provider acme-hr`")
if (extra.length > 0) fail(`one id only, got also ${extra.join(" ")} (quote a display name: --name "Acme HR")`)
if (!/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/.test(id) || id.length > 40) {
  fail(`"${id}" is not a valid id: use lower-case letters, digits and single dashes, starting with a letter, at most 40 characters`)
}
if (["core", "store", "host"].includes(id)) fail(`"${id}" is the name of a Seatkeeper package; pick the provider's own name`)

const pascal = id.split("-").map((part) => part[0].toUpperCase() + part.slice(1)).join("")
if (!/^[A-Z]/.test(pascal)) fail(`"${id}" does not make a TypeScript name`)
const display = (parsed.values.name ?? id.split("-").map((part) => part[0].toUpperCase() + part.slice(1)).join(" ")).trim()
if (display === "" || /["\\`$\n]/.test(display)) {
  fail("--name must not be empty nor contain quotes, backslashes, backticks, $ or newlines")
}

const parent = resolve(parsed.values.dir ?? join(root, "packages"))
const target = join(parent, `provider-${id}`)
if (existsSync(target)) fail(`${relative(process.cwd(), target) || target} already exists; pick another id or remove it`)
const toRoot = relative(target, root).split(sep).join("/") || "."

// Dependency ranges follow the core's: effect and @effect/* are peer dependencies (an app has one copy of
// effect and picks it), with the core's own pinned versions to develop and test against.
const core = JSON.parse(readFileSync(join(root, "packages", "core", "package.json"), "utf8"))
const range = (section, name) => {
  const value = core[section]?.[name]
  if (typeof value !== "string") fail(`packages/core/package.json lacks ${section}.${name}, which the template needs`)
  return value
}
const replacements = {
  __ID__: id,
  __NAME__: pascal,
  __DISPLAY__: display,
  __ROOT__: toRoot,
  __EFFECT_PEER__: range("peerDependencies", "effect"),
  __PLATFORM_PEER__: range("peerDependencies", "@effect/platform"),
  __EXPERIMENTAL_PEER__: range("peerDependencies", "@effect/experimental"),
  __EFFECT_VERSION__: range("devDependencies", "effect"),
  __PLATFORM_VERSION__: range("devDependencies", "@effect/platform"),
  __EXPERIMENTAL_VERSION__: range("devDependencies", "@effect/experimental"),
  __EFFECT_VITEST_VERSION__: range("devDependencies", "@effect/vitest"),
  __VITEST_VERSION__: range("devDependencies", "vitest")
}
const fill = (text) => text.replace(/__[A-Z_]+?__/g, (token) => replacements[token] ?? token)

const written = []
const copy = (from, to) => {
  for (const entry of readdirSync(from)) {
    const source = join(from, entry)
    if (statSync(source).isDirectory()) {
      copy(source, join(to, entry))
      continue
    }
    const destination = join(to, fill(entry.replace(/\.tpl$/, "")))
    mkdirSync(dirname(destination), { recursive: true })
    writeFileSync(destination, fill(readFileSync(source, "utf8")))
    written.push(relative(root, destination))
  }
}
copy(templateDir, target)

const rel = relative(process.cwd(), target) || "."
const registryKey = /^[a-z][a-z0-9]*$/.test(id) ? id : JSON.stringify(id)
console.log(`Created @seatkeeper/provider-${id} (${display}) in ${rel}:
${written.sort().map((f) => `  ${f}`).join("\n")}

Next:
  1. pnpm install                                   (links the new package)
  2. pnpm --filter @seatkeeper/provider-${id} test  (the conformance suite passes against the sandbox)
  3. make the client and the sandbox speak the real API (docs/adding-a-provider.md), then register it:
     apps/host/src/registry.ts   ${registryKey}: ${pascal}Provider
     apps/host/package.json      "@seatkeeper/provider-${id}": "workspace:^"`)
