/**
 * The sandbox's rate limiter: a fixed window, like Atlassian's gateway, whose phase is the server's start
 * (or `phaseMs`), counting every request.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import { decode, RateLimitInput } from "./Bodies.js"

/**
 * `requests` per `windowSeconds`. `resetFormat` is how `X-RateLimit-Reset` is written: `minutes` (the
 * default; ISO-8601 without seconds, e.g. `2026-11-24T12:35Z`, rounded up) or `seconds`
 * (`2026-11-24T12:34:07Z`). `phaseMs` is an epoch instant at which a window starts (default: when the
 * server started).
 *
 * @since 0.1.0
 * @category models
 */
export interface SandboxRateLimit {
  readonly requests: number
  readonly windowSeconds: number
  readonly resetFormat?: "seconds" | "minutes"
  readonly phaseMs?: number
}

/**
 * What the limiter decided for one request.
 *
 * @since 0.1.0
 * @category models
 */
export interface RateDecision {
  readonly allowed: boolean
  readonly limit: number
  readonly remaining: number
  readonly resetAtMs: number
}

/**
 * Checks a rate limit (from TypeScript or JSON) or throws a `TypeError` saying what is wrong.
 *
 * @since 0.1.0
 * @category validation
 */
export const validateRateLimit = (input: unknown): SandboxRateLimit | false => {
  if (input === false || input === null || input === undefined) return false
  if (typeof input !== "object" || Array.isArray(input)) {
    throw new TypeError("rateLimit must be false or { requests, windowSeconds, resetFormat?, phaseMs? }")
  }
  const result = decode(RateLimitInput, input)
  if (Either.isLeft(result)) throw new TypeError(result.left)
  return result.right
}

/**
 * @since 0.1.0
 * @category models
 */
export class FixedWindow {
  private window = Number.NaN
  private count = 0
  private readonly windowMs: number
  private readonly phaseMs: number

  constructor(readonly limit: SandboxRateLimit, startedAtMs: number) {
    this.windowMs = limit.windowSeconds * 1000
    this.phaseMs = limit.phaseMs ?? startedAtMs
  }

  /** Counts a request arriving at `nowMs`. */
  hit(nowMs: number): RateDecision {
    const window = Math.floor((nowMs - this.phaseMs) / this.windowMs)
    if (window !== this.window) {
      this.window = window
      this.count = 0
    }
    this.count++
    return {
      allowed: this.count <= this.limit.requests,
      limit: this.limit.requests,
      remaining: Math.max(0, this.limit.requests - this.count),
      resetAtMs: this.phaseMs + (window + 1) * this.windowMs
    }
  }

  /** The end of the window `nowMs` falls in, without counting anything. */
  resetAt(nowMs: number): number {
    return this.phaseMs + (Math.floor((nowMs - this.phaseMs) / this.windowMs) + 1) * this.windowMs
  }
}

/**
 * `X-RateLimit-Reset` for an instant, rounded up so a client that waits for it never comes back early:
 * `2026-11-24T12:35Z` (`minutes`) or `2026-11-24T12:34:07Z` (`seconds`).
 *
 * @since 0.1.0
 * @category formatting
 */
export const formatReset = (atMs: number, format: "seconds" | "minutes"): string =>
  format === "minutes"
    ? new Date(Math.ceil(atMs / 60_000) * 60_000).toISOString().slice(0, 16) + "Z"
    : new Date(Math.ceil(atMs / 1000) * 1000).toISOString().slice(0, 19) + "Z"
