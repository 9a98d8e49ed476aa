/**
 * The pages' frame (head, navigation, stylesheet) and the small pieces every page uses: status badges,
 * times, notices, error boxes, the CSRF field.
 *
 * @since 0.1.0
 */
import * as Crypto from "node:crypto"
import type { Child, FC, PropsWithChildren } from "hono/jsx"
import { raw } from "hono/html"
import type { ErrorDescription } from "../errors.js"
import { formatAge, formatTime } from "./format.js"
import { paths } from "./paths.js"
import type { Session } from "./Sessions.js"

const stylesheet = `
:root { --fg:#1f2328; --muted:#59636e; --line:#d1d9e0; --bg:#f6f8fa; --accent:#0b5cad; --danger:#b42318; }
* { box-sizing: border-box; }
body { margin:0; font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif; color:var(--fg); background:#fff; }
a { color:var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible { outline:3px solid #7fb3ea; outline-offset:1px; }
.skip { position:absolute; left:-9999px; } .skip:focus { left:8px; top:8px; background:#fff; padding:4px 8px; z-index:1; }
header.top { background:#1f2a37; color:#fff; }
header.top .bar { max-width:1200px; margin:0 auto; padding:0 20px; display:flex; align-items:center; gap:20px; min-height:52px; }
header.top .brand { font-weight:700; color:#fff; text-decoration:none; font-size:17px; }
header.top nav ul { list-style:none; display:flex; gap:16px; margin:0; padding:0; }
header.top nav a { color:#d7e0ea; text-decoration:none; } header.top nav a:hover, header.top nav a[aria-current] { color:#fff; text-decoration:underline; }
header.top form { margin-left:auto; }
header.top button { background:transparent; color:#d7e0ea; border:1px solid #52606d; }
main { max-width:1200px; margin:0 auto; padding:20px; }
h1 { font-size:24px; margin:4px 0 16px; } h2 { font-size:18px; margin:28px 0 10px; } h3 { font-size:16px; margin:18px 0 8px; }
.crumbs { color:var(--muted); font-size:14px; } .crumbs a { color:var(--muted); }
nav.tabs ul { list-style:none; display:flex; gap:4px; margin:0 0 18px; padding:0; border-bottom:1px solid var(--line); }
nav.tabs a { display:block; padding:6px 12px; text-decoration:none; color:var(--muted); border-bottom:2px solid transparent; }
nav.tabs a[aria-current] { color:var(--fg); border-bottom-color:var(--accent); font-weight:600; }
table { border-collapse:collapse; width:100%; margin:8px 0 16px; font-size:14px; }
caption { text-align:left; color:var(--muted); padding:4px 0; caption-side:top; }
th, td { padding:7px 10px; border-bottom:1px solid var(--line); text-align:left; vertical-align:top; }
thead th { background:var(--bg); font-weight:600; white-space:nowrap; } thead th.num { white-space:normal; }
tbody tr:hover { background:#fbfcfd; }
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
.cards { display:grid; grid-template-columns:repeat(auto-fill,minmax(170px,1fr)); gap:12px; margin:10px 0 8px; }
.card { border:1px solid var(--line); border-radius:8px; background:#fff; }
.card a { display:flex; flex-direction:column; justify-content:space-between; height:100%; padding:10px 14px; }
.card .label { color:var(--muted); font-size:13px; } .card .value { font-size:24px; font-weight:600; font-variant-numeric:tabular-nums; }
.card a { text-decoration:none; color:inherit; } .card a:hover .value { color:var(--accent); }
section.connection { border:1px solid var(--line); border-radius:10px; padding:4px 18px 10px; margin:16px 0; overflow-x:auto; }
section.connection h2 { margin-top:14px; }
.notice, .alert { border-radius:8px; padding:10px 14px; margin:12px 0; border:1px solid; }
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
fieldset { border:1px solid var(--line); border-radius:8px; padding:8px 14px 0; margin:0 0 16px; } legend { font-weight:600; padding:0 4px; }
.check { display:flex; gap:8px; align-items:baseline; } .check label { font-weight:400; display:inline; }
button, .button { font:inherit; font-size:14px; padding:6px 14px; border-radius:6px; border:1px solid #b7c0c9; background:var(--bg); color:var(--fg); cursor:pointer; text-decoration:none; display:inline-block; line-height:1.4; }
button.primary, .button.primary { background:var(--accent); border-color:var(--accent); color:#fff; }
button.danger, .button.danger { background:var(--danger); border-color:var(--danger); color:#fff; }
button.small, .button.small { font-size:13px; padding:2px 10px; }
.actions { display:flex; gap:10px; align-items:center; flex-wrap:wrap; margin:12px 0; }
form.filters { display:flex; flex-wrap:wrap; gap:10px 14px; align-items:flex-end; background:var(--bg); border:1px solid var(--line); border-radius:8px; padding:12px 14px; margin:8px 0 12px; }
form.filters .field { margin:0; } form.filters input, form.filters select { width:auto; height:36px; padding-top:0; padding-bottom:0; }
form.filters input[type=number] { width:90px; } form.filters input[type=search] { width:240px; }
form.inline { display:inline; margin:0; }
.pager { display:flex; gap:14px; align-items:center; margin:8px 0 20px; }
dl.facts { display:grid; grid-template-columns:max-content 1fr; gap:4px 18px; margin:8px 0 16px; } dl.facts dt { color:var(--muted); } dl.facts dd { margin:0; }
.login { max-width:420px; margin:60px auto; border:1px solid var(--line); border-radius:10px; padding:8px 24px 18px; }
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
  readonly section?: "dashboard" | "audit" | "new" | undefined
  /** Reload the page every few seconds (while a sync runs), without script. */
  readonly refreshSeconds?: number | undefined
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
        {/* The host's headers say no-referrer, which makes browsers send `Origin: null` with form posts;
            same-origin keeps the Origin header the CSRF check reads, and still tells other sites nothing. */}
        <meta name="referrer" content="same-origin" />
        {props.refreshSeconds === undefined ? null : <meta http-equiv="refresh" content={String(props.refreshSeconds)} />}
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
                    <li><a href={paths.dashboard} aria-current={props.section === "dashboard" ? "page" : undefined}>Dashboard</a></li>
                    <li><a href={paths.newConnection} aria-current={props.section === "new" ? "page" : undefined}>Add connection</a></li>
                    <li><a href={paths.audit} aria-current={props.section === "audit" ? "page" : undefined}>Audit log</a></li>
                  </ul>
                </nav>
                <form method="post" action={paths.logout}>
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
export const CsrfField: FC<{ session: Session }> = ({ session }) => <input type="hidden" name="_csrf" value={session.csrfToken} />

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
  "dry-run": "b-blue",
  unknown: "b-purple"
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
    {error.hint === undefined ? null : <p><span class="muted">What to do:</span> {error.hint}</p>}
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
export const ConnectionTabs: FC<{ id: string; current: "accounts" | "apps" | "syncs" | "settings" }> = ({ id, current }) => {
  const p = paths.connection(id)
  const tab = (key: typeof current, href: string, label: string): Child => (
    <li><a href={href} aria-current={current === key ? "page" : undefined}>{label}</a></li>
  )
  return (
    <nav class="tabs" aria-label="Connection">
      <ul>
        {tab("accounts", p.accounts, "Accounts")}
        {tab("apps", p.apps, "Products")}
        {tab("syncs", p.syncs, "Syncs")}
        {tab("settings", p.settings, "Settings")}
      </ul>
    </nav>
  )
}
