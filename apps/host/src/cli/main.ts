#!/usr/bin/env node
/**
 * `seatkeeper`: the command line of a running Seatkeeper host, over its HTTP API (`--url`/`SEATKEEPER_URL`,
 * `--token`/`SEATKEEPER_TOKEN`), built on `@effect/cli`.
 *
 * ```sh
 * seatkeeper connections
 * seatkeeper sync "Acme"                                   # starts a sync and waits for its end
 * seatkeeper accounts "Acme" --inactive 90 --product jira-software --format csv > idle.csv
 * seatkeeper seats "Acme" --unused 90 --format json
 * ```
 *
 * Exit codes: 0 done, 1 failed (the message says why), 2 a sync was held for review.
 *
 * @since 0.2.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as FetchHttpClient from "@effect/platform/FetchHttpClient"
import * as Config from "effect/Config"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import { HostApi, HostApiError, layer as hostApiLayer } from "./HostApi.js"

// =============================================================================
// what the CLI reads from the API (only the fields it prints)
// =============================================================================

const Connection = Schema.Struct({ id: Schema.String, name: Schema.String, provider: Schema.String })
const Connections = Schema.Struct({ data: Schema.Array(Connection) })
const Run = Schema.Struct({
  id: Schema.String,
  status: Schema.String,
  stats: Schema.Record({ key: Schema.String, value: Schema.Unknown }),
  error: Schema.NullOr(Schema.Struct({ message: Schema.String, hint: Schema.optional(Schema.String) })),
  hold: Schema.NullOr(Schema.Struct({ message: Schema.String }))
})
const Entitlement = Schema.Struct({
  name: Schema.String,
  status: Schema.String,
  lastActiveAt: Schema.NullOr(Schema.String)
})
const Account = Schema.Struct({
  externalId: Schema.String,
  displayName: Schema.String,
  email: Schema.NullOr(Schema.String),
  status: Schema.String,
  lastActiveAt: Schema.NullOr(Schema.String),
  entitlements: Schema.Array(Entitlement)
})
const Page = <S extends Schema.Schema.Any>(item: S) =>
  Schema.Struct({ data: Schema.Array(item), nextCursor: Schema.NullOr(Schema.String), total: Schema.Number })
const Seat = Schema.Struct({
  account: Schema.Struct({
    externalId: Schema.String,
    displayName: Schema.String,
    email: Schema.NullOr(Schema.String)
  }),
  entitlement: Entitlement
})

// =============================================================================
// options shared by every command
// =============================================================================

const url = Options.text("url").pipe(
  Options.withDescription("The host's address (default $SEATKEEPER_URL, else http://127.0.0.1:8787)"),
  Options.withFallbackConfig(Config.string("SEATKEEPER_URL").pipe(Config.withDefault("http://127.0.0.1:8787")))
)

const token = Options.redacted("token").pipe(
  Options.withDescription("The admin token or a user's API token (default $SEATKEEPER_TOKEN)"),
  Options.withFallbackConfig(Config.redacted("SEATKEEPER_TOKEN"))
)

/** The root command: its options (the host's address and token) are read by every subcommand's client. */
const seatkeeper = Command.make("seatkeeper", { url, token })

/** Gives a subcommand the host's client, from the root command's options. */
const apiLayer = Layer.unwrapEffect(Effect.map(seatkeeper, ({ token, url }) => hostApiLayer({ url, token }))).pipe(
  Layer.provide(FetchHttpClient.layer)
)

const withApi = <Name extends string, R, E, A>(self: Command.Command<Name, R, E, A>) => Command.provide(self, apiLayer)

const format = Options.choice("format", ["table", "json", "csv"]).pipe(
  Options.withDefault("table"),
  Options.withDescription("table (for people), json or csv (for scripts)")
)

const connectionArg = Args.text({ name: "connection" }).pipe(Args.withDescription("A connection's name or id"))

/** A connection by id or exact name; a name that is not unique asks for the id. */
const resolve = (nameOrId: string) =>
  Effect.gen(function*() {
    const api = yield* HostApi
    const { data } = yield* api.json("GET", "/api/connections", Connections)
    const byId = data.find((c) => c.id === nameOrId)
    if (byId !== undefined) return byId
    const named = data.filter((c) => c.name === nameOrId)
    if (named.length === 1) return named[0]!
    return yield* new HostApiError({
      reason: "Refused",
      message: named.length === 0
        ? `no connection named or with id "${nameOrId}"`
        : `${named.length} connections are named "${nameOrId}"`,
      hint: `pick one of: ${data.map((c) => `${c.name} (${c.id})`).join(", ") || "none yet"}`
    })
  })

const query = (params: Record<string, string | number | undefined>) => {
  const search = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) if (v !== undefined) search.set(k, String(v))
  const text = search.toString()
  return text === "" ? "" : `?${text}`
}

/** Every page of a list, following `nextCursor`. */
const allPages = <A, I>(path: string, params: Record<string, string | number | undefined>, item: Schema.Schema<A, I>) =>
  Effect.gen(function*() {
    const api = yield* HostApi
    const out: Array<A> = []
    let cursor: string | undefined
    do {
      const page = yield* api.json("GET", `${path}${query({ ...params, limit: 500, cursor })}`, Page(item))
      out.push(...(page.data as ReadonlyArray<A>))
      cursor = page.nextCursor ?? undefined
    } while (cursor !== undefined)
    return out
  })

const table = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? []
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n")
}

const day = (iso: string | null) => (iso === null ? "never" : iso.slice(0, 10))

// =============================================================================
// commands
// =============================================================================

const connections = Command.make("connections", { format }, ({ format }) =>
  Effect.gen(function*() {
    const api = yield* HostApi
    const { data } = yield* api.json("GET", "/api/connections", Connections)
    if (format === "json") return yield* Console.log(JSON.stringify(data, null, 2))
    if (format === "csv") {
      return yield* Console.log(
        ["id,name,provider", ...data.map((c) => `${c.id},"${c.name.replace(/"/g, "\"\"")}",${c.provider}`)].join("\n")
      )
    }
    yield* Console.log(table([["ID", "NAME", "PROVIDER"], ...data.map((c) => [c.id, c.name, c.provider])]))
  })).pipe(Command.withDescription("Lists the host's connections"), withApi)

const wait = Options.boolean("no-wait").pipe(Options.withDescription("Start the sync and return at once"))

const sync = Command.make(
  "sync",
  { connection: connectionArg, noWait: wait, format },
  ({ connection, format, noWait }) =>
    Effect.gen(function*() {
      const api = yield* HostApi
      const target = yield* resolve(connection)
      let run = yield* api.json("POST", `/api/connections/${encodeURIComponent(target.id)}/syncs`, Run)
      if (!noWait) {
        while (run.status === "running") {
          yield* Effect.sleep(Duration.seconds(1))
          run = yield* api.json("GET", `/api/syncs/${encodeURIComponent(run.id)}`, Run)
        }
      }
      if (format === "json") yield* Console.log(JSON.stringify(run, null, 2))
      else {
        const s = run.stats
        yield* Console.log(
          `${target.name}: sync ${run.id} ${run.status}` +
            (run.status === "running" ? "" : ` (${s.accounts} accounts, ${s.created} created, ${s.updated} updated, ` +
              `${s.deprovisioned} deprovisioned, ${s.requests} requests)`)
        )
        if (run.hold !== null) yield* Console.log(`held for review: ${run.hold.message}`)
        if (run.error !== null) {
          yield* Console.log(
            `${run.error.message}${run.error.hint === undefined ? "" : `\nwhat to do: ${run.error.hint}`}`
          )
        }
      }
      if (run.status === "failed" || run.status === "interrupted") process.exitCode = 1
      if (run.status === "held") process.exitCode = 2
    })
).pipe(
  Command.withDescription("Syncs a connection and waits for the run's end (exit code 2 when it is held for review)"),
  withApi
)

const inactive = Options.integer("inactive").pipe(
  Options.optional,
  Options.withDescription("Only accounts not active for at least this many days")
)
const product = Options.text("product").pipe(
  Options.optional,
  Options.withDescription(
    "Only accounts holding this product (a product key such as jira-software, or an entitlement key)"
  )
)
const status = Options.choice("status", ["active", "suspended", "deprovisioned", "unknown"]).pipe(Options.optional)

const accounts = Command.make(
  "accounts",
  { connection: connectionArg, inactive, product, status, format },
  ({ connection, format, inactive, product, status }) =>
    Effect.gen(function*() {
      const api = yield* HostApi
      const target = yield* resolve(connection)
      const params = {
        inactiveDays: Option.getOrUndefined(inactive),
        product: Option.getOrUndefined(product),
        status: Option.getOrUndefined(status)
      }
      const path = `/api/connections/${encodeURIComponent(target.id)}/accounts`
      if (format === "csv") return yield* Console.log((yield* api.text(`${path}.csv${query(params)}`)).trimEnd())
      const rows = yield* allPages(path, params, Account)
      if (format === "json") return yield* Console.log(JSON.stringify(rows, null, 2))
      yield* Console.log(table([
        ["ACCOUNT", "EMAIL", "STATUS", "LAST ACTIVE", "PRODUCTS"],
        ...rows.map((a) => [
          a.displayName,
          a.email ?? "",
          a.status,
          day(a.lastActiveAt),
          a.entitlements.filter((e) => e.status === "active").map((e) => e.name).join(", ")
        ])
      ]))
      yield* Console.log(`${rows.length} accounts`)
    })
).pipe(Command.withDescription("Lists a connection's accounts (every page), filtered"), withApi)

const unused = Options.integer("unused").pipe(
  Options.optional,
  Options.withDescription("Only seats unused for at least this many days")
)
const license = Options.text("license").pipe(
  Options.optional,
  Options.withDescription("Only seats of this product instance (its key)")
)

const seats = Command.make(
  "seats",
  { connection: connectionArg, unused, product, license, format },
  ({ connection, format, license, product, unused }) =>
    Effect.gen(function*() {
      const api = yield* HostApi
      const target = yield* resolve(connection)
      const params = {
        unusedDays: Option.getOrUndefined(unused),
        product: Option.getOrUndefined(product),
        license: Option.getOrUndefined(license)
      }
      const path = `/api/connections/${encodeURIComponent(target.id)}/seats`
      if (format === "csv") return yield* Console.log((yield* api.text(`${path}.csv${query(params)}`)).trimEnd())
      const rows = yield* allPages(path, params, Seat)
      if (format === "json") return yield* Console.log(JSON.stringify(rows, null, 2))
      yield* Console.log(table([
        ["ACCOUNT", "EMAIL", "SEAT", "LAST USED"],
        ...rows.map((
          s
        ) => [s.account.displayName, s.account.email ?? "", s.entitlement.name, day(s.entitlement.lastActiveAt)])
      ]))
      yield* Console.log(`${rows.length} seats`)
    })
).pipe(Command.withDescription("Lists seats (active entitlements of active, billable accounts), filtered"), withApi)

// --- plans ---------------------------------------------------------------------------------------

const PlanSummary = Schema.Struct({
  id: Schema.String,
  connectionId: Schema.String,
  policyName: Schema.String,
  status: Schema.String,
  createdBy: Schema.String,
  createdAt: Schema.String,
  approvedBy: Schema.NullOr(Schema.String),
  blockedBecause: Schema.NullOr(Schema.String),
  stoppedBecause: Schema.NullOr(Schema.String),
  accounts: Schema.Number,
  seats: Schema.Number,
  monthly: Schema.Record({ key: Schema.String, value: Schema.Number }),
  progress: Schema.Struct({
    done: Schema.Number,
    refused: Schema.Number,
    failed: Schema.Number,
    pending: Schema.Number,
    acting: Schema.Number,
    // Hosts before 0.3 did not say.
    unchecked: Schema.optionalWith(Schema.Number, { default: () => 0 })
  })
})
const Plans = Schema.Struct({ data: Schema.Array(PlanSummary) })
const PlanItemRow = Schema.Struct({ externalId: Schema.String, displayName: Schema.String, state: Schema.String })

const planArg = Args.text({ name: "plan" }).pipe(Args.withDescription("A plan's id"))
const money = (m: Readonly<Record<string, number>>) =>
  Object.entries(m).map(([currency, amount]) => `${amount.toFixed(2)} ${currency}`).join(" + ") || "unpriced"
const remaining = (p: typeof PlanSummary.Type) => p.progress.pending + p.progress.acting
const planLine = (p: typeof PlanSummary.Type) =>
  `plan ${p.id} (${p.policyName}) ${p.status}: ${p.accounts} accounts, ${p.seats} seats, ${
    money(p.monthly)
  } a month; ` +
  `done ${p.progress.done}, refused ${p.progress.refused}, failed ${p.progress.failed}, remaining ${remaining(p)}` +
  (p.blockedBecause === null ? "" : `\ncannot be executed: ${p.blockedBecause}`) +
  (p.stoppedBecause === null ? "" : `\nstopped: ${p.stoppedBecause}`)
const printPlan = (p: typeof PlanSummary.Type, format: string) =>
  format === "json" ? Console.log(JSON.stringify(p, null, 2)) : Console.log(planLine(p))
const planPath = (id: string, rest = "") => `/api/plans/${encodeURIComponent(id)}${rest}`

const connectionOption = Options.text("connection").pipe(
  Options.optional,
  Options.withDescription("Only this connection's plans (name or id)")
)

const plansList = Command.make(
  "list",
  { connection: connectionOption, format },
  ({ connection, format }) =>
    Effect.gen(function*() {
      const api = yield* HostApi
      const connectionId = Option.isSome(connection) ? (yield* resolve(connection.value)).id : undefined
      const { data } = yield* api.json("GET", `/api/plans${query({ connectionId, limit: 200 })}`, Plans)
      if (format === "json") return yield* Console.log(JSON.stringify(data, null, 2))
      const rows = data.map((
        p
      ) => [
        p.id,
        p.policyName,
        p.status,
        String(p.accounts),
        String(p.seats),
        money(p.monthly),
        p.createdBy,
        day(p.createdAt)
      ])
      const header = ["ID", "POLICY", "STATUS", "ACCOUNTS", "SEATS", "MONTHLY", "AUTHOR", "MADE"]
      if (format === "csv") {
        return yield* Console.log(
          [header, ...rows].map((r) => r.map((c) => `"${c.replace(/"/g, "\"\"")}"`).join(",")).join("\n")
        )
      }
      yield* Console.log(table([header, ...rows]))
    })
).pipe(Command.withDescription("Lists reclaim plans, newest first"), withApi)

const plansShow = Command.make("show", { plan: planArg, format }, ({ format, plan }) =>
  Effect.gen(function*() {
    const api = yield* HostApi
    if (format === "csv") return yield* Console.log((yield* api.text(planPath(plan, "/items.csv"))).trimEnd())
    yield* printPlan(yield* api.json("GET", planPath(plan), PlanSummary), format)
  })).pipe(Command.withDescription("Shows a plan and its progress (--format csv: its accounts)"), withApi)

const plansMake = Command.make("make", {
  policy: Args.text({ name: "policy" }).pipe(Args.withDescription("A policy's id")),
  noWait: Options.boolean("no-wait").pipe(
    Options.withDescription("Return while the provider is still asked about the plan's accounts")
  ),
  format
}, ({ format, noWait, policy }) =>
  Effect.gen(function*() {
    const api = yield* HostApi
    let current = yield* api.json("POST", `/api/policies/${encodeURIComponent(policy)}/plans`, PlanSummary)
    let last = ""
    while (!noWait && current.status === "checking") {
      const line = `${current.accounts - current.progress.unchecked} of ${current.accounts} accounts checked`
      if (line !== last && format !== "json") yield* Console.error(line)
      last = line
      yield* Effect.sleep(Duration.seconds(1))
      current = yield* api.json("GET", planPath(current.id), PlanSummary)
    }
    yield* printPlan(current, format)
  })).pipe(
    Command.withDescription(
      "Makes a plan from a policy and the last applied sync, and waits while the provider is asked about its accounts"
    ),
    withApi
  )

const plansApprove = Command.make("approve", { plan: planArg, format }, ({ format, plan }) =>
  Effect.gen(function*() {
    const api = yield* HostApi
    yield* printPlan(yield* api.json("POST", planPath(plan, "/approve"), PlanSummary), format)
  })).pipe(Command.withDescription("Approves a plan (approver; not its author under four eyes)"), withApi)

const plansExecute = Command.make(
  "execute",
  { plan: planArg, noWait: wait, format },
  ({ format, noWait, plan }) =>
    Effect.gen(function*() {
      const api = yield* HostApi
      let current = yield* api.json("POST", planPath(plan, "/execute"), PlanSummary)
      if (!noWait) {
        let last = ""
        while (current.status === "running" || current.status === "approved") {
          const line = `${
            current.progress.done + current.progress.refused + current.progress.failed
          } of ${current.accounts}`
          if (line !== last && format !== "json") yield* Console.error(line)
          last = line
          yield* Effect.sleep(Duration.seconds(1))
          current = yield* api.json("GET", planPath(plan), PlanSummary)
        }
      }
      yield* printPlan(current, format)
      if (current.status === "stopped" || current.progress.failed > 0) process.exitCode = 1
    })
).pipe(
  Command.withDescription(
    "Executes an approved plan and waits for its end (exit code 1 if it stopped or an account failed)"
  ),
  withApi
)

const account = Options.text("account").pipe(
  Options.optional,
  Options.withDescription("Only this account (its external id)")
)

const plansUndo = Command.make(
  "undo",
  { plan: planArg, account, format },
  ({ account, format, plan }) =>
    Effect.gen(function*() {
      const api = yield* HostApi
      const undone = yield* api.json(
        "POST",
        planPath(plan, "/undo"),
        Schema.Struct({ undone: Schema.Number, items: Schema.Array(PlanItemRow) }),
        Option.isSome(account) ? { externalId: account.value } : {}
      )
      if (format === "json") return yield* Console.log(JSON.stringify(undone, null, 2))
      yield* Console.log(`${undone.undone} restored${
        undone.items.length === 0 ? "" : `: ${undone.items.map((i) => i.displayName).join(", ")}`
      }`)
    })
).pipe(
  Command.withDescription("Restores a plan's accounts (or one) as they were before it, within the grace period"),
  withApi
)

const plans = Command.make("plans").pipe(
  Command.withDescription("Reclaim plans: list, show, make, approve, execute, undo"),
  Command.withSubcommands([plansList, plansShow, plansMake, plansApprove, plansExecute, plansUndo])
)

const root = seatkeeper.pipe(
  Command.withDescription("Seatkeeper: who holds which licence, who stopped using it"),
  Command.withSubcommands([connections, sync, accounts, seats, plans])
)

/**
 * The CLI, for a runner: `run(process.argv)`.
 *
 * @since 0.2.0
 * @category running
 */
export const run = Command.run(root, { name: "seatkeeper", version: "0.2.0" })

run(process.argv).pipe(
  // What the host said, and what to do about it: no stack trace for an expected failure.
  Effect.catchTag(
    "HostApiError",
    (e) =>
      Console.error(`seatkeeper: ${e.message}${e.hint === undefined ? "" : `\n  ${e.hint}`}`).pipe(
        Effect.zipRight(Effect.sync(() => (process.exitCode = 1)))
      )
  ),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: false })
)
