/**
 * Issue 11, "a webhook receiver on loopback gets signed events": a receiver on 127.0.0.1 subscribed to plan
 * ready, plan executed, sync failed and sync held gets each event as Slack-compatible JSON (`text`), signed
 * `X-Seatkeeper-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with its secret; a receiver that
 * answers 500 twice gets the event on the third attempt; every delivery is listed with its attempts.
 *
 * Through the host's API against the sandbox, on SQLite.
 */
import type { AtlassianSandbox } from "@seatkeeper/provider-atlassian/sandbox"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connect, eventually, makeSandbox, sync, UNPACED } from "../support/Org.js"
import {
  approveAndExecute,
  createPolicy,
  type Delivery,
  expectStatus,
  JIRA,
  makePlan,
  person,
  verifySignature,
  webhookReceiver
} from "../support/Reclaim.js"
import { makeTestHost, type TestHost } from "../support/TestHost.js"

const SECRET = "whsec-test-0123456789abcdef"
const people = Array.from({ length: 8 }, (_, i) => person(`w-${i}`, `Idle ${i}`, [[JIRA, 200]]))

describe("webhooks", () => {
  let t: TestHost
  let sandbox: AtlassianSandbox
  let id: string
  let receiver: Awaited<ReturnType<typeof webhookReceiver>>
  let flaky: Awaited<ReturnType<typeof webhookReceiver>>
  let hookId: string
  let flakyId: string
  let flakySecret: string

  beforeAll(async () => {
    sandbox = await makeSandbox({ users: people })
    t = await makeTestHost()
    receiver = await webhookReceiver()
    flaky = await webhookReceiver((n) => (n < 2 ? 500 : 200))
    id = await connect(t.request, sandbox, { rateLimit: UNPACED, config: { includeUnmanaged: true } })
    expect((await sync(t.request, id)).body.status).toBe("succeeded")
    const created = expectStatus(
      await t.request("POST", "/api/webhooks", {
        body: { url: receiver.url, events: ["plan.ready", "plan.executed", "sync.failed", "sync.held"], secret: SECRET }
      }),
      201,
      "adding the webhook"
    ).body
    // A secret the admin typed is never echoed back.
    expect(created).not.toHaveProperty("secret")
    expect(JSON.stringify(created)).not.toContain(SECRET)
    hookId = created.id
    const generated = expectStatus(
      await t.request("POST", "/api/webhooks", { body: { url: flaky.url, events: ["plan.ready"] } }),
      201,
      "adding the flaky webhook"
    ).body
    // A generated secret is shown once, here.
    expect(generated.secret).toMatch(/^whsec_[A-Za-z0-9_-]{20,}$/)
    flakyId = generated.id
    flakySecret = generated.secret
    expect(JSON.stringify((await t.request("GET", "/api/webhooks")).body)).not.toMatch(/whsec/)
  })
  afterAll(async () => {
    await t?.close()
    await sandbox?.close()
    await receiver?.close()
    await flaky?.close()
  })

  const received = (event: string) =>
    eventually(`the ${event} webhook`, () => receiver.received.find((d) => d.json?.event === event), 20_000)

  const expectSigned = (d: Delivery, event: string) => {
    expect(d.headers["content-type"]).toBe("application/json")
    expect(d.headers["x-seatkeeper-event"]).toBe(event)
    expect(
      verifySignature(SECRET, d.headers["x-seatkeeper-signature"] as string, d.body),
      d.headers["x-seatkeeper-signature"] as string
    ).toBe(true)
    // Signed with the secret, over this very body: another secret or a changed body does not verify.
    expect(verifySignature(`${SECRET}x`, d.headers["x-seatkeeper-signature"] as string, d.body)).toBe(false)
    expect(verifySignature(SECRET, d.headers["x-seatkeeper-signature"] as string, d.body.replace("}", ",\"x\":1}")))
      .toBe(false)
    // Slack-compatible: a `text` a person reads.
    expect(d.json.text).toEqual(expect.any(String))
    expect(d.json.text.length).toBeGreaterThan(20)
  }

  it("Should send plan ready and plan executed, signed, with a text to read", async () => {
    const policy = await createPolicy(t.request, id, {
      name: "Idle Jira",
      scope: { _tag: "accounts" },
      inactiveDays: 90,
      fourEyesAbove: 100
    })
    const plan = await makePlan(t.request, policy.id)
    const ready = await received("plan.ready")
    expectSigned(ready, "plan.ready")
    expect(ready.json).toMatchObject({ planId: plan.id, connectionId: id, accounts: 8 })
    expect(ready.json.text).toBe(`Reclaim plan "Idle Jira" by admin is ready for approval: 8 accounts, 8 seats`)

    expect((await approveAndExecute(t.request, plan.id)).status).toBe("done")
    const executed = await received("plan.executed")
    expectSigned(executed, "plan.executed")
    expect(executed.json).toMatchObject({ planId: plan.id, status: "done", progress: { done: 8 } })
    expect(executed.json.text).toBe(
      `Reclaim plan "Idle Jira" executed: 8 accounts done, 0 refused, 0 failed, 0 skipped`
    )
  })

  it("Should send sync failed and sync held, signed", async () => {
    sandbox.injectFault({ kind: "status", status: 401, shape: "gateway" }, { on: "any", times: Infinity })
    expect((await sync(t.request, id)).body.status).toBe("failed")
    sandbox.clearFaults()
    const failed = await received("sync.failed")
    expectSigned(failed, "sync.failed")
    expect(failed.json).toMatchObject({ connectionId: id, reason: "Unauthorized" })
    expect(failed.json.text).toMatch(/failed/)

    for (const p of people.slice(0, 6)) sandbox.removeUser(p.account_id!)
    const run = (await sync(t.request, id)).body
    expect(run.status).toBe("held")
    const held = await received("sync.held")
    expectSigned(held, "sync.held")
    expect(held.json).toMatchObject({ runId: run.id, connectionId: id })
    expect(held.json.text).toMatch(/held/)
  })

  it("Should retry a receiver that fails, and list every delivery with its attempts", async () => {
    // The flaky receiver answered 500 to the plan.ready event twice, then 200.
    const third = await eventually(
      "the third attempt",
      () => flaky.received.length >= 3 ? flaky.received : undefined,
      20_000
    )
    expect(third.map((d) => d.answered)).toEqual([500, 500, 200])
    expect(new Set(third.map((d) => d.body)).size).toBe(1)
    // With a back-off between attempts, each signed with the secret generated for it.
    expect(third[2]!.at - third[0]!.at).toBeGreaterThan(500)
    for (const d of third) {
      expect(verifySignature(flakySecret, d.headers["x-seatkeeper-signature"] as string, d.body)).toBe(true)
    }
    const deliveries = await eventually("the flaky delivery to be recorded", async () => {
      const res = expectStatus(await t.request("GET", `/api/webhooks/${flakyId}/deliveries`), 200, "deliveries").body
        .data as Array<any>
      return res.length > 0 ? res : undefined
    })
    expect(deliveries).toEqual([
      expect.objectContaining({
        webhookId: flakyId,
        event: "plan.ready",
        status: "delivered",
        attempts: 3,
        detail: "HTTP 200"
      })
    ])

    const all = expectStatus(await t.request("GET", `/api/webhooks/${hookId}/deliveries`), 200, "deliveries").body
      .data as Array<any>
    expect(all.map((d) => [d.event, d.status, d.attempts]).sort()).toEqual([
      ["plan.executed", "delivered", 1],
      ["plan.ready", "delivered", 1],
      ["sync.failed", "delivered", 1],
      ["sync.held", "delivered", 1]
    ])
    // One receiver got each event once: nothing retried that was delivered.
    expect(receiver.received.map((d) => d.json.event).sort()).toEqual([
      "plan.executed",
      "plan.ready",
      "sync.failed",
      "sync.held"
    ])
    const unknown = await t.request("GET", "/api/webhooks/no-such-webhook/deliveries")
    expect(unknown.status).toBe(404)
    expect(unknown.body.error.code).toBe("webhook_not_found")
    console.log(
      `[webhooks] 4 events delivered signed to a loopback receiver; a receiver answering 500, 500, 200 got its event on attempt 3 (${
        third[2]!.at - third[0]!.at
      } ms after the first)`
    )
  })
})
