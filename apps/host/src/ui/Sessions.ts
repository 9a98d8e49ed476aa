/**
 * Web sessions: a random id in an httpOnly cookie, the session itself (with its CSRF token and who logged
 * in) kept in this process's memory. Restarting the host logs everyone out, which for a console is
 * acceptable.
 *
 * @since 0.1.0
 */
import * as Crypto from "node:crypto"
import { hashOf, type Principal } from "../services/Users.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Session {
  readonly id: string
  /**
   * Who logged in: the bootstrap admin (`admin`) or a user, with their role. Every action of the session
   * passes it to the services, so the audit log names the person and the role checks apply. Read again
   * from the token on every request (`SessionStore.refresh`): a user disabled or given another role is so
   * at once.
   */
  readonly principal: Principal
  /** `principal.name`: who the audit log names for what this session does. */
  readonly actor: string
  /**
   * The SHA-256 of the token the session logged in with, to re-check it on every request (a replaced or
   * revoked token ends the session). Never the token itself: a heap dump of the host holds no credential.
   */
  readonly tokenHash: string
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
  create(principal: Principal, token: string): Session {
    const session: Session = {
      id: randomToken(),
      principal,
      actor: principal.name,
      tokenHash: hashOf(token),
      csrfToken: randomToken(),
      expiresAt: this.now() + this.ttlMs
    }
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

  /** The session with its principal as the token now reads (a changed role); `undefined` if it is gone. */
  refresh(session: Session, principal: Principal): Session | undefined {
    if (!this.sessions.has(session.id)) return undefined
    if (
      principal.name === session.principal.name && principal.role === session.principal.role &&
      principal.userId === session.principal.userId
    ) return session
    const next: Session = { ...session, principal, actor: principal.name }
    this.sessions.set(session.id, next)
    return next
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
