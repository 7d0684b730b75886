//! The worklist: open alerts, most urgent and most overdue first, with filters; its rows alone
//! (for the script to swap in); and the event stream that tells an open worklist something
//! changed, so a new alert appears without a reload.

use super::*;
use crate::db::triage::{Alert, Filter};
use axum::extract::Query;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Extension;
use serde::Deserialize;
use std::time::Duration;

/// Alerts on one page of the worklist.
const PAGE: i64 = 100;
/// How often an open worklist's stream looks for changes.
const WATCH_EVERY: Duration = Duration::from_millis(500);
/// How often the stream checks that its session is still open.
const SESSION_EVERY: Duration = Duration::from_secs(30);

#[derive(Deserialize, Default, Clone)]
pub(super) struct ListQuery {
    show: Option<String>,
    page: Option<i64>,
}

const FILTERS: &[&str] = &["open", "mine", "unassigned", "stat", "asap", "routine", "closed"];

fn filter_of(ctx: &Ctx, show: &str) -> Filter {
    match show {
        "mine" => Filter::Mine(format!("Practitioner/{}", ctx.session.account.id)),
        "unassigned" => Filter::Unassigned,
        "stat" | "asap" | "routine" => Filter::Level(show.to_owned()),
        "closed" => Filter::ClosedToday,
        _ => Filter::Open,
    }
}

/// The alerts of a list; `audit`: the page itself (its live refreshes are not audited again).
async fn load(state: &AppState, ctx: &Ctx, q: &ListQuery, audit: bool) -> Result<(String, i64, i64, Vec<Alert>), Response> {
    let show = q.show.clone().filter(|s| FILTERS.contains(&s.as_str())).unwrap_or_else(|| "open".into());
    let page = q.page.unwrap_or(0).clamp(0, 10_000);
    let filter = filter_of(ctx, &show);
    let (db, who) = (state.db.clone(), ctx.session.actor());
    match blocking(move || {
        let (total, rows) = db.worklist(&filter, PAGE, page * PAGE)?;
        // Every patient the page shows is audited as seen by this person.
        if audit {
            db.audit_shown(&who, "worklist", rows.iter().map(|a| a.patient.as_str()))?;
        }
        Ok((total, rows))
    })
    .await
    {
        Ok((total, rows)) => Ok((show, page, total, rows)),
        Err(e) => Err(api_error_page(ctx.lang, e)),
    }
}

pub(super) async fn page(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Query(q): Query<ListQuery>,
) -> Response {
    let ctx = match signed_in(&state, &headers, peer.as_deref(), true).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let (show, page, total, rows) = match load(&state, &ctx, &q, true).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mark = {
        let db = state.db.clone();
        blocking(move || db.triage_mark()).await.unwrap_or(0)
    };
    let lang = ctx.lang;
    let rows_url = format!("/care/worklist/rows?show={show}&page={page}");
    let body = html! {
        h1 { (t(lang, "worklist")) }
        nav.filters aria-label=(t(lang, "filters")) {
            ul {
                @for f in FILTERS {
                    li {
                        a href={ "/care?show=" (f) } aria-current=[(*f == show).then_some("page")] { (t(lang, &format!("filter.{f}"))) }
                    }
                }
            }
        }
        p id="live" role="status" aria-live="polite" data-text=(t(lang, "new_alert")) {}
        div id="worklist" data-rows=(rows_url) data-events={ "/care/events?since=" (mark) } {
            (table(lang, &show, page, total, &rows))
        }
    };
    html_response(StatusCode::OK, layout(lang, Some(&ctx), t(lang, "worklist"), body))
}

/// The table alone, as the script swaps it in.
pub(super) async fn rows(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Query(q): Query<ListQuery>,
) -> Response {
    // A live view is not the person working: it does not keep the session open.
    let ctx = match signed_in(&state, &headers, peer.as_deref(), false).await {
        Ok(c) => c,
        Err(_) => return StatusCode::UNAUTHORIZED.into_response(),
    };
    match load(&state, &ctx, &q, false).await {
        Ok((show, page, total, rows)) => html_response(StatusCode::OK, table(ctx.lang, &show, page, total, &rows)),
        Err(r) => r,
    }
}

fn table(lang: Lang, show: &str, page: i64, total: i64, rows: &[Alert]) -> Markup {
    html! {
        p.count { (tf(lang, "alerts_count", &[("n", &total.to_string())])) }
        @if rows.is_empty() {
            p { (t(lang, "no_alerts")) }
        } @else {
            table.worklist {
                caption.visually-hidden { (t(lang, "worklist")) ": " (t(lang, &format!("filter.{show}"))) }
                thead {
                    tr {
                        th scope="col" { (t(lang, "col.level")) }
                        th scope="col" { (t(lang, "col.patient")) }
                        th scope="col" { (t(lang, "col.what")) }
                        th scope="col" { (t(lang, "col.who")) }
                        th scope="col" { (t(lang, "col.when")) }
                        th scope="col" { (t(lang, "col.due")) }
                        th scope="col" { (t(lang, "col.state")) }
                    }
                }
                tbody {
                    @for a in rows { (row(lang, a)) }
                }
            }
            @if (page + 1) * PAGE < total {
                p { a href={ "/care?show=" (show) "&page=" (page + 1) } { "→ " (page + 2) } }
            }
        }
    }
}

pub(super) fn level_badge(lang: Lang, a: &Alert) -> Markup {
    html! {
        span class={ "level level-" (a.priority) } { (words::level(lang, &a.level)) }
    }
}

pub(super) fn state_words(lang: Lang, a: &Alert) -> String {
    match (a.status.as_str(), a.outcome.as_deref()) {
        ("completed", _) => t(lang, "state.completed").to_owned(),
        ("accepted", Some("no_answer")) => {
            format!("{}. {}", tf(lang, "state.accepted", &[("who", a.owner_name.as_deref().unwrap_or("?"))]), t(lang, "state.no_answer"))
        }
        ("accepted", _) => tf(lang, "state.accepted", &[("who", a.owner_name.as_deref().unwrap_or("?"))]),
        _ => t(lang, "state.requested").to_owned(),
    }
}

fn row(lang: Lang, a: &Alert) -> Markup {
    let open = a.status != "completed";
    let (overdue, due) = if open { due_words(lang, &a.due_at) } else { (false, String::new()) };
    html! {
        tr class={ "state-" (a.status) @if overdue { " overdue" } } {
            td { (level_badge(lang, a)) }
            td { a href={ "/care/alerts/" (a.task) } { (a.patient_name) } }
            td { (words::report(lang, &a.report)) }
            td { (words::reporter(lang, a)) }
            td { (time(&a.reported_at)) }
            td {
                @if open {
                    @if overdue { strong.overdue { "⚠ " (due) } } @else { (due) }
                } @else if let Some(c) = &a.closed_at { (time(c)) }
            }
            td { (state_words(lang, a)) }
        }
    }
}

#[derive(Deserialize)]
pub(super) struct Since {
    since: Option<i64>,
}

/// One watcher per server for all open worklists: it looks at the change feed's Tasks (one
/// indexed query, twice a second) and tells every stream when they moved, so a hundred open
/// worklists cost the database no more than one.
#[derive(Default)]
pub struct Watch {
    rx: std::sync::OnceLock<tokio::sync::watch::Receiver<i64>>,
}

impl Watch {
    fn subscribe(&self, db: &crate::db::Db, now: i64) -> tokio::sync::watch::Receiver<i64> {
        self.rx
            .get_or_init(|| {
                let (tx, rx) = tokio::sync::watch::channel(now);
                let db = db.clone();
                tokio::spawn(async move {
                    loop {
                        tokio::time::sleep(WATCH_EVERY).await;
                        let d = db.clone();
                        if let Ok(mark) = blocking(move || d.triage_mark()).await {
                            tx.send_if_modified(|v| std::mem::replace(v, mark) != mark);
                        }
                    }
                });
                rx
            })
            .clone()
    }
}

/// Server-sent events: `triage` whenever any triage Task changed since `since`, `signed-out`
/// when the session ends (checked every 30 seconds, without keeping it open).
pub(super) async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    Query(q): Query<Since>,
) -> Response {
    if signed_in(&state, &headers, peer.as_deref(), false).await.is_err() {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    let token = cookie(&headers, session_cookie_name(&state, peer.as_deref())).unwrap_or_default();
    let now = {
        let db = state.db.clone();
        blocking(move || db.triage_mark()).await.unwrap_or(0)
    };
    let rx = state.watch.subscribe(&state.db, now);
    // What changed between the page and this stream is told at once.
    let seen = match q.since {
        Some(since) if since != now => -1,
        _ => now,
    };
    let initial = (state.db.clone(), rx, seen, std::time::Instant::now(), false);
    let stream = futures_util::stream::unfold(initial, move |(db, mut rx, mark, mut checked, done)| {
        let token = token.clone();
        async move {
            if done {
                return None;
            }
            loop {
                let current = *rx.borrow_and_update();
                if current != mark {
                    let event = Event::default().event("triage").data(current.to_string());
                    return Some((Ok::<_, std::convert::Infallible>(event), (db, rx, current, checked, false)));
                }
                let wait = SESSION_EVERY.saturating_sub(checked.elapsed());
                tokio::select! {
                    changed = rx.changed() => if changed.is_err() { return None },
                    _ = tokio::time::sleep(wait) => {
                        checked = std::time::Instant::now();
                        let (d, tk) = (db.clone(), token.clone());
                        if !matches!(blocking(move || d.session(&tk, false)).await, Ok(Some(_))) {
                            let event = Event::default().event("signed-out").data("1");
                            return Some((Ok(event), (db, rx, mark, checked, true)));
                        }
                    }
                }
            }
        }
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(5))).into_response()
}
