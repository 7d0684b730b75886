//! The care team's web app under `/care`: server-rendered HTML (maud templates), a session
//! cookie, a CSRF token in every form, and one small script for live updates and local times.
//! No credential ever reaches JavaScript; the CSP allows only this server's own script and
//! style. Each page is an adapter over the database layer (`db::triage`, `db::accounts`).
//!
//! - `signin`: sign-in (throttled like pairing), sign-out, the language switch.
//! - `worklist`: the start page, its rows for live updates, the event stream.
//! - `alert`: one alert; take it, note what was done, close it with an outcome and a message.
//! - `patients`: finding and registering a patient (the pairing code, large and as a QR code).
//! - `patient`, `patient_actions`, `trends`: the patient page and its forms.
//! - `workload`: the coordinator's figures. `admin`: response targets and accounts.
//! - `clock`: Norway's wall time, for what a nurse types and reads.

use crate::db::{Role, Session};
use crate::error::{ApiError, StoreError};
use crate::http::{base_url, blocking, AppState};
use crate::serve::Peer;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::{html, Markup, DOCTYPE};

mod admin;
mod alert;
mod chart;
pub(crate) mod clock;
mod forms;
mod going_home;
mod patient;
mod patient_actions;
mod patients;
mod signin;
mod summary;
mod trends;
pub mod words;
mod worklist;
pub use worklist::Watch;
mod workload;

use words::{t, tf, Lang};

/// The session cookie: `__Host-` on HTTPS (Secure, whole site, no Domain), plain name on HTTP
/// (a server on this machine only).
const COOKIE_TLS: &str = "__Host-companion-session";
const COOKIE_PLAIN: &str = "companion-session";
const LANG_COOKIE: &str = "companion-lang";
/// Free text in a note or a message: at most this many characters.
pub const MAX_TEXT: usize = 2000;

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/care", get(worklist::page))
        .route("/care/", get(|| async { Redirect::to("/care") }))
        .route("/care/worklist/rows", get(worklist::rows))
        .route("/care/events", get(worklist::events))
        .route("/care/alerts/{task}", get(alert::page))
        .route("/care/alerts/{task}/{action}", post(alert::act))
        .route("/care/patients", get(patients::list).post(patients::register))
        .route("/care/patients/{id}", get(patient::page))
        .route("/care/patients/{id}/code", post(patients::new_code))
        .route("/care/patients/{id}/reason", post(patient_actions::reason))
        .route("/care/patients/{id}/questions/{q}/answer", post(patient_actions::answer))
        .route("/care/patients/{id}/appointments", post(patient_actions::book))
        .route("/care/patients/{id}/forms", post(forms::ask))
        .route("/care/patients/{id}/plan", post(going_home::set))
        .route("/care/patients/{id}/summary.pdf", get(going_home::pdf))
        .route("/care/patients/{id}/appointments/{a}/{change}", post(patient_actions::change))
        .route("/care/patients/{id}/carers/{c}/revoke", post(patient_actions::revoke_carer))
        .route("/care/workload", get(workload::page))
        .route("/care/admin", get(admin::page).post(admin::save))
        .route("/care/sign-in", get(signin::page).post(signin::submit))
        .route("/care/sign-out", post(signin::sign_out))
        .route("/care/language", get(signin::language))
        .route("/care/static/care.css", get(|| async { asset("text/css", include_str!("static/care.css")) }))
        .route("/care/static/care.js", get(|| async { asset("text/javascript", include_str!("static/care.js")) }))
        .layer(middleware::from_fn(security_headers))
        .layer(axum::extract::DefaultBodyLimit::max(crate::http::MAX_FORM_BODY))
        .with_state(state)
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    ([(header::CONTENT_TYPE, kind), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Only this server's own script and style; no framing; forms post only here.
async fn security_headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    res
}

/// The value of one cookie.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim().to_owned())
}

/// Whether browsers reach this server over HTTPS: directly, or through a proxy that
/// terminates TLS (`--public-url https://...`).
fn secure(state: &AppState, peer: Option<&Peer>) -> bool {
    peer.is_some_and(|p| p.tls) || state.public_url.as_deref().is_some_and(|u| u.starts_with("https://"))
}

fn session_cookie_name(state: &AppState, peer: Option<&Peer>) -> &'static str {
    if secure(state, peer) {
        COOKIE_TLS
    } else {
        COOKIE_PLAIN
    }
}

/// `Set-Cookie` for the session (empty value and `Max-Age=0` to clear it).
fn session_cookie(state: &AppState, peer: Option<&Peer>, value: &str) -> HeaderValue {
    let flag = if secure(state, peer) { "; Secure" } else { "" };
    let clear = if value.is_empty() { "; Max-Age=0" } else { "" };
    HeaderValue::from_str(&format!("{}={value}; Path=/; HttpOnly; SameSite=Strict{flag}{clear}", session_cookie_name(state, peer)))
        .expect("cookie text is ASCII")
}

/// The language of a request: the person's choice (cookie), else the browser's.
pub(crate) fn lang_of(headers: &HeaderMap) -> Lang {
    cookie(headers, LANG_COOKIE)
        .and_then(|v| Lang::parse(&v))
        .unwrap_or_else(|| Lang::from_header(headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("")))
}

/// A signed-in request: who, in which language, and the session's cookie value.
pub(crate) struct Ctx {
    pub session: Session,
    pub lang: Lang,
}

impl Ctx {
    pub fn role(&self) -> Role {
        self.session.account.role
    }
}

/// The session of a request, or the answer to give instead: to the sign-in page.
pub(crate) async fn signed_in(state: &AppState, headers: &HeaderMap, peer: Option<&Peer>, touch: bool) -> Result<Ctx, Response> {
    let lang = lang_of(headers);
    let Some(token) = cookie(headers, session_cookie_name(state, peer)).filter(|t| !t.is_empty() && t.len() <= 100) else {
        return Err(Redirect::to("/care/sign-in").into_response());
    };
    let db = state.db.clone();
    match blocking(move || db.session(&token, touch)).await {
        Ok(Some(session)) => Ok(Ctx { session, lang }),
        Ok(None) => Err(Redirect::to("/care/sign-in?ended=1").into_response()),
        Err(e) => Err(error_page(lang, e.status, "error")),
    }
}

/// A form that changes something came from one of our own pages: the session's CSRF token,
/// and (when the browser says) our own origin. Anything else is refused.
/// `Some(answer)` when refused.
pub(crate) fn check_form(state: &AppState, ctx: &Ctx, headers: &HeaderMap, peer: Option<&Peer>, token: &str) -> Option<Response> {
    let same_token = same_secret(token, &ctx.session.csrf);
    if !same_token || !same_origin(state, headers, peer) {
        tracing::warn!("a form was refused: wrong CSRF token or another origin");
        return Some(error_page(ctx.lang, StatusCode::FORBIDDEN, "refused"));
    }
    None
}

/// The signed-in person behind a form that changes something, after its CSRF check; or the
/// answer to give instead.
pub(crate) async fn form_session(state: &AppState, headers: &HeaderMap, peer: Option<&Peer>, csrf: &str) -> Result<Ctx, Response> {
    let ctx = signed_in(state, headers, peer, true).await?;
    match check_form(state, &ctx, headers, peer, csrf) {
        Some(r) => Err(r),
        None => Ok(ctx),
    }
}

/// Two secrets are the same, compared by their digests (so the time taken says nothing about
/// where they differ).
pub(crate) fn same_secret(a: &str, b: &str) -> bool {
    !a.is_empty() && crate::db::sha256_hex(a) == crate::db::sha256_hex(b)
}

/// `Origin` (or, without it, `Sec-Fetch-Site`) names this server, when the browser sends it.
pub(crate) fn same_origin(state: &AppState, headers: &HeaderMap, peer: Option<&Peer>) -> bool {
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        return origin == base_url(state, headers, peer);
    }
    !matches!(headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()), Some("cross-site" | "same-site"))
}

pub(crate) fn html_response(status: StatusCode, markup: Markup) -> Response {
    (status, Html(markup.into_string())).into_response()
}

/// A page with a message and a way back.
pub(crate) fn error_page(lang: Lang, status: StatusCode, key: &str) -> Response {
    let body = html! {
        h1 { (t(lang, key)) }
        p { a href="/care" { (t(lang, "back")) } }
    };
    html_response(status, layout(lang, None, t(lang, key), body))
}

/// The page for a path the app does not have.
pub fn not_found(headers: &HeaderMap) -> Response {
    let mut res = error_page(lang_of(headers), StatusCode::NOT_FOUND, "not_found");
    res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    res
}

pub(crate) fn api_error_page(lang: Lang, e: ApiError) -> Response {
    match e.status.as_u16() {
        404 => error_page(lang, e.status, "not_found"),
        403 => error_page(lang, e.status, "forbidden"),
        _ => error_page(lang, e.status, "error"),
    }
}

/// The page around every view: the skip link, the menu for this person's role, the language
/// switch and sign-out.
pub(crate) fn layout(lang: Lang, ctx: Option<&Ctx>, title: &str, main: Markup) -> Markup {
    let other = if lang == Lang::Nb { (Lang::En, "English") } else { (Lang::Nb, "Norsk bokmål") };
    html! {
        (DOCTYPE)
        html lang=(lang.code()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " – " (t(lang, "app")) }
                link rel="stylesheet" href="/care/static/care.css";
                script src="/care/static/care.js" defer {}
            }
            body {
                a.skip href="#main" { (t(lang, "skip")) }
                header.top {
                    p.brand { (t(lang, "app")) }
                    @if let Some(c) = ctx {
                        nav aria-label=(t(lang, "nav")) {
                            ul {
                                li { a href="/care" { (t(lang, "worklist")) } }
                                li { a href="/care/patients" { (t(lang, "patients")) } }
                                @if matches!(c.role(), Role::Coordinator | Role::Admin) {
                                    li { a href="/care/workload" { (t(lang, "workload")) } }
                                }
                                @if c.role() == Role::Admin {
                                    li { a href="/care/admin" { (t(lang, "admin")) } }
                                }
                            }
                        }
                        p.who {
                            (t(lang, "signed_in_as")) " " strong { (c.session.account.name) }
                            " (" (t(lang, &format!("role.{}", c.role().as_str()))) ")"
                        }
                        form.inline method="post" action="/care/sign-out" {
                            input type="hidden" name="csrf" value=(c.session.csrf);
                            button type="submit" { (t(lang, "sign_out")) }
                        }
                    }
                    a.lang href={ "/care/language?to=" (other.0.code()) } lang=(other.0.code()) hreflang=(other.0.code()) { (other.1) }
                }
                main id="main" tabindex="-1" { (main) }
            }
        }
    }
}

/// `<time>`: the instant in Norway's time (the script shows it in the browser's own).
pub(crate) fn time(at: &str) -> Markup {
    let shown = chrono::DateTime::parse_from_rfc3339(at)
        .map(|t| clock::local(t.with_timezone(&chrono::Utc)).format("%d.%m.%Y %H:%M").to_string())
        .unwrap_or_default();
    html! { time datetime=(at) data-local="" { (shown) } }
}

/// How long until `due` (or since, when overdue), in words.
pub(crate) fn due_words(lang: Lang, due: &str) -> (bool, String) {
    let Ok(due) = chrono::DateTime::parse_from_rfc3339(due) else { return (false, String::new()) };
    let minutes = (due.with_timezone(&chrono::Utc) - chrono::Utc::now()).num_minutes();
    if minutes < 0 {
        (true, tf(lang, "overdue", &[("t", &words::span(lang, minutes))]))
    } else {
        (false, tf(lang, "left", &[("t", &words::span(lang, minutes))]))
    }
}

/// Only these roles may see a page: `Some(answer)` for anyone else.
pub(crate) fn allow(ctx: &Ctx, roles: &[Role]) -> Option<Response> {
    (!roles.contains(&ctx.role())).then(|| error_page(ctx.lang, StatusCode::FORBIDDEN, "forbidden"))
}
