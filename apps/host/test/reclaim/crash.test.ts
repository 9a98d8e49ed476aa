/**
 * Issue 11, "a SIGKILL of the host mid-execution and a restart finish the plan with every account acted on
 * exactly once". The host runs as a real process (`node dist/main.js`) on one data directory (SQLite); the
 * sandbox answers each deactivation slowly, so a kill lands mid-plan. Killed twice:
 *
 * 1. right after the provider applied an account's deactivation, before the host heard the answer (the
 *    account is journaled `acting`; upstream it is done): the restart asks the provider first and does not
 *    send it again;
 * 2. while a deactivation is in flight (journaled, sent, not yet applied): the provider never applies a
 *    request whose sender died, and the restart, finding the account still active upstream, sends it once.
 *
 * Each restart resumes the plan by itself once the dead process's lease (2 s here) has expired. At the end
 * the plan is `done`, and the sandbox's request log shows each account's deactivation applied exactly once.
 */
import type { AtlassianSandbox, SandboxUserInput, SandboxUserPatch } from "@seatkeeper/provider-atlassian/sandbox"
import * as Fs from "node:fs"
import { afterAll, describe, expect, it } from "vitest"
import { connect, eventually, makeSandbox, sleep, sync, UNPACED } from "../support/Org.js"
import { killHost, requireBuilt, type SpawnedHost, spawnHost, tempDir } from "../support/Process.js"
import {
  approveAndExecute,
  createPolicy,
  expectStatus,
  JIRA,
  makePlan,
  person,
  planItems,
  waitForPlan
} from "../support/Reclaim.js"

const hostBuilt = requireBuilt("the reclaim crash test")
const LEASE_MS = 2_000
const ACCOUNTS = 20
const SLOW_MS = 300

const cleanups: Array<() => Promise<void> | void> = []
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

/** Per account: deactivations the provider applied, and ones abandoned in flight (their sender died). */
const disablesOf = (sandbox: AtlassianSandbox) => {
  const byAccount = new Map<string, { applied: number; abandoned: number }>()
  for (const r of sandbox.requests) {
    const m = /^\/users\/([^/]+)\/manage\/lifecycle\/disable$/.exec(r.path)
    if (m === null) continue
    const id = decodeURIComponent(m[1]!)
    const entry = byAccount.get(id) ?? { applied: 0, abandoned: 0 }
    if (r.status === 204) entry.applied++
    else entry.abandoned++
    byAccount.set(id, entry)
  }
  return byAccount
}

describe.skipIf(!hostBuilt)("a reclaim plan whose host is killed mid-execution", () => {
  it("Should finish after two SIGKILLs and restarts with every account deactivated exactly once", async () => {
    const people: Array<SandboxUserInput> = Array.from(
      { length: ACCOUNTS },
      (_, i) => person(`r-${String(i).padStart(2, "0")}`, `Idle ${String(i).padStart(2, "0")}`, [[JIRA, 200 + i]])
    )
    const sandbox = await makeSandbox({ users: people })
    cleanups.push(() => sandbox.close())
    const dataDir = tempDir("seatkeeper-reclaim-crash-")
    cleanups.push(() => Fs.rmSync(dataDir, { recursive: true, force: true }))
    const hosts: Array<SpawnedHost> = []
    cleanups.push(async () => {
      for (const h of hosts) await killHost(h)
    })
    const spawn = async () => {
      const h = await spawnHost({ SEATKEEPER_DATA_DIR: dataDir, SEATKEEPER_LEASE_MS: String(LEASE_MS) })
      hosts.push(h)
      return h
    }

    const first = await spawn()
    const id = await connect(first.request, sandbox, { rateLimit: UNPACED })
    expect((await sync(first.request, id)).body.status).toBe("succeeded")
    const policy = await createPolicy(first.request, id, {
      name: "Idle accounts",
      scope: { _tag: "accounts" },
      inactiveDays: 90,
      // The v1 listing has no join dates: every account was first seen today.
      exclude: { newerThanDays: 0 },
      fourEyesAbove: 1_000
    })
    const plan = await makePlan(first.request, policy.id)
    expect(plan.accounts).toBe(ACCOUNTS)

    // Every deactivation takes SLOW_MS; the 5th is killed right after the provider applied it.
    sandbox.injectFault({ kind: "slow", delayMs: SLOW_MS }, { on: "lifecycle", times: Infinity })
    sandbox.resetLog()
    let applied = 0
    const updateUser = sandbox.updateUser.bind(sandbox)
    let killOnApply: SpawnedHost | undefined = first
    sandbox.updateUser = (userId: string, patch: SandboxUserPatch) => {
      const user = updateUser(userId, patch)
      if (patch.account_status === "inactive" && ++applied === 5 && killOnApply !== undefined) {
        // Before the 204 is written: the host journaled the account and sent the call; upstream it is done.
        killOnApply.child.kill("SIGKILL")
        killOnApply = undefined
      }
      return user
    }
    const started = await approveAndExecute(first.request, plan.id, { until: ["running", "done", "stopped"] }).catch((
      e
    ) => e)
    expect(started instanceof Error ? "" : started.status).not.toBe("stopped")
    expect((await first.exited).signal).toBe("SIGKILL")
    const firstKill = { applied }

    // The next process resumes the plan once the dead one's lease expired; it is killed again while a
    // deactivation is in flight (sent, not yet applied: the provider holds it for SLOW_MS).
    await sleep(LEASE_MS + 300)
    const second = await spawn()
    const inFlight = await eventually(
      "a deactivation in flight after the restart",
      () =>
        sandbox.requests.find((r) =>
          r.route === "lifecycle" && r.status === 0 && applied >= 8 && Date.now() - r.at < SLOW_MS / 3
        ),
      30_000,
      5
    )
    second.child.kill("SIGKILL")
    expect((await second.exited).signal).toBe("SIGKILL")
    const secondKill = { applied }

    await sleep(LEASE_MS + 300)
    const third = await spawn()
    const done = await waitForPlan(third.request, plan.id, ["done", "stopped"], 60_000)
    // No job lost its lease on the way (a 2 s lease is renewed often enough): no error in any host's log.
    expect(hosts.flatMap((h) => h.lines.filter((l) => l.logLevel === "ERROR"))).toEqual([])
    expect(done.status, done.stoppedBecause).toBe("done")
    expect(done.progress).toMatchObject({ done: ACCOUNTS, pending: 0, acting: 0, refused: 0, failed: 0 })

    // The provider's side: every account deactivated, each exactly once.
    const disables = disablesOf(sandbox)
    for (const p of people) {
      expect(sandbox.user(p.account_id!)!.account_status, p.account_id).toBe("inactive")
      expect(disables.get(p.account_id!)?.applied, p.account_id).toBe(1)
    }
    const abandoned = [...disables.values()].reduce((n, d) => n + d.abandoned, 0)
    // Each restart asked the provider about the one account it found `acting`, and nothing else.
    expect(sandbox.requests.filter((r) => r.route === "profile").length).toBe(2)
    // Only the call in flight at the second kill was abandoned, and it was never applied.
    expect(abandoned).toBe(1)
    const abandonedId = [...disables].find(([, d]) => d.abandoned > 0)![0]
    expect(inFlight.path).toContain(encodeURIComponent(abandonedId))
    // The account killed after its deactivation was applied: looked up after the restart, not sent again.
    const items = await planItems(third.request, plan.id)
    const confirmed = items.filter((i) => i.result === "done before the restart")
    expect(confirmed.map((i) => i.externalId)).toEqual([people[4]!.account_id])
    for (const item of items) {
      expect(item.journal, item.externalId).toMatchObject({
        statusBefore: "active",
        productsBefore: [expect.any(String)]
      })
    }

    // Both restarts are in the audit trail, by the system; the end too.
    const audit = expectStatus(await third.request("GET", `/api/audit?connectionId=${id}&limit=100`), 200, "the audit")
      .body.data as Array<any>
    expect(audit.filter((e) => e.action === "plan.resume" && e.target === plan.id).map((e) => e.actor)).toEqual([
      "system",
      "system"
    ])
    expect(audit.find((e) => e.action === "plan.finish" && e.target === plan.id)).toMatchObject({ outcome: "ok" })

    // And the next sync reads every account as suspended.
    expect((await sync(third.request, id)).body.status).toBe("succeeded")
    const accounts = expectStatus(await third.request("GET", `/api/connections/${id}/totals`), 200, "totals").body
    expect(accounts.byStatus.suspended).toBe(ACCOUNTS)
    const sent = [...disables.values()].reduce((n, d) => n + d.applied + d.abandoned, 0)
    console.log(
      `[reclaim-crash] ${ACCOUNTS} accounts, 2 SIGKILLs (after ${firstKill.applied} and ${secondKill.applied} applied), ` +
        `${sent} deactivations sent: ${ACCOUNTS} applied once each, ${abandoned} abandoned in flight (never applied), 0 repeated`
    )
  }, 90_000)
})
