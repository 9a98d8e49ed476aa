/**
 * `ReclaimStore`, `UserStore` and `WebhookStore` in memory: part of `MemoryStore.layer()`, and the
 * reference the SQL store is held to.
 *
 * @since 0.2.0
 */
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Crypto from "node:crypto"
import type { AccountStatus } from "../Account.js"
import type { Page } from "../Inventory.js"
import type { Price } from "../Reclaim.js"
import {
  byExternalId,
  type ItemOutcome,
  type Journal,
  type NewPlan,
  newPlan,
  type Plan,
  type PlanItem,
  type PlanProgress,
  ReclaimStore,
  type StoredPolicy
} from "../ReclaimStore.js"
import { StoreError } from "../StoreError.js"
import { type User, UserStore } from "../User.js"
import { type Delivery, type Webhook, WebhookStore, type WebhookTarget } from "../Webhook.js"

const iso = (ms: number) => new Date(ms).toISOString()
const conflict = (description: string) => new StoreError({ reason: "Conflict", description })
const notFound = (description: string) => new StoreError({ reason: "NotFound", description })

type Mutable<A> = { -readonly [K in keyof A]: A[K] }

/**
 * The reclaim store in memory. `leaseMs` is how long a plan's execution lease lives without renewal;
 * `removeConnection` drops what belongs to a removed connection.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeReclaimStore = (options: {
  readonly leaseMs: number
  /** The stored status of an account (`undefined`: not stored), for `actedCost`. */
  readonly accountStatus: (connectionId: string, externalId: string) => AccountStatus | undefined
}) => {
  const policies = new Map<string, Array<StoredPolicy>>()
  const prices = new Map<string, ReadonlyArray<Price>>()
  const plans = new Map<string, Mutable<Plan>>()
  const items = new Map<string, Array<Mutable<PlanItem>>>()
  const leases = new Map<string, { owner: string; expiresAt: number }>()
  const now = Clock.currentTimeMillis

  const progressOf = (planId: string): PlanProgress => {
    const p = { pending: 0, acting: 0, done: 0, refused: 0, failed: 0, skipped: 0, undone: 0, unchecked: 0 }
    const checking = plans.get(planId)?.status === "checking"
    for (const item of items.get(planId) ?? []) {
      p[item.state]++
      if (checking && item.preflight === null) p.unchecked++
    }
    return p
  }
  const view = (plan: Mutable<Plan>): Plan => ({ ...plan, progress: progressOf(plan.id) })
  const requirePlan = (id: string) =>
    Effect.suspend(() => {
      const plan = plans.get(id)
      return plan === undefined ? Effect.fail(notFound(`plan ${id} does not exist`)) : Effect.succeed(plan)
    })
  const requireItem = (planId: string, externalId: string) =>
    Effect.suspend(() => {
      const item = items.get(planId)?.find((i) => i.externalId === externalId)
      return item === undefined
        ? Effect.fail(notFound(`plan ${planId} has no account ${externalId}`))
        : Effect.succeed(item)
    })
  const holds = (planId: string, owner: string, at: number) => {
    const lease = leases.get(planId)
    return lease !== undefined && lease.owner === owner && lease.expiresAt >= at
  }
  /** Whether another job than `owner` holds the plan's unexpired lease (a claim is then refused). */
  const heldByAnother = (planId: string, owner: string, at: number) => {
    const lease = leases.get(planId)
    return lease !== undefined && lease.owner !== owner && lease.expiresAt >= at
  }
  /** An item to write as the job `owner`: only while it holds the plan's unexpired lease. */
  const fencedItem = (planId: string, owner: string, externalId: string) =>
    Effect.gen(function*() {
      const item = yield* requireItem(planId, externalId)
      if (!holds(planId, owner, yield* now)) {
        return yield* conflict(
          `the execution of plan ${planId} lost its lease: ${owner} may no longer write its accounts`
        )
      }
      return item
    })

  const store = ReclaimStore.of({
    leaseDuration: Duration.millis(options.leaseMs),
    createPolicy: (connectionId, policy, actor) =>
      Effect.map(now, (ms) => {
        const stored: StoredPolicy = {
          id: Crypto.randomUUID(),
          connectionId,
          version: 1,
          policy,
          createdBy: actor,
          createdAt: iso(ms),
          updatedAt: iso(ms),
          archived: false
        }
        policies.set(stored.id, [stored])
        return stored
      }),
    updatePolicy: (id, policy, actor) =>
      Effect.map(now, (ms) => {
        const versions = policies.get(id)
        if (versions === undefined) return Option.none()
        const last = versions[versions.length - 1]!
        const next: StoredPolicy = { ...last, version: last.version + 1, policy, createdBy: actor, updatedAt: iso(ms) }
        versions.push(next)
        return Option.some(next)
      }),
    archivePolicy: (id) =>
      Effect.sync(() => {
        const versions = policies.get(id)
        if (versions === undefined) return false
        versions[versions.length - 1] = { ...versions[versions.length - 1]!, archived: true }
        return true
      }),
    getPolicy: (id, version) =>
      Effect.sync(() => {
        const versions = policies.get(id) ?? []
        return Option.fromNullable(
          version === undefined ? versions[versions.length - 1] : versions.find((v) => v.version === version)
        )
      }),
    listPolicies: (connectionId) =>
      Effect.sync(() =>
        [...policies.values()].map((v) => v[v.length - 1]!).filter((p) =>
          p.connectionId === connectionId && !p.archived
        )
          .sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : a.id < b.id ? -1 : 1))
      ),
    setPrices: (connectionId, list) => Effect.sync(() => void prices.set(connectionId, [...list])),
    listPrices: (connectionId) => Effect.sync(() => prices.get(connectionId) ?? []),
    createPlan: (input: NewPlan) =>
      Effect.flatMap(now, (ms) => {
        // An account is acted on once: the items are looked up by its id.
        const seen = new Set<string>()
        const twice = input.items.find((i) => seen.size === seen.add(i.externalId).size)
        if (twice !== undefined) return Effect.fail(conflict(`account ${twice.externalId} is in the plan twice`))
        const id = Crypto.randomUUID()
        const plan: Mutable<Plan> = {
          ...newPlan(input, id, iso(ms)),
          excluded: [...input.excluded],
          progress: progressOf(id)
        }
        plans.set(id, plan)
        items.set(
          id,
          input.items.map((item, position) => ({
            ...item,
            // A checking plan's preflights are asked after it is saved.
            preflight: input.checking === true ? null : item.preflight,
            planId: id,
            position,
            state: "pending",
            journal: null,
            result: null,
            doneAt: null,
            undoneAt: null
          }))
        )
        return Effect.succeed(view(plan))
      }),
    getPlan: (id) => Effect.sync(() => Option.map(Option.fromNullable(plans.get(id)), view)),
    freedSeats: (planId) =>
      Effect.sync(() => {
        const counts = new Map<string, { product: string; name: string; plan: string | null; seats: number }>()
        for (const item of items.get(planId) ?? []) {
          for (const seat of item.seats) {
            const key = `${seat.product}\u0000${seat.plan ?? ""}`
            const count = counts.get(key) ?? { product: seat.product, name: seat.name, plan: seat.plan, seats: 0 }
            count.seats++
            counts.set(key, count)
          }
        }
        return [...counts.values()]
      }),
    actedCost: (connectionId, confirmedBy) =>
      Effect.sync(() => {
        // The newest done action per account: by when it was done, then by the newer plan.
        const newest = new Map<string, { item: PlanItem; plan: Plan }>()
        for (const plan of plans.values()) {
          if (plan.connectionId !== connectionId) continue
          for (const item of items.get(plan.id) ?? []) {
            if (item.state !== "done") continue
            const seen = newest.get(item.externalId)
            const newer = seen === undefined || (item.doneAt ?? "") > (seen.item.doneAt ?? "") ||
              ((item.doneAt ?? "") === (seen.item.doneAt ?? "") &&
                (plan.createdAt > seen.plan.createdAt ||
                  (plan.createdAt === seen.plan.createdAt && plan.id > seen.plan.id)))
            if (newer) newest.set(item.externalId, { item, plan })
          }
        }
        const confirmed: Record<string, number> = {}
        const awaiting: Record<string, number> = {}
        for (const { item } of newest.values()) {
          const gone = options.accountStatus(connectionId, item.externalId) !== "active"
          const into = confirmedBy !== null && item.doneAt !== null && item.doneAt < confirmedBy && gone
            ? confirmed
            : awaiting
          for (const [currency, amount] of Object.entries(item.monthly)) into[currency] = (into[currency] ?? 0) + amount
        }
        const cents = (money: Record<string, number>) =>
          Object.fromEntries(
            Object.entries(money).map(([currency, amount]) => [currency, Math.round(amount * 100) / 100])
          )
        return { confirmed: cents(confirmed), awaiting: cents(awaiting) }
      }),
    compareItems: (planId, otherId) =>
      Effect.sync(() => {
        const mine = items.get(planId) ?? []
        const theirs = otherId === null ? [] : items.get(otherId) ?? []
        const ids = (list: ReadonlyArray<PlanItem>) => new Set(list.map((i) => i.externalId))
        const only = (list: ReadonlyArray<PlanItem>, other: ReadonlySet<string>) =>
          list.filter((i) => !other.has(i.externalId)).map(({ displayName, externalId }) => ({
            externalId,
            displayName
          }))
            .sort(byExternalId)
        return { added: only(mine, ids(theirs)), dropped: only(theirs, ids(mine)) }
      }),
    listPlans: (query) =>
      Effect.sync(() =>
        [...plans.values()]
          .filter((p) =>
            (query.connectionId === undefined || p.connectionId === query.connectionId) &&
            (query.policyId === undefined || p.policyId === query.policyId) &&
            (query.before === undefined || p.createdAt < query.before.createdAt ||
              (p.createdAt === query.before.createdAt && p.id < query.before.id))
          )
          .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1))
          .slice(0, Math.max(1, Math.min(1_000, query.limit)))
          .map(view)
      ),
    listItems: (query) =>
      Effect.suspend(() => {
        const all = (items.get(query.planId) ?? []).filter((i) => query.state === undefined || i.state === query.state)
        let start = 0
        // A cursor names its list (the plan and the state filter), as every other list's does.
        const list = `${query.planId}.${query.state ?? "*"}`
        if (query.cursor !== undefined && query.cursor !== "") {
          const position = /^mem\.item\.(.+)\.(\d+)$/.exec(query.cursor)
          if (position === null || position[1] !== list) {
            return Effect.fail(
              new StoreError({ reason: "Corrupt", description: "the cursor is not one this list returned" })
            )
          }
          start = all.findIndex((i) => i.position > Number(position[2]))
          if (start === -1) start = all.length
        }
        const limit = Math.max(1, Math.min(1_000, query.limit))
        const data = all.slice(start, start + limit)
        const last = data[data.length - 1]
        const page: Page<PlanItem> = {
          data: data.map((i) => ({ ...i })),
          nextCursor: start + limit < all.length && last !== undefined ? `mem.item.${list}.${last.position}` : null,
          prevCursor: null,
          total: all.length
        }
        return Effect.succeed(page)
      }),
    getItem: (planId, externalId) =>
      Effect.sync(() =>
        Option.map(Option.fromNullable(items.get(planId)?.find((i) => i.externalId === externalId)), (i) => ({ ...i }))
      ),
    approve: (planId, actor) =>
      Effect.gen(function*() {
        const plan = yield* requirePlan(planId)
        if (plan.status !== "review") {
          return yield* conflict(`plan ${planId} is ${plan.status}, not waiting for approval`)
        }
        plan.status = "approved"
        plan.approvedBy = actor
        plan.approvedAt = iso(yield* now)
        return view(plan)
      }),
    cancel: (planId, actor) =>
      Effect.gen(function*() {
        const plan = yield* requirePlan(planId)
        if (plan.status !== "checking" && plan.status !== "review" && plan.status !== "approved") {
          return yield* conflict(`plan ${planId} is ${plan.status}`)
        }
        if (plan.status === "checking") leases.delete(planId)
        plan.status = "cancelled"
        plan.cancelledBy = actor
        plan.finishedAt = iso(yield* now)
        return view(plan)
      }),
    claim: (planId, owner) =>
      Effect.gen(function*() {
        const at = yield* now
        const plan = yield* requirePlan(planId)
        if (heldByAnother(planId, owner, at)) return yield* conflict(`plan ${planId} is being executed by another job`)
        if (plan.blockedBecause !== null) {
          return yield* conflict(`plan ${planId} cannot be executed: ${plan.blockedBecause}`)
        }
        if (plan.status !== "approved" && plan.status !== "stopped" && plan.status !== "running") {
          return yield* conflict(`plan ${planId} is ${plan.status}: only an approved plan is executed`)
        }
        leases.set(planId, { owner, expiresAt: at + options.leaseMs })
        if (plan.startedAt === null) plan.startedAt = iso(at)
        plan.status = "running"
        plan.stoppedBecause = null
        return view(plan)
      }),
    claimChecking: (planId, owner) =>
      Effect.gen(function*() {
        const at = yield* now
        const plan = yield* requirePlan(planId)
        if (heldByAnother(planId, owner, at)) return yield* conflict(`plan ${planId} is being checked by another job`)
        if (plan.status !== "checking") return yield* conflict(`plan ${planId} is ${plan.status}, not checking`)
        leases.set(planId, { owner, expiresAt: at + options.leaseMs })
        return view(plan)
      }),
    uncheckedItems: (planId, limit) =>
      Effect.sync(() =>
        plans.get(planId)?.status !== "checking"
          ? []
          : (items.get(planId) ?? []).filter((i) => i.preflight === null).slice(0, Math.max(0, limit)).map((i) => ({
            ...i
          }))
      ),
    checkItems: (planId, owner, checked) =>
      Effect.gen(function*() {
        const plan = yield* requirePlan(planId)
        const found = yield* Effect.forEach(checked, (c) => requireItem(planId, c.externalId))
        if (!holds(planId, owner, yield* now) || plan.status !== "checking") {
          return yield* conflict(
            `the check of plan ${planId} lost its lease: ${owner} may no longer write its accounts`
          )
        }
        found.forEach((item, i) => {
          item.preflight = checked[i]!.preflight
        })
      }),
    finishChecking: (planId, owner, outcome) =>
      Effect.gen(function*() {
        const at = yield* now
        const plan = yield* requirePlan(planId)
        if (!holds(planId, owner, at) || plan.status !== "checking") {
          return yield* conflict(`the check of plan ${planId} lost its lease`)
        }
        if (outcome.status === "review" && (items.get(planId) ?? []).some((i) => i.preflight === null)) {
          return yield* conflict(`plan ${planId} has accounts still to be checked`)
        }
        leases.delete(planId)
        plan.status = outcome.status
        if (outcome.status === "cancelled") {
          plan.cancelledBy = "system"
          plan.stoppedBecause = outcome.reason
          plan.finishedAt = iso(at)
        }
        return view(plan)
      }),
    renew: (planId, owner) =>
      Effect.gen(function*() {
        const at = yield* now
        if (!holds(planId, owner, at)) return yield* conflict(`the execution of plan ${planId} lost its lease`)
        leases.get(planId)!.expiresAt = at + options.leaseMs
      }),
    nextItems: (planId, limit) =>
      Effect.sync(() => {
        const all = items.get(planId) ?? []
        return [...all.filter((i) => i.state === "acting"), ...all.filter((i) => i.state === "pending")].slice(0, limit)
          .map((i) => ({ ...i }))
      }),
    journal: (planId, owner, externalId, journal: Journal) =>
      Effect.map(fencedItem(planId, owner, externalId), (item) => {
        item.journal = journal
        item.state = "acting"
      }),
    finishItem: (planId, owner, externalId, outcome: ItemOutcome) =>
      Effect.gen(function*() {
        const item = yield* fencedItem(planId, owner, externalId)
        item.state = outcome.state
        item.result = outcome.result
        if (outcome.state === "done") item.doneAt = iso(yield* now)
      }),
    finishPlan: (planId, owner, outcome) =>
      Effect.gen(function*() {
        const at = yield* now
        const plan = yield* requirePlan(planId)
        // A job that lost its lease to another (or whose plan another job finished) changes nothing.
        if (leases.get(planId)?.owner !== owner || plan.status !== "running") {
          return yield* conflict(`the execution of plan ${planId} lost its lease`)
        }
        leases.delete(planId)
        plan.status = outcome.status
        plan.stoppedBecause = outcome.status === "stopped" ? outcome.reason : null
        plan.finishedAt = iso(at)
        return view(plan)
      }),
    abandonedPlans: Effect.map(
      now,
      (at) =>
        [...plans.values()].filter((p) =>
          (p.status === "running" || p.status === "checking") && (leases.get(p.id)?.expiresAt ?? 0) < at
        ).map(view)
    ),
    markUndone: (planId, externalId) =>
      Effect.gen(function*() {
        const item = yield* requireItem(planId, externalId)
        if (item.state !== "done") {
          return yield* conflict(`account ${externalId} of plan ${planId} is ${item.state}, not done`)
        }
        item.state = "undone"
        item.undoneAt = iso(yield* now)
      })
  })
  /** A plan of the connection that a job is executing (`running`, its lease unexpired), if any. */
  const executing = (connectionId: string, at: number): Plan | undefined => {
    for (const plan of plans.values()) {
      if (plan.connectionId !== connectionId || plan.status !== "running") continue
      const lease = leases.get(plan.id)
      if (lease !== undefined && lease.expiresAt >= at) return view(plan)
    }
    return undefined
  }
  /** Drops a connection's policies, prices and plans (the connection store's `remove` calls it). */
  const removeConnection = (connectionId: string): void => {
    for (const [id, versions] of policies) if (versions[0]!.connectionId === connectionId) policies.delete(id)
    prices.delete(connectionId)
    for (const [id, plan] of plans) {
      if (plan.connectionId !== connectionId) continue
      plans.delete(id)
      items.delete(id)
      leases.delete(id)
    }
  }
  return Object.assign(store, { removeConnection, executing })
}

/**
 * The user store in memory.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeUserStore = () => {
  const users = new Map<string, Mutable<User> & { tokenHash: string }>()
  const strip = ({ tokenHash: _t, ...user }: Mutable<User> & { tokenHash: string }): User => ({ ...user })
  return UserStore.of({
    create: (input) =>
      Effect.gen(function*() {
        if ([...users.values()].some((u) => u.name.toLowerCase() === input.name.toLowerCase())) {
          return yield* conflict(`a user named ${input.name} exists`)
        }
        // A token names one person: the hashes are unique.
        if ([...users.values()].some((u) => u.tokenHash === input.tokenHash)) {
          return yield* conflict("that token is another user's")
        }
        const user = {
          id: Crypto.randomUUID(),
          name: input.name,
          role: input.role,
          createdBy: input.createdBy,
          createdAt: iso(yield* Clock.currentTimeMillis),
          disabledAt: null,
          tokenHash: input.tokenHash
        }
        users.set(user.id, user)
        return strip(user)
      }),
    list: Effect.sync(() => [...users.values()].map(strip).sort((a, b) => a.name.localeCompare(b.name))),
    get: (id) => Effect.sync(() => Option.map(Option.fromNullable(users.get(id)), strip)),
    byTokenHash: (hash) =>
      Effect.sync(() =>
        Option.map(
          Option.fromNullable([...users.values()].find((u) => u.tokenHash === hash && u.disabledAt === null)),
          strip
        )
      ),
    update: (id, patch) =>
      Effect.gen(function*() {
        const user = users.get(id)
        if (user === undefined) return Option.none()
        if (
          patch.tokenHash !== undefined &&
          [...users.values()].some((u) => u.id !== id && u.tokenHash === patch.tokenHash)
        ) {
          return yield* conflict("that token is another user's")
        }
        if (patch.role !== undefined) user.role = patch.role
        if (patch.tokenHash !== undefined) user.tokenHash = patch.tokenHash
        if (patch.disabled !== undefined) user.disabledAt = patch.disabled ? iso(yield* Clock.currentTimeMillis) : null
        return Option.some(strip(user))
      })
  })
}

/**
 * The webhook store in memory.
 *
 * @since 0.2.0
 * @category constructors
 */
export const makeWebhookStore = () => {
  const hooks = new Map<string, WebhookTarget>()
  const deliveries: Array<Delivery> = []
  const strip = ({ secret: _s, ...hook }: WebhookTarget): Webhook => ({ ...hook })
  return WebhookStore.of({
    create: (input) =>
      Effect.map(Clock.currentTimeMillis, (ms) => {
        const hook: WebhookTarget = {
          id: Crypto.randomUUID(),
          url: input.url,
          events: [...input.events],
          secret: input.secret,
          createdBy: input.createdBy,
          createdAt: iso(ms)
        }
        hooks.set(hook.id, hook)
        return strip(hook)
      }),
    list: Effect.sync(() => [...hooks.values()].map(strip)),
    remove: (id) => Effect.sync(() => hooks.delete(id)),
    targets: (event) => Effect.sync(() => [...hooks.values()].filter((h) => h.events.includes(event))),
    get: (id) => Effect.sync(() => Option.map(Option.fromNullable(hooks.get(id)), strip)),
    recordDelivery: (delivery) =>
      Effect.sync(() => void deliveries.push({ ...delivery, id: String(deliveries.length + 1) })),
    deliveries: (webhookId, limit) =>
      Effect.sync(() => deliveries.filter((d) => d.webhookId === webhookId).reverse().slice(0, limit))
  })
}
