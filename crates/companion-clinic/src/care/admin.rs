//! Administration, for administrators only: the response targets (the same settings as
//! `companion-clinic settings set`) and the accounts that sign in.

use super::*;
use crate::db::Role;
use axum::Extension;
use std::collections::HashMap;

async fn render(state: &AppState, ctx: &Ctx, status: StatusCode, notice: Option<String>) -> Response {
    let lang = ctx.lang;
    let db = state.db.clone();
    let (targets, accounts) = match blocking(move || Ok((db.targets()?, db.accounts()?))).await {
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
