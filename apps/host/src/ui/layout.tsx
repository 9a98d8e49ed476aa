/**
 * The pages' frame (head, navigation, stylesheet) and the small pieces every page uses: status badges,
 * times, notices, error boxes, the CSRF field.
 *
 * @since 0.1.0
 */
import { raw } from "hono/html"
import type { Child, FC, PropsWithChildren } from "hono/jsx"
import * as Crypto from "node:crypto"
import type { ErrorDescription } from "../errors.js"
import { formatAge, formatCount, formatTime } from "./format.js"
import { paths } from "./paths.js"
import { can } from "./roles.js"
import type { Session } from "./Sessions.js"

const stylesheet = `
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#f6f8fa; --accent:#0b5cad; --danger:#b42318; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg); background:#fff; }
a { color:var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible, .table-box:focus-visible { outline:3px solid #7fb3ea; outline-offset:1px; }
.skip { position:absolute; left:-9999px; } .skip:focus { left:8px; top:8px; background:#fff; padding:4px 8px; z-index:1; }
header.top { background:#1f2a37; color:#fff; }
header.top .bar { max-width:1400px; margin:0 auto; padding:8px 20px; display:flex; flex-wrap:wrap; align-items:center; gap:6px 20px; min-height:52px; }
header.top .brand { font-weight:700; color:#fff; text-decoration:none; font-size:17px; }
header.top nav ul { list-style:none; display:flex; flex-wrap:wrap; gap:4px 16px; margin:0; padding:0; }
header.top nav a { color:#d7e0ea; text-decoration:none; } header.top nav a:hover, header.top nav a[aria-current] { color:#fff; text-decoration:underline; }
header.top form { margin-left:auto; }
header.top form.who { display:flex; align-items:center; gap:8px; flex-wrap:wrap; } header.top .whoami { color:#fff; overflow-wrap:anywhere; }
header.top button { background:transparent; color:#d7e0ea; border:1px solid #52606d; }
main { max-width:1400px; margin:0 auto; padding:20px; }
h1 { font-size:24px; margin:4px 0 16px; overflow-wrap:anywhere; } h2 { font-size:18px; margin:28px 0 10px; } h3 { font-size:16px; margin:18px 0 8px; }
.crumbs { color:var(--muted); font-size:14px; overflow-wrap:anywhere; } .crumbs a { color:var(--muted); }
nav.tabs ul { list-style:none; display:flex; flex-wrap:wrap; gap:4px; margin:0 0 18px; padding:0; border-bottom:1px solid var(--line); }
nav.tabs a { display:block; padding:6px 12px; text-decoration:none; color:var(--muted); border-bottom:2px solid transparent; }
nav.tabs a[aria-current] { color:var(--fg); border-bottom-color:var(--accent); font-weight:600; }
.table-box { overflow-x:auto; max-width:100%; margin:8px 0 16px; }
table { border-collapse:collapse; width:100%; margin:0; font-size:14px; }
.table-box > table { width:auto; min-width:100%; }
caption { text-align:left; color:var(--muted); padding:4px 0; caption-side:top; }
th, td { padding:7px 8px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
thead th { background:var(--bg); font-weight:600; white-space:nowrap; } thead th.num { white-space:normal; min-width:4.5em; } thead th.wrap { white-space:normal; min-width:7em; }
tbody tr:hover { background:#fbfcfd; }
th.product { min-width:11em; } td.products { min-width:10em; } td.sub, th.sub { padding-left:26px; } th.sub2 { padding-left:42px; }
tbody.group th.family { background:var(--bg); font-weight:600; }
th a.sort { color:inherit; text-decoration:none; white-space:nowrap; } th a.sort:hover { text-decoration:underline; }
.num { text-align:right; font-variant-numeric:tabular-nums; white-space:nowrap; }
.muted { color:var(--muted); } .small { font-size:13px; } .nowrap { white-space:nowrap; } .mono { font-family:ui-monospace,SFMono-Regular,Menlo,monospace; font-size:13px; overflow-wrap:anywhere; }
.anywhere { overflow-wrap:anywhere; } .id { min-width:16ch; }
.badge { display:inline-block; padding:1px 8px; border-radius:10px; font-size:12px; font-weight:600; border:1px solid transparent; white-space:nowrap; }
.b-green { background:#dafbe1; color:#116329; border-color:#aceebb; }
.b-amber { background:#fff8c5; color:#7d4e00; border-color:#f0d97a; }
.b-red { background:#ffebe9; color:#a40e26; border-color:#ffcecb; }
.b-grey { background:#eff2f5; color:#424a53; border-color:#d1d9e0; }
.b-blue { background:#ddf4ff; color:#0550ae; border-color:#b6e3ff; }
.b-purple { background:#fbefff; color:#6e40c9; border-color:#e9d4ff; }
.cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(150px,1fr)); gap:12px; margin:10px 0 8px; }
.card { border:1px solid var(--line); border-radius:8px; background:#fff; }
.card a { display:flex; flex-direction:column; justify-content:space-between; height:100%; padding:10px 14px; }
.card .label { color:var(--muted); font-size:13px; } .card .value { font-size:24px; font-weight:600; font-variant-numeric:tabular-nums; }
.card a { text-decoration:none; color:inherit; } .card a:hover .value { color:var(--accent); }
section.connection { border:1px solid var(--line); border-radius:10px; padding:4px 18px 10px; margin:16px 0; min-width:0; }
section.connection h2 { margin-top:14px; overflow-wrap:anywhere; }
section.held { border:1px solid #f0d97a; background:#fffdf0; border-radius:8px; padding:2px 14px 4px; margin:12px 0; }
section.held h3 { margin-top:10px; }
.notice, .alert { border-radius:8px; padding:10px 14px; margin:12px 0; border:1px solid; overflow-wrap:anywhere; }
.notice { background:#ddf4ff; border-color:#b6e3ff; } .notice.ok { background:#dafbe1; border-color:#aceebb; }
.alert { background:#ffebe9; border-color:#ffcecb; } .alert.warn { background:#fff8c5; border-color:#f0d97a; }
.alert strong, .notice strong { display:block; } .alert p, .notice p { margin:4px 0 0; }
form.stack { max-width:640px; }
.field { margin:0 0 16px; } .field label, .field .label { display:block; font-weight:600; margin-bottom:3px; }
.field .help { color:var(--muted); font-size:13px; margin:3px 0 0; }
.field .error { color:var(--danger); font-size:13px; font-weight:600; margin:3px 0 0; }
input[type=text], input[type=password], input[type=number], input[type=search], input[type=email], select, textarea {
  font:inherit; padding:6px 9px; border:1px solid #b7c0c9; border-radius:6px; background:#fff; width:100%; max-width:640px; }
input[aria-invalid=true], textarea[aria-invalid=true] { border-color:var(--danger); }
textarea { min-height:80px; }
fieldset { border:1px solid var(--line); border-radius:8px; padding:8px 14px 0; margin:0 0 16px; min-width:0; } legend { font-weight:600; padding:0 4px; }
.check { display:flex; gap:8px; align-items:baseline; } .check label { font-weight:400; display:inline; }
button, .button { font:inherit; font-size:14px; padding:6px 14px; border-radius:6px; border:1px solid #b7c0c9; background:var(--bg); color:var(--fg); cursor:pointer; text-decoration:none; display:inline-block; line-height:1.4; }
button.primary, .button.primary { background:var(--accent); border-color:var(--accent); color:#fff; }
button.danger, .button.danger { background:var(--danger); border-color:var(--danger); color:#fff; }
button.small, .button.small { font-size:13px; padding:2px 10px; }
.actions { display:flex; gap:10px; align-items:center; flex-wrap:wrap; margin:12px 0; }
form.filters { display:flex; flex-wrap:wrap; gap:10px 14px; align-items:flex-end; background:var(--bg); border:1px solid var(--line); border-radius:8px; padding:12px 14px; margin:8px 0 12px; }
form.filters .field { margin:0; max-width:100%; } form.filters input, form.filters select { width:auto; max-width:100%; height:36px; padding-top:0; padding-bottom:0; }
form.filters input[type=number] { width:90px; } form.filters input[type=search] { width:240px; }
form.inline { display:inline; margin:0; }
.pager { display:flex; flex-wrap:wrap; gap:8px 14px; align-items:center; margin:8px 0 20px; }
dl.facts { display:grid; grid-template-columns:max-content minmax(0,1fr); gap:4px 18px; margin:8px 0 16px; } dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; overflow-wrap:anywhere; }
svg.spark { display:block; } svg.spark .seats { fill:#9fb3c8; } svg.spark .unused { fill:#d4a72c; }
.key { display:inline-block; width:10px; height:10px; border-radius:2px; margin:0 4px 0 10px; } .key.seats { background:#9fb3c8; } .key.unused { background:#d4a72c; }
details { margin:8px 0 16px; } summary { cursor:pointer; color:var(--accent); }
progress.plan { display:block; width:100%; max-width:640px; height:20px; margin:6px 0; -webkit-appearance:none; appearance:none; border:1px solid #b7c0c9; border-radius:6px; background:#eff2f5; overflow:hidden; }
progress.plan::-webkit-progress-bar { background:#eff2f5; } progress.plan::-webkit-progress-value { background:#2da44e; } progress.plan::-moz-progress-bar { background:#2da44e; }
dl.counts { display:flex; flex-wrap:wrap; gap:4px 18px; margin:6px 0 14px; } dl.counts div { display:flex; gap:6px; } dl.counts dt { color:var(--muted); } dl.counts dd { margin:0; font-weight:600; font-variant-numeric:tabular-nums; }
.secret { display:block; font-family:ui-monospace,SFMono-Regular,Menlo,monospace; font-size:14px; background:#fff; border:1px solid var(--line); border-radius:6px; padding:6px 9px; margin:6px 0; overflow-wrap:anywhere; user-select:all; }
.rows { display:grid; grid-template-columns:repeat(auto-fit,minmax(160px,1fr)); gap:0 12px; } .rows .field { min-width:0; }
fieldset.row { padding-bottom:4px; }
table.items tbody th { min-width:13em; } table.items td.preflight, table.items td.state { min-width:10em; } table.items ul.evidence { min-width:15em; margin:0; }
fieldset.plain { border:0; padding:0; margin:0; }
ul.checks { list-style:none; padding:0; margin:4px 0 0; display:grid; grid-template-columns:repeat(auto-fill,minmax(220px,1fr)); gap:2px 12px; } ul.checks label { font-weight:400; }
ul.plain { padding-left:18px; margin:4px 0 12px; }
button[disabled] { opacity:.55; cursor:not-allowed; }
section.panel { border:1px solid var(--line); border-radius:8px; padding:2px 14px 6px; margin:12px 0; min-width:0; } section.panel h2, section.panel h3 { margin-top:10px; }
.login { max-width:420px; margin:60px auto; border:1px solid var(--line); border-radius:10px; padding:8px 24px 18px; }
@media (max-width:600px) {
  header.top .bar { padding:8px 12px; gap:6px 14px; }
  main { padding:12px; }
  section.connection { padding:2px 10px 8px; }
  dl.facts { grid-template-columns:minmax(0,1fr); gap:0; } dl.facts dd { margin-bottom:8px; }
  form.filters { padding:10px; } form.filters input[type=search] { width:100%; }
  .login { margin:24px auto; padding:8px 14px 14px; }
}
`

/**
 * The `style-src` source of the one stylesheet, so the pages' Content-Security-Policy can allow it and
 * nothing else.
 *
 * @since 0.1.0
 * @category security
 */
export const stylesheetHash = `'sha256-${Crypto.createHash("sha256").update(stylesheet, "utf8").digest("base64")}'`

/**
 * @since 0.1.0
 * @category models
 */
export interface LayoutProps {
  readonly title: string
  /** Present when logged in: the navigation and the log-out form need it. */
  readonly session?: Session | undefined
  /** Which top navigation entry is current. */
  readonly section?: "dashboard" | "audit" | "new" | "plans" | "users" | "webhooks" | undefined
  /** Reload the page every few seconds (while a sync runs), without script. */
  readonly refreshSeconds?: number | undefined
  /** Where the reload goes (default: the same address). */
  readonly refreshUrl?: string | undefined
  /** A confirmation of what the previous request did, shown above the page. */
  readonly notice?: string | undefined
}

/**
 * @since 0.1.0
 * @category components
 */
export const Layout: FC<PropsWithChildren<LayoutProps>> = (props) => (
  <>
    {raw("<!DOCTYPE html>")}
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        {
          /* The host's headers say no-referrer, which makes browsers send `Origin: null` with form posts;
            same-origin keeps the Origin header the CSRF check reads, and still tells other sites nothing. */
        }
        <meta name="referrer" content="same-origin" />
        {props.refreshSeconds === undefined ? null : (
          <meta
            http-equiv="refresh"
            content={props.refreshUrl === undefined
              ? String(props.refreshSeconds)
              : `${props.refreshSeconds};url=${props.refreshUrl}`}
          />
        )}
        <title>{`${props.title} · Seatkeeper`}</title>
        <style>{raw(stylesheet)}</style>
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <div class="bar">
            <a class="brand" href={paths.dashboard}>Seatkeeper</a>
            {props.session === undefined ? null : (
              <>
                <nav aria-label="Main">
                  <ul>
                    <li>
                      <a href={paths.dashboard} aria-current={props.section === "dashboard" ? "page" : undefined}>
                        Dashboard
                      </a>
                    </li>
                    <li>
                      <a href={paths.plans} aria-current={props.section === "plans" ? "page" : undefined}>Plans</a>
                    </li>
                    {can(props.session, "admin")
                      ? (
                        <li>
                          <a href={paths.newConnection} aria-current={props.section === "new" ? "page" : undefined}>
                            Add connection
                          </a>
                        </li>
                      )
                      : null}
                    {can(props.session, "admin")
                      ? (
                        <li>
                          <a href={paths.users} aria-current={props.section === "users" ? "page" : undefined}>Users</a>
                        </li>
                      )
                      : null}
                    {can(props.session, "admin")
                      ? (
                        <li>
                          <a href={paths.webhooks} aria-current={props.section === "webhooks" ? "page" : undefined}>
                            Webhooks
                          </a>
                        </li>
                      )
                      : null}
                    <li>
                      <a href={paths.audit} aria-current={props.section === "audit" ? "page" : undefined}>Audit log</a>
                    </li>
                  </ul>
                </nav>
                <form method="post" action={paths.logout} class="who">
                  <span class="whoami" aria-label="Logged in as">
                    <span class="who-name">{props.session.principal.name}</span>{" "}
                    <span class="badge b-grey who-role">{props.session.principal.role}</span>
                  </span>
                  <CsrfField session={props.session} />
                  <button type="submit" class="small">Log out</button>
                </form>
              </>
            )}
          </div>
        </header>
        <main id="main">
          {props.notice === undefined ? null : <Notice tone="ok">{props.notice}</Notice>}
          {props.children}
        </main>
      </body>
    </html>
  </>
)

/**
 * The hidden field every POST form carries.
 *
 * @since 0.1.0
 * @category components
 */
export const CsrfField: FC<{ session: Session }> = ({ session }) => (
  <input type="hidden" name="_csrf" value={session.csrfToken} />
)

const statusColours: Record<string, string> = {
  active: "b-green",
  succeeded: "b-green",
  ok: "b-green",
  suspended: "b-amber",
  interrupted: "b-amber",
  deprovisioned: "b-grey",
  failed: "b-red",
  error: "b-red",
  running: "b-blue",
  held: "b-amber",
  discarded: "b-grey",
  superseded: "b-grey",
  "dry-run": "b-blue",
  unknown: "b-purple",
  // reclaim plans and their accounts
  checking: "b-blue",
  review: "b-blue",
  approved: "b-green",
  done: "b-green",
  stopped: "b-amber",
  cancelled: "b-grey",
  pending: "b-grey",
  acting: "b-blue",
  refused: "b-red",
  skipped: "b-grey",
  undone: "b-purple",
  archived: "b-grey",
  disabled: "b-grey",
  enabled: "b-green",
  delivered: "b-green"
}

/**
 * A status as a coloured badge; the word itself always shows, so colour is never the only signal.
 *
 * @since 0.1.0
 * @category components
 */
export const Badge: FC<{ status: string }> = ({ status }) => (
  <span class={`badge ${statusColours[status] ?? "b-grey"}`}>{status}</span>
)

/**
 * A time with its age: `2024-05-01 12:34 UTC (3 days ago)`; `never` when there is none.
 *
 * @since 0.1.0
 * @category components
 */
export const When: FC<{ at: string | null; never?: string; ageOnly?: boolean }> = ({ at, never, ageOnly }) =>
  at === null ? <span class="muted">{never ?? "never"}</span> : ageOnly === true
    ? <time datetime={at} title={formatTime(at)} class="nowrap">{formatAge(at)}</time>
    : (
      <time datetime={at}>
        <span class="nowrap">{formatTime(at)}</span> <span class="muted small nowrap">({formatAge(at)})</span>
      </time>
    )

/**
 * A failure as the user sees it: what went wrong and, where there is one, what to do.
 *
 * @since 0.1.0
 * @category components
 */
export const ErrorBox: FC<{ error: ErrorDescription; title?: string }> = ({ error, title }) => (
  <div class="alert" role="alert">
    <strong>{title ?? "That did not work"}</strong>
    <p>{error.message}</p>
    {error.hint === undefined ? null : (
      <p>
        <span class="muted">What to do:</span> {error.hint}
      </p>
    )}
  </div>
)

/**
 * @since 0.1.0
 * @category components
 */
export const Notice: FC<PropsWithChildren<{ tone?: "ok" | "info" | "warn" }>> = ({ tone, children }) =>
  tone === "warn"
    ? <div class="alert warn" role="status">{children}</div>
    : <div class={tone === "ok" ? "notice ok" : "notice"} role="status">{children}</div>

/**
 * The tabs of one connection's pages.
 *
 * @since 0.1.0
 * @category components
 */
export const ConnectionTabs: FC<{
  id: string
  current: "accounts" | "seats" | "apps" | "syncs" | "reclaim" | "settings"
  /** Settings are shown to admins only (when a session is given). */
  session?: Session | undefined
}> = (
  { id, current, session }
) => {
  const p = paths.connection(id)
  const tab = (key: typeof current, href: string, label: string): Child => (
    <li>
      <a href={href} aria-current={current === key ? "page" : undefined}>{label}</a>
    </li>
  )
  return (
    <nav class="tabs" aria-label="Connection">
      <ul>
        {tab("accounts", p.accounts, "Accounts")}
        {tab("seats", p.seats, "Seats")}
        {tab("apps", p.apps, "Products")}
        {tab("syncs", p.syncs, "Syncs")}
        {tab("reclaim", p.reclaim, "Reclaim")}
        {session === undefined || can(session, "admin") ? tab("settings", p.settings, "Settings") : null}
      </ul>
    </nav>
  )
}

/**
 * A table's box: a wide table scrolls sideways inside it instead of widening the page (a phone). It is a
 * labelled region that takes focus, so a keyboard can scroll it too.
 *
 * @since 0.2.0
 * @category components
 */
export const TableBox: FC<PropsWithChildren<{ label: string }>> = ({ label, children }) => (
  <div class="table-box" role="region" aria-label={label} tabindex={0}>{children}</div>
)

/**
 * A count that opens the list it counts: the list's total is this number (tests check every one).
 *
 * @since 0.2.0
 * @category components
 */
export const CountLink: FC<{ n: number; href: string; label?: string | undefined }> = ({ n, href, label }) => (
  <a class="count" href={href} aria-label={label === undefined ? undefined : `${formatCount(n)} ${label}`}>
    {formatCount(n)}
  </a>
)
