/**
 * `/api/connections/:id/syncs`, `/api/syncs/:id` and the decisions on a held run (`/apply`, `/discard`).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { PageQuery } from "../inputs.js"
import { Syncs } from "../services/Syncs.js"
import { SyncView } from "../views.js"
import { route } from "./Route.js"

/**
 * @since 0.2.0
 * @category routes
 */
export const syncRoutes = [
  route({
    method: "post",
    path: "/connections/:id/syncs",
    tag: "syncs",
    summary: "Starts a sync; it runs in the background (poll GET /api/syncs/{id})",
    response: { status: 202, schema: SyncView },
    errors: [404, 409, 503],
    handler: ({ params, principal }) => Syncs.start(params.id!, principal)
  }),
  route({
    method: "get",
    path: "/connections/:id/syncs",
    tag: "syncs",
    summary: "A connection's sync runs, newest first, a page at a time (follow nextCursor)",
    query: PageQuery,
    response: {
      status: 200,
      schema: Schema.Struct({ data: Schema.Array(SyncView), nextCursor: Schema.NullOr(Schema.String) }).annotations({
        identifier: "SyncRunsPage"
      })
    },
    errors: [400, 404, 503],
    handler: ({ params, query }) => Syncs.page(params.id!, query.limit, query.cursor)
  }),
  route({
    method: "get",
    path: "/syncs/:id",
    tag: "syncs",
    summary: "One sync run: its status, counts, error or hold",
    response: { status: 200, schema: SyncView },
    errors: [404, 503],
    handler: ({ params }) => Syncs.get(params.id!)
  }),
  route({
    method: "post",
    path: "/syncs/:id/apply",
    tag: "syncs",
    summary: "Applies a held run (audited): what it read becomes the inventory, in one commit",
    response: { status: 200, schema: SyncView },
    errors: [404, 409, 503],
    handler: ({ params, principal }) => Syncs.applyHeld(params.id!, principal)
  }),
  route({
    method: "post",
    path: "/syncs/:id/discard",
    tag: "syncs",
    summary: "Discards a held run (audited): nothing of it is applied",
    response: { status: 200, schema: SyncView },
    errors: [404, 409, 503],
    handler: ({ params, principal }) => Syncs.discardHeld(params.id!, principal)
  })
]
