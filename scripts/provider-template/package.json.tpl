{
  "name": "@seatkeeper/provider-__ID__",
  "version": "0.0.0",
  "description": "__DISPLAY__ adapter for Seatkeeper, with a simulated __DISPLAY__ for tests",
  "license": "MIT",
  "type": "module",
  "sideEffects": false,
  "exports": {
    "./package.json": "./package.json",
    ".": {
      "@seatkeeper/source": "./src/index.ts",
      "types": "./dist/index.d.ts",
      "default": "./dist/index.js"
    },
    "./sandbox": {
      "@seatkeeper/source": "./src/sandbox/index.ts",
      "types": "./dist/sandbox/index.d.ts",
      "default": "./dist/sandbox/index.js"
    },
    "./*": {
      "@seatkeeper/source": "./src/*.ts",
      "types": "./dist/*.d.ts",
      "default": "./dist/*.js"
    }
  },
  "files": [
    "dist",
    "src",
    "README.md"
  ],
  "scripts": {
    "build": "tsc -p tsconfig.build.json",
    "typecheck": "tsc -p tsconfig.json --noEmit",
    "test": "vitest run"
  },
  "dependencies": {
    "@seatkeeper/core": "workspace:^"
  },
  "peerDependencies": {
    "@effect/experimental": "__EXPERIMENTAL_PEER__",
    "@effect/platform": "__PLATFORM_PEER__",
    "effect": "__EFFECT_PEER__"
  },
  "devDependencies": {
    "@effect/experimental": "__EXPERIMENTAL_VERSION__",
    "@effect/platform": "__PLATFORM_VERSION__",
    "@effect/vitest": "__EFFECT_VITEST_VERSION__",
    "effect": "__EFFECT_VERSION__",
    "vitest": "__VITEST_VERSION__"
  },
  "publishConfig": {
    "access": "public",
    "exports": {
      "./package.json": "./package.json",
      ".": {
        "types": "./dist/index.d.ts",
        "default": "./dist/index.js"
      },
      "./sandbox": {
        "types": "./dist/sandbox/index.d.ts",
        "default": "./dist/sandbox/index.js"
      },
      "./*": {
        "types": "./dist/*.d.ts",
        "default": "./dist/*.js"
      }
    }
  },
  "engines": {
    "node": ">=20.19"
  }
}
