/**
 * Slows down guessing the admin token: every failed login from an address makes the next attempt from
 * it wait longer, and after a few failures within a minute the address is refused (429) until the
 * oldest of them is a minute old.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 * @category models
 */
export interface LoginThrottleOptions {
  /** Added to the wait before each attempt, per recent failure. Default 250 ms. */
  readonly delayPerFailureMs?: number | undefined
  /** The longest wait before an attempt. Default 3 s. */
  readonly maxDelayMs?: number | undefined
  /** Failures within `windowMs` after which attempts are refused. Default 10. */
  readonly maxFailures?: number | undefined
  /** Default 60 s. */
  readonly windowMs?: number | undefined
  readonly now?: (() => number) | undefined
}

/**
 * What an attempt from an address may do now.
 *
 * @since 0.1.0
 * @category models
 */
export type LoginDecision =
  | { readonly _tag: "Refused"; readonly retryAfterSeconds: number }
  | { readonly _tag: "Allowed"; readonly delayMs: number; readonly attempt: Attempt }

/**
 * An attempt in flight: counted as a failure until it succeeds, so many attempts sent at once cannot
 * all slip past the limit before the first of them fails.
 *
 * @since 0.1.0
 * @category models
 */
export interface Attempt {
  readonly succeeded: () => void
}

/**
 * @since 0.1.0
 * @category constructors
 */
export class LoginThrottle {
  private readonly delayPerFailureMs: number
  private readonly maxDelayMs: number
  private readonly maxFailures: number
  private readonly windowMs: number
  private readonly now: () => number
  private readonly failures = new Map<string, Array<number>>()

  constructor(options: LoginThrottleOptions = {}) {
    this.delayPerFailureMs = options.delayPerFailureMs ?? 250
    this.maxDelayMs = options.maxDelayMs ?? 3_000
    this.maxFailures = options.maxFailures ?? 10
    this.windowMs = options.windowMs ?? 60_000
    this.now = options.now ?? Date.now
  }

  /** Registers an attempt from `address` (a failure unless `succeeded` is called) or refuses it. */
  begin(address: string): LoginDecision {
    const now = this.now()
    this.prune(now)
    const recent = this.failures.get(address) ?? []
    if (recent.length >= this.maxFailures) {
      const retryAfterMs = recent[0]! + this.windowMs - now
      return { _tag: "Refused", retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) }
    }
    const delayMs = Math.min(this.maxDelayMs, recent.length * this.delayPerFailureMs)
    recent.push(now)
    this.failures.set(address, recent)
    return {
      _tag: "Allowed",
      delayMs,
      attempt: { succeeded: () => this.failures.delete(address) }
    }
  }

  private prune(now: number): void {
    for (const [address, times] of this.failures) {
      while (times.length > 0 && times[0]! <= now - this.windowMs) times.shift()
      if (times.length === 0) this.failures.delete(address)
    }
  }
}
