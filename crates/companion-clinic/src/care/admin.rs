//! Administration, for administrators only: the response targets (the same settings as
//! `companion-clinic settings set`), the safety ruleset published and the care team's contacts
//! (shown; set with `companion-clinic ruleset publish` and `contacts set`, which sign and check
//! them), and the accounts that sign in.

use super::*;
use crate::db::Role;
use axum::Extension;
use std::collections::HashMap;

async fn render(state: &AppState, ctx: &Ctx, status: StatusCode, notice: Option<String>) -> Response {
    let lang = ctx.lang;
    let db = state.db.clone();
    let loaded = blocking(move || Ok((db.targets()?, db.accounts()?, db.ruleset()?, db.care_team()?, db.clinic_key()?))).await;
    let (targets, accounts, ruleset, team, key) = match loaded {
        Ok(x) => x,
        Err(e) => return api_error_page(lang, e),
    };
    let body = html! {
        h1 { (t(lang, "admin")) }
        @if let Some(n) = &notice { p.notice role="status" { (n) } }
        h2 { (t(lang, "targets")) }
        form.stack method="post" action="/care/admin" {
            input type="hidden" name="csrf" value=(ctx.session.csrf);
            p.hint id="target-hint" { (t(lang, "target_hint")) }
            @for (key, target) in &targets {
                label for={ "t-" (key) } { (t(lang, &format!("target.{key}"))) }
                input id={ "t-" (key) } name=(key) type="text" value=(target.text()) required maxlength="8" aria-describedby="target-hint";
            }
            button type="submit" { (t(lang, "save")) }
        }
        h2 { (t(lang, "rules_title")) }
        @match &ruleset {
            Some(p) => p { (tf(lang, "rules_published", &[("id", &p.rules.id), ("version", &p.rules.version)])) " " (time(&p.stored.last_updated)) }
            None => p { (t(lang, "rules_none")) }
        }
        @if let Some(k) = &key { p.hint { (t(lang, "key_fingerprint")) " " code { (companion_core::rules::signed::fingerprint(k).replace(':', " ")) } } }
        h2 { (t(lang, "contacts_title")) }
        @if team.is_empty() { p { (t(lang, "contacts_none")) } } @else {
            ul.contacts {
                @for c in &team {
                    li {
                        strong { (c.name) } " – " (c.phone) " – "
                        @if c.hours.is_empty() { (t(lang, "always_staffed")) } @else {
                            (c.hours.iter().map(|h| format!("{} {}–{}", h.days.join(", "), h.from, h.to)).collect::<Vec<_>>().join("; "))
                        }
                    }
                }
            }
        }
        p.hint { (t(lang, "going_home_cli")) }
        h2 { (t(lang, "accounts")) }
        ul.accounts {
            @for a in &accounts { li { strong { (a.name) } " – " (t(lang, &format!("role.{}", a.role.as_str()))) } }
        }
    };
    html_response(status, layout(lang, Some(ctx), t(lang, "admin"), body))
}

pub(super) async fn page(State(state): State<AppState>, headers: HeaderMap, peer: Option<Extension<Peer>>) -> Response {
    let ctx = match signed_in(&state, &headers, peer.as_deref(), true).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Some(r) = allow(&ctx, &[Role::Admin]) {
        return r;
    }
    render(&state, &ctx, StatusCode::OK, None).await
}

pub(super) async fn save(
    State(state): State<AppState>,
    headers: HeaderMap,
    peer: Option<Extension<Peer>>,
    axum::Form(form): axum::Form<HashMap<String, String>>,
) -> Response {
    let peer = peer.as_deref();
    let ctx = match signed_in(&state, &headers, peer, true).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Some(r) = allow(&ctx, &[Role::Admin]) {
        return r;
    }
    if let Some(r) = check_form(&state, &ctx, &headers, peer, form.get("csrf").map(String::as_str).unwrap_or("")) {
        return r;
    }
    let given: Vec<(String, String)> =
        crate::db::triage::TARGETS.iter().filter_map(|(k, _)| form.get(*k).map(|v| (k.to_string(), v.clone()))).collect();
    let (db, by) = (state.db.clone(), ctx.session.actor().label());
    match blocking(move || db.set_targets(&by, &given)).await {
        Ok(_) => render(&state, &ctx, StatusCode::OK, Some(t(ctx.lang, "saved").into())).await,
        Err(e) if e.status == StatusCode::BAD_REQUEST => render(&state, &ctx, StatusCode::UNPROCESSABLE_ENTITY, Some(e.message)).await,
        Err(e) => api_error_page(ctx.lang, e),
    }
}
