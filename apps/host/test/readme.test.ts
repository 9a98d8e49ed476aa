import { assert, describe, it } from "@effect/vitest"
import { readFileSync } from "node:fs"
import * as Http from "node:http"
import { fileURLToPath } from "node:url"
import { tour } from "../examples/api-tour.js"
import { verify } from "../examples/verify-webhook.js"
import { makeSandbox } from "./support/Org.js"
import { ADMIN_TOKEN, makeTestHost } from "./support/TestHost.js"

const read = (path: string) => readFileSync(fileURLToPath(new URL(path, import.meta.url)), "utf8")

describe("README", () => {
  it("shows the example files unchanged", () => {
    for (const file of ["api-tour.ts", "verify-webhook.ts"]) {
      const example = read(`../examples/${file}`).split("\n").slice(1).join("\n").trim()
      assert.include(read("../README.md"), example, file)
    }
  })

  it("verifies a real webhook delivery with the README's check, and refuses a forged or stale one", async () => {
    const deliveries: Array<{ readonly signature: string; readonly body: string }> = []
    const receiver = Http.createServer((req, res) => {
      let body = ""
      req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")))
      req.on("end", () => {
        deliveries.push({ signature: String(req.headers["x-seatkeeper-signature"]), body })
        res.writeHead(204).end()
      })
    })
    await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve))
    const host = await makeTestHost({ listen: true })
    try {
      const port = (receiver.address() as { port: number }).port
      const secret = "a-receiver-secret-0123456789"
      const hook = await host.request("POST", "/api/webhooks", {
        body: { url: `http://127.0.0.1:${port}/hook`, events: ["sync.failed"], secret }
      })
      assert.strictEqual(hook.status, 201, hook.text)
      // A connection to nowhere: its sync fails, and the failure is announced.
      const connection = await host.request("POST", "/api/connections", {
        body: {
          provider: "atlassian",
          name: "Unreachable",
          config: {
            organizationId: "org-1",
            apiKey: "key-0123456789",
            adminEmail: "it@acme.test",
            baseUrl: "http://127.0.0.1:9"
          }
        }
      })
      assert.strictEqual(connection.status, 201, connection.text)
      await host.request("POST", `/api/connections/${connection.body.id}/syncs`)
      for (let i = 0; i < 300 && deliveries.length === 0; i++) await new Promise((r) => setTimeout(r, 100))
      const [delivery] = deliveries
      assert.isDefined(delivery)
      assert.isTrue(verify(secret, delivery!.signature, delivery!.body))
      assert.strictEqual(JSON.parse(delivery!.body).event, "sync.failed")
      assert.isFalse(verify("another-secret-0123456789", delivery!.signature, delivery!.body))
      assert.isFalse(verify(secret, delivery!.signature, delivery!.body.replace("sync.failed", "sync.held")))
      assert.isFalse(verify(secret, delivery!.signature, delivery!.body, -1))
    } finally {
      await host.close()
      await new Promise((resolve) => receiver.close(resolve))
    }
  })

  it("connects, syncs, finds stale seats and previews a suspend over HTTP", async () => {
    const org = await makeSandbox({ users: 400 })
    const host = await makeTestHost({ listen: true })
    try {
      const result = await tour(host.url!, ADMIN_TOKEN, org)
      assert.strictEqual(result.run, "succeeded")
      assert.strictEqual(result.accounts, 400)
      // Some, not all, of the active acme Confluence seats are stale in the generated roster.
      const holders = org.users().filter((u) =>
        u.account_status === "active" &&
        u.product_access?.some((p) => p.key === "confluence" && new URL(p.url!).hostname === "acme.atlassian.net")
      )
      assert.isAbove(result.staleConfluenceSeats, 0)
      assert.isBelow(result.staleConfluenceSeats, holders.length)
      assert.strictEqual(result.preview.dryRun, true)
      // The preview asked the organisation's read-only preflight, and changed nothing there.
      assert.strictEqual(org.requests.filter((r) => r.route === "lifecycle").length, 0)
    } finally {
      await host.close()
      await org.close()
    }
  })
})
