/**
 * Who holds a sync lock: `${hostname}:${pid}:${random}`. The hostname and pid let a process recognise a
 * lock left behind by a process of the same machine that has died; the random part tells apart two
 * processes that got the same pid (a restarted container is pid 1 again).
 *
 * @since 0.1.0
 */
import * as Os from "node:os"
import * as Crypto from "node:crypto"
import { isMainThread } from "node:worker_threads"

/**
 * The owner string of this process, made once at start-up.
 *
 * @since 0.1.0
 * @category constructors
 */
export const processOwner: string = `${Os.hostname()}:${process.pid}:${Crypto.randomBytes(6).toString("hex")}`

/**
 * A fresh owner string for this host and process (tests use it to play a second process).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeOwner = (): string => `${Os.hostname()}:${process.pid}:${Crypto.randomBytes(6).toString("hex")}`

/**
 * @since 0.1.0
 * @category models
 */
export interface ParsedOwner {
  readonly hostname: string
  readonly pid: number
  readonly tag: string
}

/**
 * Parses an owner string; hostnames may hold `:` (IPv6 literals), so the pid and tag are taken from the end.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parseOwner = (owner: string): ParsedOwner | undefined => {
  const parts = owner.split(":")
  if (parts.length < 3) return undefined
  const tag = parts[parts.length - 1]!
  const pid = Number(parts[parts.length - 2])
  if (!Number.isInteger(pid) || pid <= 0) return undefined
  return { hostname: parts.slice(0, -2).join(":"), pid, tag }
}

// Owners that took a lock from this process. A lock of this host and pid whose owner is not among them was
// left by an earlier process that had the same pid. Worker threads share the pid but not this set, so the
// rule is only applied on the main thread.
const localOwners = new Set<string>([processOwner])

/**
 * Records that this process holds locks under `owner`.
 *
 * @since 0.1.0
 * @category liveness
 */
export const registerLocalOwner = (owner: string): void => {
  localOwners.add(owner)
}

/**
 * Whether the lock owner is known to be gone: it ran on this host and its process no longer exists. An
 * owner of another host is never judged here (its lease decides).
 *
 * @since 0.1.0
 * @category liveness
 */
export const isOwnerGone = (owner: string): boolean => {
  const parsed = parseOwner(owner)
  if (parsed === undefined || parsed.hostname !== Os.hostname()) return false
  if (parsed.pid === process.pid) return isMainThread && !localOwners.has(owner)
  try {
    process.kill(parsed.pid, 0)
    return false
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "ESRCH"
  }
}
