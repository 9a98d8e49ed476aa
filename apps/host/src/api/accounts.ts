/**
 * `/api/connections/:id/accounts` (and suspend, restore), `/seats`, `/products`, `/totals`, and their CSV
 * exports. `externalId` arrives URL-encoded (Atlassian ids contain `:`); the router decodes it.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { type Column, csvResponse } from "../csv.js"
import { AccountAction, AccountFilters, IntFromString, SeatFilters } from "../inputs.js"
import { Accounts, ActionView } from "../services/Accounts.js"
import {
  AccountDetailView,
  type AccountView,
  AccountView as AccountViewSchema,
  ListView,
  PageView,
  ProductTrendView,
  ProductView,
  SeatView,
  type SeatView as SeatViewType
} from "../views.js"
import { route } from "./Route.js"

const TrendQuery = Schema.Struct({
  runs: Schema.optionalWith(
    IntFromString(1, 100, "runs"),
    { default: () => 10 }
  )
})

const ActionResult = Schema.Struct({ account: AccountViewSchema, action: ActionView }).annotations({
  identifier: "ActionResult"
})

const TotalsView = Schema.Struct({
  accounts: Schema.Number,
  byStatus: Schema.Record({ key: Schema.String, value: Schema.Number }),
  billableAccounts: Schema.Number,
  seats: Schema.Number,
  unused30: Schema.Number,
  unused60: Schema.Number,
  unused90: Schema.Number
}).annotations({ identifier: "InventoryTotals" })

/**
 * An export reads the list a page at a time, each an index walk from the previous page's last row, and
 * without its count (a count per page would make an export's time grow with the square of the list).
 */
const EXPORT_PAGE = 1_000

const products = (a: AccountView) => a.entitlements.filter((e) => e.status === "active").map((e) => e.name).join("; ")

const accountColumns: ReadonlyArray<Column<AccountView>> = [
  { header: "externalId", cell: (a) => a.externalId },
  { header: "displayName", cell: (a) => a.displayName },
  { header: "email", cell: (a) => a.email },
  { header: "accountType", cell: (a) => a.accountType },
  { header: "status", cell: (a) => a.status },
  { header: "sourceStatus", cell: (a) => a.sourceStatus },
  { header: "billable", cell: (a) => a.billable },
  { header: "managed", cell: (a) => a.managed },
  { header: "lastActiveAt", cell: (a) => a.lastActiveAt },
  { header: "products", cell: products },
  { header: "firstSeenAt", cell: (a) => a.firstSeenAt },
  { header: "lastSeenAt", cell: (a) => a.lastSeenAt }
]

const seatColumns: ReadonlyArray<Column<SeatViewType>> = [
  { header: "externalId", cell: (s) => s.account.externalId },
  { header: "displayName", cell: (s) => s.account.displayName },
  { header: "email", cell: (s) => s.account.email },
  { header: "product", cell: (s) => s.entitlement.product },
  { header: "entitlement", cell: (s) => s.entitlement.name },
  { header: "entitlementKey", cell: (s) => s.entitlement.key },
  { header: "lastActiveAt", cell: (s) => s.entitlement.lastActiveAt },
  { header: "accountLastActiveAt", cell: (s) => s.account.lastActiveAt }
]

/**
 * @since 0.2.0
 * @category routes
 */
export const accountRoutes = [
  route({
    method: "get",
    path: "/connections/:id/accounts",
    tag: "inventory",
    summary: "A connection's accounts, filtered, sorted and paged (next and previous)",
    query: AccountFilters,
    response: { status: 200, schema: PageView(AccountViewSchema) },
    errors: [400, 404, 503],
    handler: ({ params, query }) => Accounts.list(params.id!, query)
  }),
  route({
    method: "get",
    path: "/connections/:id/accounts.csv",
    tag: "inventory",
    summary: "The accounts the filters match, as CSV",
    query: AccountFilters,
    response: { status: 200, mediaType: "text/csv" },
    errors: [400, 404, 503],
    raw: true,
    handler: ({ params, query }) =>
      csvResponse({
        filename: "seatkeeper-accounts.csv",
        columns: accountColumns,
        fetch: (cursor) => Accounts.list(params.id!, { ...query, limit: EXPORT_PAGE, cursor }, { withTotal: false })
      })
  }),
  route({
    method: "get",
    path: "/connections/:id/accounts/:externalId",
    tag: "inventory",
    summary: "One account with its products, status history and where its activity values come from",
    response: { status: 200, schema: AccountDetailView },
    errors: [404, 503],
    handler: ({ params }) => Accounts.get(params.id!, params.externalId!)
  }),
  route({
    method: "post",
    path: "/connections/:id/accounts/:externalId/suspend",
    tag: "actions",
    description: "Without a body it is a real suspend with the defaults; send `{\"dryRun\": true}` for a preview. " +
      "An account already suspended is 409: there is nothing to suspend.",
    bodyOptional: true,
    summary: "Suspends an account upstream (or, with dryRun, asks the provider's preflight what would happen)",
    body: AccountAction,
    response: { status: 200, schema: ActionResult },
    errors: [400, 404, 409, 413, 415, 422, 502, 503],
    handler: ({ body, params, principal }) => Accounts.suspend(params.id!, params.externalId!, body, principal)
  }),
  route({
    method: "post",
    path: "/connections/:id/accounts/:externalId/restore",
    tag: "actions",
    description: "Without a body it is a real restore with the defaults; send `{\"dryRun\": true}` for a preview. " +
      "An account already active is 409: there is nothing to restore.",
    bodyOptional: true,
    summary: "Restores a suspended account upstream (pass the suspend's method to undo exactly)",
    body: AccountAction,
    response: { status: 200, schema: ActionResult },
    errors: [400, 404, 409, 413, 415, 422, 502, 503],
    handler: ({ body, params, principal }) => Accounts.restore(params.id!, params.externalId!, body, principal)
  }),
  route({
    method: "get",
    path: "/connections/:id/seats",
    tag: "inventory",
    summary: "Seats (active entitlements of active, billable accounts), filtered by product instance, product, " +
      "plan and use, as every seat count links to them",
    query: SeatFilters,
    response: { status: 200, schema: PageView(SeatView) },
    errors: [400, 404, 503],
    handler: ({ params, query }) => Accounts.seats(params.id!, query)
  }),
  route({
    method: "get",
    path: "/connections/:id/seats.csv",
    tag: "inventory",
    summary: "The seats the filters match, as CSV",
    query: SeatFilters,
    response: { status: 200, mediaType: "text/csv" },
    errors: [400, 404, 503],
    raw: true,
    handler: ({ params, query }) =>
      csvResponse({
        filename: "seatkeeper-seats.csv",
        columns: seatColumns,
        fetch: (cursor) => Accounts.seats(params.id!, { ...query, limit: EXPORT_PAGE, cursor }, { withTotal: false })
      })
  }),
  route({
    method: "get",
    path: "/connections/:id/products",
    tag: "inventory",
    summary: "Every product instance with its plan, seats bought, assigned, billable, used and unused",
    response: { status: 200, schema: ListView(ProductView) },
    errors: [404, 503],
    handler: ({ params }) => Effect.map(Accounts.products(params.id!), (data) => ({ data }))
  }),
  route({
    method: "get",
    path: "/connections/:id/products.csv",
    tag: "inventory",
    summary: "The product instances as CSV",
    response: { status: 200, mediaType: "text/csv" },
    errors: [404, 503],
    raw: true,
    handler: ({ params }) =>
      Effect.flatMap(Accounts.products(params.id!), (data) =>
        csvResponse({
          filename: "seatkeeper-products.csv",
          columns: [
            { header: "key", cell: (p) => p.key },
            { header: "name", cell: (p) => p.name },
            { header: "product", cell: (p) => p.product },
            { header: "siteHost", cell: (p) => p.siteHost },
            { header: "plan", cell: (p) => p.plan },
            { header: "edition", cell: (p) => p.edition },
            { header: "seatsPurchased", cell: (p) => p.seatsPurchased },
            { header: "assigned", cell: (p) => p.assigned },
            { header: "seats", cell: (p) => p.seats },
            { header: "used30", cell: (p) => p.used30 },
            { header: "used60", cell: (p) => p.used60 },
            { header: "used90", cell: (p) => p.used90 },
            { header: "unused30", cell: (p) => p.unused30 },
            { header: "unused60", cell: (p) => p.unused60 },
            { header: "unused90", cell: (p) => p.unused90 }
          ],
          fetch: () => Effect.succeed({ data, nextCursor: null, prevCursor: null, total: data.length })
        }))
  }),
  route({
    method: "get",
    path: "/connections/:id/products/trend",
    tag: "inventory",
    summary: "Each product instance's counts after each of the last applied runs, oldest first",
    query: TrendQuery,
    response: { status: 200, schema: ListView(ProductTrendView) },
    errors: [400, 404, 503],
    handler: ({ params, query }) => Effect.map(Accounts.trend(params.id!, query.runs), (data) => ({ data }))
  }),
  route({
    method: "get",
    path: "/connections/:id/totals",
    tag: "inventory",
    summary: "Account counts by status and seat counts, each equal to the total of the list its filters give",
    response: { status: 200, schema: TotalsView },
    errors: [404, 503],
    handler: ({ params }) => Accounts.totals(params.id!)
  })
]
