/**
 * A SQLite `SqlClient` whose writer runs in a worker thread: a long write (a sync's apply of 100,000
 * accounts) never blocks the host's event loop, and reads never wait for it.
 *
 * - Reads outside a transaction run on a main-thread connection, on the last committed WAL snapshot: a
 *   statement runs there when SQLite says it is read-only (`Statement.readonly`) and returns rows. That
 *   connection is `query_only` with a zero busy timeout, so the main thread never waits on the writer.
 * - Every other statement goes to the worker, which owns the only read-write connection. A standalone
 *   write takes the writer's semaphore for that one statement, so it never lands inside another fiber's
 *   transaction; a transaction holds the semaphore from `BEGIN IMMEDIATE` to its end, and all of its
 *   statements, reads included, run in the worker.
 * - A read-only statement that starts with `OFFLOAD` (an aggregate over every entitlement) runs in a second
 *   worker thread on a read-only connection: the main thread stays free while it counts.
 * - `executeMany` runs one prepared statement once per row in the worker (the fastest way to load rows);
 *   `postBatch` sends statements to run in one transaction there, and `postLookups` a lookup to run once per
 *   key, both without waiting for the answer.
 *
 * @internal
 */
import * as Reactivity from "@effect/experimental/Reactivity"
import * as Client from "@effect/sql/SqlClient"
import type { Connection } from "@effect/sql/SqlConnection"
import { SqlError } from "@effect/sql/SqlError"
import * as Statement from "@effect/sql/Statement"
import * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Scope from "effect/Scope"
import { createRequire } from "node:module"
import { Worker } from "node:worker_threads"

/** @internal */
export const TypeId: unique symbol = Symbol.for("@seatkeeper/store/SqliteWorkerClient")

/**
 * The prefix of a statement to run off the main thread (a comment: PostgreSQL ignores it).
 *
 * @internal
 */
export const OFFLOAD = "/* seatkeeper:offload */ "

/** @internal */
export interface SqliteWorkerClientConfig {
  readonly filename: string
  /** How long the writer waits for another process's write lock. Default 15 seconds. */
  readonly busyTimeoutMs?: number | undefined
  /** The writer's page cache. Default 8 MiB (more made large applies no faster here, and costs memory). */
  readonly cacheSizeKib?: number | undefined
}

/** @internal */
export interface SqliteWorkerClient extends Client.SqlClient {
  readonly [TypeId]: typeof TypeId
  readonly config: SqliteWorkerClientConfig
  /** Runs `sql` once per row in the writer (in the current transaction, if any); returns the rows changed. */
  readonly executeMany: (sql: string, rows: ReadonlyArray<ReadonlyArray<unknown>>) => Effect.Effect<number, SqlError>
  /**
   * Sends the steps to the writer as one message, to run in one transaction of their own, and returns the
   * wait for its answer: the caller is free as soon as it is sent, and its rows are the writer's (copied
   * once, not kept here). A step with `expect` must return rows; if it does not, nothing of the batch is
   * kept and the answer is a failure with code `SEATKEEPER_EXPECTED_ROWS`.
   */
  readonly postBatch: (steps: ReadonlyArray<BatchStep>) => Effect.Effect<Effect.Effect<void, SqlError>>
  /**
   * Sends a lookup to run in the writer's thread once per key, between transactions (on the last committed
   * state), and returns the wait for its answer: for each key, the first column of the first row, or null where
   * there is none. The statement's parameters are `fixed`, then the key's values (`columns[j][i]` for key `i`).
   * Values must not contain NUL (each column travels as one string). A chunk's accounts are looked up there, not
   * on the event loop.
   */
  readonly postLookups: (
    sql: string,
    fixed: ReadonlyArray<string | number | null>,
    columns: ReadonlyArray<ReadonlyArray<string>>
  ) => Effect.Effect<Effect.Effect<ReadonlyArray<unknown>, SqlError>>
}

/** @internal */
export type BatchStep =
  | { readonly sql: string; readonly params: ReadonlyArray<unknown>; readonly expect?: string | undefined }
  | { readonly sql: string; readonly rows: ReadonlyArray<ReadonlyArray<string | number | null>> }

/** @internal */
export const SqliteWorkerClient = Context.GenericTag<SqliteWorkerClient>("@seatkeeper/store/SqliteWorkerClient")

/** @internal */
export const isSqliteWorkerClient = (sql: Client.SqlClient): sql is SqliteWorkerClient => TypeId in sql

// The few parts of better-sqlite3 used on the main thread.
interface MainStatement {
  readonly reader: boolean
  readonly readonly: boolean
  all(...params: Array<unknown>): Array<unknown>
  raw(toggle: boolean): MainStatement
  safeIntegers(toggle: boolean): MainStatement
}
interface MainDatabase {
  prepare(sql: string): MainStatement
  pragma(source: string): unknown
  close(): void
}
type DatabaseConstructor = new(filename: string, options?: { readonly fileMustExist?: boolean }) => MainDatabase

interface WorkerConnection extends Connection {
  readonly executeMany: (sql: string, rows: ReadonlyArray<ReadonlyArray<unknown>>) => Effect.Effect<number, SqlError>
}

interface Reply {
  readonly id: number
  readonly rows?: ReadonlyArray<any>
  readonly result?: { readonly changes?: number }
  readonly error?: { readonly message: string; readonly code?: string }
  readonly ok?: boolean
}

const CACHE_SIZE = 256

const driverError = (error: { readonly message: string; readonly code?: string | undefined }) =>
  Object.assign(new Error(error.message), error.code === undefined ? {} : { code: error.code })

const bindable = (value: unknown): unknown =>
  typeof value === "boolean" ? (value ? 1 : 0) : value === undefined ? null : value

const isBusy = (cause: unknown) =>
  typeof (cause as { code?: unknown })?.code === "string" && (cause as { code: string }).code.startsWith("SQLITE_BUSY")

/**
 * Opens the file: the worker first (it creates the file and turns on WAL), then the main-thread reader.
 *
 * @internal
 */
export const make = (
  config: SqliteWorkerClientConfig
): Effect.Effect<SqliteWorkerClient, SqlError, Scope.Scope | Reactivity.Reactivity> =>
  Effect.gen(function*() {
    const scope = yield* Effect.scope
    const writer = yield* spawn(config, "writer")
    const offloaded = yield* spawn(config, "reader")
    const send = writer.send

    const safeIntegers = Effect.map(Effect.context<never>(), (context) => Context.get(context, Client.SafeIntegers))

    const toWorker = (op: string, sql: string, params: ReadonlyArray<unknown>) =>
      Effect.flatMap(safeIntegers, (safe) => send({ op, sql, params: params.map(bindable), safe }))

    const workerConnection: WorkerConnection = {
      execute: (sql, params, transformRows) =>
        Effect.map(toWorker("all", sql, params), (reply) => {
          const rows = reply.rows ?? []
          return transformRows ? transformRows(rows) : rows
        }),
      executeRaw: (sql, params) => Effect.map(toWorker("run", sql, params), (reply) => reply.result),
      executeValues: (sql, params) => Effect.map(toWorker("values", sql, params), (reply) => reply.rows ?? []),
      executeUnprepared: (sql, params, transformRows) =>
        Effect.map(toWorker("unprepared", sql, params ?? []), (reply) => {
          const rows = reply.rows ?? []
          return transformRows ? transformRows(rows) : rows
        }),
      executeStream: () => Effect.dieMessage("executeStream is not implemented by the SQLite worker client") as any,
      executeMany: (sql, rows) =>
        rows.length === 0
          ? Effect.succeed(0)
          : Effect.map(send({ op: "many", sql, rows: rows.map((row) => row.map(bindable)) }), (r) =>
            r.result?.changes ?? 0)
    }

    // --- the main-thread reader ---------------------------------------------------------------------

    const Database = createRequire(import.meta.url)("better-sqlite3") as DatabaseConstructor
    const reader = yield* Effect.acquireRelease(
      Effect.try({
        try: () => {
          const db = new Database(config.filename, { fileMustExist: true })
          // Never a write from this thread, and never a wait: WAL readers do not need one.
          db.pragma("query_only = ON")
          db.pragma("busy_timeout = 0")
          return db
        },
        catch: (cause) =>
          new SqlError({ cause, message: "Failed to open the SQLite database for reading" })
      }),
      (db) => Effect.sync(() => db.close())
    )
    const readStatements = new Map<string, MainStatement>()
    const readable = (sql: string): MainStatement | undefined => {
      // Pragmas change the connection they run on: they belong to the writer.
      if (/^\s*pragma\b/i.test(sql)) return undefined
      let statement = readStatements.get(sql)
      if (statement === undefined) {
        try {
          statement = reader.prepare(sql)
        } catch {
          // A table the writer created a moment ago, or a syntax error: the writer answers either way.
          return undefined
        }
        readStatements.set(sql, statement)
        if (readStatements.size > CACHE_SIZE) readStatements.delete(readStatements.keys().next().value!)
      } else {
        readStatements.delete(sql)
        readStatements.set(sql, statement)
      }
      return statement.reader && statement.readonly ? statement : undefined
    }

    const semaphore = yield* Effect.makeSemaphore(1)
    const exclusive = <A>(effect: Effect.Effect<A, SqlError>) => semaphore.withPermits(1)(effect)

    const readOnMain = (
      statement: MainStatement,
      params: ReadonlyArray<unknown>,
      raw: boolean
    ): Effect.Effect<Option.Option<ReadonlyArray<any>>, SqlError> =>
      Effect.flatMap(safeIntegers, (safe) => {
        try {
          statement.safeIntegers(safe)
          if (raw) statement.raw(true)
          try {
            return Effect.succeed(Option.some(statement.all(...params.map(bindable))))
          } finally {
            if (raw) statement.raw(false)
          }
        } catch (cause) {
          // A snapshot that cannot be had without waiting (WAL recovery): the writer may wait.
          if (isBusy(cause)) return Effect.succeed(Option.none())
          return Effect.fail(new SqlError({ cause, message: "Failed to execute statement" }))
        }
      })

    const offload = (sql: string, params: ReadonlyArray<unknown>, op: "all" | "values") =>
      Effect.flatMap(safeIntegers, (safe) => offloaded.send({ op, sql, params: params.map(bindable), safe })).pipe(
        Effect.map((reply) => reply.rows ?? [])
      )

    const mainConnection: WorkerConnection = {
      execute: (sql, params, transformRows) => {
        if (sql.startsWith(OFFLOAD)) {
          return Effect.map(offload(sql, params, "all"), (rows) => (transformRows ? transformRows(rows) : rows))
        }
        const statement = readable(sql)
        const viaWorker = exclusive(workerConnection.execute(sql, params, transformRows))
        if (statement === undefined) return viaWorker
        return Effect.flatMap(
          readOnMain(statement, params, false),
          Option.match({
            onNone: () => viaWorker,
            onSome: (rows) => Effect.succeed(transformRows ? transformRows(rows) : rows)
          })
        )
      },
      executeRaw: (sql, params) => exclusive(workerConnection.executeRaw(sql, params)),
      executeValues: (sql, params) => {
        if (sql.startsWith(OFFLOAD)) {
          return offload(sql, params, "values") as Effect.Effect<ReadonlyArray<ReadonlyArray<unknown>>, SqlError>
        }
        const statement = readable(sql)
        const viaWorker = exclusive(workerConnection.executeValues(sql, params))
        if (statement === undefined) return viaWorker
        return Effect.flatMap(
          readOnMain(statement, params, true),
          Option.match({
            onNone: () => viaWorker,
            onSome: (rows) => Effect.succeed(rows as ReadonlyArray<ReadonlyArray<unknown>>)
          })
        )
      },
      executeUnprepared: (sql, params, transformRows) =>
        exclusive(workerConnection.executeUnprepared(sql, params, transformRows)),
      executeStream: workerConnection.executeStream,
      executeMany: (sql, rows) => exclusive(workerConnection.executeMany(sql, rows))
    }

    const transactionAcquirer = Effect.uninterruptibleMask((restore) =>
      Effect.as(
        Effect.zipRight(
          restore(semaphore.take(1)),
          Effect.tap(Effect.scope, (scope) => Scope.addFinalizer(scope, semaphore.release(1)))
        ),
        workerConnection as Connection
      )
    )

    const client = yield* Client.make({
      acquirer: Effect.succeed(mainConnection),
      transactionAcquirer,
      compiler: Statement.makeCompilerSqlite(),
      // The write lock at the start: a transaction that reads first and writes later could otherwise meet
      // another process's commit in between and fail instead of waiting.
      beginTransaction: "BEGIN IMMEDIATE",
      spanAttributes: [["db.system.name", "sqlite"]]
    })

    const executeMany = (sql: string, rows: ReadonlyArray<ReadonlyArray<unknown>>) =>
      Effect.flatMap(
        Effect.serviceOption(Client.TransactionConnection),
        Option.match({
          onNone: () => mainConnection.executeMany(sql, rows),
          onSome: ([conn]) => (conn as WorkerConnection).executeMany(sql, rows)
        })
      )

    // Posted while holding the semaphore (so that it cannot land inside another fiber's transaction), then
    // awaited without it: whatever is sent next runs after it.
    const postBatch = (steps: ReadonlyArray<BatchStep>) =>
      Effect.map(
        semaphore.withPermits(1)(writer.post({
          op: "batch",
          steps: steps.map((step) =>
            "rows" in step ? step : { sql: step.sql, params: step.params.map(bindable), expect: step.expect }
          )
        })),
        Effect.asVoid
      )

    const postLookups = (
      sql: string,
      fixed: ReadonlyArray<string | number | null>,
      columns: ReadonlyArray<ReadonlyArray<string>>
    ) =>
      Effect.map(
        semaphore.withPermits(1)(writer.post({
          op: "lookup",
          sql,
          fixed,
          columns: columns.map((values) => values.join("\u0000")),
          n: columns[0]?.length ?? 0
        })),
        Effect.map((reply) => reply.rows ?? [])
      )

    yield* Scope.addFinalizer(scope, Effect.sync(() => readStatements.clear()))
    return Object.assign(client, {
      [TypeId]: TypeId,
      config,
      executeMany,
      postBatch,
      postLookups
    }) as SqliteWorkerClient
  })

interface Channel {
  readonly send: (message: Record<string, unknown>) => Effect.Effect<Reply, SqlError>
  readonly post: (message: Record<string, unknown>) => Effect.Effect<Effect.Effect<Reply, SqlError>>
}

/**
 * Starts a worker on the file and waits until it has opened it. Only a worker with questions outstanding
 * keeps the process alive.
 */
const spawn = (config: SqliteWorkerClientConfig, role: "writer" | "reader") =>
  Effect.gen(function*() {
    const worker = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new Worker(new URL("./sqliteWriter.worker.mjs", import.meta.url), {
          workerData: {
            filename: config.filename,
            role,
            busyTimeoutMs: role === "writer" ? config.busyTimeoutMs ?? 15_000 : 5_000,
            cacheSizeKib: role === "writer" ? config.cacheSizeKib ?? 8_192 : 4_096
          },
          // A worker holds a statement and its answer at a time (a chunk of rows at most): a small heap keeps
          // its garbage from adding to the host's memory.
          resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 }
        })
      ),
      closeWorker
    )
    const pending = new Map<number, (reply: Reply) => void>()
    let nextId = 1
    let stopped: Error | undefined
    worker.unref()
    const settle = (reply: Reply) => {
      const resume = pending.get(reply.id)
      if (resume === undefined) return
      pending.delete(reply.id)
      if (pending.size === 0) worker.unref()
      resume(reply)
    }
    const stop = (error: Error) => {
      stopped ??= error
      for (const id of [...pending.keys()]) settle({ id, error: { message: stopped.message } })
    }
    const opened = new Promise<Reply>((resolve) => {
      pending.set(0, resolve)
      worker.ref()
    })
    worker.on("message", settle)
    worker.on("error", (error) => stop(new Error(`the SQLite ${role} thread failed: ${error.message}`)))
    worker.on("exit", (code) => stop(new Error(`the SQLite ${role} thread exited (code ${code})`)))

    /** Posts a message now; the effect returned waits for its answer (which may already be in). */
    const post = (message: Record<string, unknown>): Effect.Effect<Effect.Effect<Reply, SqlError>> =>
      Effect.sync(() => {
        const answer = Deferred.unsafeMake<Reply, SqlError>(FiberId.none)
        if (stopped !== undefined) {
          Deferred.unsafeDone(answer, Effect.fail(new SqlError({ cause: stopped, message: stopped.message })))
          return Deferred.await(answer)
        }
        const id = nextId++
        pending.set(id, (reply) =>
          Deferred.unsafeDone(
            answer,
            reply.error === undefined
              ? Effect.succeed(reply)
              : Effect.fail(new SqlError({ cause: driverError(reply.error), message: "Failed to execute statement" }))
          ))
        if (pending.size === 1) worker.ref()
        worker.postMessage({ ...message, id })
        // An interrupted caller stops waiting; the worker still runs the statement, in order.
        return Deferred.await(answer)
      })

    const send = (message: Record<string, unknown>): Effect.Effect<Reply, SqlError> => Effect.flatten(post(message))

    const first = yield* Effect.promise(() => opened)
    if (first.error !== undefined) {
      return yield* new SqlError({ cause: driverError(first.error), message: first.error.message })
    }
    return { send, post } satisfies Channel
  })

// Closes the database in the worker (a clean close checkpoints the WAL), then lets the thread end; a
// writer that does not answer within 10 seconds is terminated.
const closeWorker = (worker: Worker) =>
  Effect.promise(() =>
    new Promise<void>((resolve) => {
      let done = false
      const finish = () => {
        if (done) return
        done = true
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => void worker.terminate().then(finish, finish), 10_000)
      worker.once("exit", finish)
      try {
        worker.ref()
        worker.postMessage({ id: -1, op: "close" })
      } catch {
        void worker.terminate().then(finish, finish)
      }
    })
  )

/**
 * The client as a layer, providing `SqlClient` too.
 *
 * @internal
 */
export const layer = (config: SqliteWorkerClientConfig): Layer.Layer<SqliteWorkerClient | Client.SqlClient, SqlError> =>
  Layer.scopedContext(
    Effect.map(
      make(config),
      (client) => Context.make(SqliteWorkerClient, client).pipe(Context.add(Client.SqlClient, client))
    )
  ).pipe(Layer.provide(Reactivity.layer))
