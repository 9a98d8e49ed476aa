/**
 * Who holds a sync lock: a random id made once per process. It names the holder and nothing more: a run
 * whose process died is recovered when its lock's lease expires, never by judging from a hostname or a
 * pid whether a process still lives (containers share hostnames, and a restarted container is pid 1 again).
 *
 * @since 0.1.0
 */
import * as Crypto from "node:crypto"

/**
 * A fresh owner id (tests use it to play another process).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeOwner = (): string => `seatkeeper:${Crypto.randomUUID()}`

/**
 * The owner id of this process, made once at start-up.
 *
 * @since 0.1.0
 * @category constructors
 */
export const processOwner: string = makeOwner()
