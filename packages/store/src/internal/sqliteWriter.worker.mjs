// The SQLite writer: a worker thread that owns the one read-write connection of a database file, so that
// writes, and a sync's apply above all, never run on the host's event loop. The main thread sends it one
// statement per message and waits for the answer; it runs them in the order they arrive.
//
// With `role: "reader"` the same thread runs read-only statements that would take the main thread too long
// (aggregates over every entitlement), on a connection that cannot write.
//
// Plain JavaScript on purpose: Node 20 cannot load TypeScript in a worker. The protocol is private to
// ./sqliteClient.ts:
//   in:  { id, op: "all" | "run" | "values" | "unprepared" | "many" | "lookup" | "batch" | "close", sql, params,
//          rows, steps, fixed, columns, n, safe }
//   out: { id, rows } | { id, result } | { id, error: { message, code } }
// Message 0 out is the opening of the file: { id: 0, ok: true } or { id: 0, error }.
import Database from "better-sqlite3"
import { parentPort, workerData } from "node:worker_threads"

const CACHE_SIZE = 256
const { busyTimeoutMs, cacheSizeKib, filename, role } = workerData

const describe = (error) => ({
  message: error instanceof Error ? error.message : String(error),
  code: typeof error?.code === "string" ? error.code : undefined
})

// better-sqlite3 binds numbers, strings, bigints, buffers and null only.
const bindable = (value) => {
  if (typeof value === "boolean") return value ? 1 : 0
  if (value === undefined) return null
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength)
  }
  if (value instanceof Date) return value.toISOString()
  return value
}

const bind = (params) => (params === undefined ? [] : params.map(bindable))

let db
try {
  db = new Database(filename)
  if (role === "reader") {
    db.pragma("query_only = ON")
  } else {
    db.pragma("journal_mode = WAL")
    // Durable across a process crash with WAL; only an OS crash can lose the last commits.
    db.pragma("synchronous = NORMAL")
  }
  // Another process writing the same file (a second host, a migration) is waited for, here and not on
  // the main thread.
  db.pragma(`busy_timeout = ${Number(busyTimeoutMs)}`)
  db.pragma(`cache_size = -${Number(cacheSizeKib)}`)
  parentPort.postMessage({ id: 0, ok: true })
} catch (error) {
  parentPort.postMessage({ id: 0, error: describe(error) })
  process.exit(1)
}

const statements = new Map()

const prepare = (sql) => {
  let statement = statements.get(sql)
  if (statement !== undefined) {
    statements.delete(sql)
    statements.set(sql, statement)
    return statement
  }
  statement = db.prepare(sql)
  statements.set(sql, statement)
  if (statements.size > CACHE_SIZE) statements.delete(statements.keys().next().value)
  return statement
}

const numeric = (
  value
) => (typeof value === "bigint" && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value)

const handle = (message) => {
  switch (message.op) {
    case "all":
    case "unprepared": {
      const statement = message.op === "all" ? prepare(message.sql) : db.prepare(message.sql)
      statement.safeIntegers(message.safe === true)
      if (statement.reader) return { rows: statement.all(...bind(message.params)) }
      statement.run(...bind(message.params))
      return { rows: [] }
    }
    case "run": {
      const statement = prepare(message.sql)
      statement.safeIntegers(message.safe === true)
      const result = statement.run(...bind(message.params))
      return { result: { changes: result.changes, lastInsertRowid: numeric(result.lastInsertRowid) } }
    }
    case "values": {
      const statement = prepare(message.sql)
      if (!statement.reader) {
        statement.run(...bind(message.params))
        return { rows: [] }
      }
      statement.raw(true)
      try {
        return { rows: statement.all(...bind(message.params)) }
      } finally {
        statement.raw(false)
      }
    }
    case "many": {
      // One prepared statement, once per row: the cheapest way into SQLite, and all in this thread.
      const statement = prepare(message.sql)
      let changes = 0
      for (const row of message.rows) changes += statement.run(...bind(row)).changes
      return { result: { changes } }
    }
    case "lookup": {
      // One prepared read, once per key (each column of the keys' values comes as one string, NUL between
      // them): the first column of the first row for each, or null.
      const statement = prepare(message.sql)
      const n = message.n
      const columns = n === 0 ? [] : message.columns.map((values) => values.split("\u0000"))
      const params = [...bind(message.fixed), ...columns.map(() => null)]
      const from = params.length - columns.length
      const rows = new Array(n)
      statement.pluck(true)
      try {
        for (let i = 0; i < n; i++) {
          for (let j = 0; j < columns.length; j++) params[from + j] = columns[j][i]
          rows[i] = statement.get(...params) ?? null
        }
      } finally {
        statement.pluck(false)
      }
      return { rows }
    }
    case "batch": {
      // Statements in one transaction, all in this thread: the main thread sends a chunk's write once and
      // goes on with the next page. A step with `expect` must return rows, or the batch is rolled back.
      db.prepare("BEGIN IMMEDIATE").run()
      try {
        for (const step of message.steps) {
          const statement = prepare(step.sql)
          if (step.rows !== undefined) {
            for (const row of step.rows) statement.run(...bind(row))
          } else if (statement.reader) {
            const rows = statement.all(...bind(step.params))
            if (step.expect !== undefined && rows.length === 0) {
              throw Object.assign(new Error(step.expect), { code: "SEATKEEPER_EXPECTED_ROWS" })
            }
          } else {
            statement.run(...bind(step.params))
          }
        }
        db.prepare("COMMIT").run()
      } catch (error) {
        if (db.inTransaction) db.prepare("ROLLBACK").run()
        throw error
      }
      return { result: { changes: 0 } }
    }
    case "close": {
      statements.clear()
      db.close()
      return { result: { closed: true } }
    }
    default:
      throw new Error(`unknown operation ${message.op}`)
  }
}

parentPort.on("message", (message) => {
  let reply
  try {
    reply = { id: message.id, ...handle(message) }
  } catch (error) {
    reply = { id: message.id, error: describe(error) }
  }
  parentPort.postMessage(reply)
  if (message.op === "close") parentPort.close()
})
