import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

// Workspace packages resolve to their TypeScript sources in tests (the "@seatkeeper/source" export
// condition), so a test never runs against a stale dist. Vitest forwards these conditions to its workers
// as `node --conditions`, so no `import`/`require` here: forcing `import` makes CommonJS code (`pg`
// requiring `pg-pool`) load an ESM build and crash. Node and Vite pick those two by themselves.
const conditions = ["@seatkeeper/source", "module", "node", "development|production"]

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions } },
  test: {
    include: ["src/**/*.test.ts", "src/**/*.test.tsx", "test/**/*.test.ts", "test/**/*.test.tsx"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    fakeTimers: { toFake: undefined },
    // chai's deep equality made to tell effect Options and Redacted secrets apart (see the file)
    setupFiles: [fileURLToPath(new URL("./test-support/effectEquality.ts", import.meta.url))]
  }
})
