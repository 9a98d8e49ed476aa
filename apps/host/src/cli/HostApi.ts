/**
 * The CLI's client of a running host: its HTTP API over `@effect/platform`'s HttpClient, with the token,
 * JSON bodies decoded by Schema, and the host's error answers (`{error: {code, message, hint}}`) turned
 * into one error that says what went wrong and what to do.
 *
 * @since 0.2.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/**
 * A request to the host failed: it could not be reached, refused the token, or answered an error.
 *
 * @since 0.2.0
 * @category errors
 */
export class HostApiError extends Schema.TaggedError<HostApiError>("@seatkeeper/host/HostApiError")("HostApiError", {
  reason: Schema.Literal("Unreachable", "Unauthorized", "Refused", "InvalidResponse"),
  message: Schema.String,
  hint: Schema.optional(Schema.String)
}) {}

const ErrorAnswer = Schema.Struct({
  error: Schema.Struct({ code: Schema.String, message: Schema.String, hint: Schema.optional(Schema.String) })
})

/**
 * @since 0.2.0
 * @category tags
 */
export class HostApi extends Context.Tag("@seatkeeper/host/HostApi")<HostApi, {
  readonly url: string
  readonly json: <A, I>(
    method: "GET" | "POST",
    path: string,
    schema: Schema.Schema<A, I>,
    body?: unknown
  ) => Effect.Effect<A, HostApiError>
  /** A text answer (a CSV export), whole. */
  readonly text: (path: string) => Effect.Effect<string, HostApiError>
}>() {}

/**
 * A client of the host at `url`, authenticated with `token`.
 *
 * @since 0.2.0
 * @category layers
 */
export const layer = (options: { readonly url: string; readonly token: Redacted.Redacted<string> }) =>
  Layer.effect(
    HostApi,
    Effect.gen(function*() {
      const base = options.url.replace(/\/+$/, "")
      const client = (yield* HttpClient.HttpClient).pipe(
        HttpClient.mapRequest(HttpClientRequest.bearerToken(Redacted.value(options.token)))
      )
      const send = (method: "GET" | "POST", path: string, body?: unknown) =>
        client.execute(
          method === "GET"
            ? HttpClientRequest.get(`${base}${path}`)
            : HttpClientRequest.post(`${base}${path}`).pipe(HttpClientRequest.bodyUnsafeJson(body ?? {}))
        ).pipe(
          Effect.mapError(() =>
            new HostApiError({
              reason: "Unreachable",
              message: `cannot reach the Seatkeeper host at ${base}`,
              hint: "start it (`npx -y pnpm@10 start`), or pass its address with --url or SEATKEEPER_URL"
            })
          ),
          Effect.flatMap((response) => response.status < 400 ? Effect.succeed(response) : refused(response))
        )
      const refused = (response: HttpClientResponse.HttpClientResponse) =>
        HttpClientResponse.schemaBodyJson(ErrorAnswer)(response).pipe(
          Effect.orElseSucceed(() => ({
            error: { code: "http_error", message: `the host answered HTTP ${response.status}`, hint: undefined }
          })),
          Effect.flatMap(({ error }) =>
            Effect.fail(
              new HostApiError({
                reason: response.status === 401 ? "Unauthorized" : "Refused",
                message: error.message,
                hint: response.status === 401
                  ? "pass the admin token (or a user's token) with --token or SEATKEEPER_TOKEN"
                  : error.hint
              })
            )
          )
        )
      return HostApi.of({
        url: base,
        json: (method, path, schema, body) =>
          send(method, path, body).pipe(
            Effect.flatMap(HttpClientResponse.schemaBodyJson(schema)),
            Effect.catchTags({
              ResponseError: () =>
                Effect.fail(
                  new HostApiError({ reason: "InvalidResponse", message: `${path}: the answer is not JSON` })
                ),
              ParseError: (e) =>
                Effect.fail(
                  new HostApiError({
                    reason: "InvalidResponse",
                    message: `${path}: unexpected answer (${e.message.slice(0, 200)})`
                  })
                )
            })
          ),
        text: (path) =>
          send("GET", path).pipe(
            Effect.flatMap((response) => response.text),
            Effect.catchTag(
              "ResponseError",
              () => Effect.fail(new HostApiError({ reason: "Unreachable", message: `${path}: the answer broke off` }))
            )
          )
      })
    })
  )
