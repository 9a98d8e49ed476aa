/**
 * Reclaiming through the API: `/api/connections/:id/policies`, `/api/policies/:id`, `/api/policies/:id/plans`,
 * `/api/plans/:id` (with `/items`, `/items.csv`, `/compare`, `/approve`, `/execute`, `/cancel`, `/undo`),
 * `/api/connections/:id/prices` and `/savings`; and the people: `/api/me`, `/api/users`, `/api/webhooks`.
 *
 * @since 0.2.0
 */
import { Price, ReclaimPolicy } from "@seatkeeper/core/Reclaim"
import { Plan, PlanItem, PlanProgress, StoredPolicy } from "@seatkeeper/core/ReclaimStore"
import { User } from "@seatkeeper/core/User"
import { Delivery, Webhook } from "@seatkeeper/core/Webhook"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import { csvResponse } from "../csv.js"
import { IntFromString } from "../inputs.js"
import { ItemsQuery, Reclaim, SavingsView, SetPrices, UndoBody } from "../services/Reclaim.js"
import { CreateUser, UpdateUser, Users, UserWithToken } from "../services/Users.js"
import { CreateWebhook, Webhooks } from "../services/Webhooks.js"
import { ListView, PageView } from "../views.js"
import { type ApiRoute, route } from "./Route.js"

const PolicyBody = Schema.Struct({ policy: ReclaimPolicy })
const PolicyView = StoredPolicy.annotations({ identifier: "Policy" })
const PlanView = Schema.Struct({
  ...Plan.fields,
  progress: Schema.Struct({
    ...PlanProgress.fields,
    /** Accounts not yet acted on (`pending` and `acting`): what the progress bar has left. */
    remaining: Schema.Int
  })
}).annotations({ identifier: "Plan" })
const planView = (plan: Plan): typeof PlanView.Type => ({
  ...plan,
  progress: { ...plan.progress, remaining: plan.progress.pending + plan.progress.acting }
})
const PlanItemView = PlanItem.annotations({ identifier: "PlanItem" })
const PlansQuery = Schema.Struct({
  limit: Schema.optionalWith(IntFromString(1, 200, "limit"), { default: () => 20 })
})
const Comparison = Schema.Struct({
  previousPlanId: Schema.NullOr(Schema.String),
  added: Schema.Array(Schema.String),
  dropped: Schema.Array(Schema.String)
}).annotations({ identifier: "PlanComparison" })
const Undone = Schema.Struct({ undone: Schema.Number, items: Schema.Array(PlanItemView) })
const Me = Schema.Struct({ name: Schema.String, role: Schema.String, userId: Schema.NullOr(Schema.String) })
const WebhookCreated = Schema.Struct({ ...Webhook.fields, secret: Schema.optional(Schema.String) })

/**
 * @since 0.2.0
 * @category routes
 */
export const reclaimRoutes: ReadonlyArray<ApiRoute> = [
  route({
    method: "get",
    path: "/me",
    tag: "people",
    summary: "Who the token belongs to, and their role",
    response: { status: 200, schema: Me },
    errors: [],
    handler: ({ principal }) => Effect.succeed(principal)
  }),
  route({
    method: "get",
    path: "/connections/:id/policies",
    tag: "reclaim",
    summary: "A connection's reclaim policies (their latest versions)",
    response: { status: 200, schema: ListView(PolicyView) },
    errors: [404, 503],
    handler: ({ params }) => Effect.map(Reclaim.listPolicies(params.id!), (data) => ({ data }))
  }),
  route({
    method: "post",
    path: "/connections/:id/policies",
    tag: "reclaim",
    summary: "Creates a reclaim policy (operator)",
    body: PolicyBody,
    response: { status: 201, schema: PolicyView },
    errors: [400, 403, 404, 413, 415, 503],
    handler: ({ body, params, principal }) => Reclaim.createPolicy(params.id!, body, principal)
  }),
  route({
    method: "get",
    path: "/policies/:id",
    tag: "reclaim",
    summary: "A policy's latest version",
    response: { status: 200, schema: PolicyView },
    errors: [404, 503],
    handler: ({ params }) => Reclaim.getPolicy(params.id!)
  }),
  route({
    method: "put",
    path: "/policies/:id",
    tag: "reclaim",
    summary: "Saves a new version of a policy (operator); plans keep the version they were made from",
    body: PolicyBody,
    response: { status: 200, schema: PolicyView },
    errors: [400, 403, 404, 413, 415, 503],
    handler: ({ body, params, principal }) => Reclaim.updatePolicy(params.id!, body, principal)
  }),
  route({
    method: "delete",
    path: "/policies/:id",
    tag: "reclaim",
    summary: "Archives a policy (operator); its plans stay",
    response: { status: 204 },
    errors: [403, 404, 503],
    handler: ({ params, principal }) => Reclaim.archivePolicy(params.id!, principal)
  }),
  route({
    method: "post",
    path: "/policies/:id/plans",
    tag: "reclaim",
    summary: "Makes a plan from the policy and the last applied sync, with each account's evidence (operator); " +
      "the provider's preflight answers are asked after it is saved: it is `checking` (progress.unchecked) until " +
      "every account has one, then in review",
    response: { status: 201, schema: PlanView },
    errors: [403, 404, 409, 502, 503],
    handler: ({ params, principal }) => Effect.map(Reclaim.makePlan(params.id!, principal), planView)
  }),
  route({
    method: "get",
    path: "/plans",
    tag: "reclaim",
    summary: "Plans, newest first",
    query: Schema.Struct({
      ...PlansQuery.fields,
      connectionId: Schema.optional(Schema.String),
      policyId: Schema.optional(Schema.String)
    }),
    response: { status: 200, schema: ListView(PlanView) },
    errors: [400, 503],
    handler: ({ query }) => Effect.map(Reclaim.listPlans(query), (data) => ({ data: data.map(planView) }))
  }),
  route({
    method: "get",
    path: "/plans/:id",
    tag: "reclaim",
    summary: "A plan with its progress (done / refused / failed / remaining)",
    response: { status: 200, schema: PlanView },
    errors: [404, 503],
    handler: ({ params }) => Effect.map(Reclaim.getPlan(params.id!), planView)
  }),
  route({
    method: "get",
    path: "/plans/:id/items",
    tag: "reclaim",
    summary: "A plan's accounts, in execution order, with evidence, preflight, state and journal",
    query: ItemsQuery,
    response: { status: 200, schema: PageView(PlanItemView) },
    errors: [400, 404, 503],
    handler: ({ params, query }) => Reclaim.listItems(params.id!, query)
  }),
  route({
    method: "get",
    path: "/plans/:id/items.csv",
    tag: "reclaim",
    summary: "A plan's accounts as CSV",
    response: { status: 200, mediaType: "text/csv" },
    errors: [404, 503],
    raw: true,
    handler: ({ params }) =>
      csvResponse({
        filename: `seatkeeper-plan-${params.id}.csv`,
        columns: [
          { header: "externalId", cell: (i: PlanItem) => i.externalId },
          { header: "displayName", cell: (i) => i.displayName },
          { header: "email", cell: (i) => i.email },
          { header: "action", cell: (i) => i.action },
          { header: "method", cell: (i) => i.preflight?.methodLabel },
          { header: "allowed", cell: (i) => i.preflight?.allowed },
          { header: "refusedBecause", cell: (i) => i.preflight?.reason },
          { header: "seats", cell: (i) => i.seats.map((s) => s.name).join("; ") },
          {
            header: "lastActive",
            cell: (i) => i.seats.map((s) => `${s.product}: ${s.lastActiveAt ?? "never"}`).join("; ")
          },
          { header: "monthly", cell: (i) => Object.entries(i.monthly).map(([c, a]) => `${a} ${c}`).join("; ") },
          { header: "state", cell: (i) => i.state },
          { header: "result", cell: (i) => i.result }
        ],
        fetch: (cursor) => Reclaim.listItems(params.id!, { limit: 500, cursor })
      })
  }),
  route({
    method: "get",
    path: "/plans/:id/compare",
    tag: "reclaim",
    summary: "Who is new in this plan and who dropped out, against the previous plan of its policy",
    response: { status: 200, schema: Comparison },
    errors: [404, 503],
    handler: ({ params }) =>
      Effect.map(Reclaim.compare(params.id!), (c) => ({
        previousPlanId: c.previousPlanId,
        added: c.added.map((i) => i.externalId),
        dropped: c.dropped.map((i) => i.externalId)
      }))
  }),
  route({
    method: "post",
    path: "/plans/:id/approve",
    role: "approver",
    tag: "reclaim",
    summary: "Approves a plan (approver; under four eyes, not its author)",
    response: { status: 200, schema: PlanView },
    errors: [403, 404, 409, 503],
    handler: ({ params, principal }) => Effect.map(Reclaim.approve(params.id!, principal), planView)
  }),
  route({
    method: "post",
    path: "/plans/:id/execute",
    tag: "reclaim",
    summary: "Starts (or resumes) an approved plan's execution in the background (operator); poll GET /api/plans/{id}",
    response: { status: 202, schema: PlanView },
    errors: [403, 404, 409, 503],
    handler: ({ params, principal }) => Effect.map(Reclaim.execute(params.id!, principal), planView)
  }),
  route({
    method: "post",
    path: "/plans/:id/cancel",
    tag: "reclaim",
    summary: "Cancels a plan not yet executed (operator)",
    response: { status: 200, schema: PlanView },
    errors: [403, 404, 409, 503],
    handler: ({ params, principal }) => Effect.map(Reclaim.cancel(params.id!, principal), planView)
  }),
  route({
    method: "post",
    path: "/plans/:id/undo",
    tag: "reclaim",
    summary: "Restores one account of a plan, or every done one, within the policy's grace period (operator)",
    body: UndoBody,
    response: { status: 200, schema: Undone },
    errors: [400, 403, 404, 409, 413, 415, 502, 503],
    handler: ({ body, params, principal }) => Reclaim.undo(params.id!, body, principal)
  }),
  route({
    method: "get",
    path: "/connections/:id/prices",
    tag: "reclaim",
    summary: "Prices per seat per product (and plan)",
    response: { status: 200, schema: ListView(Price) },
    errors: [404, 503],
    handler: ({ params }) => Effect.map(Reclaim.listPrices(params.id!), (data) => ({ data }))
  }),
  route({
    method: "put",
    path: "/connections/:id/prices",
    role: "admin",
    tag: "reclaim",
    summary: "Replaces the prices per seat (admin)",
    body: SetPrices,
    response: { status: 200, schema: ListView(Price) },
    errors: [400, 403, 404, 413, 415, 503],
    handler: ({ body, params, principal }) => Reclaim.setPrices(params.id!, body, principal)
  }),
  route({
    method: "get",
    path: "/connections/:id/savings",
    tag: "reclaim",
    summary:
      "Potential savings per inactivity bucket, and savings realised by executed plans once a sync confirmed them",
    response: { status: 200, schema: SavingsView },
    errors: [404, 503],
    handler: ({ params }) => Reclaim.savings(params.id!)
  }),
  route({
    method: "get",
    path: "/users",
    role: "admin",
    tag: "people",
    summary: "The host's users (admin)",
    response: { status: 200, schema: ListView(User) },
    errors: [403, 503],
    handler: ({ principal }) => Effect.map(Users.list(principal), (data) => ({ data }))
  }),
  route({
    method: "post",
    path: "/users",
    role: "admin",
    tag: "people",
    summary: "Creates a user with a role and their own token, shown once (admin)",
    body: CreateUser,
    response: { status: 201, schema: UserWithToken },
    errors: [400, 403, 413, 415, 503],
    handler: ({ body, principal }) => Users.create(body, principal)
  }),
  route({
    method: "patch",
    path: "/users/:id",
    role: "admin",
    tag: "people",
    summary: "Changes a user's role, disables them, or issues a new token (admin)",
    body: UpdateUser,
    response: { status: 200, schema: Schema.Union(UserWithToken, User) },
    errors: [400, 403, 404, 413, 415, 503],
    handler: ({ body, params, principal }) => Users.update(params.id!, body, principal)
  }),
  route({
    method: "get",
    path: "/webhooks",
    role: "admin",
    tag: "people",
    summary: "Webhooks (admin)",
    response: { status: 200, schema: ListView(Webhook) },
    errors: [403, 503],
    handler: ({ principal }) => Effect.map(Webhooks.list(principal), (data) => ({ data }))
  }),
  route({
    method: "post",
    path: "/webhooks",
    role: "admin",
    tag: "people",
    summary: "Adds a webhook for some events; a generated signing secret is shown once (admin)",
    body: CreateWebhook,
    response: { status: 201, schema: WebhookCreated },
    errors: [400, 403, 413, 415, 503],
    handler: ({ body, principal }) => Webhooks.create(body, principal)
  }),
  route({
    method: "delete",
    path: "/webhooks/:id",
    role: "admin",
    tag: "people",
    summary: "Removes a webhook (admin)",
    response: { status: 204 },
    errors: [403, 404, 503],
    handler: ({ params, principal }) => Webhooks.remove(params.id!, principal)
  }),
  route({
    method: "get",
    path: "/webhooks/:id/deliveries",
    role: "admin",
    tag: "people",
    summary: "A webhook's latest deliveries (admin)",
    response: { status: 200, schema: ListView(Delivery) },
    errors: [403, 404, 503],
    handler: ({ params, principal }) => Effect.map(Webhooks.deliveries(params.id!, principal), (data) => ({ data }))
  })
]
