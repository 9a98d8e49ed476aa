// The structure DESIGN.md draws, checked on every CI run: dependencies point one way (host → {store,
// providers, core}; store → core; providers → core), core imports no adapter, driver or host, an adapter
// never imports its own sandbox (the sandbox is for tests and the demo), and nothing imports in a circle.
/** @type {import("dependency-cruiser").IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment: "An import cycle: split the modules, or move what both need into a third.",
      from: {},
      to: { circular: true }
    },
    {
      name: "core-imports-no-package",
      severity: "error",
      comment: "Core is the port: it imports no adapter, no store and nothing of the host.",
      from: { path: "^packages/core/src" },
      to: { path: "^(packages/(store|provider-[^/]+)|apps)/" }
    },
    {
      name: "core-imports-no-driver",
      severity: "error",
      comment: "Core names no SQL driver, web framework or Redis client: those belong to the store and the host.",
      from: { path: "^packages/core/src" },
      to: { path: "node_modules/(@effect/sql|@effect/sql-[a-z]+|better-sqlite3|pg|hono|@hono/[a-z-]+|ioredis|redis)/" }
    },
    {
      name: "store-imports-core-only",
      severity: "error",
      comment: "The store implements core's ports; it knows no provider and no host.",
      from: { path: "^packages/store/src" },
      to: { path: "^(packages/provider-[^/]+|apps)/" }
    },
    {
      name: "provider-imports-core-only",
      severity: "error",
      comment: "An adapter depends on core alone: no store, no host, no other adapter.",
      from: { path: "^packages/(provider-[^/]+)/src" },
      to: { path: "^(packages/store|apps)/" }
    },
    {
      name: "provider-imports-no-other-provider",
      severity: "error",
      comment: "Adapters stand alone: one never imports another.",
      from: { path: "^packages/(provider-[^/]+)/" },
      to: { path: "^packages/provider-[^/]+/", pathNot: "^packages/$1/" }
    },
    {
      name: "adapter-imports-no-sandbox",
      severity: "error",
      comment: "The simulated org is for tests and the demo; the adapter itself must work without it.",
      from: { path: "^packages/(provider-[^/]+)/src", pathNot: "^packages/provider-[^/]+/src/sandbox/" },
      to: { path: "^packages/provider-[^/]+/src/sandbox/" }
    },
    {
      name: "src-imports-no-test",
      severity: "error",
      comment: "Shipped code never imports a test file or test helper.",
      from: { path: "^(packages|apps)/[^/]+/src" },
      to: { path: "^(packages|apps)/[^/]+/(test|bench)/" }
    },
    {
      name: "src-imports-no-dev-dependency",
      severity: "error",
      comment: "A module in src/ that imports a devDependency breaks for whoever installs the package.",
      from: { path: "^(packages|apps)/[^/]+/src", pathNot: "^packages/[^/]+/src/(testing|sandbox)/" },
      to: { dependencyTypes: ["npm-dev"], dependencyTypesNot: ["npm", "npm-peer", "npm-optional"] }
    },
    {
      name: "test-tools-only-in-testing",
      severity: "error",
      comment: "vitest and msw are optional peers, for the `testing` entry only: runtime code must load without them.",
      from: { path: "^(packages|apps)/[^/]+/src", pathNot: "^packages/[^/]+/src/testing/" },
      to: { path: "node_modules/(vitest|@effect/vitest|msw)/" }
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment: "An import that resolves to nothing.",
      from: {},
      to: { couldNotResolve: true }
    }
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(packages|apps)/[^/]+/(dist|\\.turbo)/" },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    enhancedResolveOptions: {
      // Workspace packages resolve to their sources (the `@seatkeeper/source` export condition), and the
      // `.js` of an ESM import to the `.ts`/`.tsx` it is compiled from (dependency-cruiser does that itself).
      exportsFields: ["exports"],
      conditionNames: ["@seatkeeper/source", "import", "types", "default"],
      mainFields: ["module", "main", "types"],
      extensions: [".ts", ".tsx", ".js", ".mjs", ".d.ts"]
    },
    reporterOptions: { text: { highlightFocused: true } }
  }
}
