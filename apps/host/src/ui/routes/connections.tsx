/**
 * `/connections/new` and `/connections/:id/settings`: a provider's settings form generated from its
 * config fields, a connection test before saving, field errors next to the fields. Also deleting a
 * connection (`/connections/:id/delete`, with a confirmation).
 *
 * @since 0.1.0
 */
import { defaultSyncSettings } from "@seatkeeper/core/Connection"
import type { ConfigField } from "@seatkeeper/core/ProviderConfig"
import * as Effect from "effect/Effect"
import type { Context, Hono } from "hono"
import type { FC, PropsWithChildren } from "hono/jsx"
import type { ContentfulStatusCode } from "hono/utils/http-status"
import type { ErrorDescription } from "../../errors.js"
import { type Host, runOperation } from "../../http/Host.js"
import { Connections } from "../../services/Connections.js"
import type { ProviderView } from "../../services/Connections.js"
import type { ConnectionView } from "../../views.js"
import { blankSecrets, configFromForm, describeSecret, fieldName, formFromConfig, sameSettings } from "../configForm.js"
import { formatCount } from "../format.js"
import { ConnectionTabs, CsrfField, ErrorBox, Layout, Notice } from "../layout.js"
import { paths, withQuery } from "../paths.js"
import { errorPage, fieldIssues, noticeOf, readForm, renderPage } from "../render.js"
import { can, forbidden } from "../roles.js"
import type { PagesEnv } from "../security.js"
import type { Session } from "../Sessions.js"

type TestResult =
  | { readonly _tag: "Passed"; readonly note?: string | undefined }
  | { readonly _tag: "Failed"; readonly error: ErrorDescription }
  | { readonly _tag: "NeedsSecret" }

interface FormState {
  readonly values: Readonly<Record<string, string>>
  readonly errors: ReadonlyMap<string, string>
  /** A failure that is not about one field. */
  readonly error?: ErrorDescription | undefined
  readonly test?: TestResult | undefined
}

const emptyState: FormState = { values: {}, errors: new Map() }

/** The `aria-describedby` of an input with optional help and error texts. */
const describedBy = (id: string, help: string | undefined, error: string | undefined): string | undefined => {
  const ids = [help === undefined ? undefined : `${id}-help`, error === undefined ? undefined : `${id}-error`].filter((
    s
  ) => s !== undefined)
  return ids.length === 0 ? undefined : ids.join(" ")
}

const Field: FC<
  PropsWithChildren<{ id: string; label: string; help?: string | undefined; error?: string | undefined }>
> = (
  { id, label, help, error, children }
) => (
  <div class="field">
    <label for={id}>{label}</label>
    {children}
    {help === undefined ? null : <p class="help" id={`${id}-help`}>{help}</p>}
    {error === undefined ? null : <p class="error" id={`${id}-error`}>{error}</p>}
  </div>
)

const inputId = (name: string) => `f-${name.replace(/[^A-Za-z0-9_-]/g, "-")}`

const placeholderOf = (value: unknown): string | undefined =>
  value === undefined || value === null || typeof value === "object" ? undefined : String(value)

const ConfigInputs: FC<{
  fields: ReadonlyArray<ConfigField>
  path: ReadonlyArray<string>
  state: FormState
  stored: unknown
  defaults: unknown
}> = ({ fields, path, state, stored, defaults }) => (
  <>
    {fields.map((f) => {
      const at = [...path, f.name]
      const name = fieldName(at)
      const id = inputId(name)
      const error = state.errors.get(name)
      const fieldDefault = f.default ??
        (typeof defaults === "object" && defaults !== null ? (defaults as Record<string, unknown>)[f.name] : undefined)
      if (f.type === "object") {
        return (
          <fieldset>
            <legend>{f.optional ? `${f.title} (optional)` : f.title}</legend>
            {f.description === undefined ? null : <p class="help muted small">{f.description}</p>}
            {error === undefined ? null : <p class="error" role="alert">{error}</p>}
            <ConfigInputs fields={f.fields ?? []} path={at} state={state} stored={stored} defaults={fieldDefault} />
          </fieldset>
        )
      }
      if (f.type === "boolean") {
        return (
          <div class="field">
            <div class="check">
              <input type="checkbox" id={id} name={name} checked={state.values[name] === "on"} />
              <label for={id}>{f.title}</label>
            </div>
            {f.description === undefined ? null : <p class="help">{f.description}</p>}
            {error === undefined ? null : <p class="error">{error}</p>}
          </div>
        )
      }
      if (f.choices !== undefined && f.choices.length > 1) {
        const current = state.values[name] ?? (fieldDefault === undefined ? "" : String(fieldDefault))
        return (
          <Field id={id} label={f.optional ? `${f.title} (optional)` : f.title} help={f.description} error={error}>
            <select id={id} name={name} aria-describedby={describedBy(id, f.description, error)}>
              {f.optional ? <option value="" selected={current === ""}>(default)</option> : null}
              {f.choices.map((choice) => (
                <option value={String(choice)} selected={current === String(choice)}>{String(choice)}</option>
              ))}
            </select>
          </Field>
        )
      }
      const secretState = f.secret ? describeSecret(stored, at) : undefined
      const helpText = [
        f.description,
        secretState === undefined ? undefined : `Currently ${secretState}; leave blank to keep it.`,
        f.secret ? "Never shown again once saved; after a test or an error, enter it again." : undefined
      ].filter((s) => s !== undefined).join(" ")
      const help = helpText === "" ? undefined : helpText
      return (
        <Field id={id} label={f.optional ? `${f.title} (optional)` : f.title} help={help} error={error}>
          <input
            type={f.secret ? "password" : f.type === "number" ? "number" : "text"}
            step={f.type === "number" ? "any" : undefined}
            id={id}
            name={name}
            // A secret is never sent to the browser, not even the one just typed.
            value={f.secret ? "" : state.values[name] ?? ""}
            placeholder={placeholderOf(fieldDefault)}
            required={!f.optional && !(f.secret && secretState !== undefined && secretState !== "not set")}
            autocomplete={f.secret ? "new-password" : "off"}
            spellcheck={false}
            aria-describedby={describedBy(id, help, error)}
            aria-invalid={error === undefined ? undefined : "true"}
          />
        </Field>
      )
    })}
  </>
)

const TestOutcome: FC<{ test: TestResult | undefined }> = ({ test }) => {
  if (test === undefined) return null
  switch (test._tag) {
    case "Passed":
      return (
        <Notice tone="ok">
          <strong>Connection works</strong>
          <p>{test.note ?? "Seatkeeper reached the organisation with these settings. Save them to keep them."}</p>
        </Notice>
      )
    case "NeedsSecret":
      return (
        <Notice tone="warn">
          <strong>Enter the API key to test these settings</strong>
          <p>
            The stored key is never sent to the browser. Type it again to test changed settings, or save them first.
          </p>
        </Notice>
      )
    case "Failed":
      return <ErrorBox error={test.error} title="Connection test failed" />
  }
}

const nameHelp = "How this connection is listed, e.g. the organisation's name."

interface SyncField {
  readonly name: "syncIntervalMinutes" | "holdThresholdPercent" | "maxLookups" | "deadlineMinutes"
  readonly id: string
  readonly label: string
  readonly help: string
  readonly min: number
  readonly max: number
  readonly step: number | "any"
}

// The sync settings of a connection (invariant 10's threshold among them), each next to what it does.
const syncFields: ReadonlyArray<SyncField> = [
  {
    name: "syncIntervalMinutes",
    id: "f-interval",
    label: "Sync every (minutes)",
    help: "0 syncs only when you press Sync now. 1440 is once a day.",
    min: 0,
    max: 43_200,
    step: 1
  },
  {
    name: "holdThresholdPercent",
    id: "f-holdThresholdPercent",
    label: "Hold a sync that would deprovision more than (% of active accounts)",
    help: `Such a sync waits for an admin to apply or discard it; so does one that finds an empty roster. ` +
      `Default ${defaultSyncSettings.holdThresholdPercent} %.`,
    min: 0,
    max: 100,
    step: "any"
  },
  {
    name: "maxLookups",
    id: "f-maxLookups",
    label: "Lookups per sync",
    help: `How many accounts missing from the listing a sync confirms one by one before deprovisioning them; ` +
      `more missing than this holds the sync. Default ${formatCount(defaultSyncSettings.maxLookups)}.`,
    min: 0,
    max: 100_000,
    step: 1
  },
  {
    name: "deadlineMinutes",
    id: "f-deadlineMinutes",
    label: "Deadline (minutes)",
    help: "A sync still running after this long stops and changes nothing. " +
      `Default ${defaultSyncSettings.deadlineMinutes}.`,
    min: 1,
    max: 1_440,
    step: 1
  }
]

const NumberField: FC<{ field: SyncField; state: FormState }> = ({ field, state }) => {
  const error = state.errors.get(field.name)
  return (
    <Field id={field.id} label={field.label} help={field.help} error={error}>
      <input
        type="number"
        id={field.id}
        name={field.name}
        min={field.min}
        max={field.max}
        step={field.step}
        value={state.values[field.name] ?? ""}
        placeholder={String(defaultSyncSettings[field.name])}
        aria-describedby={describedBy(field.id, field.help, error)}
        aria-invalid={error === undefined ? undefined : "true"}
      />
    </Field>
  )
}

const SettingsForm: FC<{
  action: string
  provider: ProviderView
  state: FormState
  session: Session
  stored?: ConnectionView | undefined
}> = ({ action, provider, state, session, stored }) => {
  const unmatched = [...state.errors.entries()].filter(([key]) => key === "config" || key === "provider" || key === "")
  return (
    <form method="post" action={action} class="stack" novalidate>
      <CsrfField session={session} />
      <input type="hidden" name="provider" value={provider.id} />
      <TestOutcome test={state.test} />
      {state.error === undefined ? null : <ErrorBox error={state.error} title="Not saved" />}
      {state.errors.size === 0 ? null : (
        <div class="alert" role="alert">
          <strong>Check the fields marked below</strong>
          {unmatched.map(([, message]) => <p>{message}</p>)}
        </div>
      )}
      <Field id="f-name" label="Name" help={nameHelp} error={state.errors.get("name")}>
        <input
          type="text"
          id="f-name"
          name="name"
          value={state.values.name ?? ""}
          required
          maxlength={200}
          aria-describedby={describedBy("f-name", nameHelp, state.errors.get("name"))}
          aria-invalid={state.errors.has("name") ? "true" : undefined}
        />
      </Field>
      <ConfigInputs
        fields={provider.configFields}
        path={[]}
        state={state}
        stored={stored?.config}
        defaults={undefined}
      />
      <fieldset>
        <legend>Syncs</legend>
        {syncFields.map((f) => <NumberField field={f} state={state} />)}
      </fieldset>
      <div class="actions">
        <button type="submit" name="intent" value="save" class="primary">Save</button>
        <button type="submit" name="intent" value="test">Test connection</button>
        <a href={stored === undefined ? paths.dashboard : paths.connection(stored.id).accounts}>Cancel</a>
      </div>
    </form>
  )
}

/**
 * The sync settings as the service takes them: numbers, or the text itself so the error names it. A blank
 * field is left out: a new connection gets the default, an edited one keeps what it had.
 */
const settingsOf = (form: Record<string, string>): Record<string, unknown> => {
  const out: Record<string, unknown> = {}
  for (const { name } of syncFields) {
    const raw = form[name]
    if (raw === undefined || raw.trim() === "") continue
    const n = Number(raw.trim())
    out[name] = Number.isFinite(n) ? n : raw
  }
  return out
}

const failedState = (values: Record<string, string>, error: ErrorDescription): FormState => {
  const errors = fieldIssues(error)
  return errors.size > 0 ? { values, errors } : { values, errors, error }
}

const providers = Connections.listProviders

/**
 * @since 0.1.0
 * @category routes
 */
export const connectionRoutes = (pages: Hono<PagesEnv>, host: Host) => {
  // Adding, changing, testing and deleting connections is the admin's (as in the API): other roles get a
  // 403 page, and their pages show no link here.
  for (const path of [paths.newConnection, "/connections/:id/settings", "/connections/:id/delete"]) {
    pages.use(path, async (c, next) => {
      const session = c.get("session")
      if (!can(session, "admin")) return errorPage(c, forbidden(session, "admin", "manage connections"), "Not allowed")
      await next()
    })
  }

  const newPage = (
    c: Context<PagesEnv>,
    all: ReadonlyArray<ProviderView>,
    provider: ProviderView,
    state: FormState,
    status: 200 | 400 | 502 | 422 | 503 = 200
  ) =>
    renderPage(
      c,
      <Layout title="Add a connection" session={c.get("session")} section="new">
        <h1>Add a connection</h1>
        {all.length > 1
          ? (
            <form method="get" action={paths.newConnection} class="filters">
              <div class="field">
                <label for="provider">Provider</label>
                <select id="provider" name="provider">
                  {all.map((p) => <option value={p.id} selected={p.id === provider.id}>{p.displayName}</option>)}
                </select>
              </div>
              <button type="submit">Choose</button>
            </form>
          )
          : null}
        <p>
          <strong>{provider.displayName}</strong>. <span class="muted">{provider.description}</span>
        </p>
        <SettingsForm
          action={withQuery(paths.newConnection, { provider: provider.id })}
          provider={provider}
          state={state}
          session={c.get("session")}
        />
      </Layout>,
      status
    )

  const chooseProvider = async (c: Context<PagesEnv>, id: string | undefined) => {
    const outcome = await runOperation(host, providers)
    if (outcome._tag === "Failure") return { page: errorPage(c, outcome.error) } as const
    const all = outcome.value
    const provider = id === undefined || id === "" ? all[0] : all.find((p) => p.id === id)
    if (provider === undefined) {
      return {
        page: errorPage(c, {
          status: 404,
          code: "provider_not_found",
          message: id === undefined ? "this host has no providers" : `this host has no provider "${id}"`,
          hint: `choose one of: ${all.map((p) => p.id).join(", ")}`
        })
      } as const
    }
    return { all, provider } as const
  }

  pages.get(paths.newConnection, async (c) => {
    const chosen = await chooseProvider(c, c.req.query("provider"))
    if ("page" in chosen) return chosen.page
    return newPage(c, chosen.all, chosen.provider, { values: { syncIntervalMinutes: "0" }, errors: new Map() })
  })

  pages.post(paths.newConnection, async (c) => {
    const form = await readForm(c)
    const chosen = await chooseProvider(c, form.provider ?? c.req.query("provider"))
    if ("page" in chosen) return chosen.page
    const { all, provider } = chosen
    const config = configFromForm(provider.configFields, form, "create")
    if (form.intent === "test") {
      const outcome = await runOperation(
        host,
        Connections.verifyConfig({ provider: provider.id, config }, c.get("session").principal)
      )
      if (outcome._tag === "Success") {
        return newPage(c, all, provider, { ...emptyState, values: form, test: { _tag: "Passed" } })
      }
      const errors = fieldIssues(outcome.error)
      return newPage(
        c,
        all,
        provider,
        errors.size > 0
          ? { values: form, errors }
          : { values: form, errors, test: { _tag: "Failed", error: outcome.error } },
        outcome.error.status as 400
      )
    }
    const outcome = await runOperation(
      host,
      Connections.create(
        { provider: provider.id, name: form.name ?? "", config, ...settingsOf(form) },
        c.get("session").principal
      )
    )
    if (outcome._tag === "Success") {
      return c.redirect(withQuery(paths.connection(outcome.value.id).syncs, { notice: "created" }), 303)
    }
    return newPage(c, all, provider, failedState(form, outcome.error), outcome.error.status as 400)
  })

  const loadConnection = (id: string) =>
    Effect.all({
      connection: Connections.get(id),
      providers: Connections.listProviders
    })

  const settingsPage = (
    c: Context<PagesEnv>,
    connection: ConnectionView,
    provider: ProviderView | undefined,
    state: FormState,
    status: ContentfulStatusCode = 200
  ) =>
    renderPage(
      c,
      <Layout title={`${connection.name}: settings`} session={c.get("session")} notice={noticeOf(c)}>
        <p class="crumbs">
          <a href={paths.dashboard}>Dashboard</a> / {connection.name}
        </p>
        <h1>{connection.name}</h1>
        <ConnectionTabs id={connection.id} current="settings" session={c.get("session")} />
        {provider === undefined
          ? (
            <ErrorBox
              error={{
                status: 422,
                code: "provider_missing",
                message: `this host has no provider "${connection.provider}"`,
                hint: "register it in apps/host/src/registry.ts, or delete the connection"
              }}
            />
          )
          : (
            <SettingsForm
              action={paths.connection(connection.id).settings}
              provider={provider}
              state={state}
              session={c.get("session")}
              stored={connection}
            />
          )}
        <h2>Delete this connection</h2>
        <p>
          Removes the connection and everything synced under it from Seatkeeper. Nothing changes in the organisation
          itself.
        </p>
        <p>
          <a class="button danger" href={paths.connection(connection.id).delete}>Delete connection…</a>
        </p>
      </Layout>,
      status
    )

  const storedValues = (connection: ConnectionView, provider: ProviderView | undefined) => ({
    name: connection.name,
    syncIntervalMinutes: String(connection.syncIntervalMinutes),
    holdThresholdPercent: String(connection.holdThresholdPercent),
    maxLookups: String(connection.maxLookups),
    deadlineMinutes: String(connection.deadlineMinutes),
    ...(provider === undefined ? {} : formFromConfig(provider.configFields, connection.config))
  })

  pages.get("/connections/:id/settings", async (c) => {
    const outcome = await runOperation(host, loadConnection(c.req.param("id")))
    if (outcome._tag === "Failure") return errorPage(c, outcome.error, "Connection not found")
    const { connection, providers: all } = outcome.value
    const provider = all.find((p) => p.id === connection.provider)
    return settingsPage(c, connection, provider, { values: storedValues(connection, provider), errors: new Map() })
  })

  pages.post("/connections/:id/settings", async (c) => {
    const id = c.req.param("id")
    const form = await readForm(c)
    const loaded = await runOperation(host, loadConnection(id))
    if (loaded._tag === "Failure") return errorPage(c, loaded.error, "Connection not found")
    const { connection, providers: all } = loaded.value
    const provider = all.find((p) => p.id === connection.provider)
    if (provider === undefined) return settingsPage(c, connection, provider, { values: form, errors: new Map() })

    if (form.intent === "test") {
      let test: TestResult
      let errors: ReadonlyMap<string, string> = new Map()
      if (!blankSecrets(provider.configFields, form)) {
        const config = configFromForm(provider.configFields, form, "create")
        const outcome = await runOperation(
          host,
          Connections.verifyConfig({ provider: provider.id, config }, c.get("session").principal)
        )
        errors = outcome._tag === "Failure" ? fieldIssues(outcome.error) : errors
        test = outcome._tag === "Success" ? { _tag: "Passed" } : { _tag: "Failed", error: outcome.error }
      } else if (sameSettings(provider.configFields, form, connection.config)) {
        const outcome = await runOperation(host, Connections.verify(id, c.get("session").principal))
        test = outcome._tag === "Success"
          ? { _tag: "Passed", note: "Seatkeeper reached the organisation with the saved settings." }
          : { _tag: "Failed", error: outcome.error }
      } else {
        test = { _tag: "NeedsSecret" }
      }
      return settingsPage(
        c,
        connection,
        provider,
        errors.size > 0 ? { values: form, errors } : { values: form, errors, test }
      )
    }

    const outcome = await runOperation(
      host,
      Connections.update(
        id,
        { name: form.name ?? "", config: configFromForm(provider.configFields, form, "update"), ...settingsOf(form) },
        c.get("session").principal
      )
    )
    if (outcome._tag === "Success") {
      return c.redirect(withQuery(paths.connection(id).settings, { notice: "saved" }), 303)
    }
    return settingsPage(
      c,
      connection,
      provider,
      failedState(form, outcome.error),
      outcome.error.status as ContentfulStatusCode
    )
  })

  pages.get("/connections/:id/delete", async (c) => {
    const outcome = await runOperation(host, Connections.get(c.req.param("id")))
    if (outcome._tag === "Failure") return errorPage(c, outcome.error, "Connection not found")
    const connection = outcome.value
    return renderPage(
      c,
      <Layout title={`Delete ${connection.name}`} session={c.get("session")}>
        <p class="crumbs">
          <a href={paths.dashboard}>Dashboard</a> /{" "}
          <a href={paths.connection(connection.id).accounts}>{connection.name}</a>
        </p>
        <h1>Delete “{connection.name}”?</h1>
        <p>
          Seatkeeper forgets this connection, its accounts, their history and its sync runs. The audit log keeps what
          was done. Nothing changes in the organisation itself.
        </p>
        <form method="post" action={paths.connection(connection.id).delete} class="actions">
          <CsrfField session={c.get("session")} />
          <button type="submit" class="danger">Delete connection</button>
          <a href={paths.connection(connection.id).settings}>Cancel</a>
        </form>
      </Layout>
    )
  })

  pages.post("/connections/:id/delete", async (c) => {
    const outcome = await runOperation(host, Connections.remove(c.req.param("id"), c.get("session").principal))
    if (outcome._tag === "Failure") return errorPage(c, outcome.error, "Not deleted")
    return c.redirect(withQuery(paths.dashboard, { notice: "deleted" }), 303)
  })
}
