import { defineConfig } from "vitest/config"

// Workspace packages resolve to their TypeScript sources in tests (the "@seatkeeper/source" export
// condition), so a test never runs against a stale dist.
export default defineConfig({
  resolve: { conditions: ["@seatkeeper/source", "module", "node", "import", "default"] },
  ssr: { resolve: { conditions: ["@seatkeeper/source", "module", "node", "import", "default"] } },
  test: {
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    fakeTimers: { toFake: undefined }
  }
})
