// A webhook receiver's check of `X-Seatkeeper-Signature` (shown in the README).
import * as Crypto from "node:crypto"

export const verify = (secret: string, header: string, body: string, toleranceSeconds = 300) => {
  const { t, v1 } = Object.fromEntries(header.split(",").map((kv) => kv.split("=") as [string, string]))
  const expected = Crypto.createHmac("sha256", secret).update(`${t}.${body}`).digest("hex")
  return Math.abs(Date.now() / 1000 - Number(t)) <= toleranceSeconds && expected.length === (v1 ?? "").length &&
    Crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(v1 ?? ""))
}
