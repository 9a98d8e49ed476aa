/**
 * Web sessions: a random id in an httpOnly cookie, the session itself (with its CSRF token) kept in this
 * process's memory. Restarting the host logs everyone out, which for an admin console is acceptable.
 *
 * @since 0.1.0
 */
import * as Crypto from "node:crypto"

/**
 * @since 0.1.0
 * @category models
 */
export interface Session {
  readonly id: string
  /** Sent back in every form; a POST whose token differs is refused (403). */
  readonly csrfToken: string
  readonly expiresAt: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface SessionStoreOptions {
  /** How long a session lasts from login. Default 12 hours. */
  readonly ttlMs?: number | undefined
  /** The most sessions kept; the oldest go first. Default 1,000. */
  readonly maxSessions?: number | undefined
  readonly now?: (() => number) | undefined
}

const randomToken = () => Crypto.randomBytes(32).toString("base64url")

/**
 * @since 0.1.0
 * @category constructors
 */
export class SessionStore {
  readonly ttlMs: number
  private readonly maxSessions: number
  private readonly now: () => number
  // Insertion order is creation order, so the first entries are the oldest.
  private readonly sessions = new Map<string, Session>()

  constructor(options: SessionStoreOptions = {}) {
    this.ttlMs = options.ttlMs ?? 12 * 60 * 60 * 1000
    this.maxSessions = options.maxSessions ?? 1_000
    this.now = options.now ?? Date.now
  }

  /** A new session with a new id (never reuse one from before the login: session fixation). */
  create(): Session {
    const session: Session = { id: randomToken(), csrfToken: randomToken(), expiresAt: this.now() + this.ttlMs }
    this.sessions.set(session.id, session)
    for (const id of this.sessions.keys()) {
      if (this.sessions.size <= this.maxSessions) break
      this.sessions.delete(id)
    }
    return session
  }

  get(id: string | undefined): Session | undefined {
    if (id === undefined) return undefined
    const session = this.sessions.get(id)
    if (session === undefined) return undefined
    if (session.expiresAt <= this.now()) {
      this.sessions.delete(id)
      return undefined
    }
    return session
  }

  delete(id: string): void {
    this.sessions.delete(id)
  }
}

/**
 * Whether a submitted CSRF token is the session's, compared in constant time.
 *
 * @since 0.1.0
 * @category utils
 */
export const isSessionCsrfToken = (session: Session, given: string | undefined): boolean => {
  if (given === undefined) return false
  const a = Crypto.createHash("sha256").update(given, "utf8").digest()
  const b = Crypto.createHash("sha256").update(session.csrfToken, "utf8").digest()
  return Crypto.timingSafeEqual(a, b)
}
